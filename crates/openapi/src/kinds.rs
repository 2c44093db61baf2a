//! The built-in kinds the kernel serves and the k8s-openapi types their schemas come from.

use k8s_openapi::api;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1 as apiregistration;
use schemars::SchemaGenerator;

/// One built-in kind: its group/version/kind and the name of its OpenAPI definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinKind {
    /// API group, `""` for the core group.
    pub group: &'static str,
    /// API version, e.g. `v1`.
    pub version: &'static str,
    /// Kind, e.g. `Pod`.
    pub kind: &'static str,
    /// Definition name, e.g. `io.k8s.api.core.v1.Pod`.
    pub definition: &'static str,
    /// Whether the kind is a listable resource, so that a `<Kind>List` definition exists.
    pub listable: bool,
}

macro_rules! builtin_kinds {
    ($( ($group:literal, $version:literal, $kind:literal, $def:literal, $ty:ty, $listable:literal) ),* $(,)?) => {
        /// Every built-in kind with a top-level definition.
        pub static BUILTIN_KINDS: &[BuiltinKind] = &[
            $( BuiltinKind { group: $group, version: $version, kind: $kind, definition: $def, listable: $listable }, )*
        ];

        /// Registers the schema of every built-in kind (and everything it reaches) in `generator`.
        pub(crate) fn register_all(generator: &mut SchemaGenerator) {
            $( generator.subschema_for::<$ty>(); )*
        }

        #[cfg(test)]
        pub(crate) fn schema_names() -> Vec<(&'static str, String)> {
            vec![ $( ($def, <$ty as schemars::JsonSchema>::schema_name().into_owned()), )* ]
        }
    };
}

