//! Row cells of kube-apiserver's table printers, computed from the object as `kubectl get -o wide` shows them.

use super::rows_cluster as cluster;
use crate::fields::render_label_selector;
use crate::quantity::Quantity;
use crate::registry::ResourceInfo;
use serde_json::{Map, Value, json};

pub(super) fn st<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

pub(super) fn int(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

pub(super) fn list<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

pub(super) fn or(s: &str, fallback: &str) -> String {
    if s.is_empty() { fallback } else { s }.to_string()
}

/// `translateTimestampSince`.
pub(super) fn since(v: &Value, pointer: &str, now: jiff::Timestamp) -> String {
    let Some(ts) = v
        .pointer(pointer)
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
    else {
        return "<unknown>".to_string();
    };
    super::human_seconds(now.as_second() - ts.as_second())
}

pub(super) fn age(obj: &Value, now: jiff::Timestamp) -> Value {
    json!(since(obj, "/metadata/creationTimestamp", now))
}

/// `labels.FormatLabels`: sorted `k=v` pairs or `<none>`.
pub(super) fn format_labels(map: Option<&Map<String, Value>>) -> String {
    let mut pairs: Vec<String> = map
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    pairs.sort();
    if pairs.is_empty() {
        "<none>".to_string()
    } else {
        pairs.join(",")
    }
}

/// A `LabelSelector` as the printers show it; a missing one reads `<none>`.
fn selector(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "<none>".to_string(),
        Some(sel) => render_label_selector(sel),
    }
}

/// `layoutContainerCells`: container names and images, comma-separated.
fn containers(v: &Value, pointer: &str) -> (Value, Value) {
    let cs = list(v, pointer);
    let names: Vec<&str> = cs.iter().map(|c| st(c, "/name")).collect();
    let images: Vec<&str> = cs.iter().map(|c| st(c, "/image")).collect();
    (json!(names.join(",")), json!(images.join(",")))
}

pub(super) fn quantity(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .and_then(|q| Quantity::parse(q).ok())
        .map_or_else(|| "0".to_string(), |q| q.canonical())
}

/// `GetAccessModesAsString`.
pub(super) fn access_modes(modes: &[Value]) -> String {
    let has = |m: &str| modes.iter().any(|x| x.as_str() == Some(m));
    let mut out = Vec::new();
    for (mode, short) in [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ] {
        if has(mode) {
            out.push(short);
        }
    }
    out.join(",")
}

/// `loadBalancerStatusStringer` (wide): sorted unique IPs or hostnames.
pub(super) fn load_balancer(v: &Value, pointer: &str) -> String {
    let mut out: Vec<String> = list(v, pointer)
        .iter()
        .filter_map(|i| {
            let ip = st(i, "/ip");
            let host = st(i, "/hostname");
            if !ip.is_empty() {
                Some(ip.to_string())
            } else if !host.is_empty() {
                Some(host.to_string())
            } else {
                None
            }
        })
        .collect();
    out.sort();
    out.dedup();
    out.join(",")
}

pub(super) fn more(list: &[String], count: usize, max: usize) -> String {
    let ret = list.join(",");
    if count > max {
        format!("{ret} + {} more...", count - max)
    } else {
        ret
    }
}

