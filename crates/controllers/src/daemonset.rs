//! The DaemonSet controller: one pod per eligible node, pinned by node affinity, rolled by ControllerRevision hash.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet, DaemonSetStatus};
use k8s_openapi::api::core::v1::{
    Affinity, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod,
    PodSpec, Toleration,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::context::{Ctx, Error};
use crate::deployment::rolling::scaled_value;
use crate::events::{EventType, object_reference};
use crate::pods;
use crate::queue;
use crate::replicaset::ignore_not_found;

/// Label tying pods and ControllerRevisions to one template revision.
pub const REVISION_HASH: &str = "controller-revision-hash";

/// Tolerations Kubernetes adds to every DaemonSet pod, so daemons keep running on
/// nodes that are cordoned, not ready or under pressure.
fn default_tolerations() -> Vec<Toleration> {
    let t = |key: &str, effect: &str| Toleration {
        key: Some(key.into()),
        operator: Some("Exists".into()),
        effect: Some(effect.into()),
        ..Default::default()
    };
    vec![
        t("node.kubernetes.io/not-ready", "NoExecute"),
        t("node.kubernetes.io/unreachable", "NoExecute"),
        t("node.kubernetes.io/disk-pressure", "NoSchedule"),
        t("node.kubernetes.io/memory-pressure", "NoSchedule"),
        t("node.kubernetes.io/pid-pressure", "NoSchedule"),
        t("node.kubernetes.io/unschedulable", "NoSchedule"),
    ]
}

fn tolerates(tols: &[Toleration], key: &str, value: Option<&str>, effect: &str) -> bool {
    tols.iter().any(|t| {
        let effect_ok = t
            .effect
            .as_deref()
            .is_none_or(|e| e.is_empty() || e == effect);
        let key_ok = t.key.as_deref().is_none_or(|k| k.is_empty() || k == key);
        let value_ok = match t.operator.as_deref() {
            Some("Exists") => true,
            _ => t.value.as_deref().unwrap_or("") == value.unwrap_or(""),
        };
        effect_ok && key_ok && value_ok
    })
}

fn requirement_matches(r: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    let values = r.values.as_deref().unwrap_or_default();
    match r.operator.as_str() {
        "In" => value.is_some_and(|v| values.iter().any(|x| x == v)),
        "NotIn" => value.is_none_or(|v| !values.iter().any(|x| x == v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(v), Some(bound)) = (
                value.and_then(|v| v.parse::<i64>().ok()),
                values.first().and_then(|b| b.parse::<i64>().ok()),
            ) else {
                return false;
            };
            if r.operator == "Gt" {
                v > bound
            } else {
                v < bound
            }
        }
        _ => false,
    }
}

/// Whether a pod with `spec` may run on `node`: nodeSelector, required node
/// affinity (labels and `metadata.name` fields) and NoSchedule/NoExecute taints.
pub fn should_run(spec: &PodSpec, node: &Node) -> bool {
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let name = node.metadata.name.as_deref().unwrap_or_default();
    if let Some(sel) = &spec.node_selector
        && sel.iter().any(|(k, v)| labels.get(k) != Some(v))
    {
        return false;
    }
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| {
            n.required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    if let Some(req) = required {
        let term_ok = |t: &NodeSelectorTerm| {
            t.match_expressions
                .iter()
                .flatten()
                .all(|r| requirement_matches(r, labels.get(&r.key).map(String::as_str)))
                && t.match_fields
                    .iter()
                    .flatten()
                    .all(|r| r.key == "metadata.name" && requirement_matches(r, Some(name)))
        };
        if !req.node_selector_terms.iter().any(term_ok) {
            return false;
        }
    }
    let mut tols = spec.tolerations.clone().unwrap_or_default();
    tols.extend(default_tolerations());
    let mut taints = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default();
    if node
        .spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false)
    {
        taints.push(k8s_openapi::api::core::v1::Taint {
            key: "node.kubernetes.io/unschedulable".into(),
            effect: "NoSchedule".into(),
            ..Default::default()
        });
    }
    taints
        .iter()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .all(|t| tolerates(&tols, &t.key, t.value.as_deref(), &t.effect))
}

/// The node a DaemonSet pod is for: its nodeName, or the node its affinity pins.
pub fn target_node(pod: &Pod) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    if let Some(n) = spec.node_name.clone().filter(|n| !n.is_empty()) {
        return Some(n);
    }
    spec.affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms
        .iter()
        .flat_map(|t| t.match_fields.iter().flatten())
        .find(|f| f.key == "metadata.name" && f.operator == "In")
        .and_then(|f| f.values.as_ref()?.first().cloned())
}

