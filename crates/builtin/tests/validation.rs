//! Per-kind validation against kube-apiserver's messages, including the recorded golden errors.
#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};

fn info(group: &str, plural: &str) -> &'static builtin::ResourceInfo {
    builtin::lookup(group, "v1", plural).unwrap()
}

/// Defaults then validates, as the kernel does on create.
fn create_errors(group: &str, plural: &str, mut obj: Value) -> String {
    let info = info(group, plural);
    builtin::apply_defaults(info, &mut obj);
    builtin::validate(info, &obj, None).to_string()
}

fn update_errors(group: &str, plural: &str, mut new: Value, mut old: Value) -> String {
    let info = info(group, plural);
    builtin::apply_defaults(info, &mut new);
    builtin::apply_defaults(info, &mut old);
    builtin::validate(info, &new, Some(&old)).to_string()
}

/// The text after `is invalid: ` in a recorded 422 Status message.
fn golden_detail(file: &str) -> String {
    let path = format!(
        "{}/../../testdata/kube-apiserver-golden/errors/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let body: Value = serde_json::from_str(text.split_once('\n').unwrap().1).unwrap();
    let message = body["message"].as_str().unwrap();
    message.split_once(" is invalid: ").unwrap().1.to_string()
}

#[test]
fn golden_invalid_deployment() {
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "bad", "namespace": "golden"},
        "spec": {"selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "c"}},
                "spec": {"containers": [{"name": "c"}]}}}});
    assert_eq!(
        create_errors("apps", "deployments", deployment),
        golden_detail("422-invalid-deployment.txt")
    );
}

#[test]
fn golden_configmap_too_long() {
    let big = "x".repeat(1024 * 1024 + 1);
    let cm = json!({"metadata": {"name": "big"}, "data": {"big": big}});
    assert_eq!(
        create_errors("", "configmaps", cm),
        golden_detail("422-configmap-too-long.txt")
    );
}

#[test]
fn golden_objects_are_valid() {
    let dir = format!(
        "{}/../../testdata/kube-apiserver-golden/objects",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let obj: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let api_version = obj["apiVersion"].as_str().unwrap();
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let Some(info) = builtin::lookup_kind(group, version, obj["kind"].as_str().unwrap()) else {
            continue;
        };
        let errs = builtin::validate(info, &obj, None);
        assert!(errs.is_empty(), "{}: {errs}", path.display());
        let again = builtin::validate(info, &obj, Some(&obj));
        assert!(again.is_empty(), "{} (update): {again}", path.display());
        checked += 1;
    }
    assert!(checked >= 20, "{checked}");
}

#[test]
fn pod_spec_mistakes() {
    let pod = json!({"metadata": {"name": "p"}, "spec": {}});
    assert_eq!(
        create_errors("", "pods", pod),
        "spec.containers: Required value"
    );
    let pod = json!({"spec": {"restartPolicy": "Sometimes", "containers": [
        {"name": "Web", "image": "nginx", "ports": [{"containerPort": 70000}]},
        {"name": "db", "image": "pg"}, {"name": "db", "image": "pg"}]}});
    assert_eq!(
        create_errors("", "pods", pod),
        "[spec.containers[0].name: Invalid value: \"Web\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?'), \
         spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive, \
         spec.containers[2].name: Duplicate value: \"db\", \
         spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"]"
    );
    let pod = json!({"spec": {"containers": [{"name": "a", "image": "x",
        "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}},
        "volumeMounts": [{"name": "missing", "mountPath": "/data"}]}]}});
    assert_eq!(
        create_errors("", "pods", pod),
        "[spec.containers[0].volumeMounts[0].name: Not found: \"missing\", \
         spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1]"
    );
}

