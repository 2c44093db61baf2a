//! Rollout arithmetic: maxSurge/maxUnavailable resolution and the scale steps of RollingUpdate and Recreate.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// One change of a ReplicaSet's `spec.replicas`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scale {
    pub name: String,
    pub from: i32,
    pub to: i32,
}

/// `intstr.GetScaledValueFromIntOrPercent`: an int, or a percentage of `total`
/// rounded up or down. A malformed percentage counts as zero.
pub fn scaled_value(v: Option<&IntOrString>, total: i32, round_up: bool, default: &str) -> i32 {
    let pct = |s: &str| -> i32 {
        let Some(n) = s.strip_suffix('%').and_then(|n| n.parse::<i64>().ok()) else {
            return 0;
        };
        let prod = n * i64::from(total);
        let v = if round_up {
            (prod + 99).div_euclid(100)
        } else {
            prod.div_euclid(100)
        };
        v as i32
    };
    match v {
        Some(IntOrString::Int(i)) => *i,
        Some(IntOrString::String(s)) => pct(s),
        None => pct(default),
    }
}

/// `deploymentutil.ResolveFenceposts`: surge rounds up, unavailable rounds down,
/// and both zero becomes one unavailable so a rollout can make progress.
pub fn resolve_fenceposts(
    max_surge: Option<&IntOrString>,
    max_unavailable: Option<&IntOrString>,
    desired: i32,
) -> (i32, i32) {
    let surge = scaled_value(max_surge, desired, true, "25%");
    let unavailable = scaled_value(max_unavailable, desired, false, "25%");
    if surge == 0 && unavailable == 0 {
        (0, 1)
    } else {
        (surge, unavailable)
    }
}

/// `MaxUnavailable` of a deployment: 0 for Recreate; never above replicas.
pub fn max_unavailable(d: &Deployment) -> i32 {
    let spec = d.spec.clone().unwrap_or_default();
    let replicas = spec.replicas.unwrap_or(1);
    let strategy = spec.strategy.unwrap_or_default();
    if strategy.type_.as_deref() == Some("Recreate") || replicas == 0 {
        return 0;
    }
    let ru = strategy.rolling_update.unwrap_or_default();
    let (_, u) = resolve_fenceposts(ru.max_surge.as_ref(), ru.max_unavailable.as_ref(), replicas);
    u.min(replicas)
}

/// `MaxSurge` of a deployment: 0 for Recreate.
pub fn max_surge(d: &Deployment) -> i32 {
    let spec = d.spec.clone().unwrap_or_default();
    let replicas = spec.replicas.unwrap_or(1);
    let strategy = spec.strategy.unwrap_or_default();
    if strategy.type_.as_deref() == Some("Recreate") {
        return 0;
    }
    let ru = strategy.rolling_update.unwrap_or_default();
    resolve_fenceposts(ru.max_surge.as_ref(), ru.max_unavailable.as_ref(), replicas).0
}

fn spec_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0)
}

/// Available replicas as far as they can be trusted: a status that has not yet
/// observed a scale-down may still count pods being deleted, so it is capped at
/// `spec.replicas` (otherwise a quick second step could dip below maxUnavailable).
fn available(rs: &ReplicaSet) -> i32 {
    let st = rs.status.as_ref();
    let avail = st.and_then(|s| s.available_replicas).unwrap_or(0);
    let observed = st.and_then(|s| s.observed_generation);
    if observed < rs.metadata.generation {
        avail.min(spec_replicas(rs))
    } else {
        avail
    }
}

fn name(rs: &ReplicaSet) -> String {
    rs.metadata.name.clone().unwrap_or_default()
}

/// `NewRSNewReplicas` for RollingUpdate: how far the new ReplicaSet may grow.
pub fn new_rs_new_replicas(
    desired: i32,
    surge: i32,
    all: &[&ReplicaSet],
    new_rs: &ReplicaSet,
) -> i32 {
    let current = spec_replicas(new_rs);
    let total: i32 = all.iter().map(|r| spec_replicas(r)).sum();
    let max_total = desired + surge;
    if total >= max_total {
        return current;
    }
    let up = (max_total - total).min(desired - current);
    current + up.max(0)
}