/// The revision hash of a DaemonSet's template.
pub fn template_hash(ds: &DaemonSet, collision_count: Option<i32>) -> String {
    let spec = ds.spec.clone().unwrap_or_default();
    crate::deployment::hash::compute_hash(&spec.template, collision_count)
}

/// The pod a DaemonSet runs on `node`.
pub fn pod_for(ds: &DaemonSet, node: &str, hash: &str) -> Pod {
    let spec = ds.spec.clone().unwrap_or_default();
    let ns = ds.metadata.namespace.clone().unwrap_or_default();
    let name = ds.metadata.name.clone().unwrap_or_default();
    let mut pod = pods::pod_from_template(
        &spec.template,
        &ns,
        Some(format!("{name}-")),
        None,
        pods::new_controller_ref(ds),
    );
    pod.metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(REVISION_HASH.into(), hash.into());
    {
        let ps = pod.spec.get_or_insert_with(PodSpec::default);
        let pin = NodeSelector {
            node_selector_terms: vec![NodeSelectorTerm {
                match_expressions: None,
                match_fields: Some(vec![NodeSelectorRequirement {
                    key: "metadata.name".into(),
                    operator: "In".into(),
                    values: Some(vec![node.to_string()]),
                }]),
            }],
        };
        let aff = ps.affinity.get_or_insert_with(Affinity::default);
        let na = aff.node_affinity.get_or_insert_with(NodeAffinity::default);
        na.required_during_scheduling_ignored_during_execution = Some(pin);
        let tols = ps.tolerations.get_or_insert_with(Vec::new);
        for t in default_tolerations() {
            if !tols.contains(&t) {
                tols.push(t);
            }
        }
    }
    pod
}

fn hash_of(p: &Pod) -> Option<&str> {
    p.metadata
        .labels
        .as_ref()?
        .get(REVISION_HASH)
        .map(String::as_str)
}