pub(crate) fn cells(info: &ResourceInfo, obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let name = json!(st(obj, "/metadata/name"));
    match (info.group, info.kind) {
        ("", "Pod") => pod(obj, now),
        ("", "PodTemplate") => {
            let (names, images) = containers(obj, "/template/spec/containers");
            let labels = obj
                .pointer("/template/metadata/labels")
                .and_then(Value::as_object);
            vec![name, names, images, json!(format_labels(labels))]
        }
        ("", "ReplicationController") | ("apps", "ReplicaSet") => {
            let (names, images) = containers(obj, "/spec/template/spec/containers");
            let sel = if info.kind == "ReplicationController" {
                let s = format_labels(obj.pointer("/spec/selector").and_then(Value::as_object));
                if s == "<none>" { String::new() } else { s }
            } else {
                selector(obj.pointer("/spec/selector"))
            };
            vec![
                name,
                json!(int(obj, "/spec/replicas")),
                json!(int(obj, "/status/replicas")),
                json!(int(obj, "/status/readyReplicas")),
                age(obj, now),
                names,
                images,
                json!(sel),
            ]
        }
        ("apps", "Deployment") => {
            let (names, images) = containers(obj, "/spec/template/spec/containers");
            vec![
                name,
                json!(format!(
                    "{}/{}",
                    int(obj, "/status/readyReplicas"),
                    int(obj, "/spec/replicas")
                )),
                json!(int(obj, "/status/updatedReplicas")),
                json!(int(obj, "/status/availableReplicas")),
                age(obj, now),
                names,
                images,
                json!(selector(obj.pointer("/spec/selector"))),
            ]
        }
        ("apps", "StatefulSet") => {
            let (names, images) = containers(obj, "/spec/template/spec/containers");
            vec![
                name,
                json!(format!(
                    "{}/{}",
                    int(obj, "/status/readyReplicas"),
                    int(obj, "/spec/replicas")
                )),
                age(obj, now),
                names,
                images,
            ]
        }
        ("apps", "DaemonSet") => {
            let (names, images) = containers(obj, "/spec/template/spec/containers");
            let node_selector = obj
                .pointer("/spec/template/spec/nodeSelector")
                .and_then(Value::as_object);
            vec![
                name,
                json!(int(obj, "/status/desiredNumberScheduled")),
                json!(int(obj, "/status/currentNumberScheduled")),
                json!(int(obj, "/status/numberReady")),
                json!(int(obj, "/status/updatedNumberScheduled")),
                json!(int(obj, "/status/numberAvailable")),
                json!(format_labels(node_selector)),
                age(obj, now),
                names,
                images,
                json!(selector(obj.pointer("/spec/selector"))),
            ]
        }
        ("apps", "ControllerRevision") => {
            let owner = list(obj, "/metadata/ownerReferences")
                .iter()
                .find(|o| o.get("controller").and_then(Value::as_bool) == Some(true));
            let controller = owner.map_or_else(
                || "<none>".to_string(),
                |o| {
                    let api_version = st(o, "/apiVersion");
                    let group = api_version.split_once('/').map_or("", |(g, _)| g);
                    let kind = st(o, "/kind");
                    let gk = if group.is_empty() {
                        kind.to_string()
                    } else {
                        format!("{kind}.{group}")
                    };
                    format!("{}/{}", gk.to_lowercase(), st(o, "/name"))
                },
            );
            vec![
                name,
                json!(controller),
                json!(int(obj, "/revision")),
                age(obj, now),
            ]
        }
        ("batch", "Job") => job(obj, now),
        ("batch", "CronJob") => {
            let (names, images) =
                containers(obj, "/spec/jobTemplate/spec/template/spec/containers");
            let last = if obj
                .pointer("/status/lastScheduleTime")
                .is_some_and(|v| !v.is_null())
            {
                since(obj, "/status/lastScheduleTime", now)
            } else {
                "<none>".to_string()
            };
            let suspend = match obj.pointer("/spec/suspend").and_then(Value::as_bool) {
                None => "<unset>",
                Some(true) => "True",
                Some(false) => "False",
            };
            vec![
                name,
                json!(st(obj, "/spec/schedule")),
                json!(or(st(obj, "/spec/timeZone"), "<none>")),
                json!(suspend),
                json!(list(obj, "/status/active").len()),
                json!(last),
                age(obj, now),
                names,
                images,
                json!(selector(obj.pointer("/spec/jobTemplate/spec/selector"))),
            ]
        }
        ("", "Service") => cluster::service(obj, now),
        ("", "Endpoints") => vec![name, json!(cluster::endpoints(obj)), age(obj, now)],
        ("", "Node") => cluster::node(obj, now),
        ("", "Event") | ("events.k8s.io", "Event") => cluster::event(info, obj, now),
        ("", "Namespace") => vec![name, json!(st(obj, "/status/phase")), age(obj, now)],
        ("", "Secret") => {
            let n = obj
                .get("data")
                .and_then(Value::as_object)
                .map_or(0, Map::len);
            vec![name, json!(st(obj, "/type")), json!(n), age(obj, now)]
        }
        ("", "ConfigMap") => {
            let n = obj
                .get("data")
                .and_then(Value::as_object)
                .map_or(0, Map::len)
                + obj
                    .get("binaryData")
                    .and_then(Value::as_object)
                    .map_or(0, Map::len);
            vec![name, json!(n), age(obj, now)]
        }
        ("", "ServiceAccount") => vec![name, json!(list(obj, "/secrets").len()), age(obj, now)],
        ("", "PersistentVolume") => cluster::persistent_volume(obj, now),
        ("", "PersistentVolumeClaim") => cluster::claim(obj, now),
        ("", "ResourceQuota") => cluster::resource_quota(obj, now),
        ("networking.k8s.io", "Ingress") => {
            let rules = list(obj, "/spec/rules");
            let hosts: Vec<String> = rules
                .iter()
                .map(|r| st(r, "/host"))
                .filter(|h| !h.is_empty())
                .take(4)
                .map(str::to_string)
                .collect();
            let hosts = if hosts.is_empty() {
                "*".to_string()
            } else if rules.len() > 4 {
                format!("{} + {} more...", hosts.join(","), rules.len() - 4)
            } else {
                hosts.join(",")
            };
            let ports = if list(obj, "/spec/tls").is_empty() {
                "80"
            } else {
                "80, 443"
            };
            vec![
                name,
                json!(or(st(obj, "/spec/ingressClassName"), "<none>")),
                json!(hosts),
                json!(load_balancer(obj, "/status/loadBalancer/ingress")),
                json!(ports),
                age(obj, now),
            ]
        }
        ("networking.k8s.io", "IngressClass") => {
            let params = obj
                .pointer("/spec/parameters")
                .filter(|p| !p.is_null())
                .map_or_else(
                    || "<none>".to_string(),
                    |p| {
                        let mut s = st(p, "/kind").to_string();
                        if let Some(g) = p.get("apiGroup").and_then(Value::as_str) {
                            s = format!("{s}.{g}");
                        }
                        format!("{s}/{}", st(p, "/name"))
                    },
                );
            vec![
                name,
                json!(st(obj, "/spec/controller")),
                json!(params),
                age(obj, now),
            ]
        }
        ("networking.k8s.io", "NetworkPolicy") => {
            let sel = selector(obj.pointer("/spec/podSelector"));
            vec![
                name,
                json!(if sel.is_empty() {
                    "<none>".to_string()
                } else {
                    sel
                }),
                age(obj, now),
            ]
        }
        ("discovery.k8s.io", "EndpointSlice") => cluster::endpoint_slice(obj, now),
        ("autoscaling", "HorizontalPodAutoscaler") => super::rows_hpa::hpa(info, obj, now),
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            let mut users = Vec::new();
            let mut groups = Vec::new();
            let mut sas = Vec::new();
            for s in list(obj, "/subjects") {
                let n = st(s, "/name").to_string();
                match st(s, "/kind") {
                    "User" => users.push(n),
                    "Group" => groups.push(n),
                    "ServiceAccount" => {
                        let ns = st(s, "/namespace");
                        sas.push(if ns.is_empty() {
                            n
                        } else {
                            format!("{ns}/{n}")
                        });
                    }
                    _ => {}
                }
            }
            vec![
                name,
                json!(format!(
                    "{}/{}",
                    st(obj, "/roleRef/kind"),
                    st(obj, "/roleRef/name")
                )),
                age(obj, now),
                json!(users.join(", ")),
                json!(groups.join(", ")),
                json!(sas.join(", ")),
            ]
        }
        ("coordination.k8s.io", "Lease") => {
            vec![name, json!(st(obj, "/spec/holderIdentity")), age(obj, now)]
        }
        ("storage.k8s.io", "StorageClass") => {
            let default_class = [
                "storageclass.kubernetes.io/is-default-class",
                "storageclass.beta.kubernetes.io/is-default-class",
            ]
            .iter()
            .any(|k| {
                obj.pointer("/metadata/annotations")
                    .and_then(|a| a.get(*k))
                    .and_then(Value::as_str)
                    == Some("true")
            });
            let mut n = st(obj, "/metadata/name").to_string();
            if default_class {
                n.push_str(" (default)");
            }
            vec![
                json!(n),
                json!(st(obj, "/provisioner")),
                json!(or(st(obj, "/reclaimPolicy"), "Delete")),
                json!(or(st(obj, "/volumeBindingMode"), "Immediate")),
                json!(
                    obj.get("allowVolumeExpansion")
                        .and_then(Value::as_bool)
                        .unwrap_or(false)
                ),
                age(obj, now),
            ]
        }
        ("policy", "PodDisruptionBudget") => {
            let show = |p: &str| match obj.pointer(p) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => "N/A".to_string(),
            };
            vec![
                name,
                json!(show("/spec/minAvailable")),
                json!(show("/spec/maxUnavailable")),
                json!(int(obj, "/status/disruptionsAllowed")),
                age(obj, now),
            ]
        }
        (
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration",
        ) => vec![name, json!(list(obj, "/webhooks").len()), age(obj, now)],
        _ => vec![
            name,
            obj.pointer("/metadata/creationTimestamp")
                .cloned()
                .unwrap_or(Value::Null),
        ],
    }
}

