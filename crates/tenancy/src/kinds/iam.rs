//! `iam.kubesphere.io/v1beta1` roles, bindings, groups and role templates, shaped as KubeSphere serves them.

use k8s_openapi::api::rbac::v1::{PolicyRule, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which role templates a role is composed of: listed by name, or chosen by labels.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AggregationRoleTemplates {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub template_names: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_selector: Option<LabelSelector>,
}

/// The body shared by GlobalRole and WorkspaceRole: rules at the top level, as in KubeSphere.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "iam.kubesphere.io",
    version = "v1beta1",
    kind = "GlobalRole",
    plural = "globalroles",
    no_spec,
    category = "iam"
)]
#[serde(rename_all = "camelCase")]
pub struct GlobalRoleFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation_role_templates: Option<AggregationRoleTemplates>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<PolicyRule>,
}

/// A role scoped to one workspace (label `kubesphere.io/workspace`), named `<ws>-<role>`.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "iam.kubesphere.io",
    version = "v1beta1",
    kind = "WorkspaceRole",
    plural = "workspaceroles",
    no_spec,
    category = "iam"
)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceRoleFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation_role_templates: Option<AggregationRoleTemplates>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<PolicyRule>,
}

/// Binds users or groups to a GlobalRole.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "iam.kubesphere.io",
    version = "v1beta1",
    kind = "GlobalRoleBinding",
    plural = "globalrolebindings",
    no_spec,
    category = "iam"
)]
#[serde(rename_all = "camelCase")]
pub struct GlobalRoleBindingFields {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<Subject>,
    pub role_ref: RoleRef,
}

/// Binds users or groups to a WorkspaceRole of the workspace in label `kubesphere.io/workspace`.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "iam.kubesphere.io",
    version = "v1beta1",
    kind = "WorkspaceRoleBinding",
    plural = "workspacerolebindings",
    no_spec,
    category = "iam"
)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceRoleBindingFields {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<Subject>,
    pub role_ref: RoleRef,
}

/// A user group of a workspace (label `kubesphere.io/workspace`, parent in `iam.kubesphere.io/group-parent`).
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "iam.kubesphere.io",
    version = "v1beta1",
    kind = "Group",
    plural = "groups",
    status = "GroupStatus",
    category = "iam"
)]
pub struct GroupSpec {}

/// Group status (empty, as in KubeSphere).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct GroupStatus {}

/// The group a GroupBinding adds users to.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupRef {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_group: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default)]
    pub name: String,
}

/// Makes `users` members of `groupRef`.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "iam.kubesphere.io",
    version = "v1beta1",
    kind = "GroupBinding",
    plural = "groupbindings",
    no_spec,
    category = "iam"
)]
#[serde(rename_all = "camelCase")]
pub struct GroupBindingFields {
    #[serde(default)]
    pub group_ref: GroupRef,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
}

/// A named bundle of rules roles are composed from (label `iam.kubesphere.io/scope`).
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "iam.kubesphere.io",
    version = "v1beta1",
    kind = "RoleTemplate",
    plural = "roletemplates",
    category = "iam"
)]
#[serde(rename_all = "camelCase")]
pub struct RoleTemplateSpec {
    /// Display name per language (`en`, `zh`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub display_name: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub description: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<PolicyRule>,
}
