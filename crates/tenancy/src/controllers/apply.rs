//! Applies a declared set of children with server-side apply and deletes the labelled orphans (Stackable's ClusterResources idea).

use crate::names;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::fmt::Debug;

/// Server-side applies `obj` (cluster-scoped or namespaced) as this crate's field manager.
pub async fn apply_one<K>(client: &Client, obj: &K) -> Result<(), kube::Error>
where
    K: Resource<DynamicType = ()> + Serialize + DeserializeOwned + Clone + Debug,
    K::Scope: ScopeApi,
{
    let api: Api<K> = K::Scope::api(client, obj.meta().namespace.as_deref());
    let mut value = serde_json::to_value(obj).map_err(kube::Error::SerdeError)?;
    if let Some(m) = value.as_object_mut() {
        m.insert("apiVersion".into(), K::api_version(&()).into());
        m.insert("kind".into(), K::kind(&()).into());
        if let Some(meta) = m.get_mut("metadata").and_then(|v| v.as_object_mut()) {
            // Server-populated fields must not be declared in an apply configuration.
            for f in [
                "resourceVersion",
                "uid",
                "creationTimestamp",
                "managedFields",
                "generation",
            ] {
                meta.remove(f);
            }
        }
    }
    api.patch(
        &obj.name_any(),
        &PatchParams::apply(names::FIELD_MANAGER).force(),
        &Patch::Apply(&value),
    )
    .await
    .map(|_| ())
}

/// Lets one generic function build the right `Api` for cluster-scoped and namespaced kinds.
pub trait ScopeApi {
    fn api<K>(client: &Client, ns: Option<&str>) -> Api<K>
    where
        K: Resource<DynamicType = (), Scope = Self>;
}

impl ScopeApi for k8s_openapi::ClusterResourceScope {
    fn api<K>(client: &Client, _ns: Option<&str>) -> Api<K>
    where
        K: Resource<DynamicType = (), Scope = Self>,
    {
        Api::all(client.clone())
    }
}

impl ScopeApi for k8s_openapi::NamespaceResourceScope {
    fn api<K>(client: &Client, ns: Option<&str>) -> Api<K>
    where
        K: Resource<DynamicType = (), Scope = Self>,
    {
        match ns {
            Some(ns) => Api::namespaced(client.clone(), ns),
            None => Api::default_namespaced(client.clone()),
        }
    }
}

/// Applies every object of `desired`, then deletes the objects of kind `K` labelled as
/// derived from `source` that are no longer desired.
pub async fn reconcile_children<K>(
    client: &Client,
    source: &str,
    desired: &[K],
) -> Result<(), kube::Error>
where
    K: Resource<DynamicType = ()> + Serialize + DeserializeOwned + Clone + Debug,
    K::Scope: ScopeApi,
{
    for obj in desired {
        apply_one(client, obj).await?;
    }
    let keep: HashSet<(Option<String>, String)> = desired
        .iter()
        .map(|o| (o.meta().namespace.clone(), o.name_any()))
        .collect();
    let all: Api<K> = Api::all(client.clone());
    let selector = format!(
        "{}={},{}={source}",
        names::MANAGED_BY_LABEL,
        names::MANAGED_BY,
        names::SOURCE_LABEL
    );
    let existing = all.list(&ListParams::default().labels(&selector)).await?;
    for o in existing {
        let key = (o.meta().namespace.clone(), o.name_any());
        if !keep.contains(&key) {
            let api: Api<K> = K::Scope::api(client, key.0.as_deref());
            match api.delete(&key.1, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// Deletes every object of kind `K` carrying `selector` (in all namespaces).
pub async fn delete_labelled<K>(client: &Client, selector: &str) -> Result<usize, kube::Error>
where
    K: Resource<DynamicType = ()> + DeserializeOwned + Clone + Debug,
    K::Scope: ScopeApi,
{
    let all: Api<K> = Api::all(client.clone());
    let mut n = 0;
    for o in all.list(&ListParams::default().labels(selector)).await? {
        let api: Api<K> = K::Scope::api(client, o.meta().namespace.as_deref());
        match api.delete(&o.name_any(), &DeleteParams::default()).await {
            Ok(_) => n += 1,
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
