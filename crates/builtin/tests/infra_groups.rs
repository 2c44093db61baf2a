//! The cluster-infrastructure groups (aggregation, certificates, flow control, node, DRA, scheduling) as stored kinds.
#![allow(clippy::unwrap_used)]

use serde_json::json;

#[test]
fn every_infra_group_is_served_at_v1() {
    for (group, plural, namespaced) in [
        ("apiregistration.k8s.io", "apiservices", false),
        ("certificates.k8s.io", "certificatesigningrequests", false),
        ("flowcontrol.apiserver.k8s.io", "flowschemas", false),
        (
            "flowcontrol.apiserver.k8s.io",
            "prioritylevelconfigurations",
            false,
        ),
        ("node.k8s.io", "runtimeclasses", false),
        ("resource.k8s.io", "deviceclasses", false),
        ("resource.k8s.io", "resourceclaims", true),
        ("resource.k8s.io", "resourceclaimtemplates", true),
        ("resource.k8s.io", "resourceslices", false),
        ("scheduling.k8s.io", "priorityclasses", false),
    ] {
        let info = builtin::lookup(group, "v1", plural).unwrap();
        assert_eq!(info.namespaced, namespaced, "{plural}");
        assert!(info.scale.is_none(), "{plural}");
    }
    assert!(builtin::lookup("authentication.k8s.io", "v1", "tokenreviews").is_none());
}

#[test]
fn field_selectors_of_csrs_and_resource_slices() {
    let csr = builtin::lookup("certificates.k8s.io", "v1", "certificatesigningrequests").unwrap();
    let obj = json!({"metadata": {"name": "a"}, "spec": {"signerName": "example.com/s"}});
    assert_eq!(
        builtin::field_value(csr, &obj, "spec.signerName").as_deref(),
        Some("example.com/s")
    );
    assert_eq!(builtin::field_value(csr, &obj, "spec.username"), None);

    let slice = builtin::lookup("resource.k8s.io", "v1", "resourceslices").unwrap();
    let obj =
        json!({"metadata": {"name": "s"}, "spec": {"driver": "gpu.example.com", "allNodes": true}});
    assert_eq!(
        builtin::field_value(slice, &obj, "spec.driver").as_deref(),
        Some("gpu.example.com")
    );
    assert_eq!(
        builtin::field_value(slice, &obj, "spec.nodeName").as_deref(),
        Some("")
    );
    let claim = builtin::lookup("resource.k8s.io", "v1", "resourceclaims").unwrap();
    assert_eq!(builtin::field_value(claim, &obj, "spec.driver"), None);
}

#[test]
fn flow_schemas_start_with_empty_status_and_count_spec_generations() {
    let info = builtin::lookup("flowcontrol.apiserver.k8s.io", "v1", "flowschemas").unwrap();
    let mut fs = json!({
        "metadata": {"name": "f", "uid": "u"},
        "spec": {"matchingPrecedence": 500},
        "status": {"conditions": [{"type": "Dangling", "status": "True"}]},
    });
    builtin::prepare_for_create(info, &mut fs);
    assert_eq!(fs["status"], json!({}));
    assert_eq!(fs["metadata"]["generation"], 1);

    let mut changed = json!({"metadata": {"name": "f"}, "spec": {"matchingPrecedence": 600}});
    builtin::prepare_for_update(info, &mut changed, &fs);
    assert_eq!(changed["metadata"]["generation"], 2);
}

#[test]
fn priority_classes_keep_generation_one() {
    let info = builtin::lookup("scheduling.k8s.io", "v1", "priorityclasses").unwrap();
    let mut pc = json!({"metadata": {"name": "high", "uid": "u"}, "value": 1000});
    builtin::prepare_for_create(info, &mut pc);
    assert_eq!(pc["metadata"]["generation"], 1);
    let mut updated = json!({"metadata": {"name": "high"}, "value": 1000, "description": "d"});
    builtin::prepare_for_update(info, &mut updated, &pc);
    assert_eq!(updated["metadata"]["generation"], 1);
}

#[test]
fn resource_claims_reset_status_without_a_generation() {
    let info = builtin::lookup("resource.k8s.io", "v1", "resourceclaims").unwrap();
    let mut claim = json!({
        "metadata": {"name": "c", "namespace": "d", "uid": "u"},
        "spec": {"devices": {}},
        "status": {"reservedFor": [{"resource": "pods", "name": "p", "uid": "x"}]},
    });
    builtin::prepare_for_create(info, &mut claim);
    assert_eq!(claim["status"], json!({}));
    assert!(claim["metadata"].get("generation").is_none());
}