/// One RollingUpdate step: scale the new ReplicaSet up if allowed, otherwise scale
/// old ones down (unhealthy replicas first, then oldest first) without going below
/// `desired - maxUnavailable` available pods. `olds` must be sorted oldest first.
pub fn rolling_step(d: &Deployment, new_rs: &ReplicaSet, olds: &[&ReplicaSet]) -> Vec<Scale> {
    let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let surge = max_surge(d);
    let unavailable = max_unavailable(d);
    let mut all: Vec<&ReplicaSet> = olds.to_vec();
    all.push(new_rs);
    let target = new_rs_new_replicas(desired, surge, &all, new_rs);
    if target != spec_replicas(new_rs) {
        return vec![Scale {
            name: name(new_rs),
            from: spec_replicas(new_rs),
            to: target,
        }];
    }
    let old_count: i32 = olds.iter().map(|r| spec_replicas(r)).sum();
    if old_count == 0 {
        return Vec::new();
    }
    let all_count: i32 = all.iter().map(|r| spec_replicas(r)).sum();
    let min_available = desired - unavailable;
    let new_unavailable = spec_replicas(new_rs) - available(new_rs);
    let max_scaled_down = all_count - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return Vec::new();
    }
    let mut replicas: Vec<i32> = olds.iter().map(|r| spec_replicas(r)).collect();
    let mut cleaned = 0;
    for (i, rs) in olds.iter().enumerate() {
        if cleaned >= max_scaled_down {
            break;
        }
        let unhealthy = replicas[i] - available(rs);
        if replicas[i] == 0 || unhealthy <= 0 {
            continue;
        }
        let down = unhealthy.min(max_scaled_down - cleaned);
        replicas[i] -= down;
        cleaned += down;
    }
    let available_count: i32 = all.iter().map(|r| available(r)).sum();
    if available_count > min_available {
        let mut budget = available_count - min_available;
        for r in replicas.iter_mut() {
            if budget <= 0 {
                break;
            }
            let down = (*r).min(budget);
            *r -= down;
            budget -= down;
        }
    }
    olds.iter()
        .zip(replicas)
        .filter(|(rs, to)| spec_replicas(rs) != *to)
        .map(|(rs, to)| Scale {
            name: name(rs),
            from: spec_replicas(rs),
            to,
        })
        .collect()
}