fn pod(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    super::rows_pod::pod(obj, now)
}

fn job(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let succeeded = int(obj, "/status/succeeded");
    let completions = match obj.pointer("/spec/completions").and_then(Value::as_i64) {
        Some(c) => format!("{succeeded}/{c}"),
        None => {
            let parallelism = int(obj, "/spec/parallelism");
            if parallelism > 1 {
                format!("{succeeded}/1 of {parallelism}")
            } else {
                format!("{succeeded}/1")
            }
        }
    };
    let start = obj
        .pointer("/status/startTime")
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<jiff::Timestamp>().ok());
    let end = obj
        .pointer("/status/completionTime")
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<jiff::Timestamp>().ok());
    let duration = match (start, end) {
        (None, _) => String::new(),
        (Some(s), None) => super::human_seconds(now.as_second() - s.as_second()),
        (Some(s), Some(e)) => super::human_seconds(e.as_second() - s.as_second()),
    };
    let has = |t: &str| {
        list(obj, "/status/conditions")
            .iter()
            .any(|c| st(c, "/type") == t && st(c, "/status") == "True")
    };
    let status = if has("Complete") {
        "Complete"
    } else if has("Failed") {
        "Failed"
    } else if obj
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
    {
        "Terminating"
    } else if has("Suspended") {
        "Suspended"
    } else if has("FailureTarget") {
        "FailureTarget"
    } else if has("SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else {
        "Running"
    };
    let (names, images) = containers(obj, "/spec/template/spec/containers");
    vec![
        json!(st(obj, "/metadata/name")),
        json!(status),
        json!(completions),
        json!(duration),
        age(obj, now),
        names,
        images,
        json!(selector(obj.pointer("/spec/selector"))),
    ]
}
