//! A k-way merge of sorted key sets walked in either direction, so a page over many
//! namespaces is read in order without sorting their union.

use std::cmp::Ordering;
use std::collections::{BTreeSet, BinaryHeap};

type Walk<'a, K> = Box<dyn Iterator<Item = &'a K> + 'a>;

struct Head<'a, K: Ord> {
    key: &'a K,
    source: usize,
    ascending: bool,
}

impl<K: Ord> PartialEq for Head<'_, K> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<K: Ord> Eq for Head<'_, K> {}
impl<K: Ord> PartialOrd for Head<'_, K> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<K: Ord> Ord for Head<'_, K> {
    // BinaryHeap pops the greatest: reversed for ascending walks.
    fn cmp(&self, other: &Self) -> Ordering {
        let natural = self.key.cmp(other.key);
        if self.ascending {
            natural.reverse()
        } else {
            natural
        }
    }
}

/// Keys of several sorted sets in one order, ascending or descending.
pub struct Merge<'a, K: Ord> {
    walks: Vec<Walk<'a, K>>,
    heap: BinaryHeap<Head<'a, K>>,
    ascending: bool,
}

impl<'a, K: Ord> Merge<'a, K> {
    /// Merges `sets`; keys present in several sets come out once per set.
    pub fn new(sets: Vec<&'a BTreeSet<K>>, ascending: bool) -> Self {
        let mut walks: Vec<Walk<'a, K>> = sets
            .into_iter()
            .map(|s| -> Walk<'a, K> {
                if ascending {
                    Box::new(s.iter())
                } else {
                    Box::new(s.iter().rev())
                }
            })
            .collect();
        let mut heap = BinaryHeap::with_capacity(walks.len());
        for (source, walk) in walks.iter_mut().enumerate() {
            if let Some(key) = walk.next() {
                heap.push(Head {
                    key,
                    source,
                    ascending,
                });
            }
        }
        Merge {
            walks,
            heap,
            ascending,
        }
    }
}

impl<'a, K: Ord> Iterator for Merge<'a, K> {
    type Item = &'a K;

    fn next(&mut self) -> Option<&'a K> {
        if self.walks.len() == 1 {
            // One source needs no heap: drain its primed head, then walk it directly.
            if let Some(head) = self.heap.pop() {
                return Some(head.key);
            }
            return self.walks[0].next();
        }
        let head = self.heap.pop()?;
        if let Some(key) = self.walks[head.source].next() {
            self.heap.push(Head {
                key,
                source: head.source,
                ascending: self.ascending,
            });
        }
        Some(head.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_in_both_directions() {
        let a: BTreeSet<i32> = [1, 4, 7].into();
        let b: BTreeSet<i32> = [2, 3, 9].into();
        let c: BTreeSet<i32> = BTreeSet::new();
        let up: Vec<i32> = Merge::new(vec![&a, &b, &c], true).copied().collect();
        assert_eq!(up, [1, 2, 3, 4, 7, 9]);
        let down: Vec<i32> = Merge::new(vec![&a, &b, &c], false).copied().collect();
        assert_eq!(down, [9, 7, 4, 3, 2, 1]);
        let one: Vec<i32> = Merge::new(vec![&a], false).copied().collect();
        assert_eq!(one, [7, 4, 1]);
        assert_eq!(Merge::<i32>::new(vec![], true).count(), 0);
    }
}
