//! Feeding the caches: discovery of the served resource types, one kube-runtime watcher
//! per type on the platform's client, and a CRD watcher that starts and stops watchers
//! as custom resources come and go.

use crate::index::ResourceIndex;
use crate::store::{ResourceType, Store};
use futures::StreamExt;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::discovery::{Discovery, Scope as KubeScope};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::task::JoinHandle;

/// Built-in resources cached (group, plural): what KubeSphere v3.4/v4 list, plus
/// replicasets, which the pods `ownerReference` filter follows to their Deployment.
pub const BUILTIN: &[(&str, &str)] = &[
    ("apps", "deployments"),
    ("apps", "daemonsets"),
    ("apps", "statefulsets"),
    ("apps", "replicasets"),
    ("", "services"),
    ("", "configmaps"),
    ("", "secrets"),
    ("", "pods"),
    ("", "serviceaccounts"),
    ("", "persistentvolumeclaims"),
    ("", "persistentvolumes"),
    ("", "nodes"),
    ("", "namespaces"),
    ("networking.k8s.io", "ingresses"),
    ("networking.k8s.io", "networkpolicies"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("autoscaling", "horizontalpodautoscalers"),
    ("rbac.authorization.k8s.io", "roles"),
    ("rbac.authorization.k8s.io", "rolebindings"),
    ("rbac.authorization.k8s.io", "clusterroles"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
    ("storage.k8s.io", "storageclasses"),
    ("apiextensions.k8s.io", "customresourcedefinitions"),
];

/// Why the caches could not start.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// API discovery failed.
    #[error("discovering the served resource types: {0}")]
    Discovery(#[source] kube::Error),
}

/// Whether the initial discovery and CRD list are done; per-resource sync is on `Cached`.
#[derive(Debug, Default)]
pub struct Readiness {
    discovered: AtomicBool,
}

impl Readiness {
    /// True once every resource type known at start has been registered.
    pub fn is_discovered(&self) -> bool {
        self.discovered.load(Ordering::Acquire)
    }

    /// Marks discovery done (also for tests that fill a store by hand).
    pub fn set_discovered(&self) {
        self.discovered.store(true, Ordering::Release);
    }
}

/// Aborts a watcher task when its owner goes away.
struct Task(JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs the caches until dropped: discovers the built-in types, watches each, and
/// follows CustomResourceDefinitions to cache every served custom resource. Returns only
/// if the CRD watch stream ends.
pub async fn run(
    client: kube::Client,
    store: Arc<Store>,
    readiness: Arc<Readiness>,
) -> Result<(), WatchError> {
    let discovery = discover(&client).await;
    let mut tasks: HashMap<String, (ResourceType, Task)> = HashMap::new();
    for group in discovery.groups() {
        for (ar, caps) in group.recommended_resources() {
            if !BUILTIN.contains(&(ar.group.as_str(), ar.plural.as_str())) {
                continue;
            }
            let kind = resource_type(&ar, caps.scope == KubeScope::Namespaced);
            store.register(kind.clone());
            let task = spawn_watch(client.clone(), ar, store.clone());
            tasks.insert(kind.plural.clone(), (kind, task));
        }
    }
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let stream = watcher::watcher(crds, watcher::Config::default()).default_backoff();
    futures::pin_mut!(stream);
    let mut initial: Vec<CustomResourceDefinition> = Vec::new();
    while let Some(event) = stream.next().await {
        match event {
            Ok(Event::Init) => initial.clear(),
            Ok(Event::InitApply(crd)) => initial.push(crd),
            Ok(Event::InitDone) => {
                let current: Vec<ResourceType> =
                    initial.drain(..).filter_map(|c| crd_type(&c)).collect();
                let stale: Vec<String> = tasks
                    .iter()
                    .filter(|(plural, (kind, _))| {
                        !BUILTIN.contains(&(kind.group.as_str(), plural.as_str()))
                            && !current.iter().any(|c| c == kind)
                    })
                    .map(|(plural, _)| plural.clone())
                    .collect();
                for plural in stale {
                    tasks.remove(&plural);
                    store.unregister(&plural);
                }
                for kind in current {
                    ensure_watch(&client, &store, &mut tasks, kind);
                }
                readiness.set_discovered();
            }
            Ok(Event::Apply(crd)) => match crd_type(&crd) {
                Some(kind) => ensure_watch(&client, &store, &mut tasks, kind),
                None => drop_crd(&store, &mut tasks, &crd),
            },
            Ok(Event::Delete(crd)) => drop_crd(&store, &mut tasks, &crd),
            Err(e) => tracing::warn!(error = %e, "watching CustomResourceDefinitions"),
        }
    }
    Ok(())
}

/// Discovery, retried with capped exponential backoff: the API stays 503 until it works.
async fn discover(client: &kube::Client) -> Discovery {
    let mut delay = std::time::Duration::from_millis(250);
    loop {
        match Discovery::new(client.clone()).run().await {
            Ok(d) => return d,
            Err(e) => {
                tracing::warn!(error = %WatchError::Discovery(e), "retrying in {delay:?}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(30));
            }
        }
    }
}

fn drop_crd(
    store: &Store,
    tasks: &mut HashMap<String, (ResourceType, Task)>,
    crd: &CustomResourceDefinition,
) {
    let plural = &crd.spec.names.plural;
    if tasks
        .get(plural)
        .is_some_and(|(kind, _)| kind.group == crd.spec.group)
    {
        tasks.remove(plural);
        store.unregister(plural);
    }
}

fn ensure_watch(
    client: &kube::Client,
    store: &Arc<Store>,
    tasks: &mut HashMap<String, (ResourceType, Task)>,
    kind: ResourceType,
) {
    if tasks.get(&kind.plural).is_some_and(|(k, _)| *k == kind) {
        return;
    }
    if let Some((existing, _)) = tasks.get(&kind.plural)
        && BUILTIN.contains(&(existing.group.as_str(), existing.plural.as_str()))
    {
        // A CRD whose plural shadows a built-in list: the URL names one resource per
        // plural, and the built-in keeps it.
        return;
    }
    let ar = ApiResource {
        group: kind.group.clone(),
        version: kind.version.clone(),
        api_version: api_version(&kind.group, &kind.version),
        kind: kind.kind.clone(),
        plural: kind.plural.clone(),
    };
    store.register(kind.clone());
    let task = spawn_watch(client.clone(), ar, store.clone());
    tasks.insert(kind.plural.clone(), (kind, task));
}

fn api_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

fn resource_type(ar: &ApiResource, namespaced: bool) -> ResourceType {
    ResourceType {
        group: ar.group.clone(),
        version: ar.version.clone(),
        kind: ar.kind.clone(),
        plural: ar.plural.clone(),
        namespaced,
    }
}

/// The served storage version of an established CRD (the version its objects are kept in,
/// so every object is listed in one shape).
fn crd_type(crd: &CustomResourceDefinition) -> Option<ResourceType> {
    let established = crd
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| {
            c.iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
        });
    if !established {
        return None;
    }
    let version = crd
        .spec
        .versions
        .iter()
        .find(|v| v.served && v.storage)
        .or_else(|| crd.spec.versions.iter().find(|v| v.served))?;
    Some(ResourceType {
        group: crd.spec.group.clone(),
        version: version.name.clone(),
        kind: crd.spec.names.kind.clone(),
        plural: crd.spec.names.plural.clone(),
        namespaced: crd.spec.scope == "Namespaced",
    })
}

fn spawn_watch(client: kube::Client, ar: ApiResource, store: Arc<Store>) -> Task {
    Task(tokio::spawn(watch_resource(client, ar, store)))
}

/// Keeps one resource's index current. A (re)list is built into a fresh index and
/// swapped in whole, so readers never see a half-loaded list.
async fn watch_resource(client: kube::Client, ar: ApiResource, store: Arc<Store>) {
    let api: Api<DynamicObject> = Api::all_with(client, &ar);
    let stream = watcher::watcher(api, watcher::Config::default()).default_backoff();
    futures::pin_mut!(stream);
    let mut staging: Option<ResourceIndex> = None;
    while let Some(event) = stream.next().await {
        match event {
            Ok(Event::Init) => staging = Some(ResourceIndex::new(ar.plural.clone())),
            Ok(Event::InitApply(o)) => {
                if let Some(index) = staging.as_mut() {
                    index.apply(&to_value(o, &ar));
                }
            }
            Ok(Event::InitDone) => {
                let index = staging
                    .take()
                    .unwrap_or_else(|| ResourceIndex::new(ar.plural.clone()));
                store.install(&ar.plural, index);
            }
            Ok(Event::Apply(o)) => store.apply(&ar.plural, &to_value(o, &ar)),
            Ok(Event::Delete(o)) => store.delete(&ar.plural, &to_value(o, &ar)),
            Err(e) => tracing::warn!(resource = %ar.plural, error = %e, "watch failed; retrying"),
        }
    }
}

/// The object as JSON, with `apiVersion` and `kind` filled in (list items may lack them).
fn to_value(object: DynamicObject, ar: &ApiResource) -> Value {
    let mut value = serde_json::to_value(object).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        map.entry("apiVersion")
            .or_insert_with(|| Value::String(ar.api_version.clone()));
        map.entry("kind")
            .or_insert_with(|| Value::String(ar.kind.clone()));
    }
    value
}
