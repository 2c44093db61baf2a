//! Registry rows for the cluster-infrastructure groups: aggregation, certificates, flow control, node runtimes, dynamic resource allocation, scheduling priorities.

use super::{API_EXTENSIONS, NONE, NameRule, ResourceInfo, r, singular, with_fields};
use NameRule::{PathSegment, Subdomain};

pub(super) const INFRA_GROUPS: &[ResourceInfo] = &[
    // apiregistration.k8s.io/v1: the name must also equal `spec.version + "." + spec.group`,
    // which is the kind's validation, not a name rule.
    singular(
        r(
            "apiregistration.k8s.io",
            "v1",
            "APIService",
            "apiservices",
            false,
            NONE,
            API_EXTENSIONS,
            true,
            PathSegment,
        ),
        "apiservice",
    ),
    // certificates.k8s.io/v1: kube accepts any name, but the storage key still requires a
    // path segment. The `approval` subresource is not a plain status write, so it is left out.
    with_fields(
        singular(
            r(
                "certificates.k8s.io",
                "v1",
                "CertificateSigningRequest",
                "certificatesigningrequests",
                false,
                &["csr"],
                NONE,
                true,
                PathSegment,
            ),
            "certificatesigningrequest",
        ),
        &["spec.signerName"],
    ),
    // flowcontrol.apiserver.k8s.io/v1
    singular(
        r(
            "flowcontrol.apiserver.k8s.io",
            "v1",
            "FlowSchema",
            "flowschemas",
            false,
            NONE,
            NONE,
            true,
            Subdomain,
        ),
        "flowschema",
    ),
    singular(
        r(
            "flowcontrol.apiserver.k8s.io",
            "v1",
            "PriorityLevelConfiguration",
            "prioritylevelconfigurations",
            false,
            NONE,
            NONE,
            true,
            Subdomain,
        ),
        "prioritylevelconfiguration",
    ),
    // node.k8s.io/v1
    singular(
        r(
            "node.k8s.io",
            "v1",
            "RuntimeClass",
            "runtimeclasses",
            false,
            NONE,
            NONE,
            false,
            Subdomain,
        ),
        "runtimeclass",
    ),
    // resource.k8s.io/v1
    singular(
        r(
            "resource.k8s.io",
            "v1",
            "DeviceClass",
            "deviceclasses",
            false,
            NONE,
            NONE,
            false,
            Subdomain,
        ),
        "deviceclass",
    ),
    singular(
        r(
            "resource.k8s.io",
            "v1",
            "ResourceClaim",
            "resourceclaims",
            true,
            NONE,
            NONE,
            true,
            Subdomain,
        ),
        "resourceclaim",
    ),
    singular(
        r(
            "resource.k8s.io",
            "v1",
            "ResourceClaimTemplate",
            "resourceclaimtemplates",
            true,
            NONE,
            NONE,
            false,
            Subdomain,
        ),
        "resourceclaimtemplate",
    ),
    // An unset `spec.nodeName` selects as "", like every other missing field.
    with_fields(
        singular(
            r(
                "resource.k8s.io",
                "v1",
                "ResourceSlice",
                "resourceslices",
                false,
                NONE,
                NONE,
                false,
                Subdomain,
            ),
            "resourceslice",
        ),
        &["spec.nodeName", "spec.driver"],
    ),
    // scheduling.k8s.io/v1
    singular(
        r(
            "scheduling.k8s.io",
            "v1",
            "PriorityClass",
            "priorityclasses",
            false,
            &["pc"],
            NONE,
            false,
            Subdomain,
        ),
        "priorityclass",
    ),
];
