//! `tenant.kubesphere.io/v1beta1` Workspace and WorkspaceTemplate.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A tenant: owns projects (namespaces labelled `kubesphere.io/workspace`).
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "tenant.kubesphere.io",
    version = "v1beta1",
    kind = "Workspace",
    plural = "workspaces",
    status = "WorkspaceStatus",
    category = "tenant"
)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceSpec {
    /// The user who administers the workspace (bound to `<ws>-admin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_isolation: Option<bool>,
}

/// Workspace status (empty, as in KubeSphere).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct WorkspaceStatus {}

/// Metadata and spec of the Workspace a template produces.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct Template {
    #[serde(default)]
    pub metadata: TemplateMeta,
    #[serde(default)]
    pub spec: WorkspaceSpec,
}

/// The labels and annotations copied onto the Workspace (ObjectMeta minus server fields).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct TemplateMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<std::collections::BTreeMap<String, String>>,
}

impl TemplateMeta {
    /// The template's metadata as an ObjectMeta for the produced Workspace.
    pub fn to_object_meta(&self, name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_string()),
            labels: self.labels.clone(),
            annotations: self.annotations.clone(),
            ..Default::default()
        }
    }
}

/// A cluster a workspace is placed on.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct GenericClusterReference {
    pub name: String,
}

/// Where a workspace is placed: named clusters or a selector.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenericPlacementFields {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clusters: Vec<GenericClusterReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_selector: Option<LabelSelector>,
}

/// The multi-cluster form of a workspace; the controller derives the Workspace from it.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "tenant.kubesphere.io",
    version = "v1beta1",
    kind = "WorkspaceTemplate",
    plural = "workspacetemplates",
    category = "tenant"
)]
pub struct WorkspaceTemplateSpec {
    #[serde(default)]
    pub template: Template,
    #[serde(default)]
    pub placement: GenericPlacementFields,
}
