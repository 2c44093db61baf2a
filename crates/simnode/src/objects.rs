//! The Node, Lease and pod status objects a kubelet would write, built as pure functions.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Pod, Taint};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The kubelet version the simulated node reports.
pub const KUBELET_VERSION: &str = "v1.36.0";

/// Addresses derived from a node's index, so many simulated nodes never collide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAddresses {
    /// The node's InternalIP.
    pub internal_ip: String,
    /// The first three octets of the node's pod /24.
    pub pod_net: [u8; 3],
}

impl NodeAddresses {
    /// Node `index` gets InternalIP `172.18.x.y` and pod network `10.(244+hi).lo.0/24`.
    pub fn for_index(index: u16) -> Self {
        let hi = (index / 256) as u8;
        let lo = (index % 256) as u8;
        let ip_hi = (index / 250) as u8;
        let ip_lo = (index % 250) as u8 + 2;
        NodeAddresses {
            internal_ip: format!("172.18.{ip_hi}.{ip_lo}"),
            pod_net: [10, 244u8.saturating_add(hi), lo],
        }
    }
}

/// A stable 64-bit FNV-1a hash, used for ids that must not change across restarts.
pub fn fnv64(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// 64 hex characters derived from `parts`, shaped like a container id or image digest.
pub fn hex64(parts: &[&str]) -> String {
    (0..4u8)
        .map(|i| {
            let salt = i.to_string();
            let mut all: Vec<&str> = parts.to_vec();
            all.push(&salt);
            format!("{:016x}", fnv64(&all))
        })
        .collect()
}

/// The node's `metadata`, `spec` and `status`, as the kubelet registers it.
pub fn node_object(
    name: &str,
    addrs: &NodeAddresses,
    capacity: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
    taints: &[Taint],
    now: Timestamp,
) -> Value {
    let mut all_labels: BTreeMap<String, String> = [
        ("beta.kubernetes.io/arch", "amd64"),
        ("beta.kubernetes.io/os", "linux"),
        ("kubernetes.io/arch", "amd64"),
        ("kubernetes.io/os", "linux"),
        ("kubernetes.io/hostname", name),
        ("type", "simnode"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    all_labels.extend(labels.clone());
    let cidr = format!(
        "{}.{}.{}.0/24",
        addrs.pod_net[0], addrs.pod_net[1], addrs.pod_net[2]
    );
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": all_labels,
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {"podCIDR": cidr, "podCIDRs": [cidr], "taints": taints},
        "status": node_status(name, addrs, capacity, now),
    })
}

/// The node status the kubelet reports: capacity, conditions with fresh heartbeats,
/// addresses and nodeInfo.
pub fn node_status(
    name: &str,
    addrs: &NodeAddresses,
    capacity: &BTreeMap<String, String>,
    now: Timestamp,
) -> Value {
    let t = now.to_string();
    let cond = |ty: &str, status: &str, reason: &str, message: &str| {
        json!({
            "type": ty, "status": status, "reason": reason, "message": message,
            "lastHeartbeatTime": t, "lastTransitionTime": t,
        })
    };
    let machine = hex64(&["machine", name]);
    json!({
        "capacity": capacity,
        "allocatable": capacity,
        "conditions": [
            cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ],
        "addresses": [
            {"type": "InternalIP", "address": addrs.internal_ip},
            {"type": "Hostname", "address": name},
        ],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {
            "machineID": &machine[..32],
            "systemUUID": &machine[32..],
            "bootID": hex64(&["boot", name])[..32].to_string(),
            "kernelVersion": "6.12.0-simnode",
            "osImage": "Ferrosphere simulated node",
            "containerRuntimeVersion": "containerd://2.1.0",
            "kubeletVersion": KUBELET_VERSION,
            "kubeProxyVersion": "",
            "operatingSystem": "linux",
            "architecture": "amd64",
        },
    })
}

/// Keeps a condition's `lastTransitionTime` from `old` when its status did not change,
/// as the kubelet does, so only heartbeats move.
pub fn keep_transition_times(new_status: &mut Value, old_status: Option<&Value>) {
    let Some(old) = old_status
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
    else {
        return;
    };
    let Some(new) = new_status
        .get_mut("conditions")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for c in new.iter_mut() {
        let ty = c.get("type").cloned();
        let status = c.get("status").cloned();
        if let Some(o) = old
            .iter()
            .find(|o| o.get("type") == ty.as_ref() && o.get("status") == status.as_ref())
            && let Some(t) = o.get("lastTransitionTime")
        {
            c["lastTransitionTime"] = t.clone();
        }
    }
}

/// The node's Lease in `kube-node-lease`, owned by the Node so it goes with it.
pub fn lease_object(name: &str, node_uid: &str, duration_seconds: i32, now: Timestamp) -> Value {
    json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": name,
            "namespace": "kube-node-lease",
            "ownerReferences": [{
                "apiVersion": "v1", "kind": "Node", "name": name, "uid": node_uid,
            }],
        },
        "spec": {
            "holderIdentity": name,
            "leaseDurationSeconds": duration_seconds,
            "renewTime": micro_time(now),
        },
    })
}