#[test]
fn pod_updates_are_mostly_immutable() {
    let old = json!({"spec": {"containers": [{"name": "a", "image": "x:1"}]}});
    let image = json!({"spec": {"containers": [{"name": "a", "image": "x:2"}]}});
    assert_eq!(update_errors("", "pods", image, old.clone()), "");
    let port = json!({"spec": {"containers": [{"name": "a", "image": "x:1",
        "ports": [{"containerPort": 80}]}]}});
    assert!(
        update_errors("", "pods", port, old)
            .starts_with("spec: Forbidden: pod updates may not change fields")
    );
}

#[test]
fn workload_rules() {
    let job = json!({"metadata": {"name": "j"}, "spec": {"selector": {"matchLabels": {"a": "b"}},
        "template": {"metadata": {"labels": {"a": "b"}},
            "spec": {"containers": [{"name": "a", "image": "x"}]}}}});
    assert_eq!(
        create_errors("batch", "jobs", job),
        "spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\""
    );
    let rs = json!({"spec": {"replicas": -1, "selector": {"matchLabels": {"a": "b"}},
        "template": {"metadata": {"labels": {"a": "b"}},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "a", "image": "x"}]}}}});
    assert_eq!(
        create_errors("apps", "replicasets", rs),
        "[spec.replicas: Invalid value: -1: must be greater than or equal to 0, \
         spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"]"
    );
    let deploy = json!({"spec": {"template": {"metadata": {"labels": {"a": "b"}},
        "spec": {"containers": [{"name": "a", "image": "x"}]}}}});
    assert_eq!(
        create_errors("apps", "deployments", deploy),
        "spec.selector: Required value"
    );
    let old = json!({"spec": {"selector": {"matchLabels": {"a": "b"}},
        "template": {"metadata": {"labels": {"a": "b", "c": "d"}},
            "spec": {"containers": [{"name": "a", "image": "x"}]}}}});
    let mut new = old.clone();
    new["spec"]["selector"] = json!({"matchLabels": {"c": "d"}});
    assert_eq!(
        update_errors("apps", "deployments", new, old),
        "spec.selector: Invalid value: {\"matchLabels\":{\"c\":\"d\"}}: field is immutable"
    );
    let cron = json!({"spec": {"schedule": "61 * * * *", "jobTemplate": {"spec": {"template": {
        "spec": {"restartPolicy": "OnFailure", "containers": [{"name": "a", "image": "x"}]}}}}}});
    assert_eq!(
        create_errors("batch", "cronjobs", cron),
        "spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61"
    );
}

#[test]
fn service_rules() {
    let svc = json!({"spec": {"selector": {"a": "b"}}});
    assert_eq!(
        create_errors("", "services", svc),
        "spec.ports: Required value"
    );
    let svc = json!({"spec": {"type": "Magic", "ports": [{"port": 80, "protocol": "ICMP"}]}});
    assert_eq!(
        create_errors("", "services", svc),
        "[spec.ports[0].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\", \
         spec.type: Unsupported value: \"Magic\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"]"
    );
    let svc = json!({"spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 80}]}});
    assert_eq!(
        create_errors("", "services", svc),
        "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767"
    );
    let old = json!({"spec": {"clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.1"], "ports": [{"port": 80}]}});
    let new = json!({"spec": {"clusterIP": "10.0.0.2", "clusterIPs": ["10.0.0.2"], "ports": [{"port": 80}]}});
    assert_eq!(
        update_errors("", "services", new, old),
        "spec.clusterIPs[0]: Invalid value: [\"10.0.0.2\"]: may not change once set"
    );
}

