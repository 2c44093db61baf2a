//! The strategic-merge-patch and server-side-apply extensions Kubernetes v1.36 declares on built-in fields.
//!
//! k8s-openapi's schemas carry none of the `x-kubernetes-patch-*` / `x-kubernetes-list-*` /
//! `x-kubernetes-map-type` extensions, so they are written here by hand from the Go struct tags
//! (`patchStrategy`, `patchMergeKey`, `+listType`, `+listMapKey`, `+mapType`) of Kubernetes v1.36,
//! for every type reachable from the kinds the kernel serves.

use serde_json::{Map, Value, json};

/// The extensions one field (or one type) carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ext {
    /// `x-kubernetes-list-type: atomic`: the list is replaced as a whole.
    Atomic,
    /// `x-kubernetes-list-type: set` of primitives, no patch strategy.
    Set,
    /// A set of primitives merged by strategic merge patch (`patchStrategy:"merge"`, `listType=set`).
    MergeSet,
    /// `x-kubernetes-list-type: map` keyed by these fields, without a patch strategy.
    Map(&'static [&'static str]),
    /// `patchStrategy:"merge"` by `key` and `listType=map` keyed by `keys`.
    MergeMap(&'static str, &'static [&'static str]),
    /// `patchStrategy:"merge,retainKeys"` by `key` and `listType=map` keyed by `keys`.
    MergeRetainMap(&'static str, &'static [&'static str]),
    /// `patchStrategy:"merge"` by `key` on a list declared `listType=atomic` (kept for compatibility).
    MergeAtomic(&'static str),
    /// `patchStrategy:"retainKeys"` on a struct field.
    RetainKeys,
    /// `patchStrategy:"replace"` on a struct field.
    Replace,
    /// `x-kubernetes-map-type: atomic`.
    MapAtomic,
    /// `x-kubernetes-map-type: granular`.
    MapGranular,
}

impl Ext {
    /// The OpenAPI extension entries this declaration stands for.
    pub fn extensions(self) -> Map<String, Value> {
        let mut out = Map::new();
        let mut put = |k: &str, v: Value| {
            out.insert(k.to_owned(), v);
        };
        match self {
            Ext::Atomic => put("x-kubernetes-list-type", json!("atomic")),
            Ext::Set => put("x-kubernetes-list-type", json!("set")),
            Ext::MergeSet => {
                put("x-kubernetes-list-type", json!("set"));
                put("x-kubernetes-patch-strategy", json!("merge"));
            }
            Ext::Map(keys) => {
                put("x-kubernetes-list-map-keys", json!(keys));
                put("x-kubernetes-list-type", json!("map"));
            }
            Ext::MergeMap(key, keys) => {
                put("x-kubernetes-list-map-keys", json!(keys));
                put("x-kubernetes-list-type", json!("map"));
                put("x-kubernetes-patch-merge-key", json!(key));
                put("x-kubernetes-patch-strategy", json!("merge"));
            }
            Ext::MergeRetainMap(key, keys) => {
                put("x-kubernetes-list-map-keys", json!(keys));
                put("x-kubernetes-list-type", json!("map"));
                put("x-kubernetes-patch-merge-key", json!(key));
                put("x-kubernetes-patch-strategy", json!("merge,retainKeys"));
            }
            Ext::MergeAtomic(key) => {
                put("x-kubernetes-list-type", json!("atomic"));
                put("x-kubernetes-patch-merge-key", json!(key));
                put("x-kubernetes-patch-strategy", json!("merge"));
            }
            Ext::RetainKeys => put("x-kubernetes-patch-strategy", json!("retainKeys")),
            Ext::Replace => put("x-kubernetes-patch-strategy", json!("replace")),
            Ext::MapAtomic => put("x-kubernetes-map-type", json!("atomic")),
            Ext::MapGranular => put("x-kubernetes-map-type", json!("granular")),
        }
        out
    }
}

use Ext::{Atomic as A, MapAtomic as MA, MergeSet, Set};

const BY_NAME: Ext = Ext::MergeMap("name", &["name"]);
const BY_TYPE: Ext = Ext::MergeMap("type", &["type"]);
const BY_MOUNT_PATH: Ext = Ext::MergeMap("mountPath", &["mountPath"]);
const BY_DEVICE_PATH: Ext = Ext::MergeMap("devicePath", &["devicePath"]);
const BY_CONTAINER_PORT: Ext = Ext::MergeMap("containerPort", &["containerPort", "protocol"]);
const BY_IP: Ext = Ext::MergeMap("ip", &["ip"]);
const RETAIN_BY_NAME: Ext = Ext::MergeRetainMap("name", &["name"]);

/// Field-level declarations: (definition, property, extensions).
#[rustfmt::skip]
pub static FIELDS: &[(&str, &str, Ext)] = &[
    // admissionregistration.k8s.io/v1
    ("io.k8s.api.admissionregistration.v1.MutatingWebhook", "admissionReviewVersions", A),
    ("io.k8s.api.admissionregistration.v1.MutatingWebhook", "matchConditions", BY_NAME),
    ("io.k8s.api.admissionregistration.v1.MutatingWebhook", "rules", A),
    ("io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration", "webhooks", BY_NAME),
    ("io.k8s.api.admissionregistration.v1.RuleWithOperations", "apiGroups", A),
    ("io.k8s.api.admissionregistration.v1.RuleWithOperations", "apiVersions", A),
    ("io.k8s.api.admissionregistration.v1.RuleWithOperations", "operations", A),
    ("io.k8s.api.admissionregistration.v1.RuleWithOperations", "resources", A),
    ("io.k8s.api.admissionregistration.v1.ValidatingWebhook", "admissionReviewVersions", A),
    ("io.k8s.api.admissionregistration.v1.ValidatingWebhook", "matchConditions", BY_NAME),
    ("io.k8s.api.admissionregistration.v1.ValidatingWebhook", "rules", A),
    ("io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration", "webhooks", BY_NAME),
    // apps/v1
    ("io.k8s.api.apps.v1.DaemonSetStatus", "conditions", BY_TYPE),
    ("io.k8s.api.apps.v1.DeploymentSpec", "strategy", Ext::RetainKeys),
    ("io.k8s.api.apps.v1.DeploymentStatus", "conditions", BY_TYPE),
    ("io.k8s.api.apps.v1.ReplicaSetStatus", "conditions", BY_TYPE),
    ("io.k8s.api.apps.v1.StatefulSetSpec", "volumeClaimTemplates", A),
    ("io.k8s.api.apps.v1.StatefulSetStatus", "conditions", BY_TYPE),
    // authentication.k8s.io/v1
    ("io.k8s.api.authentication.v1.TokenRequestSpec", "audiences", A),
    ("io.k8s.api.authentication.v1.TokenReviewSpec", "audiences", A),
    ("io.k8s.api.authentication.v1.TokenReviewStatus", "audiences", A),
    ("io.k8s.api.authentication.v1.UserInfo", "groups", A),
    // authorization.k8s.io/v1
    ("io.k8s.api.authorization.v1.FieldSelectorAttributes", "requirements", A),
    ("io.k8s.api.authorization.v1.LabelSelectorAttributes", "requirements", A),
    ("io.k8s.api.authorization.v1.NonResourceRule", "nonResourceURLs", A),
    ("io.k8s.api.authorization.v1.NonResourceRule", "verbs", A),
    ("io.k8s.api.authorization.v1.ResourceRule", "apiGroups", A),
    ("io.k8s.api.authorization.v1.ResourceRule", "resourceNames", A),
    ("io.k8s.api.authorization.v1.ResourceRule", "resources", A),
    ("io.k8s.api.authorization.v1.ResourceRule", "verbs", A),
    ("io.k8s.api.authorization.v1.SubjectAccessReviewSpec", "groups", A),
    ("io.k8s.api.authorization.v1.SubjectRulesReviewStatus", "nonResourceRules", A),
    ("io.k8s.api.authorization.v1.SubjectRulesReviewStatus", "resourceRules", A),
    // autoscaling/v2
    ("io.k8s.api.autoscaling.v2.HPAScalingRules", "policies", A),
    ("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec", "metrics", A),
    ("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus", "conditions", BY_TYPE),
    ("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus", "currentMetrics", A),
    // batch/v1
    ("io.k8s.api.batch.v1.CronJobStatus", "active", A),
    ("io.k8s.api.batch.v1.JobStatus", "conditions", Ext::MergeAtomic("type")),
    ("io.k8s.api.batch.v1.PodFailurePolicy", "rules", A),
    ("io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement", "values", Set),
    ("io.k8s.api.batch.v1.PodFailurePolicyRule", "onPodConditions", A),
    ("io.k8s.api.batch.v1.SuccessPolicy", "rules", A),
    ("io.k8s.api.batch.v1.UncountedTerminatedPods", "failed", Set),
    ("io.k8s.api.batch.v1.UncountedTerminatedPods", "succeeded", Set),
    // certificates.k8s.io/v1
    ("io.k8s.api.certificates.v1.CertificateSigningRequestSpec", "groups", A),
    ("io.k8s.api.certificates.v1.CertificateSigningRequestSpec", "request", A),
    ("io.k8s.api.certificates.v1.CertificateSigningRequestSpec", "usages", A),
    ("io.k8s.api.certificates.v1.CertificateSigningRequestStatus", "certificate", A),
    ("io.k8s.api.certificates.v1.CertificateSigningRequestStatus", "conditions", Ext::Map(&["type"])),
    // core/v1
    ("io.k8s.api.core.v1.Capabilities", "add", A),
    ("io.k8s.api.core.v1.Capabilities", "drop", A),
    ("io.k8s.api.core.v1.CephFSPersistentVolumeSource", "monitors", A),
    ("io.k8s.api.core.v1.CephFSVolumeSource", "monitors", A),
    ("io.k8s.api.core.v1.ConfigMapProjection", "items", A),
    ("io.k8s.api.core.v1.ConfigMapVolumeSource", "items", A),
    ("io.k8s.api.core.v1.Container", "args", A),
    ("io.k8s.api.core.v1.Container", "command", A),
    ("io.k8s.api.core.v1.Container", "env", BY_NAME),
    ("io.k8s.api.core.v1.Container", "envFrom", A),
    ("io.k8s.api.core.v1.Container", "ports", BY_CONTAINER_PORT),
    ("io.k8s.api.core.v1.Container", "resizePolicy", A),
    ("io.k8s.api.core.v1.Container", "restartPolicyRules", A),
    ("io.k8s.api.core.v1.Container", "volumeDevices", BY_DEVICE_PATH),
    ("io.k8s.api.core.v1.Container", "volumeMounts", BY_MOUNT_PATH),
    ("io.k8s.api.core.v1.ContainerImage", "names", A),
    ("io.k8s.api.core.v1.ContainerRestartRuleOnExitCodes", "values", Set),
    ("io.k8s.api.core.v1.ContainerStatus", "allocatedResourcesStatus", BY_NAME),
    ("io.k8s.api.core.v1.ContainerStatus", "volumeMounts", BY_MOUNT_PATH),
    ("io.k8s.api.core.v1.DownwardAPIProjection", "items", A),
    ("io.k8s.api.core.v1.DownwardAPIVolumeSource", "items", A),
    ("io.k8s.api.core.v1.EndpointSubset", "addresses", A),
    ("io.k8s.api.core.v1.EndpointSubset", "notReadyAddresses", A),
    ("io.k8s.api.core.v1.EndpointSubset", "ports", A),
    ("io.k8s.api.core.v1.Endpoints", "subsets", A),
    ("io.k8s.api.core.v1.EphemeralContainer", "args", A),
    ("io.k8s.api.core.v1.EphemeralContainer", "command", A),
    ("io.k8s.api.core.v1.EphemeralContainer", "env", BY_NAME),
    ("io.k8s.api.core.v1.EphemeralContainer", "envFrom", A),
    ("io.k8s.api.core.v1.EphemeralContainer", "ports", BY_CONTAINER_PORT),
    ("io.k8s.api.core.v1.EphemeralContainer", "resizePolicy", A),
    ("io.k8s.api.core.v1.EphemeralContainer", "restartPolicyRules", A),
    ("io.k8s.api.core.v1.EphemeralContainer", "volumeDevices", BY_DEVICE_PATH),
    ("io.k8s.api.core.v1.EphemeralContainer", "volumeMounts", BY_MOUNT_PATH),
    ("io.k8s.api.core.v1.ExecAction", "command", A),
    ("io.k8s.api.core.v1.FCVolumeSource", "targetWWNs", A),
    ("io.k8s.api.core.v1.FCVolumeSource", "wwids", A),
    ("io.k8s.api.core.v1.HTTPGetAction", "httpHeaders", A),
    ("io.k8s.api.core.v1.HostAlias", "hostnames", A),
    ("io.k8s.api.core.v1.ISCSIPersistentVolumeSource", "portals", A),
    ("io.k8s.api.core.v1.ISCSIVolumeSource", "portals", A),
    ("io.k8s.api.core.v1.LimitRangeSpec", "limits", A),
    ("io.k8s.api.core.v1.LinuxContainerUser", "supplementalGroups", A),
    ("io.k8s.api.core.v1.LoadBalancerIngress", "ports", A),
    ("io.k8s.api.core.v1.LoadBalancerStatus", "ingress", A),
    ("io.k8s.api.core.v1.NamespaceSpec", "finalizers", A),
    ("io.k8s.api.core.v1.NamespaceStatus", "conditions", BY_TYPE),
    ("io.k8s.api.core.v1.NodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution", A),
    ("io.k8s.api.core.v1.NodeAllocatableResourceClaimStatus", "containers", Set),
    ("io.k8s.api.core.v1.NodeSelector", "nodeSelectorTerms", A),
    ("io.k8s.api.core.v1.NodeSelectorRequirement", "values", A),
    ("io.k8s.api.core.v1.NodeSelectorTerm", "matchExpressions", A),
    ("io.k8s.api.core.v1.NodeSelectorTerm", "matchFields", A),
    ("io.k8s.api.core.v1.NodeSpec", "podCIDRs", MergeSet),
    ("io.k8s.api.core.v1.NodeSpec", "taints", A),
    ("io.k8s.api.core.v1.NodeStatus", "addresses", BY_TYPE),
    ("io.k8s.api.core.v1.NodeStatus", "conditions", BY_TYPE),
    ("io.k8s.api.core.v1.NodeStatus", "declaredFeatures", A),
    ("io.k8s.api.core.v1.NodeStatus", "images", A),
    ("io.k8s.api.core.v1.NodeStatus", "runtimeHandlers", A),
    ("io.k8s.api.core.v1.NodeStatus", "volumesAttached", A),
    ("io.k8s.api.core.v1.NodeStatus", "volumesInUse", A),
    ("io.k8s.api.core.v1.PersistentVolumeClaimSpec", "accessModes", A),
    ("io.k8s.api.core.v1.PersistentVolumeClaimStatus", "accessModes", A),
    ("io.k8s.api.core.v1.PersistentVolumeClaimStatus", "allocatedResourceStatuses", Ext::MapGranular),
    ("io.k8s.api.core.v1.PersistentVolumeClaimStatus", "conditions", BY_TYPE),
    ("io.k8s.api.core.v1.PersistentVolumeSpec", "accessModes", A),
    ("io.k8s.api.core.v1.PersistentVolumeSpec", "claimRef", Ext::MapGranular),
    ("io.k8s.api.core.v1.PersistentVolumeSpec", "mountOptions", A),
    ("io.k8s.api.core.v1.PodAffinity", "preferredDuringSchedulingIgnoredDuringExecution", A),
    ("io.k8s.api.core.v1.PodAffinity", "requiredDuringSchedulingIgnoredDuringExecution", A),
    ("io.k8s.api.core.v1.PodAffinityTerm", "matchLabelKeys", A),
    ("io.k8s.api.core.v1.PodAffinityTerm", "mismatchLabelKeys", A),
    ("io.k8s.api.core.v1.PodAffinityTerm", "namespaces", A),
    ("io.k8s.api.core.v1.PodAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution", A),
    ("io.k8s.api.core.v1.PodAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution", A),
    ("io.k8s.api.core.v1.PodDNSConfig", "nameservers", A),
    ("io.k8s.api.core.v1.PodDNSConfig", "options", A),
    ("io.k8s.api.core.v1.PodDNSConfig", "searches", A),
    ("io.k8s.api.core.v1.PodExtendedResourceClaimStatus", "requestMappings", A),
    ("io.k8s.api.core.v1.PodSecurityContext", "supplementalGroups", A),
    ("io.k8s.api.core.v1.PodSecurityContext", "sysctls", A),
    ("io.k8s.api.core.v1.PodSpec", "containers", BY_NAME),
    ("io.k8s.api.core.v1.PodSpec", "ephemeralContainers", BY_NAME),
    ("io.k8s.api.core.v1.PodSpec", "hostAliases", BY_IP),
    ("io.k8s.api.core.v1.PodSpec", "imagePullSecrets", BY_NAME),
    ("io.k8s.api.core.v1.PodSpec", "initContainers", BY_NAME),
    ("io.k8s.api.core.v1.PodSpec", "nodeSelector", MA),
    ("io.k8s.api.core.v1.PodSpec", "readinessGates", A),
    ("io.k8s.api.core.v1.PodSpec", "resourceClaims", RETAIN_BY_NAME),
    ("io.k8s.api.core.v1.PodSpec", "schedulingGates", BY_NAME),
    ("io.k8s.api.core.v1.PodSpec", "tolerations", A),
    ("io.k8s.api.core.v1.PodSpec", "topologySpreadConstraints", Ext::MergeMap("topologyKey", &["topologyKey", "whenUnsatisfiable"])),
    ("io.k8s.api.core.v1.PodSpec", "volumes", RETAIN_BY_NAME),
    ("io.k8s.api.core.v1.PodStatus", "conditions", BY_TYPE),
    ("io.k8s.api.core.v1.PodStatus", "containerStatuses", A),
    ("io.k8s.api.core.v1.PodStatus", "ephemeralContainerStatuses", A),
    ("io.k8s.api.core.v1.PodStatus", "hostIPs", Ext::MergeAtomic("ip")),
    ("io.k8s.api.core.v1.PodStatus", "initContainerStatuses", A),
    ("io.k8s.api.core.v1.PodStatus", "nodeAllocatableResourceClaimStatuses", A),
    ("io.k8s.api.core.v1.PodStatus", "podIPs", BY_IP),
    ("io.k8s.api.core.v1.PodStatus", "resourceClaimStatuses", RETAIN_BY_NAME),
    ("io.k8s.api.core.v1.ProjectedVolumeSource", "sources", A),
    ("io.k8s.api.core.v1.RBDPersistentVolumeSource", "monitors", A),
    ("io.k8s.api.core.v1.RBDVolumeSource", "monitors", A),
    ("io.k8s.api.core.v1.ResourceQuotaSpec", "scopes", A),
    ("io.k8s.api.core.v1.ResourceRequirements", "claims", Ext::Map(&["name"])),
    ("io.k8s.api.core.v1.ResourceStatus", "resources", Ext::Map(&["resourceID"])),
    ("io.k8s.api.core.v1.ScopeSelector", "matchExpressions", A),
    ("io.k8s.api.core.v1.ScopedResourceSelectorRequirement", "values", A),
    ("io.k8s.api.core.v1.SecretProjection", "items", A),
    ("io.k8s.api.core.v1.SecretVolumeSource", "items", A),
    ("io.k8s.api.core.v1.ServiceAccount", "imagePullSecrets", A),
    ("io.k8s.api.core.v1.ServiceAccount", "secrets", BY_NAME),
    ("io.k8s.api.core.v1.ServiceSpec", "clusterIPs", A),
    ("io.k8s.api.core.v1.ServiceSpec", "externalIPs", A),
    ("io.k8s.api.core.v1.ServiceSpec", "ipFamilies", A),
    ("io.k8s.api.core.v1.ServiceSpec", "loadBalancerSourceRanges", A),
    ("io.k8s.api.core.v1.ServiceSpec", "ports", Ext::MergeMap("port", &["port", "protocol"])),
    ("io.k8s.api.core.v1.ServiceSpec", "selector", MA),
    ("io.k8s.api.core.v1.ServiceStatus", "conditions", BY_TYPE),
    ("io.k8s.api.core.v1.TopologySelectorLabelRequirement", "values", A),
    ("io.k8s.api.core.v1.TopologySelectorTerm", "matchLabelExpressions", A),
    ("io.k8s.api.core.v1.TopologySpreadConstraint", "matchLabelKeys", A),
    // discovery.k8s.io/v1
    ("io.k8s.api.discovery.v1.Endpoint", "addresses", Set),
    ("io.k8s.api.discovery.v1.EndpointHints", "forNodes", A),
    ("io.k8s.api.discovery.v1.EndpointHints", "forZones", A),
    ("io.k8s.api.discovery.v1.EndpointSlice", "endpoints", A),
    ("io.k8s.api.discovery.v1.EndpointSlice", "ports", A),
    // flowcontrol.apiserver.k8s.io/v1
    ("io.k8s.api.flowcontrol.v1.FlowSchemaSpec", "rules", A),
    ("io.k8s.api.flowcontrol.v1.FlowSchemaStatus", "conditions", BY_TYPE),
    ("io.k8s.api.flowcontrol.v1.NonResourcePolicyRule", "nonResourceURLs", Set),
    ("io.k8s.api.flowcontrol.v1.NonResourcePolicyRule", "verbs", Set),
    ("io.k8s.api.flowcontrol.v1.PolicyRulesWithSubjects", "nonResourceRules", A),
    ("io.k8s.api.flowcontrol.v1.PolicyRulesWithSubjects", "resourceRules", A),
    ("io.k8s.api.flowcontrol.v1.PolicyRulesWithSubjects", "subjects", A),
    ("io.k8s.api.flowcontrol.v1.PriorityLevelConfigurationStatus", "conditions", BY_TYPE),
    ("io.k8s.api.flowcontrol.v1.ResourcePolicyRule", "apiGroups", Set),
    ("io.k8s.api.flowcontrol.v1.ResourcePolicyRule", "namespaces", Set),
    ("io.k8s.api.flowcontrol.v1.ResourcePolicyRule", "resources", Set),
    ("io.k8s.api.flowcontrol.v1.ResourcePolicyRule", "verbs", Set),
    // networking.k8s.io/v1
    ("io.k8s.api.networking.v1.HTTPIngressRuleValue", "paths", A),
    ("io.k8s.api.networking.v1.IPBlock", "except", A),
    ("io.k8s.api.networking.v1.IngressLoadBalancerIngress", "ports", A),
    ("io.k8s.api.networking.v1.IngressLoadBalancerStatus", "ingress", A),
    ("io.k8s.api.networking.v1.IngressSpec", "rules", A),
    ("io.k8s.api.networking.v1.IngressSpec", "tls", A),
    ("io.k8s.api.networking.v1.IngressTLS", "hosts", A),
    ("io.k8s.api.networking.v1.NetworkPolicyEgressRule", "ports", A),
    ("io.k8s.api.networking.v1.NetworkPolicyEgressRule", "to", A),
    ("io.k8s.api.networking.v1.NetworkPolicyIngressRule", "from", A),
    ("io.k8s.api.networking.v1.NetworkPolicyIngressRule", "ports", A),
    ("io.k8s.api.networking.v1.NetworkPolicySpec", "egress", A),
    ("io.k8s.api.networking.v1.NetworkPolicySpec", "ingress", A),
    ("io.k8s.api.networking.v1.NetworkPolicySpec", "policyTypes", A),
    // node.k8s.io/v1
    ("io.k8s.api.node.v1.Scheduling", "nodeSelector", MA),
    ("io.k8s.api.node.v1.Scheduling", "tolerations", A),
    // policy/v1
    ("io.k8s.api.policy.v1.PodDisruptionBudgetSpec", "selector", Ext::Replace),
    ("io.k8s.api.policy.v1.PodDisruptionBudgetStatus", "conditions", BY_TYPE),
    // rbac.authorization.k8s.io/v1
    ("io.k8s.api.rbac.v1.AggregationRule", "clusterRoleSelectors", A),
    ("io.k8s.api.rbac.v1.ClusterRole", "rules", A),
    ("io.k8s.api.rbac.v1.ClusterRoleBinding", "subjects", A),
    ("io.k8s.api.rbac.v1.PolicyRule", "apiGroups", A),
    ("io.k8s.api.rbac.v1.PolicyRule", "nonResourceURLs", A),
    ("io.k8s.api.rbac.v1.PolicyRule", "resourceNames", A),
    ("io.k8s.api.rbac.v1.PolicyRule", "resources", A),
    ("io.k8s.api.rbac.v1.PolicyRule", "verbs", A),
    ("io.k8s.api.rbac.v1.Role", "rules", A),
    ("io.k8s.api.rbac.v1.RoleBinding", "subjects", A),
    // resource.k8s.io/v1
    ("io.k8s.api.resource.v1.AllocatedDeviceStatus", "conditions", Ext::Map(&["type"])),
    ("io.k8s.api.resource.v1.CapacityRequestPolicy", "validValues", A),
    ("io.k8s.api.resource.v1.Device", "bindingConditions", A),
    ("io.k8s.api.resource.v1.Device", "bindingFailureConditions", A),
    ("io.k8s.api.resource.v1.Device", "consumesCounters", A),
    ("io.k8s.api.resource.v1.Device", "taints", A),
    ("io.k8s.api.resource.v1.DeviceAllocationConfiguration", "requests", A),
    ("io.k8s.api.resource.v1.DeviceAllocationResult", "config", A),
    ("io.k8s.api.resource.v1.DeviceAllocationResult", "results", A),
    ("io.k8s.api.resource.v1.DeviceClaim", "config", A),
    ("io.k8s.api.resource.v1.DeviceClaim", "constraints", A),
    ("io.k8s.api.resource.v1.DeviceClaim", "requests", A),
    ("io.k8s.api.resource.v1.DeviceClaimConfiguration", "requests", A),
    ("io.k8s.api.resource.v1.DeviceClassSpec", "config", A),
    ("io.k8s.api.resource.v1.DeviceClassSpec", "selectors", A),
    ("io.k8s.api.resource.v1.DeviceConstraint", "requests", A),
    ("io.k8s.api.resource.v1.DeviceRequest", "firstAvailable", A),
    ("io.k8s.api.resource.v1.DeviceRequestAllocationResult", "bindingConditions", A),
    ("io.k8s.api.resource.v1.DeviceRequestAllocationResult", "bindingFailureConditions", A),
    ("io.k8s.api.resource.v1.DeviceRequestAllocationResult", "tolerations", A),
    ("io.k8s.api.resource.v1.DeviceSubRequest", "selectors", A),
    ("io.k8s.api.resource.v1.DeviceSubRequest", "tolerations", A),
    ("io.k8s.api.resource.v1.ExactDeviceRequest", "selectors", A),
    ("io.k8s.api.resource.v1.ExactDeviceRequest", "tolerations", A),
    ("io.k8s.api.resource.v1.NetworkDeviceData", "ips", A),
    ("io.k8s.api.resource.v1.ResourceClaimStatus", "devices", Ext::Map(&["driver", "device", "pool", "shareID"])),
    ("io.k8s.api.resource.v1.ResourceClaimStatus", "reservedFor", Ext::MergeMap("uid", &["uid"])),
    ("io.k8s.api.resource.v1.ResourceSliceSpec", "devices", A),
    ("io.k8s.api.resource.v1.ResourceSliceSpec", "sharedCounters", A),
    // storage.k8s.io/v1
    ("io.k8s.api.storage.v1.StorageClass", "allowedTopologies", A),
    ("io.k8s.api.storage.v1.StorageClass", "mountOptions", A),
    // apiextensions.k8s.io/v1
    ("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionNames", "categories", A),
    ("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionNames", "shortNames", A),
    ("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionSpec", "versions", A),
    ("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus", "conditions", Ext::Map(&["type"])),
    ("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus", "storedVersions", A),
    ("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionVersion", "additionalPrinterColumns", A),
    ("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionVersion", "selectableFields", A),
    ("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "allOf", A),
    ("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "anyOf", A),
    ("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "enum", A),
    ("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "oneOf", A),
    ("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "required", A),
    ("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "x-kubernetes-list-map-keys", A),
    ("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", "x-kubernetes-validations", Ext::MergeMap("rule", &["rule"])),
    ("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.WebhookConversion", "conversionReviewVersions", A),
    // apiregistration.k8s.io/v1
    ("io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceSpec", "caBundle", A),
    ("io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceStatus", "conditions", BY_TYPE),
    // meta/v1
    ("io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup", "serverAddressByClientCIDRs", A),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup", "versions", A),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList", "groups", A),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.APIResource", "categories", A),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.APIResource", "shortNames", A),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList", "resources", A),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions", "serverAddressByClientCIDRs", A),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions", "versions", A),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions", "dryRun", A),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement", "values", A),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector", "matchExpressions", A),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement", "values", A),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "finalizers", MergeSet),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "managedFields", A),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "ownerReferences", Ext::MergeMap("uid", &["uid"])),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails", "causes", A),
];

/// Type-level declarations: (definition, extensions), all `x-kubernetes-map-type`.
#[rustfmt::skip]
pub static TYPES: &[(&str, Ext)] = &[
    ("io.k8s.api.core.v1.ConfigMapKeySelector", MA),
    ("io.k8s.api.core.v1.EndpointAddress", MA),
    ("io.k8s.api.core.v1.EndpointPort", MA),
    ("io.k8s.api.core.v1.FileKeySelector", MA),
    ("io.k8s.api.core.v1.LocalObjectReference", MA),
    ("io.k8s.api.core.v1.NodeSelector", MA),
    ("io.k8s.api.core.v1.NodeSelectorTerm", MA),
    ("io.k8s.api.core.v1.ObjectFieldSelector", MA),
    ("io.k8s.api.core.v1.ObjectReference", MA),
    ("io.k8s.api.core.v1.ResourceFieldSelector", MA),
    ("io.k8s.api.core.v1.ScopeSelector", MA),
    ("io.k8s.api.core.v1.SecretKeySelector", MA),
    ("io.k8s.api.core.v1.SecretReference", MA),
    ("io.k8s.api.core.v1.TopologySelectorTerm", MA),
    ("io.k8s.api.core.v1.TypedLocalObjectReference", MA),
    ("io.k8s.api.discovery.v1.EndpointPort", MA),
    ("io.k8s.api.networking.v1.ServiceBackendPort", MA),
    ("io.k8s.api.rbac.v1.RoleRef", MA),
    ("io.k8s.api.rbac.v1.Subject", MA),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector", MA),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference", MA),
];