/// RFC 3339 with microseconds, the MicroTime wire format.
pub fn micro_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The reference the container runtime reports for `image`: registry and tag filled in.
pub fn normalize_image(image: &str) -> String {
    let (name, has_tag) = match image.rsplit_once('/') {
        Some((_, last)) => (image, last.contains(':') || image.contains('@')),
        None => (image, image.contains(':') || image.contains('@')),
    };
    let first = name.split('/').next().unwrap_or("");
    let qualified = if !name.contains('/') {
        format!("docker.io/library/{name}")
    } else if first.contains('.') || first.contains(':') || first == "localhost" {
        name.to_string()
    } else {
        format!("docker.io/{name}")
    };
    if has_tag {
        qualified
    } else {
        format!("{qualified}:latest")
    }
}

/// What the simulated runtime knows about one pod it runs.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub host_ip: String,
    pub pod_ip: String,
    pub started: Timestamp,
    pub restart_count: i32,
    pub ready: bool,
}

fn container_id(pod_uid: &str, container: &str, restart: i32) -> String {
    format!(
        "containerd://{}",
        hex64(&[pod_uid, container, &restart.to_string()])
    )
}

fn image_fields(image: &str) -> (String, String) {
    let norm = normalize_image(image);
    let repo = norm
        .split('@')
        .next()
        .unwrap_or(&norm)
        .rsplit_once(':')
        .filter(|(_, tag)| !tag.contains('/'))
        .map_or(norm.clone(), |(r, _)| r.to_string());
    (norm.clone(), format!("{repo}@sha256:{}", hex64(&[&norm])))
}

fn condition(ty: &str, ok: bool, t: &str, reason: Option<&str>) -> Value {
    let mut c = json!({
        "type": ty, "status": if ok { "True" } else { "False" },
        "lastProbeTime": null, "lastTransitionTime": t,
    });
    if let Some(r) = reason {
        c["reason"] = json!(r);
    }
    c
}