/// Reconciles the DaemonSet `key`.
pub(crate) async fn reconcile(ctx: Arc<Ctx>, key: String) -> Result<Option<Duration>, Error> {
    let (ns, name) = queue::split_key(&key);
    let Some(ds) = ctx.daemonsets.find(ns, name) else {
        return Ok(None);
    };
    if ds.metadata.deletion_timestamp.is_some() {
        return Ok(None);
    }
    let now = ctx.clock.now();
    let uid = ds.metadata.uid.clone().unwrap_or_default();
    let spec = ds.spec.clone().unwrap_or_default();
    let pod_api: Api<Pod> = Api::namespaced(ctx.client.clone(), ns);
    let dref = object_reference(ds.as_ref());
    let hash = template_hash(&ds, ds.status.as_ref().and_then(|s| s.collision_count));
    ensure_revision(&ctx, &ds, &hash).await?;

    let template_spec = spec.template.spec.clone().unwrap_or_default();
    let nodes = ctx.nodes.state();
    let eligible: BTreeMap<String, bool> = nodes
        .iter()
        .map(|n| {
            (
                n.metadata.name.clone().unwrap_or_default(),
                should_run(&template_spec, n),
            )
        })
        .collect();
    let mut by_node: BTreeMap<String, Vec<Arc<Pod>>> = BTreeMap::new();
    for p in ctx.pods.controlled_by(ns, &uid) {
        if p.metadata.deletion_timestamp.is_some() {
            continue;
        }
        if let Some(n) = target_node(&p) {
            by_node.entry(n).or_default().push(p);
        }
    }
    let mut to_delete: Vec<String> = Vec::new();
    let mut to_create: Vec<String> = Vec::new();
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    let mut status = DaemonSetStatus {
        observed_generation: ds.metadata.generation,
        collision_count: ds.status.as_ref().and_then(|s| s.collision_count),
        ..Default::default()
    };
    let (mut unavailable, mut old_available) = (0, Vec::new());
    for (node, run) in &eligible {
        let mut pods_here = by_node.remove(node).unwrap_or_default();
        pods_here.sort_by_key(|p| p.metadata.creation_timestamp.as_ref().map(|t| t.0));
        // Failed daemons are replaced.
        for p in pods_here.iter().filter(|p| pods::phase(p) == "Failed") {
            to_delete.push(p.metadata.name.clone().unwrap_or_default());
        }
        pods_here.retain(|p| pods::phase(p) != "Failed");
        if !*run {
            if !pods_here.is_empty() {
                status.number_misscheduled += 1;
            }
            to_delete.extend(pods_here.iter().filter_map(|p| p.metadata.name.clone()));
            continue;
        }
        status.desired_number_scheduled += 1;
        let Some(first) = pods_here.first().cloned() else {
            to_create.push(node.clone());
            unavailable += 1;
            continue;
        };
        to_delete.extend(
            pods_here
                .iter()
                .skip(1)
                .filter_map(|p| p.metadata.name.clone()),
        );
        status.current_number_scheduled += 1;
        let available = pods::is_available(&first, min_ready, now);
        if pods::is_ready(&first) {
            status.number_ready += 1;
        }
        if available {
            status.number_available = Some(status.number_available.unwrap_or(0) + 1);
        } else {
            unavailable += 1;
        }
        if hash_of(&first) == Some(hash.as_str()) {
            status.updated_number_scheduled =
                Some(status.updated_number_scheduled.unwrap_or(0) + 1);
        } else if !available {
            // An old pod that is not serving anyway can go at once.
            to_delete.push(first.metadata.name.clone().unwrap_or_default());
        } else {
            old_available.push(first.metadata.name.clone().unwrap_or_default());
        }
    }
    // Pods on nodes that no longer exist.
    for (_, ps) in by_node {
        to_delete.extend(ps.iter().filter_map(|p| p.metadata.name.clone()));
    }
    let strategy = spec.update_strategy.clone().unwrap_or_default();
    if strategy.type_.as_deref() != Some("OnDelete") {
        let max_unavailable = scaled_value(
            strategy
                .rolling_update
                .as_ref()
                .and_then(|r| r.max_unavailable.as_ref()),
            status.desired_number_scheduled,
            true,
            "1",
        )
        .max(1);
        let budget = (max_unavailable - unavailable).max(0) as usize;
        to_delete.extend(old_available.into_iter().take(budget));
    }
    status.number_unavailable =
        Some((status.desired_number_scheduled - status.number_available.unwrap_or(0)).max(0));

    for node in to_create {
        let pod = pod_for(&ds, &node, &hash);
        match pod_api.create(&PostParams::default(), &pod).await {
            Ok(p) => {
                let pn = p.metadata.name.unwrap_or_default();
                ctx.ds_events
                    .record(
                        &dref,
                        EventType::Normal,
                        "SuccessfulCreate",
                        &format!("Created pod: {pn}"),
                    )
                    .await;
            }
            Err(e) => {
                ctx.ds_events
                    .record(
                        &dref,
                        EventType::Warning,
                        "FailedCreate",
                        &format!("Error creating: {}", crate::replicaset::error_message(&e)),
                    )
                    .await;
                return Err(e.into());
            }
        }
    }
    for p in to_delete {
        if ignore_not_found(pod_api.delete(&p, &DeleteParams::default()).await)?.is_some() {
            ctx.ds_events
                .record(
                    &dref,
                    EventType::Normal,
                    "SuccessfulDelete",
                    &format!("Deleted pod: {p}"),
                )
                .await;
        }
    }
    if ds.status.as_ref() != Some(&status) {
        let api: Api<DaemonSet> = Api::namespaced(ctx.client.clone(), ns);
        let patch = json!({ "status": status });
        ignore_not_found(
            api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await,
        )?;
    }
    Ok(None)
}