/// One Recreate step: all old ReplicaSets to zero first; the new one is scaled up
/// only once no old pod is running (`old_pods_running` from the pod cache).
pub fn recreate_step(
    d: &Deployment,
    new_rs: &ReplicaSet,
    olds: &[&ReplicaSet],
    old_pods_running: bool,
) -> Vec<Scale> {
    let downs: Vec<Scale> = olds
        .iter()
        .filter(|r| spec_replicas(r) != 0)
        .map(|r| Scale {
            name: name(r),
            from: spec_replicas(r),
            to: 0,
        })
        .collect();
    if !downs.is_empty() || old_pods_running {
        return downs;
    }
    let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    if spec_replicas(new_rs) != desired {
        return vec![Scale {
            name: name(new_rs),
            from: spec_replicas(new_rs),
            to: desired,
        }];
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::{
        DeploymentSpec, DeploymentStrategy, ReplicaSetSpec, ReplicaSetStatus,
        RollingUpdateDeployment,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn s(v: &str) -> IntOrString {
        IntOrString::String(v.into())
    }

    #[test]
    fn fenceposts_round_like_kubernetes() {
        assert_eq!(resolve_fenceposts(None, None, 10), (3, 2));
        assert_eq!(resolve_fenceposts(None, None, 1), (1, 0));
        assert_eq!(
            resolve_fenceposts(Some(&s("0%")), Some(&s("0%")), 10),
            (0, 1)
        );
        assert_eq!(
            resolve_fenceposts(Some(&IntOrString::Int(0)), Some(&IntOrString::Int(0)), 3),
            (0, 1)
        );
        assert_eq!(
            resolve_fenceposts(Some(&s("50%")), Some(&s("50%")), 5),
            (3, 2)
        );
        assert_eq!(
            resolve_fenceposts(Some(&IntOrString::Int(2)), Some(&s("33%")), 100),
            (2, 33)
        );
        assert_eq!(
            resolve_fenceposts(Some(&s("bad")), Some(&IntOrString::Int(1)), 4),
            (0, 1)
        );
    }

    fn deploy(replicas: i32, surge: i32, unavail: i32) -> Deployment {
        Deployment {
            spec: Some(DeploymentSpec {
                replicas: Some(replicas),
                strategy: Some(DeploymentStrategy {
                    type_: Some("RollingUpdate".into()),
                    rolling_update: Some(RollingUpdateDeployment {
                        max_surge: Some(IntOrString::Int(surge)),
                        max_unavailable: Some(IntOrString::Int(unavail)),
                    }),
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn rs(name: &str, replicas: i32, avail: i32) -> ReplicaSet {
        ReplicaSet {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(replicas),
                ..Default::default()
            }),
            status: Some(ReplicaSetStatus {
                replicas,
                available_replicas: Some(avail),
                ..Default::default()
            }),
        }
    }

    /// Drives a whole rollout, letting every scaled-up pod become available at
    /// once, and checks the surge and availability bounds at each step.
    #[test]
    fn rolling_update_respects_bounds_until_done() {
        for (replicas, surge, unavail) in [(10, 3, 2), (5, 1, 0), (5, 0, 1), (3, 2, 2), (1, 1, 0)] {
            let d = deploy(replicas, surge, unavail);
            let mut new_rs = rs("new", 0, 0);
            let mut old = rs("old", replicas, replicas);
            for _ in 0..100 {
                let steps = rolling_step(&d, &new_rs, &[&old]);
                if steps.is_empty() {
                    break;
                }
                for st in steps {
                    let target = if st.name == "new" {
                        &mut new_rs
                    } else {
                        &mut old
                    };
                    *target = rs(&st.name, st.to, st.to.min(available(target)));
                }
                let total = spec_replicas(&new_rs) + spec_replicas(&old);
                let avail = available(&new_rs) + available(&old);
                assert!(total <= replicas + surge, "surge exceeded: {total}");
                assert!(avail >= replicas - unavail, "availability dropped: {avail}");
                // pods of the new RS become ready
                new_rs = rs("new", spec_replicas(&new_rs), spec_replicas(&new_rs));
            }
            assert_eq!(spec_replicas(&new_rs), replicas);
            assert_eq!(spec_replicas(&old), 0);
        }
    }

    #[test]
    fn unhealthy_old_replicas_go_first() {
        let d = deploy(4, 0, 1);
        let new_rs = rs("new", 0, 0);
        let broken = rs("broken", 2, 0);
        let good = rs("good", 2, 2);
        // 4 pods, 2 available, minAvailable 3: only one pod may go, and it must be
        // an unavailable one.
        let steps = rolling_step(&d, &new_rs, &[&broken, &good]);
        assert_eq!(
            steps,
            vec![Scale {
                name: "broken".into(),
                from: 2,
                to: 1
            }]
        );
    }

    #[test]
    fn recreate_waits_for_old_pods() {
        let mut d = deploy(3, 0, 0);
        if let Some(s) = d.spec.as_mut() {
            s.strategy = Some(DeploymentStrategy {
                type_: Some("Recreate".into()),
                rolling_update: None,
            });
        }
        let new_rs = rs("new", 0, 0);
        let old = rs("old", 3, 3);
        assert_eq!(
            recreate_step(&d, &new_rs, &[&old], true),
            vec![Scale {
                name: "old".into(),
                from: 3,
                to: 0
            }]
        );
        let old = rs("old", 0, 0);
        assert!(recreate_step(&d, &new_rs, &[&old], true).is_empty());
        assert_eq!(
            recreate_step(&d, &new_rs, &[&old], false),
            vec![Scale {
                name: "new".into(),
                from: 0,
                to: 3
            }]
        );
        assert_eq!(max_unavailable(&d), 0);
        assert_eq!(max_surge(&d), 0);
    }
}
