//! The KubeSphere layer's front: authenticates every request, authorizes /kapis with
//! KubeSphere's scope rules, audits it, routes it to the platform services, and
//! passes /api and /apis through to the Kubernetes API as the caller.

pub mod audit;
pub mod auditing_api;
pub mod authn;
pub mod configz;
pub mod gateway;
pub mod requestinfo;
pub mod status;
pub mod upstream;

pub use gateway::{Gateway, KapisAuthorizer};
pub use upstream::Upstream;
pub mod runtime;

pub use runtime::{Platform, PlatformConfig};
