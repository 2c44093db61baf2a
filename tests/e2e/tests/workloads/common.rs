//! What the workload scenarios share: polling with the last observed state, kubectl JSON reads, pod and condition accessors, manifests.

use std::time::{Duration, Instant};

use e2e::Namespace;
use e2e::simnodes::{TestNode, place};
use serde_json::{Value, json};

/// Controllers and the scheduler settle within seconds; a loaded 2-core CI box gets slack.
pub const SETTLE: Duration = Duration::from_secs(120);

/// Calls `check` every 250 ms until it returns `Ok`; after [`SETTLE`] fails the test
/// naming `what` and the last state `check` reported through `Err`.
#[track_caller]
pub fn until<T>(what: &str, mut check: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + SETTLE;
    loop {
        match check() {
            Ok(v) => return v,
            Err(last) if Instant::now() >= deadline => {
                panic!("timed out after {SETTLE:?} waiting for {what}; last observed: {last}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(250)),
        }
    }
}

/// `kubectl get <args> -o json` in `ns`, as JSON, or what kubectl said.
pub fn get_json(ns: &Namespace, args: &[&str]) -> Result<Value, String> {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", "json"]);
    let out = ns.kubectl(&all);
    if !out.success() {
        return Err(out.to_string());
    }
    serde_json::from_str(&out.stdout).map_err(|e| format!("{e}: {}", out.stdout))
}

/// The items of a `kubectl get <kind> -l <selector>` list in `ns`.
pub fn list(ns: &Namespace, kind: &str, selector: &str) -> Result<Vec<Value>, String> {
    let v = get_json(ns, &[kind, "-l", selector])?;
    Ok(v["items"].as_array().cloned().unwrap_or_default())
}

/// A string field, or "".
pub fn s<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// An integer field, 0 when absent (as kubectl prints absent counts).
pub fn n(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// The object's `.metadata.name`.
pub fn name(v: &Value) -> &str {
    s(v, "/metadata/name")
}

/// The status condition of `type_`, if present.
pub fn condition<'a>(obj: &'a Value, type_: &str) -> Option<&'a Value> {
    obj.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

/// `(status, reason, message)` of a condition, for comparisons and failure messages.
pub fn condition_triple(obj: &Value, type_: &str) -> (String, String, String) {
    condition(obj, type_).map_or_else(Default::default, |c| {
        (
            s(c, "/status").to_owned(),
            s(c, "/reason").to_owned(),
            s(c, "/message").to_owned(),
        )
    })
}

/// Whether a pod is Running, not terminating, with Ready=True.
pub fn pod_ready(pod: &Value) -> bool {
    s(pod, "/status/phase") == "Running"
        && pod.pointer("/metadata/deletionTimestamp").is_none()
        && condition(pod, "Ready").is_some_and(|c| c["status"] == "True")
}

/// Whether a pod is being deleted.
pub fn terminating(pod: &Value) -> bool {
    pod.pointer("/metadata/deletionTimestamp").is_some()
}

/// A one-line summary of pods for failure messages: name, node, phase, ready.
pub fn pods_summary(pods: &[Value]) -> String {
    let parts: Vec<String> = pods
        .iter()
        .map(|p| {
            format!(
                "{}@{}:{}{}{}",
                name(p),
                s(p, "/spec/nodeName"),
                s(p, "/status/phase"),
                if pod_ready(p) { "/ready" } else { "" },
                if terminating(p) { "/terminating" } else { "" }
            )
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

/// A container spec running `image`, with no probes (readiness is what the simulated node reports).
pub fn container(image: &str) -> Value {
    json!({"name": "app", "image": image})
}

/// A Deployment `name` of `replicas` pods labelled `app=<name>`, placed on `group`'s nodes.
pub fn deployment(
    name: &str,
    replicas: i32,
    image: &str,
    group: &str,
    extra_spec: Value,
) -> String {
    let pod_spec = place(json!({"containers": [container(image)]}), group);
    let mut d = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec},
        },
    });
    if let (Some(spec), Value::Object(extra)) = (d["spec"].as_object_mut(), extra_spec) {
        spec.extend(extra);
    }
    d.to_string()
}

/// A fresh namespace (with its `default` ServiceAccount) and the label its dedicated
/// nodes carry, which is the namespace's name.
#[track_caller]
pub fn namespace(label: &str) -> (Namespace, String) {
    let ns = Namespace::new(label);
    ns.ensure_default_service_account();
    let group = ns.name().to_owned();
    (ns, group)
}

/// Marks every Running, not-ready pod of `pods` on `node` ready; returns how many it
/// marked. Pods the node has not started yet are left for the next call.
pub fn ready_pods(node: &TestNode, ns: &Namespace, pods: &[Value]) -> usize {
    let mut marked = 0;
    for p in pods {
        if s(p, "/spec/nodeName") == node.name()
            && s(p, "/status/phase") == "Running"
            && !pod_ready(p)
            && !terminating(p)
            && node.set_ready(ns.name(), name(p), true).is_ok()
        {
            marked += 1;
        }
    }
    marked
}

/// The events about object `name` in `ns` (`kubectl get events --field-selector involvedObject.name=<name>`).
pub fn events_of(ns: &Namespace, name: &str) -> Result<Vec<Value>, String> {
    let selector = format!("involvedObject.name={name}");
    let v = get_json(ns, &["events", "--field-selector", &selector])?;
    Ok(v["items"].as_array().cloned().unwrap_or_default())
}
