//! Removes a deleted user's bindings everywhere (GlobalRoleBindings, WorkspaceRoleBindings, RoleBindings, ClusterRoleBindings).

use super::apply::delete_labelled;
use crate::kinds::{GlobalRoleBinding, WorkspaceRoleBinding};
use crate::names;
use futures::StreamExt;
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Client, ResourceExt};
use std::collections::HashSet;
use tokio_util::sync::CancellationToken;

/// The identity crate's User kind, addressed dynamically to keep the coupling small.
pub fn user_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(names::IAM_GROUP, "v1beta1", "User"),
        "users",
    )
}

/// Deletes every binding that grants to `user`.
pub async fn remove_user_bindings(client: &Client, user: &str) -> Result<usize, kube::Error> {
    let sel = format!("{}={user}", names::USER_REF_LABEL);
    let mut n = delete_labelled::<GlobalRoleBinding>(client, &sel).await?;
    n += delete_labelled::<WorkspaceRoleBinding>(client, &sel).await?;
    n += delete_labelled::<RoleBinding>(client, &sel).await?;
    n += delete_labelled::<ClusterRoleBinding>(client, &sel).await?;
    Ok(n)
}

/// Watches users; when one disappears (deleted, or gone while we were down) its
/// bindings are removed.
pub async fn run(client: Client, cancel: CancellationToken) {
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &user_resource());
    let mut stream = watcher::watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    let mut known: HashSet<String> = HashSet::new();
    let mut relist: HashSet<String> = HashSet::new();
    loop {
        let ev = tokio::select! {
            ev = stream.next() => ev,
            _ = cancel.cancelled() => return,
        };
        let Some(ev) = ev else { return };
        let gone: Vec<String> = match ev {
            Ok(Event::Init) => {
                relist.clear();
                Vec::new()
            }
            Ok(Event::InitApply(u)) => {
                relist.insert(u.name_any());
                Vec::new()
            }
            Ok(Event::InitDone) => {
                let gone = known.difference(&relist).cloned().collect();
                known = std::mem::take(&mut relist);
                gone
            }
            Ok(Event::Apply(u)) => {
                known.insert(u.name_any());
                Vec::new()
            }
            Ok(Event::Delete(u)) => {
                known.remove(&u.name_any());
                vec![u.name_any()]
            }
            Err(e) => {
                tracing::debug!(error = %e, "user watch failed; retrying");
                Vec::new()
            }
        };
        for user in gone {
            if let Err(e) = remove_user_bindings(&client, &user).await {
                tracing::warn!(user, error = %e, "removing a deleted user's bindings failed");
            }
        }
    }
}
