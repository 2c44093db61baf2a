//! Installs the CRDs and built-in objects at start, idempotently (server-side apply).

mod roles;
mod templates;

pub use roles::{
    cluster_roles, global_role_binding, global_roles, project_role_templates, project_roles,
    user_subject, workspace_roles,
};
pub use templates::{role_templates, rules_of, template_names};

use crate::names;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::{Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use std::time::Duration;

/// Why installing the built-in objects failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API server refused an object.
    #[error("installing {kind} {name:?}: {source}")]
    Apply {
        kind: String,
        name: String,
        #[source]
        source: kube::Error,
    },
    /// The CRDs did not become servable in time.
    #[error("the tenancy CRDs were not served after {0:?}; is the API server healthy?")]
    NotEstablished(Duration),
}

/// Applies `obj` with server-side apply as this crate's field manager (force: the
/// built-ins are ours to reset).
pub async fn apply<K>(api: &Api<K>, obj: &K) -> Result<K, Error>
where
    K: Resource + Serialize + DeserializeOwned + Clone + Debug,
    K::DynamicType: Default,
{
    let name = obj.meta().name.clone().unwrap_or_default();
    let mut value = serde_json::to_value(obj).map_err(|e| Error::Apply {
        kind: K::kind(&Default::default()).to_string(),
        name: name.clone(),
        source: kube::Error::SerdeError(e),
    })?;
    if let Some(m) = value.as_object_mut() {
        m.insert(
            "apiVersion".into(),
            K::api_version(&Default::default()).into(),
        );
        m.insert("kind".into(), K::kind(&Default::default()).into());
    }
    api.patch(
        &name,
        &PatchParams::apply(names::FIELD_MANAGER).force(),
        &Patch::Apply(&value),
    )
    .await
    .map_err(|source| Error::Apply {
        kind: K::kind(&Default::default()).to_string(),
        name,
        source,
    })
}

/// Installs this crate's CRDs and waits until they are served.
pub async fn install_crds(client: &Client) -> Result<(), Error> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in crate::crds() {
        apply(&crds, &crd).await?;
    }
    let wait = Duration::from_secs(30);
    let probe: Api<crate::kinds::WorkspaceTemplate> = Api::all(client.clone());
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let all_served = probe.list(&ListParams::default().limit(1)).await.is_ok()
            && Api::<crate::kinds::RoleTemplate>::all(client.clone())
                .list(&ListParams::default().limit(1))
                .await
                .is_ok()
            && Api::<crate::kinds::GroupBinding>::all(client.clone())
                .list(&ListParams::default().limit(1))
                .await
                .is_ok();
        if all_served {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::NotEstablished(wait));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Installs the CRDs, role templates, global roles, the cluster viewer role and the
/// `admin` user's platform-admin binding. Safe to run at every start.
pub async fn install(client: Client) -> Result<(), Error> {
    install_crds(&client).await?;
    let templates: Api<crate::kinds::RoleTemplate> = Api::all(client.clone());
    for t in role_templates() {
        apply(&templates, &t).await?;
    }
    let globals: Api<crate::kinds::GlobalRole> = Api::all(client.clone());
    for r in global_roles() {
        apply(&globals, &r).await?;
    }
    let crs: Api<k8s_openapi::api::rbac::v1::ClusterRole> = Api::all(client.clone());
    for r in cluster_roles() {
        apply(&crs, &r).await?;
    }
    let grbs: Api<crate::kinds::GlobalRoleBinding> = Api::all(client.clone());
    apply(&grbs, &global_role_binding("admin", names::PLATFORM_ADMIN)).await?;
    Ok(())
}
