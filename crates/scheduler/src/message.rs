//! The FailedScheduling message, formatted exactly as kube-scheduler's FitError and DefaultPreemption do.

use crate::filters::{Code, Status};
use crate::snapshot::{NodeInfo, PodInfo};
use std::collections::BTreeMap;

/// The message when the cluster has no nodes at all.
pub const NO_NODES: &str = "no nodes available to schedule pods";

/// `0/N nodes are available: <prefilter>.` or the sorted histogram of reasons,
/// then `<postfilter>` if any.
pub fn fit_error(
    num_nodes: usize,
    prefilter: Option<&str>,
    statuses: &[Status],
    postfilter: &str,
) -> String {
    let mut msg = format!("0/{num_nodes} nodes are available:");
    match prefilter {
        Some(p) => msg.push_str(&format!(" {p}.")),
        None => {
            let mut hist: BTreeMap<&str, usize> = BTreeMap::new();
            for s in statuses {
                for r in &s.reasons {
                    *hist.entry(r.as_str()).or_default() += 1;
                }
            }
            let mut parts: Vec<String> = hist.iter().map(|(r, n)| format!("{n} {r}")).collect();
            // Go sorts the formatted "count reason" strings, not the reasons.
            parts.sort();
            if !parts.is_empty() {
                msg.push_str(&format!(" {}.", parts.join(", ")));
            }
        }
    }
    if !postfilter.is_empty() {
        msg.push(' ');
        msg.push_str(postfilter);
    }
    msg
}

/// DefaultPreemption's verdict, given each node's filter status. Preemption runs a
/// dry run only on nodes rejected as Unschedulable; nodes with no lower-priority
/// pods give "No preemption victims found for incoming pod", nodes that still do
/// not fit without them give the filter's reasons, the rest "Preemption is not
/// helpful for scheduling". `refit` re-runs the filters with the victims removed.
pub fn preemption(
    pod: &PodInfo,
    nodes: &[(&NodeInfo, Option<&Status>)],
    refit: impl Fn(&NodeInfo, &[&str]) -> Result<(), Status>,
) -> Preemption {
    if pod.preempt_never {
        return Preemption::Message(
            "preemption: not eligible due to preemptionPolicy=Never.".into(),
        );
    }
    let mut statuses = Vec::new();
    let mut helpful = 0usize;
    let mut victims_on: Option<(String, Vec<String>)> = None;
    for (node, status) in nodes {
        let Some(s) = status else { continue };
        if s.code != Code::Unschedulable {
            continue;
        }
        helpful += 1;
        let victims: Vec<&str> = node
            .pods
            .values()
            .filter(|p| p.priority < pod.priority)
            .map(|p| p.uid.as_str())
            .collect();
        if victims.is_empty() {
            statuses.push(Status {
                code: Code::Unresolvable,
                reasons: vec!["No preemption victims found for incoming pod".into()],
            });
            continue;
        }
        match refit(node, &victims) {
            Err(s) => statuses.push(s),
            Ok(()) if victims_on.is_none() => {
                victims_on = Some((
                    node.name.clone(),
                    victims.iter().map(|v| v.to_string()).collect(),
                ));
            }
            Ok(()) => {}
        }
    }
    if let Some((node, victims)) = victims_on {
        return Preemption::Victims { node, victims };
    }
    let absent = nodes.len() - helpful;
    statuses.extend((0..absent).map(|_| Status {
        code: Code::Unresolvable,
        reasons: vec!["Preemption is not helpful for scheduling".into()],
    }));
    Preemption::Message(format!(
        "preemption: {}",
        fit_error(nodes.len(), None, &statuses, "")
    ))
}

/// What the preemption step concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preemption {
    /// The postfilter part of the message.
    Message(String),
    /// Removing these lower-priority pods (uids) from the node would make room.
    Victims { node: String, victims: Vec<String> },
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::filters::tests::{node, pod};
    use serde_json::json;
    use std::sync::Arc;

    fn st(code: Code, r: &str) -> Status {
        Status {
            code,
            reasons: vec![r.into()],
        }
    }

    #[test]
    fn matches_kube_scheduler_example() {
        let p = pod(json!({}));
        let n1 = node(json!({"metadata": {"name": "a"}}));
        let n2 = node(json!({"metadata": {"name": "b"}}));
        let n3 = node(json!({"metadata": {"name": "c"}}));
        let cpu = st(Code::Unschedulable, "Insufficient cpu");
        let aff = st(
            Code::Unresolvable,
            "node(s) didn't match Pod's node affinity/selector",
        );
        let statuses = [cpu.clone(), aff.clone(), aff.clone()];
        let pre = preemption(
            &p,
            &[(&n1, Some(&cpu)), (&n2, Some(&aff)), (&n3, Some(&aff))],
            |_, _| Ok(()),
        );
        let Preemption::Message(post) = pre else {
            panic!("no victims expected")
        };
        assert_eq!(
            fit_error(3, None, &statuses, &post),
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector. \
             preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, \
             2 Preemption is not helpful for scheduling."
        );
    }

    #[test]
    fn all_unresolvable() {
        let p = pod(json!({}));
        let n = node(json!({}));
        let t = st(Code::Unresolvable, "node(s) had untolerated taint(s)");
        let Preemption::Message(post) = preemption(&p, &[(&n, Some(&t))], |_, _| Ok(())) else {
            panic!()
        };
        assert_eq!(
            fit_error(1, None, &[t], &post),
            "0/1 nodes are available: 1 node(s) had untolerated taint(s). \
             preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
        );
    }

    #[test]
    fn histogram_sorts_formatted_strings_and_counts_multiple_reasons() {
        let both = Status {
            code: Code::Unschedulable,
            reasons: vec!["Insufficient cpu".into(), "Insufficient memory".into()],
        };
        let s = fit_error(
            12,
            None,
            &[
                both.clone(),
                both,
                st(Code::Unresolvable, "node(s) were unschedulable"),
            ],
            "",
        );
        // "10 x" sorts before "2 y" as strings; here only single digits, sorted by text.
        assert_eq!(
            s,
            "0/12 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu, 2 Insufficient memory."
        );
    }

    #[test]
    fn prefilter_message_replaces_histogram() {
        let s = fit_error(
            2,
            Some("pod has unbound immediate PersistentVolumeClaims"),
            &[],
            "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
        );
        assert_eq!(
            s,
            "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
        );
    }

    #[test]
    fn preemption_never_and_victims() {
        let mut p = pod(json!({"spec": {"preemptionPolicy": "Never"}}));
        let mut n = node(json!({}));
        let cpu = st(Code::Unschedulable, "Insufficient cpu");
        assert_eq!(
            preemption(&p, &[(&n, Some(&cpu))], |_, _| Ok(())),
            Preemption::Message("preemption: not eligible due to preemptionPolicy=Never.".into())
        );
        p.preempt_never = false;
        p.priority = 10;
        let mut low = pod(json!({}));
        low.uid = "low".into();
        n.add_pod(Arc::new(low));
        assert_eq!(
            preemption(&p, &[(&n, Some(&cpu))], |_, _| Ok(())),
            Preemption::Victims {
                node: "n1".into(),
                victims: vec!["low".into()]
            }
        );
        let Preemption::Message(m) = preemption(&p, &[(&n, Some(&cpu))], |_, _| Err(cpu.clone()))
        else {
            panic!()
        };
        assert_eq!(
            m,
            "preemption: 0/1 nodes are available: 1 Insufficient cpu."
        );
    }
}
