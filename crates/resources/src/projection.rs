//! The projection cached per object: what listing shows and filters read, without
//! managedFields, the last-applied annotation, data values or the bulk of a pod spec.

use serde_json::{Map, Value};

/// The annotation `kubectl apply` keeps a full copy of the object in.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Set on ConfigMaps and Secrets whose data values were left out of the cache; the keys
/// stay, with empty values, so lists can still show what an object holds.
pub const DATA_OMITTED: &str = "resources.kubesphere.io/data-omitted";

/// The projection of an object of `resource` (plural name).
pub fn project(resource: &str, object: &Value) -> Value {
    let mut out = object.clone();
    let Some(map) = out.as_object_mut() else {
        return out;
    };
    if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            annotations.remove(LAST_APPLIED);
            if annotations.is_empty() {
                meta.remove("annotations");
            }
        }
    }
    if let Some(owners) = map
        .get_mut("metadata")
        .and_then(|m| m.get_mut("ownerReferences"))
        .and_then(Value::as_array_mut)
    {
        for o in owners.iter_mut() {
            *o = pick(
                std::mem::take(o),
                &["apiVersion", "kind", "name", "uid", "controller"],
            );
        }
    }
    match resource {
        "configmaps" | "secrets" => omit_data(map),
        "pods" => reduce_pod(map),
        _ => {}
    }
    redact(resource, &mut out);
    out
}

/// Removes what no API may return, from cached projections and live reads alike: a
/// KubeSphere User's password hash.
pub fn redact(resource: &str, object: &mut Value) {
    if resource == "users"
        && let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut)
    {
        spec.remove("password");
    }
}

fn omit_data(map: &mut Map<String, Value>) {
    let mut omitted = false;
    for field in ["data", "binaryData", "stringData"] {
        if let Some(data) = map.get_mut(field).and_then(Value::as_object_mut) {
            for value in data.values_mut() {
                *value = Value::String(String::new());
            }
            omitted = true;
        }
    }
    if omitted && let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
        let annotations = meta
            .entry("annotations")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(a) = annotations.as_object_mut() {
            a.insert(DATA_OMITTED.into(), Value::String("true".into()));
        }
    }
}

/// Keeps from a pod what lists show and filters read: node, containers' names, images and
/// ports, PVC volumes, and the status the console summarizes (condition times and
/// container image IDs are left to a single GET, which reads the full object).
fn reduce_pod(map: &mut Map<String, Value>) {
    if let Some(spec) = map.get_mut("spec").and_then(Value::as_object_mut) {
        let mut kept = Map::new();
        for key in [
            "nodeName",
            "serviceAccountName",
            "restartPolicy",
            "schedulerName",
        ] {
            if let Some(v) = spec.remove(key) {
                kept.insert(key.into(), v);
            }
        }
        for key in ["containers", "initContainers"] {
            if let Some(Value::Array(containers)) = spec.remove(key) {
                let slim = containers
                    .into_iter()
                    .map(|c| pick(c, &["name", "image", "ports"]))
                    .collect();
                kept.insert(key.into(), Value::Array(slim));
            }
        }
        if let Some(Value::Array(volumes)) = spec.remove("volumes") {
            let claims: Vec<Value> = volumes
                .into_iter()
                .filter(|v| v.get("persistentVolumeClaim").is_some())
                .map(|v| pick(v, &["name", "persistentVolumeClaim"]))
                .collect();
            if !claims.is_empty() {
                kept.insert("volumes".into(), Value::Array(claims));
            }
        }
        *spec = kept;
    }
    if let Some(status) = map.get_mut("status").and_then(Value::as_object_mut) {
        for key in ["containerStatuses", "initContainerStatuses"] {
            if let Some(Value::Array(statuses)) = status.get_mut(key) {
                for s in statuses.iter_mut() {
                    *s = pick(
                        std::mem::take(s),
                        &["name", "ready", "restartCount", "state"],
                    );
                }
            }
        }
        if let Some(Value::Array(conditions)) = status.get_mut("conditions") {
            for c in conditions.iter_mut() {
                *c = pick(std::mem::take(c), &["type", "status", "reason"]);
            }
        }
        for key in [
            "ephemeralContainerStatuses",
            "resourceClaimStatuses",
            "resize",
        ] {
            status.remove(key);
        }
    }
}

fn pick(value: Value, keys: &[&str]) -> Value {
    match value {
        Value::Object(mut m) => {
            let mut out = Map::new();
            for k in keys {
                if let Some(v) = m.remove(*k) {
                    out.insert((*k).into(), v);
                }
            }
            Value::Object(out)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn drops_bulk_and_keeps_what_lists_need() {
        let cm = json!({"metadata": {"name": "c", "managedFields": [{}],
            "annotations": {LAST_APPLIED: "{}"}}, "data": {"k": "big"}});
        let p = project("configmaps", &cm);
        assert_eq!(
            p,
            json!({"metadata": {"name": "c", "annotations": {DATA_OMITTED: "true"}}, "data": {"k": ""}})
        );
        let pod = json!({"metadata": {"name": "p"}, "spec": {"nodeName": "n1",
            "containers": [{"name": "c", "image": "nginx", "env": [{"name": "X"}]}],
            "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "data"}},
                        {"name": "t", "emptyDir": {}}],
            "tolerations": [{}]},
            "status": {"phase": "Running", "containerStatuses": [{"name": "c", "ready": true,
                "state": {"running": {}}, "imageID": "sha"}]}});
        let p = project("pods", &pod);
        assert_eq!(
            p["spec"],
            json!({"nodeName": "n1", "containers": [{"name": "c", "image": "nginx"}],
                "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "data"}}]})
        );
        assert_eq!(
            p["status"]["containerStatuses"],
            json!([{"name": "c", "ready": true, "state": {"running": {}}}])
        );
        let ns = json!({"metadata": {"name": "n", "annotations": {"a": "b"}}});
        assert_eq!(project("namespaces", &ns), ns);
        let user =
            json!({"metadata": {"name": "u"}, "spec": {"email": "u@x", "password": "$argon2id$"}});
        assert_eq!(project("users", &user)["spec"], json!({"email": "u@x"}));
    }
}
