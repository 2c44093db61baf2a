//! The score plugins with kube-scheduler's default weights, and the choice of a node.

use crate::filters::CycleState;
use crate::selectors::{term_matches as node_term_matches, tolerated};
use crate::snapshot::{NodeInfo, PodInfo};

/// The highest score one plugin gives a node.
pub const MAX_NODE_SCORE: i64 = 100;

const WEIGHT_FIT: i64 = 1;
const WEIGHT_BALANCED: i64 = 1;
const WEIGHT_INTER_POD: i64 = 2;
const WEIGHT_NODE_AFFINITY: i64 = 2;
const WEIGHT_TAINT: i64 = 3;

/// NodeResourcesFit with the LeastAllocated strategy: the free share of CPU and
/// memory after placing the pod, averaged (non-zero requests).
pub fn least_allocated(pod: &PodInfo, node: &NodeInfo) -> i64 {
    let part = |req: i64, alloc: i64| {
        if alloc <= 0 || req > alloc {
            0
        } else {
            (alloc - req) * MAX_NODE_SCORE / alloc
        }
    };
    let cpu = part(
        node.non_zero_requested.milli_cpu + pod.non_zero.milli_cpu,
        node.allocatable.milli_cpu,
    );
    let mem = part(
        node.non_zero_requested.memory + pod.non_zero.memory,
        node.allocatable.memory,
    );
    (cpu + mem) / 2
}

/// NodeResourcesBalancedAllocation: nodes whose CPU and memory fill evenly score higher.
pub fn balanced_allocation(pod: &PodInfo, node: &NodeInfo) -> i64 {
    let frac = |req: i64, alloc: i64| {
        if alloc <= 0 {
            1.0
        } else {
            (req as f64 / alloc as f64).min(1.0)
        }
    };
    let cpu = frac(
        node.requested.milli_cpu + pod.requests.milli_cpu,
        node.allocatable.milli_cpu,
    );
    let mem = frac(
        node.requested.memory + pod.requests.memory,
        node.allocatable.memory,
    );
    // The standard deviation of two fractions is half their distance.
    let std = (cpu - mem).abs() / 2.0;
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

/// NodeAffinity (raw): the summed weights of matching preferred terms.
pub fn node_affinity_raw(pod: &PodInfo, node: &NodeInfo) -> i64 {
    pod.affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| {
            n.preferred_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .into_iter()
        .flatten()
        .filter(|t| node_term_matches(&t.preference, &node.name, &node.labels))
        .map(|t| i64::from(t.weight))
        .sum()
}

/// TaintToleration (raw): how many PreferNoSchedule taints the pod does not tolerate.
pub fn intolerable_prefer_no_schedule(pod: &PodInfo, node: &NodeInfo) -> i64 {
    node.taints
        .iter()
        .filter(|t| t.effect == "PreferNoSchedule" && !tolerated(&pod.tolerations, t))
        .count() as i64
}

/// Scales raw scores to 0..=100 by the maximum (reversed: fewest wins).
fn normalize_max(raw: &mut [i64], reverse: bool) {
    let max = raw.iter().copied().max().unwrap_or(0);
    for s in raw.iter_mut() {
        let v = if max == 0 {
            0
        } else {
            *s * MAX_NODE_SCORE / max
        };
        *s = if reverse { MAX_NODE_SCORE - v } else { v };
    }
    if max == 0 && reverse {
        raw.iter_mut().for_each(|s| *s = MAX_NODE_SCORE);
    }
}

/// Scales raw scores (possibly negative) to 0..=100 between minimum and maximum.
fn normalize_min_max(raw: &mut [i64]) {
    let max = raw.iter().copied().max().unwrap_or(0);
    let min = raw.iter().copied().min().unwrap_or(0);
    for s in raw.iter_mut() {
        *s = if max > min {
            (*s - min) * MAX_NODE_SCORE / (max - min)
        } else {
            0
        };
    }
}

/// The weighted total score of each feasible node, in the order given.
pub fn score_nodes(pod: &PodInfo, nodes: &[&NodeInfo], state: &CycleState) -> Vec<i64> {
    let mut affinity: Vec<i64> = nodes.iter().map(|n| node_affinity_raw(pod, n)).collect();
    normalize_max(&mut affinity, false);
    let mut taints: Vec<i64> = nodes
        .iter()
        .map(|n| intolerable_prefer_no_schedule(pod, n))
        .collect();
    normalize_max(&mut taints, true);
    let mut inter: Vec<i64> = nodes.iter().map(|n| state.affinity.score(n)).collect();
    normalize_min_max(&mut inter);
    nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            WEIGHT_FIT * least_allocated(pod, n)
                + WEIGHT_BALANCED * balanced_allocation(pod, n)
                + WEIGHT_NODE_AFFINITY * affinity[i]
                + WEIGHT_TAINT * taints[i]
                + WEIGHT_INTER_POD * inter[i]
        })
        .collect()
}

/// The index of the best score; among equals, the one `tie_break` selects, so
/// equal nodes share the load as kube-scheduler's random choice does.
pub fn select_host(scores: &[i64], tie_break: usize) -> Option<usize> {
    let best = *scores.iter().max()?;
    let ties: Vec<usize> = (0..scores.len()).filter(|i| scores[*i] == best).collect();
    ties.get(tie_break % ties.len()).copied()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::filters::tests::{node, pod};
    use serde_json::json;
    use std::sync::Arc;

    fn busy(cpu: &str) -> NodeInfo {
        let mut n = node(json!({}));
        let mut p = pod(
            json!({"spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": "1Gi"}}}]}}),
        );
        p.uid = "busy".into();
        n.add_pod(Arc::new(p));
        n
    }

    #[test]
    fn least_allocated_prefers_emptier_nodes() {
        let p = pod(json!({}));
        assert!(least_allocated(&p, &node(json!({}))) > least_allocated(&p, &busy("1")));
        // 2 CPUs, 4Gi: an empty node after a default (100m, 200Mi) pod.
        assert_eq!(least_allocated(&p, &node(json!({}))), (95 + 95) / 2);
    }

    #[test]
    fn balanced_allocation_prefers_even_usage() {
        let p = pod(json!({}));
        assert!(balanced_allocation(&p, &busy("1")) > balanced_allocation(&p, &busy("2")));
    }

    #[test]
    fn node_affinity_preferences_and_prefer_no_schedule() {
        let p = pod(
            json!({"spec": {"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 20, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}}]}}}}),
        );
        let a = node(json!({"metadata": {"name": "a", "labels": {"zone": "a"}}}));
        let b = node(
            json!({"metadata": {"name": "b", "labels": {"zone": "b"}, }, "spec": {"taints": [{"key": "x", "effect": "PreferNoSchedule"}]}}),
        );
        assert_eq!(node_affinity_raw(&p, &a), 20);
        assert_eq!(intolerable_prefer_no_schedule(&p, &b), 1);
        let scores = score_nodes(&p, &[&a, &b], &CycleState::default());
        assert_eq!(scores[0] - scores[1], 2 * 100 + 3 * 100);
    }

    #[test]
    fn ties_rotate() {
        assert_eq!(select_host(&[5, 9, 9], 0), Some(1));
        assert_eq!(select_host(&[5, 9, 9], 1), Some(2));
        assert_eq!(select_host(&[], 0), None);
    }

    #[test]
    fn normalization() {
        let mut v = vec![-10, 0, 10];
        normalize_min_max(&mut v);
        assert_eq!(v, [0, 50, 100]);
        let mut t = vec![0, 2, 1];
        normalize_max(&mut t, true);
        assert_eq!(t, [100, 0, 50]);
    }
}
