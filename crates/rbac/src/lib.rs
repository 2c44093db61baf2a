//! Kubernetes RBAC authorization as pure in-memory logic: an index fed by watch
//! events, decisions, rule reviews, escalation checks and the bootstrap policy.
//!
//! The kernel feeds [`Index`] with every Role, ClusterRole, RoleBinding and
//! ClusterRoleBinding it stores ([`Index::apply`] / [`Index::delete`]) and asks it
//! for decisions ([`Index::authorize`]). Nothing here does I/O.
//!
//! ```
//! use rbac::{Attributes, Decision, Index, bootstrap_objects};
//!
//! let mut index = Index::new();
//! for object in bootstrap_objects() {
//!     index.apply(&object)?;
//! }
//! let alice = apimachinery::UserInfo::new("alice", vec!["system:authenticated".into()]);
//! let version = Attributes {
//!     user: &alice,
//!     verb: "get",
//!     api_group: "",
//!     resource: "",
//!     subresource: "",
//!     namespace: "",
//!     name: "",
//!     path: Some("/version"),
//! };
//! assert_eq!(index.authorize(&version), Decision::Allow);
//! let secrets = Attributes { verb: "list", resource: "secrets", namespace: "default", path: None, ..version };
//! assert_eq!(index.authorize(&secrets), Decision::NoOpinion(String::new()));
//! # Ok::<(), rbac::Error>(())
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod aggregation;
mod authorize;
mod bootstrap;
mod escalation;
mod index;
mod rule;

pub use authorize::{Attributes, Decision};
pub use bootstrap::{AUTOUPDATE_ANNOTATION, BOOTSTRAPPING_LABEL, bootstrap_objects};
pub use escalation::{
    EscalationError, RoleKind, confirm_no_escalation, describe_missing, full_authority,
};
pub use index::{Index, Kind, RoleRefError};
pub use rule::{ALL, PolicyRule, compact_rules, covers};

/// The API group of every object this crate reads.
pub const GROUP: &str = "rbac.authorization.k8s.io";

/// Errors reading an RBAC object handed to the index.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// The object's `kind` is not one of the four RBAC kinds.
    #[error("not an RBAC object: kind {0:?}")]
    UnknownKind(String),
    /// `metadata.name` is absent or empty.
    #[error("{0} has no metadata.name")]
    MissingName(String),
    /// A namespaced object without `metadata.namespace`.
    #[error("{kind} {name:?} has no metadata.namespace")]
    MissingNamespace {
        /// The object's kind.
        kind: String,
        /// The object's name.
        name: String,
    },
    /// A field has the wrong JSON type.
    #[error("malformed RBAC object: {0}")]
    Malformed(String),
}
