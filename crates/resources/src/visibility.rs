//! Which namespaces a caller may list a resource in: the seam through which the
//! platform's authorizer narrows every list before any object is read.

use apimachinery::UserInfo;
use std::collections::BTreeSet;

/// Where a caller may see objects of one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every namespace (or, for a cluster-scoped resource, every object).
    All,
    /// Only these namespaces.
    Namespaces(BTreeSet<String>),
    /// Nothing.
    None,
}

impl Scope {
    /// The namespaces to walk: `None` for all of them.
    pub fn namespaces(&self) -> Option<BTreeSet<String>> {
        match self {
            Scope::All => None,
            Scope::Namespaces(set) => Some(set.clone()),
            Scope::None => Some(BTreeSet::new()),
        }
    }

    /// This scope narrowed to a set of namespaces.
    pub fn intersect(&self, other: &BTreeSet<String>) -> BTreeSet<String> {
        match self {
            Scope::All => other.clone(),
            Scope::Namespaces(set) => set.intersection(other).cloned().collect(),
            Scope::None => BTreeSet::new(),
        }
    }
}

/// Answers where a caller may list a resource (plural name, API group). Implemented by
/// the tenancy crate from KubeSphere's role bindings; cluster-scoped resources get
/// `All` or `None`.
pub trait Visibility: Send + Sync {
    /// The scope in which `user` may list `resource` of `group`.
    fn namespaces(&self, user: &UserInfo, resource: &str, group: &str) -> Scope;
}

/// Lets everyone see everything: for tests and single-user tools only, never for a
/// multi-tenant server.
#[derive(Debug, Default, Clone, Copy)]
pub struct AllowAllForTests;

impl Visibility for AllowAllForTests {
    fn namespaces(&self, _: &UserInfo, _: &str, _: &str) -> Scope {
        Scope::All
    }
}
