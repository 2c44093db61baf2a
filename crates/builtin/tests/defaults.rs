//! Defaults beyond the golden manifests: probes, volumes, affinity, load balancers, HPA behavior, idempotence.
#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};

fn defaulted(group: &str, version: &str, plural: &str, mut obj: Value) -> Value {
    let info = builtin::lookup(group, version, plural).unwrap();
    builtin::apply_defaults(info, &mut obj);
    obj
}

#[test]
fn defaults_are_idempotent_on_every_golden_object() {
    let dir = format!(
        "{}/../../testdata/kube-apiserver-golden/objects",
        env!("CARGO_MANIFEST_DIR")
    );
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let obj: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let api_version = obj["apiVersion"].as_str().unwrap();
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let Some(info) = builtin::lookup_kind(group, version, obj["kind"].as_str().unwrap()) else {
            continue;
        };
        let mut again = obj.clone();
        builtin::apply_defaults(info, &mut again);
        assert_eq!(again, obj, "{}", path.display());
    }
}

#[test]
fn containers_probes_and_volumes() {
    let pod = defaulted(
        "",
        "v1",
        "pods",
        json!({"spec": {
        "containers": [{"name": "a", "image": "nginx",
            "livenessProbe": {"httpGet": {"port": 80}},
            "env": [{"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}],
            "resources": {"limits": {"cpu": "0.5", "memory": "1024Mi"}}}],
        "volumes": [{"name": "scratch"}, {"name": "cfg", "configMap": {"name": "c"}}]}}),
    );
    let c = &pod["spec"]["containers"][0];
    assert_eq!(c["imagePullPolicy"], "Always");
    assert_eq!(
        c["livenessProbe"],
        json!({"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"}, "timeoutSeconds": 1,
            "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})
    );
    assert_eq!(c["env"][0]["valueFrom"]["fieldRef"]["apiVersion"], "v1");
    assert_eq!(
        c["resources"]["limits"],
        json!({"cpu": "500m", "memory": "1Gi"})
    );
    assert_eq!(
        c["resources"]["requests"],
        json!({"cpu": "500m", "memory": "1Gi"})
    );
    assert_eq!(pod["spec"]["volumes"][0]["emptyDir"], json!({}));
    assert_eq!(pod["spec"]["volumes"][1]["configMap"]["defaultMode"], 420);
    assert_eq!(pod["spec"]["enableServiceLinks"], true);
}

#[test]
fn services_by_type() {
    let lb = defaulted(
        "",
        "v1",
        "services",
        json!({"spec": {"type": "LoadBalancer",
        "sessionAffinity": "ClientIP", "ports": [{"port": 443, "targetPort": "https"}]}}),
    );
    assert_eq!(lb["spec"]["externalTrafficPolicy"], "Cluster");
    assert_eq!(lb["spec"]["allocateLoadBalancerNodePorts"], true);
    assert_eq!(
        lb["spec"]["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"],
        10800
    );
    assert_eq!(lb["spec"]["ports"][0]["targetPort"], "https");
    let ext = defaulted(
        "",
        "v1",
        "services",
        json!({"spec": {"type": "ExternalName", "externalName": "x.example"}}),
    );
    assert!(ext["spec"].get("internalTrafficPolicy").is_none());
    assert!(ext["spec"].get("externalTrafficPolicy").is_none());
}

#[test]
fn secrets_namespaces_and_policies() {
    let secret = defaulted(
        "",
        "v1",
        "secrets",
        json!({"data": {"a": "eA=="}, "stringData": {"b": "yz"}}),
    );
    assert_eq!(
        secret,
        json!({"data": {"a": "eA==", "b": "eXo="}, "type": "Opaque"})
    );
    let ns = defaulted(
        "",
        "v1",
        "namespaces",
        json!({"metadata": {"name": "team-a"}}),
    );
    assert_eq!(
        ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
        "team-a"
    );
    assert_eq!(ns["status"]["phase"], "Active");
    let np = defaulted(
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        json!({"spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53}]}]}}),
    );
    assert_eq!(np["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
    assert_eq!(np["spec"]["egress"][0]["ports"][0]["protocol"], "TCP");
    let rb = defaulted(
        "rbac.authorization.k8s.io",
        "v1",
        "rolebindings",
        json!({
        "roleRef": {"kind": "Role", "name": "r"},
        "subjects": [{"kind": "User", "name": "u"}, {"kind": "ServiceAccount", "name": "s"}]}),
    );
    assert_eq!(rb["roleRef"]["apiGroup"], "rbac.authorization.k8s.io");
    assert_eq!(rb["subjects"][0]["apiGroup"], "rbac.authorization.k8s.io");
    assert_eq!(rb["subjects"][1]["apiGroup"], "");
}

#[test]
fn autoscalers_and_crds() {
    let hpa = defaulted(
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        json!({"spec": {
        "maxReplicas": 3, "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}}}),
    );
    assert_eq!(
        hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"],
        60
    );
    assert_eq!(hpa["spec"]["behavior"]["scaleDown"]["selectPolicy"], "Max");
    assert_eq!(
        hpa["spec"]["behavior"]["scaleUp"]["stabilizationWindowSeconds"],
        0
    );
    assert_eq!(
        hpa["spec"]["behavior"]["scaleUp"]["policies"][0],
        json!({"type": "Pods", "value": 4, "periodSeconds": 15})
    );
    let crd = defaulted(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        json!({"spec": {"names": {"kind": "Widget", "plural": "widgets"}}}),
    );
    assert_eq!(crd["spec"]["names"]["singular"], "widget");
    assert_eq!(crd["spec"]["names"]["listKind"], "WidgetList");
    assert_eq!(crd["spec"]["conversion"], json!({"strategy": "None"}));
    let hook = defaulted(
        "admissionregistration.k8s.io",
        "v1",
        "mutatingwebhookconfigurations",
        json!({"webhooks": [{"name": "w", "clientConfig": {"service": {"name": "s", "namespace": "n"}},
            "rules": [{"operations": ["CREATE"]}]}]}),
    );
    let w = &hook["webhooks"][0];
    assert_eq!(w["failurePolicy"], "Fail");
    assert_eq!(w["reinvocationPolicy"], "Never");
    assert_eq!(w["timeoutSeconds"], 10);
    assert_eq!(w["rules"][0]["scope"], "*");
    assert_eq!(w["clientConfig"]["service"]["port"], 443);
}

#[test]
fn job_create_generates_selector_and_labels() {
    let info = builtin::lookup("batch", "v1", "jobs").unwrap();
    let mut job = json!({"metadata": {"name": "j", "uid": "u-1"}, "spec": {"template": {"spec": {
        "restartPolicy": "Never", "containers": [{"name": "a", "image": "x"}]}}}});
    builtin::apply_defaults(info, &mut job);
    builtin::prepare_for_create(info, &mut job);
    assert_eq!(
        job["spec"]["selector"],
        json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}})
    );
    assert_eq!(job["metadata"]["labels"]["job-name"], "j");
    assert_eq!(job["metadata"]["generation"], 1);
    assert_eq!(job["status"], json!({}));
    assert!(builtin::validate(info, &job, None).is_empty());
}