#[test]
fn config_and_secret_rules() {
    let cm = json!({"data": {"bad key": "x"}});
    assert_eq!(
        create_errors("", "configmaps", cm),
        "data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
    );
    let old = json!({"immutable": true, "data": {"a": "1"}});
    let new = json!({"immutable": true, "data": {"a": "2"}});
    assert_eq!(
        update_errors("", "configmaps", new, old),
        "data: Forbidden: field is immutable when `immutable` is set"
    );
    let old = json!({"type": "Opaque"});
    let new = json!({"type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}});
    assert_eq!(
        update_errors("", "secrets", new, old),
        "type: Invalid value: \"kubernetes.io/tls\": field is immutable"
    );
    let tls = json!({"type": "kubernetes.io/tls"});
    assert_eq!(
        create_errors("", "secrets", tls),
        "[data[tls.crt]: Required value, data[tls.key]: Required value]"
    );
}

#[test]
fn other_kinds() {
    let ns = json!({"metadata": {"name": "n"}, "spec": {"finalizers": ["custom"]}});
    assert_eq!(
        create_errors("", "namespaces", ns),
        "spec.finalizers: Invalid value: \"custom\": name is neither a standard finalizer name nor is it fully qualified"
    );
    let pvc = json!({"spec": {}});
    assert_eq!(
        create_errors("", "persistentvolumeclaims", pvc),
        "[spec.accessModes: Required value: at least 1 access mode is required, spec.resources[storage]: Required value]"
    );
    let role = json!({"rules": [{"apiGroups": [""], "resources": ["pods"]}]});
    assert_eq!(
        create_errors("rbac.authorization.k8s.io", "roles", role),
        "rules[0].verbs: Required value: verbs must contain at least one value"
    );
    let old = json!({"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "a"},
        "subjects": [{"kind": "User", "name": "u"}]});
    let mut new = old.clone();
    new["roleRef"]["name"] = json!("b");
    assert_eq!(
        update_errors("rbac.authorization.k8s.io", "rolebindings", new, old),
        "roleRef: Invalid value: {\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"Role\",\"name\":\"b\"}: cannot change roleRef"
    );
    let crd = json!({"metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object"}}}]}});
    assert_eq!(
        create_errors(
            "apiextensions.k8s.io",
            "customresourcedefinitions",
            crd.clone()
        ),
        ""
    );
    let mut bad = crd;
    bad["metadata"]["name"] = json!("gadgets.example.com");
    assert_eq!(
        create_errors("apiextensions.k8s.io", "customresourcedefinitions", bad),
        "metadata.name: Invalid value: \"gadgets.example.com\": must be spec.names.plural+\".\"+spec.group"
    );
    let lease = json!({"spec": {"leaseDurationSeconds": 0}});
    assert_eq!(
        create_errors("coordination.k8s.io", "leases", lease),
        "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"
    );
    let node = json!({"spec": {"taints": [{"key": "k", "effect": "Sometimes"}]}});
    assert_eq!(
        create_errors("", "nodes", node),
        "spec.taints[0].effect: Unsupported value: \"Sometimes\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""
    );
}

#[test]
fn ingress_hpa_and_pdb_rules() {
    let ing = json!({"spec": {"rules": [{"host": "a.example.com", "http": {"paths": [
        {"path": "/x", "backend": {"service": {"name": "web", "port": {"number": 80}}}},
        {"path": "y", "pathType": "Prefix", "backend": {"service": {"name": "web"}}}]}}]}});
    assert_eq!(
        create_errors("networking.k8s.io", "ingresses", ing),
        "[spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified, \
         spec.rules[0].http.paths[1].path: Invalid value: \"y\": must be an absolute path, \
         spec.rules[0].http.paths[1].backend: Required value: port name or number is required]"
    );
    let hpa = json!({"spec": {"scaleTargetRef": {"kind": "Deployment", "name": "d"},
        "minReplicas": 3, "maxReplicas": 2}});
    assert_eq!(
        create_errors("autoscaling", "horizontalpodautoscalers", hpa),
        "spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`"
    );
    let pdb = json!({"spec": {"minAvailable": "150%", "selector": {"matchLabels": {"a": "b"}}}});
    assert_eq!(
        create_errors("policy", "poddisruptionbudgets", pdb),
        "spec.minAvailable: Invalid value: \"150%\": must not be greater than 100%"
    );
}
