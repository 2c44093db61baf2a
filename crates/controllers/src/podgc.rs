//! The pod garbage collector: force-deletes pods bound to Nodes that no longer exist and
//! terminating pods that were never scheduled, as kube-controller-manager's podgc does.
//!
//! A graceful deletion waits for the kubelet to confirm that the containers stopped; when
//! the Node is gone no kubelet is left to confirm, and the pod would stay Terminating
//! forever. Before deleting, the pod is marked Failed with a `DisruptionTarget` condition
//! (reason `DeletionByPodGC`), so owners such as Jobs count it as Kubernetes does.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::json;

use crate::cache::Cache;
use crate::context::{Clock, Error};
use crate::queue::{self, Queue};
use crate::replicaset::ignore_not_found;

/// How long a Node must be gone before its pods are collected: kube-controller-manager's
/// quarantine, which rides out a Node deleted and re-registered by its kubelet.
pub const QUARANTINE: Duration = Duration::from_secs(40);

/// Queue keys: a node name to check for orphans, or `pod/<ns>/<name>` for a terminating
/// pod that was never scheduled.
const POD_KEY: &str = "pod/";

/// What the collector works from.
pub(crate) struct PodGc {
    pub client: kube::Client,
    pub clock: Arc<dyn Clock>,
    pub pods: Cache<Pod>,
    pub nodes: Cache<Node>,
}

/// What to do about one pod when its change is seen.
pub(crate) fn on_pod_change(pod: &Pod, nodes: &Cache<Node>, q: &Queue) {
    let Some(name) = pod.metadata.name.as_deref() else {
        return;
    };
    let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
    match pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) {
        None | Some("") if pod.metadata.deletion_timestamp.is_some() => {
            q.add(format!("{POD_KEY}{}", queue::key(ns, name)));
        }
        Some(node) if !node.is_empty() && nodes.find("", node).is_none() => {
            q.add_after(node.to_string(), QUARANTINE);
        }
        _ => {}
    }
}

/// Queues a deleted Node's name, to collect its pods after the quarantine.
pub(crate) fn on_node_deleted(node: &Node, q: &Queue) {
    if let Some(name) = node.metadata.name.as_deref() {
        q.add_after(name.to_string(), QUARANTINE);
    }
}

/// Collects what `key` names.
pub(crate) async fn reconcile(gc: Arc<PodGc>, key: String) -> Result<Option<Duration>, Error> {
    if let Some(pod_key) = key.strip_prefix(POD_KEY) {
        let (ns, name) = queue::split_key(pod_key);
        let Some(pod) = gc.pods.find(ns, name) else {
            return Ok(None);
        };
        let unscheduled = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .is_none_or(str::is_empty);
        if unscheduled && pod.metadata.deletion_timestamp.is_some() {
            force_delete(&gc, &pod, "PodGC: pod was not scheduled").await?;
        }
        return Ok(None);
    }
    let node = key;
    if gc.nodes.find("", &node).is_some() {
        return Ok(None);
    }
    // The cache may lag behind a Node that came back; only the API server's answer
    // decides, as in kube-controller-manager.
    if Api::<Node>::all(gc.client.clone())
        .get_opt(&node)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let orphans = gc.pods.state_filter(|p| {
        p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node.as_str())
    });
    for pod in orphans {
        force_delete(&gc, &pod, "PodGC: node no longer exists").await?;
    }
    Ok(None)
}

/// Marks a pod that has not finished Failed with a `DisruptionTarget` condition, then
/// deletes it without a grace period.
async fn force_delete(gc: &PodGc, pod: &Pod, message: &str) -> Result<(), Error> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(gc.client.clone(), ns);
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    if !matches!(phase, Some("Succeeded" | "Failed")) {
        let now = gc
            .clock
            .now()
            .round(jiff::Unit::Second)
            .unwrap_or(gc.clock.now());
        let status = json!({"status": {
            "phase": "Failed",
            "conditions": [{
                "type": "DisruptionTarget",
                "status": "True",
                "reason": "DeletionByPodGC",
                "message": message,
                "lastTransitionTime": now.to_string(),
            }],
        }});
        ignore_not_found(
            api.patch_status(name, &PatchParams::default(), &Patch::Strategic(status))
                .await,
        )?;
    }
    let dp = DeleteParams {
        grace_period_seconds: Some(0),
        preconditions: pod
            .metadata
            .uid
            .clone()
            .map(|uid| kube::api::Preconditions {
                uid: Some(uid),
                resource_version: None,
            }),
        ..Default::default()
    };
    ignore_not_found(api.delete(name, &dp).await)?;
    tracing::info!(pod = %queue::key(ns, name), reason = message, "pod garbage-collected");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{Indexes, Writer};
    use kube::runtime::watcher::Event;

    fn pod(node: Option<&str>, deleting: bool) -> Pod {
        serde_json::from_value(json!({
            "metadata": {
                "name": "p", "namespace": "ns",
                "deletionTimestamp": deleting.then_some("2026-01-01T00:00:00Z"),
            },
            "spec": {"containers": [], "nodeName": node},
        }))
        .unwrap()
    }

    fn nodes(names: &[&str]) -> Cache<Node> {
        let mut w = Writer::<Node>::new(Indexes::Namespace);
        for n in names {
            w.apply(Event::Apply(
                serde_json::from_value(json!({"metadata": {"name": n}})).unwrap(),
            ));
        }
        w.cache()
    }

    #[tokio::test(start_paused = true)]
    async fn queues_what_kubernetes_would_collect() {
        let q = Queue::new();
        let known = nodes(&["a"]);
        on_pod_change(&pod(Some("a"), false), &known, &q);
        on_pod_change(&pod(None, false), &known, &q);
        assert!(
            q.is_empty(),
            "a pod on a live node or pending is left alone"
        );

        on_pod_change(&pod(None, true), &known, &q);
        assert_eq!(
            q.len(),
            1,
            "an unscheduled terminating pod is collected at once"
        );

        let q = Queue::new();
        on_pod_change(&pod(Some("gone"), false), &known, &q);
        assert!(q.is_empty(), "an orphan waits out the quarantine");
        tokio::time::sleep(QUARANTINE + Duration::from_secs(1)).await;
        assert_eq!(q.len(), 1);
    }
}