/// The status of a running pod: every init container completed, every container
/// running, readiness as given.
pub fn running_status(pod: &Pod, run: &RunInfo, now: Timestamp) -> Value {
    let uid = pod.metadata.uid.as_deref().unwrap_or("");
    let spec = pod.spec.clone().unwrap_or_default();
    let started = run.started.to_string();
    let t = now.to_string();
    let init: Vec<Value> = spec
        .init_containers
        .iter()
        .flatten()
        .map(|c| {
            let (image, image_id) = image_fields(c.image.as_deref().unwrap_or(""));
            json!({
                "name": c.name, "image": image, "imageID": image_id,
                "containerID": container_id(uid, &c.name, 0),
                "ready": true, "started": false, "restartCount": 0,
                "state": {"terminated": {
                    "exitCode": 0, "reason": "Completed",
                    "startedAt": started, "finishedAt": started,
                    "containerID": container_id(uid, &c.name, 0),
                }},
                "lastState": {},
            })
        })
        .collect();
    let containers: Vec<Value> = spec
        .containers
        .iter()
        .map(|c| {
            let (image, image_id) = image_fields(c.image.as_deref().unwrap_or(""));
            let mut s = json!({
                "name": c.name, "image": image, "imageID": image_id,
                "containerID": container_id(uid, &c.name, run.restart_count),
                "ready": run.ready, "started": true, "restartCount": run.restart_count,
                "state": {"running": {"startedAt": started}},
                "lastState": {},
            });
            if run.restart_count > 0 {
                s["lastState"] = json!({"terminated": {
                    "exitCode": 1, "reason": "Error",
                    "startedAt": started, "finishedAt": started,
                    "containerID": container_id(uid, &c.name, run.restart_count - 1),
                }});
            }
            s
        })
        .collect();
    let not_ready = (!run.ready).then_some("ContainersNotReady");
    let mut status = json!({
        "phase": "Running",
        "hostIP": run.host_ip,
        "hostIPs": [{"ip": run.host_ip}],
        "podIP": run.pod_ip,
        "podIPs": [{"ip": run.pod_ip}],
        "startTime": started,
        "conditions": [
            condition("PodReadyToStartContainers", true, &started, None),
            condition("Initialized", true, &started, None),
            condition("Ready", run.ready, &t, not_ready),
            condition("ContainersReady", run.ready, &t, not_ready),
            condition("PodScheduled", true, &started, None),
        ],
        "containerStatuses": containers,
    });
    if !init.is_empty() {
        status["initContainerStatuses"] = json!(init);
    }
    if let Some(q) = pod.status.as_ref().and_then(|s| s.qos_class.as_ref()) {
        status["qosClass"] = json!(q);
    }
    keep_pod_transition_times(&mut status, pod);
    status
}

/// The status of a pod whose containers all exited with `exit_code` and that the
/// kubelet will not restart: phase Succeeded for 0, Failed otherwise.
pub fn terminated_status(pod: &Pod, run: &RunInfo, exit_code: i32, now: Timestamp) -> Value {
    let mut status = running_status(pod, run, now);
    let uid = pod.metadata.uid.as_deref().unwrap_or("");
    let t = now.to_string();
    let (phase, reason) = if exit_code == 0 {
        ("Succeeded", "Completed")
    } else {
        ("Failed", "Error")
    };
    status["phase"] = json!(phase);
    if let Some(cs) = status["containerStatuses"].as_array_mut() {
        for c in cs {
            let name = c["name"].as_str().unwrap_or("").to_string();
            c["ready"] = json!(false);
            c["started"] = json!(false);
            c["state"] = json!({"terminated": {
                "exitCode": exit_code, "reason": reason,
                "startedAt": run.started.to_string(), "finishedAt": t,
                "containerID": container_id(uid, &name, run.restart_count),
            }});
        }
    }
    let reason = if exit_code == 0 {
        "PodCompleted"
    } else {
        "PodFailed"
    };
    if let Some(conds) = status["conditions"].as_array_mut() {
        for c in conds {
            match c["type"].as_str() {
                Some("Ready") | Some("ContainersReady") => {
                    c["status"] = json!("False");
                    c["reason"] = json!(reason);
                    c["lastTransitionTime"] = json!(t);
                }
                Some("PodReadyToStartContainers") => {
                    c["status"] = json!("False");
                    c["lastTransitionTime"] = json!(t);
                }
                _ => {}
            }
        }
    }
    status
}

fn keep_pod_transition_times(status: &mut Value, pod: &Pod) {
    let old = pod
        .status
        .as_ref()
        .and_then(|s| serde_json::to_value(s).ok());
    keep_transition_times(status, old.as_ref());
}