/// Makes sure a ControllerRevision `<ds>-<hash>` holds the current template.
async fn ensure_revision(ctx: &Ctx, ds: &DaemonSet, hash: &str) -> Result<(), Error> {
    let ns = ds.metadata.namespace.clone().unwrap_or_default();
    let uid = ds.metadata.uid.clone().unwrap_or_default();
    let owned = ctx.revisions.controlled_by(&ns, &uid);
    if owned.iter().any(|r| {
        r.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(REVISION_HASH))
            .map(String::as_str)
            == Some(hash)
    }) {
        return Ok(());
    }
    let next = owned.iter().map(|r| r.revision).max().unwrap_or(0) + 1;
    let mut template =
        serde_json::to_value(ds.spec.as_ref().map(|s| s.template.clone())).map_err(|source| {
            Error::Encode {
                what: "template",
                source,
            }
        })?;
    if let Some(t) = template.as_object_mut() {
        t.insert("$patch".into(), json!("replace"));
    }
    let mut labels = ds
        .spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    labels.insert(REVISION_HASH.into(), hash.into());
    let rev = ControllerRevision {
        metadata: ObjectMeta {
            name: Some(format!(
                "{}-{hash}",
                ds.metadata.name.as_deref().unwrap_or_default()
            )),
            namespace: Some(ns.clone()),
            labels: Some(labels),
            owner_references: Some(vec![pods::new_controller_ref(ds)]),
            ..Default::default()
        },
        data: Some(RawExtension(json!({"spec": {"template": template}}))),
        revision: next,
    };
    let api: Api<ControllerRevision> = Api::namespaced(ctx.client.clone(), &ns);
    match api.create(&PostParams::default(), &rev).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{NodeSpec, Taint};

    fn node(name: &str, labels: &[(&str, &str)], taints: Vec<Taint>) -> Node {
        Node {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some(
                    labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..Default::default()
            },
            spec: Some(NodeSpec {
                taints: Some(taints),
                ..Default::default()
            }),
            status: None,
        }
    }

    fn taint(key: &str, effect: &str) -> Taint {
        Taint {
            key: key.into(),
            effect: effect.into(),
            ..Default::default()
        }
    }

    #[test]
    fn node_selection_and_taints() {
        let mut spec = PodSpec::default();
        assert!(should_run(&spec, &node("a", &[], vec![])));
        assert!(!should_run(
            &spec,
            &node("a", &[], vec![taint("dedicated", "NoSchedule")])
        ));
        assert!(should_run(
            &spec,
            &node("a", &[], vec![taint("dedicated", "PreferNoSchedule")])
        ));
        assert!(
            should_run(
                &spec,
                &node(
                    "a",
                    &[],
                    vec![taint("node.kubernetes.io/not-ready", "NoExecute")]
                )
            ),
            "default tolerations"
        );
        spec.tolerations = Some(vec![Toleration {
            key: Some("dedicated".into()),
            operator: Some("Exists".into()),
            ..Default::default()
        }]);
        assert!(should_run(
            &spec,
            &node("a", &[], vec![taint("dedicated", "NoSchedule")])
        ));
        spec.node_selector = Some([("disk".to_string(), "ssd".to_string())].into());
        assert!(!should_run(&spec, &node("a", &[], vec![])));
        assert!(should_run(&spec, &node("a", &[("disk", "ssd")], vec![])));
    }

    #[test]
    fn pods_are_pinned_by_node_affinity() {
        let ds = DaemonSet {
            metadata: ObjectMeta {
                name: Some("agent".into()),
                namespace: Some("kube-system".into()),
                uid: Some("u".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let pod = pod_for(&ds, "node-7", "abc");
        assert_eq!(target_node(&pod).as_deref(), Some("node-7"));
        assert_eq!(hash_of(&pod), Some("abc"));
        assert!(
            pod.spec.as_ref().unwrap().node_name.is_none(),
            "the scheduler binds it"
        );
        let other = node("node-8", &[], vec![]);
        assert!(!should_run(pod.spec.as_ref().unwrap(), &other));
        assert!(should_run(
            pod.spec.as_ref().unwrap(),
            &node("node-7", &[], vec![])
        ));
    }
}
