//! The KubeSphere scope authorizer: request parsing, the watch-fed indexes it decides from, and the watches that feed them.

mod authorizer;
mod feed;
mod index;
mod request_info;
mod visibility;

pub use authorizer::{Authorizer, Decision, Level};
pub use feed::run_feed;
pub use index::{
    Bindings, Index, K8sRoleRef, RoleDef, SubjectKey, TemplateDef, rule_from_k8s, rule_to_k8s,
};
pub use request_info::{RequestInfo, Scope};
