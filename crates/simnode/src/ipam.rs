//! Pod IP allocation from a node's /24, as a CNI's host-local IPAM would do.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

/// Hands out the host addresses .2 to .254 of one /24 (.1 is the bridge), lowest free first.
#[derive(Debug)]
pub struct Ipam {
    base: [u8; 3],
    used: BTreeSet<u8>,
}

impl Ipam {
    /// An allocator for `a.b.c.0/24`.
    pub fn new(base: [u8; 3]) -> Self {
        Ipam {
            base,
            used: BTreeSet::new(),
        }
    }

    /// The network in CIDR notation.
    pub fn cidr(&self) -> String {
        let [a, b, c] = self.base;
        format!("{a}.{b}.{c}.0/24")
    }

    /// The next free address, or `None` when the /24 is exhausted.
    pub fn allocate(&mut self) -> Option<Ipv4Addr> {
        let host = (2u8..=254).find(|h| !self.used.contains(h))?;
        self.used.insert(host);
        let [a, b, c] = self.base;
        Some(Ipv4Addr::new(a, b, c, host))
    }

    /// Marks `ip` as in use (a pod that already had it before a restart).
    pub fn reserve(&mut self, ip: Ipv4Addr) {
        let o = ip.octets();
        if o[..3] == self.base {
            self.used.insert(o[3]);
        }
    }

    /// Returns `ip` to the pool.
    pub fn release(&mut self, ip: Ipv4Addr) {
        let o = ip.octets();
        if o[..3] == self.base {
            self.used.remove(&o[3]);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn allocates_lowest_free_and_reuses_released() {
        let mut ipam = Ipam::new([10, 244, 3]);
        assert_eq!(ipam.cidr(), "10.244.3.0/24");
        let a = ipam.allocate().unwrap();
        let b = ipam.allocate().unwrap();
        assert_eq!(a, Ipv4Addr::new(10, 244, 3, 2));
        assert_eq!(b, Ipv4Addr::new(10, 244, 3, 3));
        ipam.release(a);
        assert_eq!(ipam.allocate().unwrap(), a);
        ipam.reserve(Ipv4Addr::new(10, 244, 3, 4));
        assert_eq!(ipam.allocate().unwrap(), Ipv4Addr::new(10, 244, 3, 5));
    }

    #[test]
    fn exhausts_after_253_addresses() {
        let mut ipam = Ipam::new([10, 0, 0]);
        for _ in 0..253 {
            assert!(ipam.allocate().is_some());
        }
        assert!(ipam.allocate().is_none());
    }
}
