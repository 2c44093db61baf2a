//! An object's identity in an index: `name NUL namespace` in one shared allocation, which
//! orders exactly as (name, namespace) because names never hold NUL.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// (name, namespace) of a cached object, ordered by name, then namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ident(Arc<str>);

impl Ident {
    /// The identity of `namespace` ("" when cluster-scoped) / `name`.
    pub fn new(namespace: &str, name: &str) -> Self {
        Ident(Arc::from(format!("{name}\0{namespace}")))
    }

    fn split(&self) -> (&str, &str) {
        self.0.split_once('\0').unwrap_or((&self.0, ""))
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.split().0
    }

    /// `metadata.namespace` ("" when cluster-scoped).
    pub fn namespace(&self) -> &str {
        self.split().1
    }

    /// Heap bytes of the shared text.
    pub fn text_len(&self) -> usize {
        self.0.len()
    }
}

/// An identity that hashes, compares and borrows as its name alone: the key of a
/// namespace's objects, found by `&str` without building an identity.
#[derive(Debug, Clone)]
pub struct ByName(pub Ident);

impl PartialEq for ByName {
    fn eq(&self, other: &Self) -> bool {
        self.0.name() == other.0.name()
    }
}

impl Eq for ByName {}

impl Hash for ByName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.name().hash(state);
    }
}

impl Borrow<str> for ByName {
    fn borrow(&self) -> &str {
        self.0.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn orders_as_name_then_namespace() {
        let mut ids = [
            Ident::new("b", "ab"),
            Ident::new("z", "a"),
            Ident::new("a", "a"),
            Ident::new("", "a-b"),
            Ident::new("a", "ab"),
        ];
        ids.sort();
        let pairs: Vec<(&str, &str)> = ids.iter().map(|i| (i.name(), i.namespace())).collect();
        let mut expected = pairs.clone();
        expected.sort();
        assert_eq!(pairs, expected);
        assert_eq!(pairs[0], ("a", "a"));
        let mut by_name = HashMap::new();
        by_name.insert(ByName(Ident::new("ns", "web")), 7u32);
        assert_eq!(by_name.get("web"), Some(&7));
        assert_eq!(by_name.get("ns"), None);
    }
}