/// Whether the kubelet restarts a container that exited with `exit_code` under the
/// pod's restartPolicy (default Always).
pub fn restarts(pod: &Pod, exit_code: i32) -> bool {
    match pod
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("Always")
    {
        "Never" => false,
        "OnFailure" => exit_code != 0,
        _ => true,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pod(restart: Option<&str>) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "ns", "uid": "u1"},
            "spec": {
                "restartPolicy": restart,
                "initContainers": [{"name": "init", "image": "busybox"}],
                "containers": [{"name": "app", "image": "ghcr.io/acme/app:1.2"}],
            },
        }))
        .unwrap()
    }

    fn run(ready: bool) -> RunInfo {
        RunInfo {
            host_ip: "172.18.0.2".into(),
            pod_ip: "10.244.0.2".into(),
            started: Timestamp::UNIX_EPOCH,
            restart_count: 0,
            ready,
        }
    }

    #[test]
    fn images_are_normalized_like_containerd() {
        assert_eq!(normalize_image("nginx"), "docker.io/library/nginx:latest");
        assert_eq!(
            normalize_image("nginx:1.27"),
            "docker.io/library/nginx:1.27"
        );
        assert_eq!(normalize_image("acme/app"), "docker.io/acme/app:latest");
        assert_eq!(
            normalize_image("localhost:5000/app"),
            "localhost:5000/app:latest"
        );
        assert_eq!(normalize_image("ghcr.io/a/b:v1"), "ghcr.io/a/b:v1");
    }

    #[test]
    fn running_status_has_kubelet_fields() {
        let s = running_status(&pod(None), &run(true), Timestamp::UNIX_EPOCH);
        assert_eq!(s["phase"], "Running");
        assert_eq!(s["podIP"], "10.244.0.2");
        assert_eq!(s["hostIP"], "172.18.0.2");
        let c = &s["containerStatuses"][0];
        assert_eq!(c["ready"], true);
        assert_eq!(c["image"], "ghcr.io/acme/app:1.2");
        assert!(
            c["imageID"]
                .as_str()
                .unwrap()
                .starts_with("ghcr.io/acme/app@sha256:")
        );
        assert!(
            c["containerID"]
                .as_str()
                .unwrap()
                .starts_with("containerd://")
        );
        assert!(c["state"]["running"]["startedAt"].is_string());
        assert_eq!(
            s["initContainerStatuses"][0]["state"]["terminated"]["reason"],
            "Completed"
        );
        let types: Vec<&str> = s["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "PodReadyToStartContainers",
                "Initialized",
                "Ready",
                "ContainersReady",
                "PodScheduled"
            ]
        );
    }

    #[test]
    fn not_ready_pod_reports_containers_not_ready() {
        let s = running_status(&pod(None), &run(false), Timestamp::UNIX_EPOCH);
        assert_eq!(s["conditions"][2]["status"], "False");
        assert_eq!(s["conditions"][2]["reason"], "ContainersNotReady");
        assert_eq!(s["containerStatuses"][0]["ready"], false);
    }

    #[test]
    fn terminated_status_sets_phase_and_exit_code() {
        let s = terminated_status(&pod(Some("Never")), &run(true), 3, Timestamp::UNIX_EPOCH);
        assert_eq!(s["phase"], "Failed");
        assert_eq!(
            s["containerStatuses"][0]["state"]["terminated"]["exitCode"],
            3
        );
        let s = terminated_status(&pod(Some("Never")), &run(true), 0, Timestamp::UNIX_EPOCH);
        assert_eq!(s["phase"], "Succeeded");
        assert_eq!(s["conditions"][2]["reason"], "PodCompleted");
    }

    #[test]
    fn restart_policy_decides_restarts() {
        assert!(restarts(&pod(None), 0));
        assert!(restarts(&pod(Some("OnFailure")), 1));
        assert!(!restarts(&pod(Some("OnFailure")), 0));
        assert!(!restarts(&pod(Some("Never")), 1));
    }

    #[test]
    fn node_indexes_give_distinct_networks() {
        let a = NodeAddresses::for_index(0);
        let b = NodeAddresses::for_index(1);
        let c = NodeAddresses::for_index(256);
        assert_ne!(a.pod_net, b.pod_net);
        assert_ne!(a.pod_net, c.pod_net);
        assert_ne!(a.internal_ip, c.internal_ip);
    }

    #[test]
    fn heartbeat_keeps_transition_time_when_status_unchanged() {
        let cap = BTreeMap::new();
        let addrs = NodeAddresses::for_index(0);
        let old = node_status("n", &addrs, &cap, Timestamp::UNIX_EPOCH);
        let later = Timestamp::from_second(100).unwrap();
        let mut new = node_status("n", &addrs, &cap, later);
        keep_transition_times(&mut new, Some(&old));
        assert_eq!(
            new["conditions"][3]["lastTransitionTime"],
            old["conditions"][3]["lastTransitionTime"]
        );
        assert_ne!(
            new["conditions"][3]["lastHeartbeatTime"],
            old["conditions"][3]["lastHeartbeatTime"]
        );
    }
}
