//! Inter-pod affinity and anti-affinity: the required terms as a filter, the preferred ones as a score.

use crate::filters::{Code, Status};
use crate::selectors::{Labels, label_selector_matches};
use crate::snapshot::{NodeInfo, PodInfo, Snapshot};
use k8s_openapi::api::core::v1::PodAffinityTerm;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use std::collections::{BTreeMap, HashMap};

/// InterPodAffinity's reason when required affinity is not met.
pub const REASON_AFFINITY: &str = "node(s) didn't match pod affinity rules";
/// InterPodAffinity's reason when the pod's own anti-affinity is violated.
pub const REASON_ANTI_AFFINITY: &str = "node(s) didn't match pod anti-affinity rules";
/// InterPodAffinity's reason when an existing pod's anti-affinity would be violated.
pub const REASON_EXISTING_ANTI_AFFINITY: &str =
    "node(s) didn't satisfy existing pods anti-affinity rules";

/// kube-scheduler's hardPodAffinityWeight: how much an existing pod's required
/// affinity to the incoming pod counts in scoring.
const HARD_POD_AFFINITY_WEIGHT: i64 = 1;

type Pair = (String, String);

/// The PreFilter and PreScore results for one pod.
#[derive(Debug, Default)]
pub struct AffinityState {
    required_affinity: Vec<PodAffinityTerm>,
    required_anti: Vec<PodAffinityTerm>,
    affinity_counts: HashMap<Pair, i64>,
    anti_counts: HashMap<Pair, i64>,
    existing_anti_counts: HashMap<Pair, i64>,
    self_match: bool,
    scores: HashMap<Pair, i64>,
}

fn required(pod: &PodInfo, anti: bool) -> Vec<PodAffinityTerm> {
    let a = pod.affinity.as_ref();
    let terms = if anti {
        a.and_then(|a| a.pod_anti_affinity.as_ref()).and_then(|p| {
            p.required_during_scheduling_ignored_during_execution
                .clone()
        })
    } else {
        a.and_then(|a| a.pod_affinity.as_ref()).and_then(|p| {
            p.required_during_scheduling_ignored_during_execution
                .clone()
        })
    };
    terms.unwrap_or_default()
}

fn preferred(pod: &PodInfo, anti: bool) -> Vec<(i64, PodAffinityTerm)> {
    let a = pod.affinity.as_ref();
    let terms = if anti {
        a.and_then(|a| a.pod_anti_affinity.as_ref()).and_then(|p| {
            p.preferred_during_scheduling_ignored_during_execution
                .clone()
        })
    } else {
        a.and_then(|a| a.pod_affinity.as_ref()).and_then(|p| {
            p.preferred_during_scheduling_ignored_during_execution
                .clone()
        })
    };
    terms
        .unwrap_or_default()
        .into_iter()
        .map(|w| (i64::from(w.weight), w.pod_affinity_term))
        .collect()
}

/// The term's selector with matchLabelKeys / mismatchLabelKeys folded in from the
/// owner's labels, as the API server would when the pod is created.
fn effective_selector(term: &PodAffinityTerm, owner: &PodInfo) -> Option<LabelSelector> {
    let mut sel = term.label_selector.clone()?;
    let mut add = |keys: &Option<Vec<String>>, op: &str| {
        for k in keys.iter().flatten() {
            if let Some(v) = owner.labels.get(k) {
                sel.match_expressions
                    .get_or_insert_with(Vec::new)
                    .push(LabelSelectorRequirement {
                        key: k.clone(),
                        operator: op.into(),
                        values: Some(vec![v.clone()]),
                    });
            }
        }
    };
    add(&term.match_label_keys, "In");
    add(&term.mismatch_label_keys, "NotIn");
    Some(sel)
}

/// Whether `term`, declared by `owner`, selects `target`.
pub fn term_matches(
    term: &PodAffinityTerm,
    owner: &PodInfo,
    target: &PodInfo,
    namespaces: Option<&BTreeMap<String, Labels>>,
) -> bool {
    let listed = term.namespaces.as_deref().unwrap_or(&[]);
    let ns_ok = if listed.is_empty() && term.namespace_selector.is_none() {
        target.namespace == owner.namespace
    } else {
        listed.contains(&target.namespace)
            || term.namespace_selector.as_ref().is_some_and(|s| {
                let empty = Labels::new();
                let labels = namespaces
                    .and_then(|n| n.get(&target.namespace))
                    .unwrap_or(&empty);
                label_selector_matches(s, labels)
            })
    };
    ns_ok
        && effective_selector(term, owner)
            .is_some_and(|s| label_selector_matches(&s, &target.labels))
}

fn pair(term: &PodAffinityTerm, node: &NodeInfo) -> Option<Pair> {
    node.labels
        .get(&term.topology_key)
        .map(|v| (term.topology_key.clone(), v.clone()))
}