builtin_kinds! {
    ("", "v1", "Namespace", "io.k8s.api.core.v1.Namespace", api::core::v1::Namespace, true),
    ("", "v1", "Pod", "io.k8s.api.core.v1.Pod", api::core::v1::Pod, true),
    ("", "v1", "Service", "io.k8s.api.core.v1.Service", api::core::v1::Service, true),
    ("", "v1", "Endpoints", "io.k8s.api.core.v1.Endpoints", api::core::v1::Endpoints, true),
    ("", "v1", "ConfigMap", "io.k8s.api.core.v1.ConfigMap", api::core::v1::ConfigMap, true),
    ("", "v1", "Secret", "io.k8s.api.core.v1.Secret", api::core::v1::Secret, true),
    ("", "v1", "ServiceAccount", "io.k8s.api.core.v1.ServiceAccount", api::core::v1::ServiceAccount, true),
    ("", "v1", "Event", "io.k8s.api.core.v1.Event", api::core::v1::Event, true),
    ("", "v1", "Node", "io.k8s.api.core.v1.Node", api::core::v1::Node, true),
    ("", "v1", "PersistentVolume", "io.k8s.api.core.v1.PersistentVolume", api::core::v1::PersistentVolume, true),
    ("", "v1", "PersistentVolumeClaim", "io.k8s.api.core.v1.PersistentVolumeClaim", api::core::v1::PersistentVolumeClaim, true),
    ("", "v1", "LimitRange", "io.k8s.api.core.v1.LimitRange", api::core::v1::LimitRange, true),
    ("", "v1", "ResourceQuota", "io.k8s.api.core.v1.ResourceQuota", api::core::v1::ResourceQuota, true),
    ("", "v1", "Binding", "io.k8s.api.core.v1.Binding", api::core::v1::Binding, false),
    ("apps", "v1", "Deployment", "io.k8s.api.apps.v1.Deployment", api::apps::v1::Deployment, true),
    ("apps", "v1", "ReplicaSet", "io.k8s.api.apps.v1.ReplicaSet", api::apps::v1::ReplicaSet, true),
    ("apps", "v1", "StatefulSet", "io.k8s.api.apps.v1.StatefulSet", api::apps::v1::StatefulSet, true),
    ("apps", "v1", "DaemonSet", "io.k8s.api.apps.v1.DaemonSet", api::apps::v1::DaemonSet, true),
    ("apps", "v1", "ControllerRevision", "io.k8s.api.apps.v1.ControllerRevision", api::apps::v1::ControllerRevision, true),
    ("batch", "v1", "Job", "io.k8s.api.batch.v1.Job", api::batch::v1::Job, true),
    ("batch", "v1", "CronJob", "io.k8s.api.batch.v1.CronJob", api::batch::v1::CronJob, true),
    ("networking.k8s.io", "v1", "Ingress", "io.k8s.api.networking.v1.Ingress", api::networking::v1::Ingress, true),
    ("networking.k8s.io", "v1", "IngressClass", "io.k8s.api.networking.v1.IngressClass", api::networking::v1::IngressClass, true),
    ("networking.k8s.io", "v1", "NetworkPolicy", "io.k8s.api.networking.v1.NetworkPolicy", api::networking::v1::NetworkPolicy, true),
    ("storage.k8s.io", "v1", "StorageClass", "io.k8s.api.storage.v1.StorageClass", api::storage::v1::StorageClass, true),
    ("coordination.k8s.io", "v1", "Lease", "io.k8s.api.coordination.v1.Lease", api::coordination::v1::Lease, true),
    ("events.k8s.io", "v1", "Event", "io.k8s.api.events.v1.Event", api::events::v1::Event, true),
    ("discovery.k8s.io", "v1", "EndpointSlice", "io.k8s.api.discovery.v1.EndpointSlice", api::discovery::v1::EndpointSlice, true),
    ("policy", "v1", "PodDisruptionBudget", "io.k8s.api.policy.v1.PodDisruptionBudget", api::policy::v1::PodDisruptionBudget, true),
    ("policy", "v1", "Eviction", "io.k8s.api.policy.v1.Eviction", api::policy::v1::Eviction, false),
    ("autoscaling", "v2", "HorizontalPodAutoscaler", "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler", api::autoscaling::v2::HorizontalPodAutoscaler, true),
    ("autoscaling", "v1", "Scale", "io.k8s.api.autoscaling.v1.Scale", api::autoscaling::v1::Scale, false),
    ("rbac.authorization.k8s.io", "v1", "Role", "io.k8s.api.rbac.v1.Role", api::rbac::v1::Role, true),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole", "io.k8s.api.rbac.v1.ClusterRole", api::rbac::v1::ClusterRole, true),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding", "io.k8s.api.rbac.v1.RoleBinding", api::rbac::v1::RoleBinding, true),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "io.k8s.api.rbac.v1.ClusterRoleBinding", api::rbac::v1::ClusterRoleBinding, true),
    ("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition", apiextensions::CustomResourceDefinition, true),
    ("authentication.k8s.io", "v1", "TokenReview", "io.k8s.api.authentication.v1.TokenReview", api::authentication::v1::TokenReview, false),
    ("authentication.k8s.io", "v1", "SelfSubjectReview", "io.k8s.api.authentication.v1.SelfSubjectReview", api::authentication::v1::SelfSubjectReview, false),
    ("authentication.k8s.io", "v1", "TokenRequest", "io.k8s.api.authentication.v1.TokenRequest", api::authentication::v1::TokenRequest, false),
    ("authorization.k8s.io", "v1", "SubjectAccessReview", "io.k8s.api.authorization.v1.SubjectAccessReview", api::authorization::v1::SubjectAccessReview, false),
    ("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "io.k8s.api.authorization.v1.SelfSubjectAccessReview", api::authorization::v1::SelfSubjectAccessReview, false),
    ("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "io.k8s.api.authorization.v1.SelfSubjectRulesReview", api::authorization::v1::SelfSubjectRulesReview, false),
    ("authorization.k8s.io", "v1", "LocalSubjectAccessReview", "io.k8s.api.authorization.v1.LocalSubjectAccessReview", api::authorization::v1::LocalSubjectAccessReview, false),
    ("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration", api::admissionregistration::v1::ValidatingWebhookConfiguration, true),
    ("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration", api::admissionregistration::v1::MutatingWebhookConfiguration, true),
    ("apiregistration.k8s.io", "v1", "APIService", "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService", apiregistration::APIService, true),
    ("certificates.k8s.io", "v1", "CertificateSigningRequest", "io.k8s.api.certificates.v1.CertificateSigningRequest", api::certificates::v1::CertificateSigningRequest, true),
    ("flowcontrol.apiserver.k8s.io", "v1", "FlowSchema", "io.k8s.api.flowcontrol.v1.FlowSchema", api::flowcontrol::v1::FlowSchema, true),
    ("flowcontrol.apiserver.k8s.io", "v1", "PriorityLevelConfiguration", "io.k8s.api.flowcontrol.v1.PriorityLevelConfiguration", api::flowcontrol::v1::PriorityLevelConfiguration, true),
    ("node.k8s.io", "v1", "RuntimeClass", "io.k8s.api.node.v1.RuntimeClass", api::node::v1::RuntimeClass, true),
    ("resource.k8s.io", "v1", "DeviceClass", "io.k8s.api.resource.v1.DeviceClass", api::resource::v1::DeviceClass, true),
    ("resource.k8s.io", "v1", "ResourceClaim", "io.k8s.api.resource.v1.ResourceClaim", api::resource::v1::ResourceClaim, true),
    ("resource.k8s.io", "v1", "ResourceClaimTemplate", "io.k8s.api.resource.v1.ResourceClaimTemplate", api::resource::v1::ResourceClaimTemplate, true),
    ("resource.k8s.io", "v1", "ResourceSlice", "io.k8s.api.resource.v1.ResourceSlice", api::resource::v1::ResourceSlice, true),
    ("scheduling.k8s.io", "v1", "PriorityClass", "io.k8s.api.scheduling.v1.PriorityClass", api::scheduling::v1::PriorityClass, true),
    ("", "v1", "Status", "io.k8s.apimachinery.pkg.apis.meta.v1.Status", meta::Status, false),
    ("", "v1", "APIResourceList", "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList", meta::APIResourceList, false),
    ("", "v1", "APIGroupList", "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList", meta::APIGroupList, false),
    ("", "v1", "APIGroup", "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup", meta::APIGroup, false),
    ("", "v1", "APIVersions", "io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions", meta::APIVersions, false),
}

/// Definition names of the meta/v1 types every group version shares: `DeleteOptions` and
/// `WatchEvent` carry one group-version-kind per served group version, as in kube-apiserver.
pub const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
/// See [`DELETE_OPTIONS`].
pub const WATCH_EVENT: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent";
/// The type of every list's `metadata`.
pub const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";

/// Registers the shared meta/v1 types that no kind reaches through its fields.
pub(crate) fn register_meta(generator: &mut SchemaGenerator) {
    generator.subschema_for::<meta::DeleteOptions>();
    generator.subschema_for::<meta::WatchEvent<serde_json::Value>>();
    generator.subschema_for::<meta::Patch>();
    generator.subschema_for::<meta::ListMeta>();
}
