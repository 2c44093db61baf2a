//! The scheduler's writes: volume binding decisions, pod binding, the PodScheduled condition, preemption.

use crate::volumebinding::Decision;
use controllers::events::{EventType, Recorder, object_reference};
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod};
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use serde_json::{Value, json};
use std::time::Duration;

/// Annotation the scheduler puts on a WaitForFirstConsumer claim to ask for a volume on a node.
pub const ANN_SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
/// Annotation marking a binding made by a controller rather than by the user.
pub const ANN_BOUND_BY_CONTROLLER: &str = "pv.kubernetes.io/bound-by-controller";

fn ns_name(pod: &Pod) -> (String, String) {
    (
        pod.metadata.namespace.clone().unwrap_or_default(),
        pod.metadata.name.clone().unwrap_or_default(),
    )
}

/// Carries out the volume decisions, waits for the claims to be bound, then binds
/// the pod with `pods/binding`.
pub async fn bind(
    client: &Client,
    pod: &Pod,
    node: &str,
    decisions: &[Decision],
    volume_timeout: Duration,
) -> Result<(), String> {
    let (ns, name) = ns_name(pod);
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns);
    let volumes: Api<PersistentVolume> = Api::all(client.clone());
    for d in decisions {
        match d {
            Decision::Static { claim, volume } => {
                let c = claims.get(claim).await.map_err(|e| e.to_string())?;
                let patch = json!({
                    "metadata": {"annotations": {ANN_BOUND_BY_CONTROLLER: "yes"}},
                    "spec": {"claimRef": {
                        "kind": "PersistentVolumeClaim", "apiVersion": "v1",
                        "namespace": ns, "name": claim, "uid": c.metadata.uid,
                        "resourceVersion": c.metadata.resource_version,
                    }},
                });
                volumes
                    .patch(volume, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Decision::Provision { claim } => {
                let patch = json!({"metadata": {"annotations": {ANN_SELECTED_NODE: node}}});
                claims
                    .patch(claim, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    if !decisions.is_empty() {
        wait_bound(&claims, decisions, volume_timeout).await?;
    }
    let binding = json!({
        "apiVersion": "v1", "kind": "Binding",
        "metadata": {"name": name, "namespace": ns, "uid": pod.metadata.uid},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    });
    Api::<Pod>::namespaced(client.clone(), &ns)
        .create_subresource::<_, Value>("binding", &name, &PostParams::default(), &binding)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

async fn wait_bound(
    claims: &Api<PersistentVolumeClaim>,
    decisions: &[Decision],
    timeout: Duration,
) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + timeout;
    let names: Vec<&str> = decisions
        .iter()
        .map(|d| match d {
            Decision::Static { claim, .. } | Decision::Provision { claim } => claim.as_str(),
        })
        .collect();
    loop {
        let mut all = true;
        for n in &names {
            let c = claims.get(n).await.map_err(|e| e.to_string())?;
            let phase = c.status.as_ref().and_then(|s| s.phase.as_deref());
            all &= phase == Some("Bound");
        }
        if all {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "binding volumes: timed out waiting for claims {names:?} to be bound"
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sets PodScheduled=False with `reason` and `message` (unless already so) and
/// records a FailedScheduling event, as kube-scheduler's failure handler does.
pub async fn report_failure(
    client: &Client,
    recorder: &Recorder,
    pod: &Pod,
    reason: &str,
    message: &str,
) {
    recorder
        .record(
            &object_reference(pod),
            EventType::Warning,
            "FailedScheduling",
            message,
        )
        .await;
    let status = pod.status.clone().unwrap_or_default();
    let mut conditions = status.conditions.unwrap_or_default();
    let old = conditions.iter().position(|c| c.type_ == "PodScheduled");
    if let Some(i) = old {
        let c = &conditions[i];
        if c.status == "False"
            && c.reason.as_deref() == Some(reason)
            && c.message.as_deref() == Some(message)
        {
            return;
        }
    }
    let mut conds: Vec<Value> = conditions
        .drain(..)
        .filter(|c| c.type_ != "PodScheduled")
        .filter_map(|c| serde_json::to_value(c).ok())
        .collect();
    conds.push(json!({
        "type": "PodScheduled", "status": "False", "reason": reason, "message": message,
        "lastProbeTime": null, "lastTransitionTime": Timestamp::now().to_string(),
        "observedGeneration": pod.metadata.generation,
    }));
    let (ns, name) = ns_name(pod);
    let patch = json!({"metadata": {"uid": pod.metadata.uid}, "status": {"conditions": conds}});
    if let Err(e) = Api::<Pod>::namespaced(client.clone(), &ns)
        .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        tracing::debug!(pod = %name, error = %e, "could not set PodScheduled condition");
    }
}

/// Evicts `victims` (pods on `node`) so `preemptor` can be scheduled there, marks
/// them with DisruptionTarget and nominates the node on the preemptor.
pub async fn preempt(
    client: &Client,
    recorder: &Recorder,
    preemptor: &Pod,
    node: &str,
    victims: &[Pod],
    scheduler_name: &str,
) {
    let (pns, pname) = ns_name(preemptor);
    for v in victims {
        let (ns, name) = ns_name(v);
        let api: Api<Pod> = Api::namespaced(client.clone(), &ns);
        let cond = json!({"status": {"conditions": [{
            "type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler",
            "message": format!("{scheduler_name}: preempting to accommodate a higher priority pod"),
            "lastTransitionTime": Timestamp::now().to_string(),
        }]}});
        // A strategic merge keeps the pod's other conditions.
        let _ = api
            .patch_status(&name, &PatchParams::default(), &Patch::Strategic(&cond))
            .await;
        let dp = DeleteParams {
            preconditions: Some(Preconditions {
                uid: v.metadata.uid.clone(),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        match api.delete(&name, &dp).await {
            Ok(_) => {
                let msg = format!(
                    "Preempted by pod {} on node {node}",
                    preemptor.metadata.uid.as_deref().unwrap_or("")
                );
                recorder
                    .record(&object_reference(v), EventType::Normal, "Preempted", &msg)
                    .await;
            }
            Err(e) => tracing::debug!(pod = %name, error = %e, "preemption delete failed"),
        }
    }
    let patch = json!({"status": {"nominatedNodeName": node}});
    let _ = Api::<Pod>::namespaced(client.clone(), &pns)
        .patch_status(&pname, &PatchParams::default(), &Patch::Merge(&patch))
        .await;
}

/// Records the `Scheduled` event kube-scheduler emits after binding.
pub async fn report_scheduled(recorder: &Recorder, pod: &Pod, node: &str) {
    let (ns, name) = ns_name(pod);
    let msg = format!("Successfully assigned {ns}/{name} to {node}");
    recorder
        .record(&object_reference(pod), EventType::Normal, "Scheduled", &msg)
        .await;
}