impl AffinityState {
    /// Scans the cluster once for what the pod's terms, and other pods' terms
    /// about it, need.
    pub fn compute(pod: &PodInfo, snap: &Snapshot<'_>) -> Self {
        let mut st = AffinityState {
            required_affinity: required(pod, false),
            required_anti: required(pod, true),
            ..Default::default()
        };
        let pref_aff = preferred(pod, false);
        let pref_anti = preferred(pod, true);
        let ns = snap.namespaces;
        let own_terms = !st.required_affinity.is_empty()
            || !st.required_anti.is_empty()
            || !pref_aff.is_empty()
            || !pref_anti.is_empty();
        st.self_match = st
            .required_affinity
            .iter()
            .all(|t| term_matches(t, pod, pod, ns));
        for node in &snap.nodes {
            let candidates: Box<dyn Iterator<Item = &PodInfo>> = if own_terms {
                Box::new(node.pods.values().map(|p| p.as_ref()))
            } else {
                Box::new(
                    node.pods
                        .values()
                        .filter(|p| p.has_pod_affinity_terms())
                        .map(|p| p.as_ref()),
                )
            };
            for other in candidates {
                if other.uid == pod.uid {
                    continue;
                }
                st.count_own_terms(pod, other, node, &pref_aff, &pref_anti, ns);
                st.count_existing_terms(pod, other, node, ns);
            }
        }
        st
    }

    fn count_own_terms(
        &mut self,
        pod: &PodInfo,
        other: &PodInfo,
        node: &NodeInfo,
        pref_aff: &[(i64, PodAffinityTerm)],
        pref_anti: &[(i64, PodAffinityTerm)],
        ns: Option<&BTreeMap<String, Labels>>,
    ) {
        if !self.required_affinity.is_empty()
            && self
                .required_affinity
                .iter()
                .all(|t| term_matches(t, pod, other, ns))
        {
            for t in &self.required_affinity {
                if let Some(p) = pair(t, node) {
                    *self.affinity_counts.entry(p).or_default() += 1;
                }
            }
        }
        for t in &self.required_anti {
            if term_matches(t, pod, other, ns)
                && let Some(p) = pair(t, node)
            {
                *self.anti_counts.entry(p).or_default() += 1;
            }
        }
        for (w, t) in pref_aff {
            if term_matches(t, pod, other, ns)
                && let Some(p) = pair(t, node)
            {
                *self.scores.entry(p).or_default() += w;
            }
        }
        for (w, t) in pref_anti {
            if term_matches(t, pod, other, ns)
                && let Some(p) = pair(t, node)
            {
                *self.scores.entry(p).or_default() -= w;
            }
        }
    }

    fn count_existing_terms(
        &mut self,
        pod: &PodInfo,
        other: &PodInfo,
        node: &NodeInfo,
        ns: Option<&BTreeMap<String, Labels>>,
    ) {
        if !other.has_pod_affinity_terms() {
            return;
        }
        for t in required(other, true) {
            if term_matches(&t, other, pod, ns)
                && let Some(p) = pair(&t, node)
            {
                *self.existing_anti_counts.entry(p).or_default() += 1;
            }
        }
        for t in required(other, false) {
            if term_matches(&t, other, pod, ns)
                && let Some(p) = pair(&t, node)
            {
                *self.scores.entry(p).or_default() += HARD_POD_AFFINITY_WEIGHT;
            }
        }
        for (w, t) in preferred(other, false) {
            if term_matches(&t, other, pod, ns)
                && let Some(p) = pair(&t, node)
            {
                *self.scores.entry(p).or_default() += w;
            }
        }
        for (w, t) in preferred(other, true) {
            if term_matches(&t, other, pod, ns)
                && let Some(p) = pair(&t, node)
            {
                *self.scores.entry(p).or_default() -= w;
            }
        }
    }

    /// The InterPodAffinity filter for one node.
    pub fn filter(&self, node: &NodeInfo) -> Result<(), Status> {
        if !self.satisfies_affinity(node) {
            return Err(Status {
                code: Code::Unresolvable,
                reasons: vec![REASON_AFFINITY.into()],
            });
        }
        let hits = |counts: &HashMap<Pair, i64>, key: &str| {
            node.labels.get(key).is_some_and(|v| {
                counts
                    .get(&(key.to_string(), v.clone()))
                    .is_some_and(|c| *c > 0)
            })
        };
        if self
            .required_anti
            .iter()
            .any(|t| hits(&self.anti_counts, &t.topology_key))
        {
            return Err(Status {
                code: Code::Unschedulable,
                reasons: vec![REASON_ANTI_AFFINITY.into()],
            });
        }
        let existing = self
            .existing_anti_counts
            .iter()
            .any(|((k, v), c)| *c > 0 && node.labels.get(k) == Some(v));
        if existing {
            return Err(Status {
                code: Code::Unschedulable,
                reasons: vec![REASON_EXISTING_ANTI_AFFINITY.into()],
            });
        }
        Ok(())
    }

    fn satisfies_affinity(&self, node: &NodeInfo) -> bool {
        let mut pods_exist = true;
        for t in &self.required_affinity {
            match pair(t, node) {
                Some(p) if self.affinity_counts.get(&p).is_some_and(|c| *c > 0) => {}
                Some(_) => pods_exist = false,
                None => return false,
            }
        }
        // The first pod of a group that selects itself may go anywhere the
        // topology keys exist, or no pod of the group could ever start.
        pods_exist || (self.affinity_counts.is_empty() && self.self_match)
    }

