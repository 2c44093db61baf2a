//! The table of built-in resources the kernel serves, as kube-apiserver v1.36 describes them in discovery.

/// How a kind's `metadata.name` is validated (kube's `ValidateNameFunc` for that kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// RFC 1123 subdomain: `NameIsDNSSubdomain`, most kinds.
    Subdomain,
    /// RFC 1123 label: namespaces.
    Label,
    /// RFC 1035 label: services.
    Dns1035Label,
    /// Any name usable as a URL path segment: RBAC kinds, persistent volumes and claims.
    PathSegment,
}

/// Where the `/scale` subresource reads and writes replica counts.
///
/// `label_selector` names the field holding the selector. For built-ins that is
/// the object's `.spec.selector` (a `LabelSelector`, or a plain map for
/// ReplicationControllers), not a string: render it with [`crate::scale_selector`].
#[derive(Debug, Clone, Copy)]
pub struct ScaleInfo {
    pub spec_replicas: &'static str,
    pub status_replicas: &'static str,
    pub label_selector: Option<&'static str>,
}

/// Everything the kernel needs to serve one built-in resource.
#[derive(Debug, Clone, Copy)]
pub struct ResourceInfo {
    /// API group; `""` for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    /// Verbs exactly as kube-apiserver's discovery lists them for the main resource.
    pub verbs: &'static [&'static str],
    /// Whether a `/status` subresource exists.
    pub status: bool,
    /// The `/scale` subresource, when the kind has one.
    pub scale: Option<ScaleInfo>,
    pub name_rule: NameRule,
    /// Field selector labels supported besides `metadata.name` and `metadata.namespace`.
    pub field_selectors: &'static [&'static str],
}

impl ResourceInfo {
    /// `v1` for the core group, `group/version` otherwise.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
/// Namespaces cannot be deleted as a collection.
const NAMESPACE_VERBS: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];
const ALL: &[&str] = &["all"];
const API_EXTENSIONS: &[&str] = &["api-extensions"];
const NONE: &[&str] = &[];

const REPLICAS_SCALE: Option<ScaleInfo> = Some(ScaleInfo {
    spec_replicas: ".spec.replicas",
    status_replicas: ".status.replicas",
    label_selector: Some(".spec.selector"),
});

const POD_FIELDS: &[&str] = &[
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.podIPs",
    "status.nominatedNodeName",
];
const EVENT_FIELDS: &[&str] = &[
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
];

/// A row of the table; the `const fn` keeps the table below readable.
#[allow(clippy::too_many_arguments)]
const fn r(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    categories: &'static [&'static str],
    status: bool,
    name_rule: NameRule,
) -> ResourceInfo {
    ResourceInfo {
        group,
        version,
        kind,
        plural,
        singular: "",
        namespaced,
        short_names,
        categories,
        verbs: ALL_VERBS,
        status,
        scale: None,
        name_rule,
        field_selectors: NONE,
    }
}

const fn singular(mut info: ResourceInfo, s: &'static str) -> ResourceInfo {
    info.singular = s;
    info
}

const fn with_scale(mut info: ResourceInfo) -> ResourceInfo {
    info.scale = REPLICAS_SCALE;
    info
}

const fn with_fields(mut info: ResourceInfo, f: &'static [&'static str]) -> ResourceInfo {
    info.field_selectors = f;
    info
}

const fn with_verbs(mut info: ResourceInfo, v: &'static [&'static str]) -> ResourceInfo {
    info.verbs = v;
    info
}

use NameRule::{Dns1035Label, Label, PathSegment, Subdomain};

mod infra;

/// Joins two row tables at compile time so that [`resources`] stays one contiguous slice.
const fn concat<const N: usize>(a: &[ResourceInfo], b: &[ResourceInfo]) -> [ResourceInfo; N] {
    assert!(a.len() + b.len() == N && !a.is_empty());
    let mut out = [a[0]; N];
    let mut i = 0;
    while i < a.len() {
        out[i] = a[i];
        i += 1;
    }
    let mut j = 0;
    while j < b.len() {
        out[a.len() + j] = b[j];
        j += 1;
    }
    out
}

static RESOURCES: [ResourceInfo; MAIN_GROUPS.len() + infra::INFRA_GROUPS.len()] =
    concat(MAIN_GROUPS, infra::INFRA_GROUPS);

