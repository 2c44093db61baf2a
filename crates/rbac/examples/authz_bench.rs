//! Decision latency with 10,000 RoleBindings across 1,000 namespaces, against a
//! linear scan over every binding measured in the same run.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use apimachinery::UserInfo;
use rbac::{Attributes, Decision, Index, PolicyRule, bootstrap_objects};
use serde_json::json;

const NAMESPACES: usize = 1_000;
const PER_NAMESPACE: usize = 10;
const USERS: usize = 2_000;
const GROUPS: usize = 200;
const SAMPLES: usize = 100_000;

/// What the linear scan holds per binding: namespace, user, group, role rules.
struct Flat {
    ns: String,
    user: String,
    group: String,
    rules: Vec<PolicyRule>,
}

fn main() {
    let mut index = Index::new();
    for o in bootstrap_objects() {
        index.apply(&o).unwrap();
    }
    let edit = index.cluster_role_rules("edit").unwrap().to_vec();
    let mut flat = Vec::new();
    for n in 0..NAMESPACES {
        for b in 0..PER_NAMESPACE {
            let i = n * PER_NAMESPACE + b;
            let (user, group) = (
                format!("user-{}", i % USERS),
                format!("team-{}", i % GROUPS),
            );
            index
                .apply(&json!({
                    "kind": "RoleBinding",
                    "metadata": {"name": format!("rb-{b}"), "namespace": format!("ns-{n}")},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
                    "subjects": [
                        {"kind": "User", "name": user},
                        {"kind": "Group", "name": group},
                        {"kind": "ServiceAccount", "name": "deployer"}
                    ]
                }))
                .unwrap();
            flat.push(Flat {
                ns: format!("ns-{n}"),
                user,
                group,
                rules: edit.clone(),
            });
        }
    }
    let users: Vec<UserInfo> = (0..64)
        .map(|u| {
            UserInfo::new(
                format!("user-{}", u * 31 % USERS),
                vec![
                    format!("team-{}", u % GROUPS),
                    "system:authenticated".into(),
                ],
            )
        })
        .collect();
    let namespaces: Vec<String> = (0..NAMESPACES).map(|n| format!("ns-{n}")).collect();
    let resources = ["pods", "secrets", "roles", "nodes"];

    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed as usize
    };
    let mut indexed = Vec::with_capacity(SAMPLES);
    let mut scanned = Vec::with_capacity(SAMPLES / 100);
    let mut allowed = 0usize;
    for s in 0..SAMPLES {
        let user = &users[next() % users.len()];
        let a = Attributes {
            user,
            verb: "get",
            api_group: "",
            resource: resources[next() % resources.len()],
            subresource: "",
            namespace: &namespaces[next() % NAMESPACES],
            name: "x",
            path: None,
        };
        let t = Instant::now();
        let d = index.authorize(&a);
        indexed.push(t.elapsed());
        if d == Decision::Allow {
            allowed += 1;
        }
        if s % 100 == 0 {
            let t = Instant::now();
            let d = scan(&flat, &a);
            scanned.push(t.elapsed());
            assert_eq!(d, index.authorize(&a) == Decision::Allow);
        }
    }
    let (p50, p99) = percentiles(&mut indexed);
    let (s50, s99) = percentiles(&mut scanned);
    println!(
        "{} RoleBindings in {NAMESPACES} namespaces, {SAMPLES} decisions ({allowed} allowed)",
        NAMESPACES * PER_NAMESPACE
    );
    println!("indexed:     p50 {p50:?}  p99 {p99:?}");
    println!("linear scan: p50 {s50:?}  p99 {s99:?}");
    println!(
        "ratio scan/indexed p50 {:.0}x",
        s50.as_secs_f64() / p50.as_secs_f64().max(1e-9)
    );
}

fn scan(flat: &[Flat], a: &Attributes<'_>) -> bool {
    flat.iter().any(|b| {
        b.ns == a.namespace
            && (b.user == a.user.name || a.user.groups.contains(&b.group))
            && b.rules
                .iter()
                .any(|r| r.allows_resource(a.verb, a.api_group, a.resource, a.subresource, a.name))
    })
}

fn percentiles(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    (at(0.50), at(0.99))
}
