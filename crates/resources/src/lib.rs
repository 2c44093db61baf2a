//! KubeSphere's resources.kubesphere.io/v1alpha3 listing API: query parsing, indexed projection caches fed by watches, filtering, sorting and paging.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod compact;
pub mod filter;
pub mod http;
#[cfg(test)]
mod http_tests;
mod ident;
pub mod index;
#[cfg(test)]
mod index_tests;
mod merge;
pub mod object;
pub mod projection;
pub mod query;
pub mod status;
pub mod store;
pub mod users;
pub mod visibility;
pub mod watch;
pub mod workloads;

pub use filter::{Filter, FilterRegistry, Lookup, NoLookup};
pub use http::{ApiError, ResourcesState, router};
pub use index::ResourceIndex;
pub use query::{ListResult, Query, QueryError};
pub use store::{ResourceType, Store};
pub use visibility::{AllowAllForTests, Scope, Visibility};

/// Feeds the state's caches from watches on the platform's own client until the task is
/// dropped (spawn it next to the router).
pub async fn run_controllers(
    client: kube::Client,
    state: std::sync::Arc<ResourcesState>,
) -> Result<(), watch::WatchError> {
    watch::run(client, state.store.clone(), state.readiness.clone()).await
}
