//! Storage object protection (the pvc-protection and pv-protection controllers) and safe removal of provisioned directories.

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, Patch, PatchParams};
use kube::{Client, Resource};
use serde_json::json;
use std::path::Path;

/// Finalizer the API server puts on claims so they outlive the pods using them.
pub const FINALIZER_PVC: &str = "kubernetes.io/pvc-protection";
/// Finalizer the API server puts on volumes so they outlive their binding.
pub const FINALIZER_PV: &str = "kubernetes.io/pv-protection";

/// The pvc-protection controller: a deleted claim goes once no running pod uses it.
pub async fn release_claim_protection(
    client: &Client,
    c: &PersistentVolumeClaim,
) -> Result<(), kube::Error> {
    if !c
        .metadata
        .finalizers
        .iter()
        .flatten()
        .any(|f| f == FINALIZER_PVC)
    {
        return Ok(());
    }
    let ns = c.metadata.namespace.clone().unwrap_or_default();
    let name = c.metadata.name.clone().unwrap_or_default();
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let in_use = pods.list(&Default::default()).await?.items.iter().any(|p| {
        let terminal = matches!(
            p.status.as_ref().and_then(|s| s.phase.as_deref()),
            Some("Succeeded") | Some("Failed")
        );
        !terminal
            && p.spec.as_ref().is_some_and(|s| {
                s.volumes.iter().flatten().any(|v| {
                    v.persistent_volume_claim
                        .as_ref()
                        .is_some_and(|c| c.claim_name == name)
                })
            })
    });
    if in_use {
        return Ok(());
    }
    let api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns);
    remove_finalizer(&api, &c.metadata, FINALIZER_PVC).await
}

pub async fn remove_finalizer<K>(
    api: &Api<K>,
    meta: &ObjectMeta,
    finalizer: &str,
) -> Result<(), kube::Error>
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let all = meta.finalizers.clone().unwrap_or_default();
    if !all.iter().any(|f| f == finalizer) {
        return Ok(());
    }
    let rest: Vec<String> = all.into_iter().filter(|f| f != finalizer).collect();
    let patch = json!({"metadata": {"finalizers": rest, "resourceVersion": meta.resource_version}});
    match api
        .patch(
            meta.name.as_deref().unwrap_or(""),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        Ok(_) => Ok(()),
        // Someone else changed it meanwhile, or it is gone: the next sync retries.
        Err(kube::Error::Api(s)) if s.code == 409 || s.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Removes a provisioned directory, but only one directly under `base`: a volume
/// object pointing elsewhere must never make us delete arbitrary paths.
pub fn remove_volume_dir(base: &Path, path: &Path) {
    if path.parent() != Some(base) {
        tracing::warn!(path = %path.display(), "not removing a volume directory outside the volume base dir");
        return;
    }
    if let Err(e) = std::fs::remove_dir_all(path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), error = %e, "cannot remove volume directory");
    }
}
