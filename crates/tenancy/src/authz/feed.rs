//! The watches that keep the authorizer's index in step with the cluster.

use super::authorizer::Authorizer;
use super::index::Index;
use crate::kinds::{
    GlobalRole, GlobalRoleBinding, GroupBinding, RoleTemplate, Workspace, WorkspaceRole,
    WorkspaceRoleBinding,
};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Api, Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::fmt::Debug;
use tokio_util::sync::CancellationToken;

/// How many kinds the feed watches; the index is complete once each has listed once.
pub const FEED_KINDS: usize = 12;

type ApplyFn<K> = fn(&mut Index, &K);
type DeleteFn = fn(&mut Index, &str, &str);

/// Watches every kind the authorizer decides from and applies the events to its index,
/// until `cancel` fires. Watch errors are retried with kube's default backoff.
pub async fn run_feed(client: Client, authz: Authorizer, cancel: CancellationToken) {
    let c = &client;
    let a = &authz;
    let feeds = futures::future::join_all(vec![
        feed::<RoleTemplate>(
            c,
            a,
            |i, o| i.apply_template(o),
            |i, _, n| i.delete_template(n),
        )
        .boxed(),
        feed::<GlobalRole>(
            c,
            a,
            |i, o| i.apply_global_role(o),
            |i, _, n| i.delete_global_role(n),
        )
        .boxed(),
        feed::<WorkspaceRole>(
            c,
            a,
            |i, o| i.apply_workspace_role(o),
            |i, _, n| i.delete_workspace_role(n),
        )
        .boxed(),
        feed::<ClusterRole>(
            c,
            a,
            |i, o| i.apply_cluster_role(o),
            |i, _, n| i.delete_cluster_role(n),
        )
        .boxed(),
        feed::<Role>(
            c,
            a,
            |i, o| i.apply_role(o),
            |i, ns, n| i.delete_role(ns, n),
        )
        .boxed(),
        feed::<GlobalRoleBinding>(
            c,
            a,
            |i, o| i.apply_global_role_binding(o),
            |i, _, n| i.delete_global_role_binding(n),
        )
        .boxed(),
        feed::<WorkspaceRoleBinding>(
            c,
            a,
            |i, o| i.apply_workspace_role_binding(o),
            |i, _, n| i.delete_workspace_role_binding(n),
        )
        .boxed(),
        feed::<ClusterRoleBinding>(
            c,
            a,
            |i, o| i.apply_cluster_role_binding(o),
            |i, _, n| i.delete_cluster_role_binding(n),
        )
        .boxed(),
        feed::<RoleBinding>(
            c,
            a,
            |i, o| i.apply_role_binding(o),
            |i, ns, n| i.delete_role_binding(ns, n),
        )
        .boxed(),
        feed::<Namespace>(
            c,
            a,
            |i, o| i.apply_namespace(o),
            |i, _, n| i.delete_namespace(n),
        )
        .boxed(),
        feed::<Workspace>(
            c,
            a,
            |i, o| i.apply_workspace(&o.name_any()),
            |i, _, n| i.delete_workspace(n),
        )
        .boxed(),
        feed::<GroupBinding>(
            c,
            a,
            |i, o| i.apply_group_binding(o),
            |i, _, n| i.delete_group_binding(n),
        )
        .boxed(),
    ]);
    tokio::select! {
        _ = feeds => {}
        _ = cancel.cancelled() => {}
    }
}

async fn feed<K>(client: &Client, authz: &Authorizer, apply: ApplyFn<K>, delete: DeleteFn)
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let api: Api<K> = Api::all(client.clone());
    let mut stream = watcher::watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    let mut known: HashSet<(String, String)> = HashSet::new();
    let mut relist: HashSet<(String, String)> = HashSet::new();
    let mut counted = false;
    while let Some(ev) = stream.next().await {
        let ev = match ev {
            Ok(ev) => ev,
            Err(e) => {
                tracing::warn!(kind = %K::kind(&()), error = %e, "authorizer watch failed; retrying");
                continue;
            }
        };
        match ev {
            Event::Init => relist.clear(),
            Event::InitApply(o) => {
                relist.insert(key(&o));
                apply(&mut authz.write(), &o);
            }
            Event::InitDone => {
                {
                    let mut idx = authz.write();
                    for (ns, name) in known.difference(&relist) {
                        delete(&mut idx, ns, name);
                    }
                }
                known = std::mem::take(&mut relist);
                if !counted {
                    counted = true;
                    authz.mark_synced();
                }
            }
            Event::Apply(o) => {
                known.insert(key(&o));
                apply(&mut authz.write(), &o);
            }
            Event::Delete(o) => {
                let (ns, name) = key(&o);
                delete(&mut authz.write(), &ns, &name);
                known.remove(&(ns, name));
            }
        }
    }
}

fn key<K: Resource>(o: &K) -> (String, String) {
    (o.namespace().unwrap_or_default(), o.name_any())
}