/// Core, workload, networking, storage, RBAC and extension groups.
const MAIN_GROUPS: &[ResourceInfo] = &[
    // core/v1
    with_fields(
        with_verbs(
            singular(
                r(
                    "",
                    "v1",
                    "Namespace",
                    "namespaces",
                    false,
                    &["ns"],
                    NONE,
                    true,
                    Label,
                ),
                "namespace",
            ),
            NAMESPACE_VERBS,
        ),
        &["status.phase"],
    ),
    with_fields(
        singular(
            r("", "v1", "Pod", "pods", true, &["po"], ALL, true, Subdomain),
            "pod",
        ),
        POD_FIELDS,
    ),
    with_fields(
        singular(
            r(
                "",
                "v1",
                "Service",
                "services",
                true,
                &["svc"],
                ALL,
                true,
                Dns1035Label,
            ),
            "service",
        ),
        &["spec.clusterIP", "spec.type"],
    ),
    singular(
        r(
            "",
            "v1",
            "Endpoints",
            "endpoints",
            true,
            &["ep"],
            NONE,
            false,
            Subdomain,
        ),
        "endpoints",
    ),
    singular(
        r(
            "",
            "v1",
            "ConfigMap",
            "configmaps",
            true,
            &["cm"],
            NONE,
            false,
            Subdomain,
        ),
        "configmap",
    ),
    with_fields(
        singular(
            r(
                "", "v1", "Secret", "secrets", true, NONE, NONE, false, Subdomain,
            ),
            "secret",
        ),
        &["type"],
    ),
    singular(
        r(
            "",
            "v1",
            "ServiceAccount",
            "serviceaccounts",
            true,
            &["sa"],
            NONE,
            false,
            Subdomain,
        ),
        "serviceaccount",
    ),
    with_fields(
        singular(
            r(
                "",
                "v1",
                "Event",
                "events",
                true,
                &["ev"],
                NONE,
                false,
                Subdomain,
            ),
            "event",
        ),
        EVENT_FIELDS,
    ),
    with_fields(
        singular(
            r(
                "",
                "v1",
                "Node",
                "nodes",
                false,
                &["no"],
                NONE,
                true,
                Subdomain,
            ),
            "node",
        ),
        &["spec.unschedulable"],
    ),
    singular(
        r(
            "",
            "v1",
            "PersistentVolume",
            "persistentvolumes",
            false,
            &["pv"],
            NONE,
            true,
            PathSegment,
        ),
        "persistentvolume",
    ),
    singular(
        r(
            "",
            "v1",
            "PersistentVolumeClaim",
            "persistentvolumeclaims",
            true,
            &["pvc"],
            NONE,
            true,
            PathSegment,
        ),
        "persistentvolumeclaim",
    ),
    singular(
        r(
            "",
            "v1",
            "LimitRange",
            "limitranges",
            true,
            &["limits"],
            NONE,
            false,
            Subdomain,
        ),
        "limitrange",
    ),
    singular(
        r(
            "",
            "v1",
            "ResourceQuota",
            "resourcequotas",
            true,
            &["quota"],
            NONE,
            true,
            Subdomain,
        ),
        "resourcequota",
    ),
    singular(
        r(
            "",
            "v1",
            "PodTemplate",
            "podtemplates",
            true,
            NONE,
            NONE,
            false,
            Subdomain,
        ),
        "podtemplate",
    ),
    with_fields(
        with_scale(singular(
            r(
                "",
                "v1",
                "ReplicationController",
                "replicationcontrollers",
                true,
                &["rc"],
                ALL,
                true,
                Subdomain,
            ),
            "replicationcontroller",
        )),
        &["status.replicas"],
    ),
    // apps/v1
    with_scale(singular(
        r(
            "apps",
            "v1",
            "Deployment",
            "deployments",
            true,
            &["deploy"],
            ALL,
            true,
            Subdomain,
        ),
        "deployment",
    )),
    with_fields(
        with_scale(singular(
            r(
                "apps",
                "v1",
                "ReplicaSet",
                "replicasets",
                true,
                &["rs"],
                ALL,
                true,
                Subdomain,
            ),
            "replicaset",
        )),
        &["status.replicas"],
    ),
    with_scale(singular(
        r(
            "apps",
            "v1",
            "StatefulSet",
            "statefulsets",
            true,
            &["sts"],
            ALL,
            true,
            Subdomain,
        ),
        "statefulset",
    )),
    singular(
        r(
            "apps",
            "v1",
            "DaemonSet",
            "daemonsets",
            true,
            &["ds"],
            ALL,
            true,
            Subdomain,
        ),
        "daemonset",
    ),
    singular(
        r(
            "apps",
            "v1",
            "ControllerRevision",
            "controllerrevisions",
            true,
            NONE,
            NONE,
            false,
            Subdomain,
        ),
        "controllerrevision",
    ),
    // batch/v1
    with_fields(
        singular(
            r(
                "batch", "v1", "Job", "jobs", true, NONE, ALL, true, Subdomain,
            ),
            "job",
        ),
        &["status.successful"],
    ),
    singular(
        r(
            "batch",
            "v1",
            "CronJob",
            "cronjobs",
            true,
            &["cj"],
            ALL,
            true,
            Subdomain,
        ),
        "cronjob",
    ),
    // networking.k8s.io/v1
    singular(
        r(
            "networking.k8s.io",
            "v1",
            "Ingress",
            "ingresses",
            true,
            &["ing"],
            NONE,
            true,
            Subdomain,
        ),
        "ingress",
    ),
    singular(
        r(
            "networking.k8s.io",
            "v1",
            "IngressClass",
            "ingressclasses",
            false,
            NONE,
            NONE,
            false,
            Subdomain,
        ),
        "ingressclass",
    ),
    singular(
        r(
            "networking.k8s.io",
            "v1",
            "NetworkPolicy",
            "networkpolicies",
            true,
            &["netpol"],
            NONE,
            false,
            Subdomain,
        ),
        "networkpolicy",
    ),
    // storage.k8s.io/v1
    singular(
        r(
            "storage.k8s.io",
            "v1",
            "StorageClass",
            "storageclasses",
            false,
            &["sc"],
            NONE,
            false,
            Subdomain,
        ),
        "storageclass",
    ),
    // coordination.k8s.io/v1
    singular(
        r(
            "coordination.k8s.io",
            "v1",
            "Lease",
            "leases",
            true,
            NONE,
            NONE,
            false,
            Subdomain,
        ),
        "lease",
    ),
    // events.k8s.io/v1: same storage as core events, no extra field selectors in this version.
    singular(
        r(
            "events.k8s.io",
            "v1",
            "Event",
            "events",
            true,
            &["ev"],
            NONE,
            false,
            Subdomain,
        ),
        "event",
    ),
    // discovery.k8s.io/v1
    singular(
        r(
            "discovery.k8s.io",
            "v1",
            "EndpointSlice",
            "endpointslices",
            true,
            NONE,
            NONE,
            false,
            Subdomain,
        ),
        "endpointslice",
    ),
    // policy/v1
    singular(
        r(
            "policy",
            "v1",
            "PodDisruptionBudget",
            "poddisruptionbudgets",
            true,
            &["pdb"],
            NONE,
            true,
            Subdomain,
        ),
        "poddisruptionbudget",
    ),
    // autoscaling: v2 is the preferred version, v1 is still served.
    singular(
        r(
            "autoscaling",
            "v2",
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
            true,
            &["hpa"],
            ALL,
            true,
            Subdomain,
        ),
        "horizontalpodautoscaler",
    ),
    singular(
        r(
            "autoscaling",
            "v1",
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
            true,
            &["hpa"],
            ALL,
            true,
            Subdomain,
        ),
        "horizontalpodautoscaler",
    ),
    // rbac.authorization.k8s.io/v1
    singular(
        r(
            "rbac.authorization.k8s.io",
            "v1",
            "Role",
            "roles",
            true,
            NONE,
            NONE,
            false,
            PathSegment,
        ),
        "role",
    ),
    singular(
        r(
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRole",
            "clusterroles",
            false,
            NONE,
            NONE,
            false,
            PathSegment,
        ),
        "clusterrole",
    ),
    singular(
        r(
            "rbac.authorization.k8s.io",
            "v1",
            "RoleBinding",
            "rolebindings",
            true,
            NONE,
            NONE,
            false,
            PathSegment,
        ),
        "rolebinding",
    ),
    singular(
        r(
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRoleBinding",
            "clusterrolebindings",
            false,
            NONE,
            NONE,
            false,
            PathSegment,
        ),
        "clusterrolebinding",
    ),
    // apiextensions.k8s.io/v1
    singular(
        r(
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
            "customresourcedefinitions",
            false,
            &["crd", "crds"],
            API_EXTENSIONS,
            true,
            Subdomain,
        ),
        "customresourcedefinition",
    ),
    // admissionregistration.k8s.io/v1
    singular(
        r(
            "admissionregistration.k8s.io",
            "v1",
            "ValidatingWebhookConfiguration",
            "validatingwebhookconfigurations",
            false,
            NONE,
            API_EXTENSIONS,
            false,
            Subdomain,
        ),
        "validatingwebhookconfiguration",
    ),
    singular(
        r(
            "admissionregistration.k8s.io",
            "v1",
            "MutatingWebhookConfiguration",
            "mutatingwebhookconfigurations",
            false,
            NONE,
            API_EXTENSIONS,
            false,
            Subdomain,
        ),
        "mutatingwebhookconfiguration",
    ),
];

/// Every built-in resource, in a stable order (core first, then by group as discovery lists them).
pub fn resources() -> &'static [ResourceInfo] {
    &RESOURCES
}

/// The resource served at `/apis/<group>/<version>/<plural>` (`group` is `""` for `/api/v1`).
pub fn lookup(group: &str, version: &str, plural: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The resource serving `kind` in `group/version`.
pub fn lookup_kind(group: &str, version: &str, kind: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.kind == kind)
}
