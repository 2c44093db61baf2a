//! Pod and ownership helpers shared by the controllers: selectors, controller references, readiness, ordering.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, OwnerReference};

/// Whether `labels` satisfy `selector` (matchLabels and matchExpressions). An empty
/// selector matches everything, as in `metav1.LabelSelectorAsSelector`; callers that
/// must treat it as matching nothing (workload controllers) check that first.
pub fn selector_matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    if let Some(ml) = &selector.match_labels
        && ml.iter().any(|(k, v)| labels.get(k) != Some(v))
    {
        return false;
    }
    for e in selector.match_expressions.iter().flatten() {
        let value = labels.get(&e.key);
        let values = e.values.as_deref().unwrap_or_default();
        let ok = match e.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Whether a selector selects nothing at all (nil or `{}`), which workload
/// controllers treat as matching no pods.
pub fn selector_is_empty(selector: &LabelSelector) -> bool {
    selector.match_labels.as_ref().is_none_or(|m| m.is_empty())
        && selector
            .match_expressions
            .as_ref()
            .is_none_or(|m| m.is_empty())
}

/// The owner reference with `controller: true`, if any.
pub fn controller_ref(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true))
}

/// A controller reference to `owner` as controllers set it on their children.
pub fn new_controller_ref<K>(owner: &K) -> OwnerReference
where
    K: kube::Resource<DynamicType = ()>,
{
    let meta = owner.meta();
    OwnerReference {
        api_version: K::api_version(&()).to_string(),
        kind: K::kind(&()).to_string(),
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// Whether `meta` is controlled by the object with `uid`.
pub fn is_controlled_by(meta: &ObjectMeta, uid: &str) -> bool {
    controller_ref(meta).is_some_and(|r| r.uid == uid)
}

/// A pod that counts towards replicas: not finished and not being deleted.
pub fn is_active(pod: &Pod) -> bool {
    let phase = phase(pod);
    phase != "Succeeded" && phase != "Failed" && pod.metadata.deletion_timestamp.is_none()
}

/// `status.phase`, or "" when unset.
pub fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

/// Whether the Ready condition is True.
pub fn is_ready(pod: &Pod) -> bool {
    ready_since(pod).is_some()
}

/// When the Ready condition last became True, when it is True (the epoch if the
/// transition time is missing).
pub fn ready_since(pod: &Pod) -> Option<jiff::Timestamp> {
    pod.status
        .as_ref()?
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Ready" && c.status == "True")
        .map(|c| {
            c.last_transition_time
                .as_ref()
                .map(|t| t.0)
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        })
}

/// Ready for at least `min_ready_seconds` at `now` (Kubernetes' IsPodAvailable).
pub fn is_available(pod: &Pod, min_ready_seconds: i32, now: jiff::Timestamp) -> bool {
    let Some(since) = ready_since(pod) else {
        return false;
    };
    if min_ready_seconds <= 0 {
        return true;
    }
    since + jiff::SignedDuration::from_secs(i64::from(min_ready_seconds)) <= now
}

/// Seconds until a ready pod becomes available, for requeueing; None when it
/// already is or is not ready.
pub fn until_available(
    pod: &Pod,
    min_ready_seconds: i32,
    now: jiff::Timestamp,
) -> Option<std::time::Duration> {
    let since = ready_since(pod)?;
    let at = since + jiff::SignedDuration::from_secs(i64::from(min_ready_seconds.max(0)));
    let left = at.duration_since(now);
    if left.is_positive() {
        std::time::Duration::try_from(left).ok()
    } else {
        None
    }
}

fn phase_rank(pod: &Pod) -> u8 {
    match phase(pod) {
        "Pending" | "" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 3,
    }
}

fn restarts(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| cs.iter().map(|c| c.restart_count).max().unwrap_or(0))
        .unwrap_or(0)
}

/// Kubernetes' ActivePods order: the pod first in this order is the first to
/// delete when scaling down (unscheduled < scheduled, Pending < Unknown < Running,
/// not ready < ready, ready for less time < longer, more restarts < fewer, newer < older).
pub fn deletion_order(a: &Pod, b: &Pod) -> Ordering {
    let scheduled = |p: &Pod| {
        p.spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .is_some_and(|n| !n.is_empty())
    };
    scheduled(a)
        .cmp(&scheduled(b))
        .then_with(|| phase_rank(a).cmp(&phase_rank(b)))
        .then_with(|| is_ready(a).cmp(&is_ready(b)))
        .then_with(|| match (ready_since(a), ready_since(b)) {
            // Ready more recently means less proven: delete it first.
            (Some(x), Some(y)) => y.cmp(&x),
            _ => Ordering::Equal,
        })
        .then_with(|| restarts(b).cmp(&restarts(a)))
        .then_with(|| {
            let created = |p: &Pod| p.metadata.creation_timestamp.as_ref().map(|t| t.0);
            created(b).cmp(&created(a))
        })
}

/// A pod for `template` owned by `owner_ref`, named by the server from `generate_name`.
pub fn pod_from_template(
    template: &PodTemplateSpec,
    namespace: &str,
    generate_name: Option<String>,
    name: Option<String>,
    owner_ref: OwnerReference,
) -> Pod {
    let tmeta = template.metadata.clone().unwrap_or_default();
    Pod {
        metadata: ObjectMeta {
            name,
            generate_name,
            namespace: Some(namespace.to_string()),
            labels: tmeta.labels,
            annotations: tmeta.annotations,
            finalizers: tmeta.finalizers,
            owner_references: Some(vec![owner_ref]),
            ..Default::default()
        },
        spec: template.spec.clone(),
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodCondition, PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelectorRequirement, Time};

    pub(crate) fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn pod(name: &str, node: Option<&str>, phase: &str, ready_at: Option<i64>) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: node.map(String::from),
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: Some(phase.into()),
                conditions: ready_at.map(|t| {
                    vec![PodCondition {
                        type_: "Ready".into(),
                        status: "True".into(),
                        last_transition_time: Some(Time(jiff::Timestamp::from_second(t).unwrap())),
                        ..Default::default()
                    }]
                }),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn selector_expressions() {
        let sel = LabelSelector {
            match_labels: Some(labels(&[("app", "web")])),
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "tier".into(),
                    operator: "In".into(),
                    values: Some(vec!["a".into(), "b".into()]),
                },
                LabelSelectorRequirement {
                    key: "canary".into(),
                    operator: "DoesNotExist".into(),
                    values: None,
                },
            ]),
        };
        assert!(selector_matches(
            &sel,
            &labels(&[("app", "web"), ("tier", "a")])
        ));
        assert!(!selector_matches(
            &sel,
            &labels(&[("app", "web"), ("tier", "c")])
        ));
        assert!(!selector_matches(
            &sel,
            &labels(&[("app", "web"), ("tier", "a"), ("canary", "1")])
        ));
        assert!(!selector_matches(&sel, &labels(&[("tier", "a")])));
        assert!(selector_is_empty(&LabelSelector::default()));
    }

    #[test]
    fn deletion_prefers_unscheduled_then_pending_then_unready() {
        let mut pods = [
            pod("ready-old", Some("n"), "Running", Some(100)),
            pod("ready-new", Some("n"), "Running", Some(200)),
            pod("notready", Some("n"), "Running", None),
            pod("pending", Some("n"), "Pending", None),
            pod("unscheduled", None, "Pending", None),
        ];
        pods.sort_by(deletion_order);
        let names: Vec<_> = pods
            .iter()
            .map(|p| p.metadata.name.clone().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "unscheduled",
                "pending",
                "notready",
                "ready-new",
                "ready-old"
            ]
        );
    }

    #[test]
    fn availability_waits_min_ready_seconds() {
        let p = pod("p", Some("n"), "Running", Some(1000));
        let at = |s| jiff::Timestamp::from_second(s).unwrap();
        assert!(is_available(&p, 0, at(1000)));
        assert!(!is_available(&p, 10, at(1005)));
        assert!(is_available(&p, 10, at(1010)));
        assert_eq!(
            until_available(&p, 10, at(1004)),
            Some(std::time::Duration::from_secs(6))
        );
        assert!(!is_available(&pod("q", None, "Pending", None), 0, at(0)));
    }
}