    /// The raw InterPodAffinity score of a node (normalized later across nodes).
    pub fn score(&self, node: &NodeInfo) -> i64 {
        self.scores
            .iter()
            .filter(|((k, v), _)| node.labels.get(k) == Some(v))
            .map(|(_, s)| *s)
            .sum()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::filters::tests::{node, pod};
    use serde_json::json;
    use std::sync::Arc;

    fn labelled(name: &str, uid: &str, app: &str) -> PodInfo {
        let mut p = pod(json!({"metadata": {"labels": {"app": app}}}));
        p.name = name.into();
        p.uid = uid.into();
        p
    }

    fn zone_node(name: &str, zone: &str) -> NodeInfo {
        node(
            json!({"metadata": {"name": name, "labels": {"zone": zone, "kubernetes.io/hostname": name}}}),
        )
    }

    fn with_affinity(kind: &str, app: &str, key: &str) -> PodInfo {
        let mut p = pod(
            json!({"metadata": {"labels": {"app": "me"}}, "spec": {"affinity": {kind: {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": key}]}}}}),
        );
        p.uid = "me".into();
        p
    }

    #[test]
    fn required_affinity_follows_topology() {
        let mut a = zone_node("a", "z1");
        let b = zone_node("b", "z1");
        let c = zone_node("c", "z2");
        a.add_pod(Arc::new(labelled("db", "db", "db")));
        let p = with_affinity("podAffinity", "db", "zone");
        let snap = Snapshot {
            nodes: vec![&a, &b, &c],
            namespaces: None,
        };
        let st = AffinityState::compute(&p, &snap);
        assert!(st.filter(&a).is_ok());
        assert!(st.filter(&b).is_ok());
        assert_eq!(st.filter(&c).unwrap_err().reasons, [REASON_AFFINITY]);
    }

    #[test]
    fn first_pod_of_self_affine_group_schedules() {
        let a = zone_node("a", "z1");
        let mut p = with_affinity("podAffinity", "me", "zone");
        p.labels.insert("app".into(), "me".into());
        let snap = Snapshot {
            nodes: vec![&a],
            namespaces: None,
        };
        assert!(AffinityState::compute(&p, &snap).filter(&a).is_ok());
    }

    #[test]
    fn anti_affinity_both_ways() {
        let mut a = zone_node("a", "z1");
        let b = zone_node("b", "z2");
        a.add_pod(Arc::new(labelled("web-1", "w1", "web")));
        let p = with_affinity("podAntiAffinity", "web", "kubernetes.io/hostname");
        let snap = Snapshot {
            nodes: vec![&a, &b],
            namespaces: None,
        };
        let st = AffinityState::compute(&p, &snap);
        assert_eq!(st.filter(&a).unwrap_err().reasons, [REASON_ANTI_AFFINITY]);
        assert!(st.filter(&b).is_ok());

        // An existing pod that repels "app=me" keeps the newcomer off its zone.
        let mut c = zone_node("c", "z3");
        let mut guard = with_affinity("podAntiAffinity", "me", "zone");
        guard.uid = "guard".into();
        c.add_pod(Arc::new(guard));
        let d = zone_node("d", "z3");
        let newcomer = labelled("x", "x", "me");
        let snap = Snapshot {
            nodes: vec![&c, &d, &b],
            namespaces: None,
        };
        let st = AffinityState::compute(&newcomer, &snap);
        assert_eq!(
            st.filter(&d).unwrap_err().reasons,
            [REASON_EXISTING_ANTI_AFFINITY]
        );
        assert!(st.filter(&b).is_ok());
    }

    #[test]
    fn preferred_terms_score_by_weight() {
        let mut a = zone_node("a", "z1");
        let b = zone_node("b", "z2");
        a.add_pod(Arc::new(labelled("cache", "c1", "cache")));
        let mut p = pod(json!({"spec": {"affinity": {"podAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 30, "podAffinityTerm":
                {"labelSelector": {"matchLabels": {"app": "cache"}}, "topologyKey": "zone"}}]}}}}));
        p.uid = "me".into();
        let snap = Snapshot {
            nodes: vec![&a, &b],
            namespaces: None,
        };
        let st = AffinityState::compute(&p, &snap);
        assert_eq!(st.score(&a), 30);
        assert_eq!(st.score(&b), 0);
    }

    #[test]
    fn namespaces_default_to_the_owners() {
        let owner = with_affinity("podAffinity", "db", "zone");
        let mut other = labelled("db", "db", "db");
        other.namespace = "elsewhere".into();
        let t = required(&owner, false).remove(0);
        assert!(!term_matches(&t, &owner, &other, None));
        let mut t2 = t.clone();
        t2.namespace_selector = Some(LabelSelector::default());
        assert!(term_matches(&t2, &owner, &other, None));
    }
}
