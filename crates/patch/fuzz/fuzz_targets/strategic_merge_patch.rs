//! Fuzzes strategic merge patch: arbitrary patches (directives included) on a realistic Pod and
//! Deployment must return a result or an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fuzz_target!(|data: &[u8]| {
    let Ok(p) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let pod = json!({
        "metadata": {"name": "p", "labels": {"a": "1"}, "finalizers": ["f1", "f2"], "ownerReferences": [{"uid": "u1", "name": "o"}]},
        "spec": {
            "containers": [{"name": "c", "image": "i", "env": [{"name": "E", "value": "1"}], "ports": [{"containerPort": 80}]}],
            "volumes": [{"name": "v", "emptyDir": {}}],
            "tolerations": [{"key": "k"}]
        }
    });
    let deployment = json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}, "template": pod.clone()}});
    let _ = patch::strategic_merge_patch(&pod, &p, "io.k8s.api.core.v1.Pod");
    let _ = patch::strategic_merge_patch(&deployment, &p, "io.k8s.api.apps.v1.Deployment");
});
