//! Authorization decision latency and the memory of the platform's caches (the authorizer's index, the identity user cache) at 1,000 workspaces, 10,000 users and 50,000 bindings.
//!
//! Run: `cargo run --release -p tenancy --example authz_bench`

use apimachinery::UserInfo;
use k8s_openapi::api::core::v1::Namespace;
use std::collections::BTreeMap;
use std::time::Instant;
use tenancy::authz::{Authorizer, RequestInfo};
use tenancy::bootstrap::{
    global_role_binding, global_roles, project_roles, role_templates, workspace_roles,
};
use tenancy::children::{project_role_binding, workspace_role_binding};

const WORKSPACES: usize = 1_000;
const USERS: usize = 10_000;
const PROJECTS_PER_WS: usize = 2;

/// A small deterministic generator, so runs are comparable.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

/// The process's resident set size in KiB (Linux `/proc/self/status`), 0 elsewhere.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn main() {
    let rss_start = rss_kib();
    let authz = Authorizer::new();
    let mut rng = Lcg(42);
    let mut bindings = 0usize;
    let rss_roles;
    {
        let mut idx = authz.write();
        for t in role_templates() {
            idx.apply_template(&t);
        }
        for r in global_roles() {
            idx.apply_global_role(&r);
        }
        for w in 0..WORKSPACES {
            let ws = format!("ws{w}");
            idx.apply_workspace(&ws);
            for r in workspace_roles(&ws) {
                idx.apply_workspace_role(&r);
            }
            for p in 0..PROJECTS_PER_WS {
                let name = format!("ws{w}-p{p}");
                let mut ns = Namespace::default();
                ns.metadata.name = Some(name.clone());
                ns.metadata.labels = Some(BTreeMap::from([(
                    "kubesphere.io/workspace".to_string(),
                    ws.clone(),
                )]));
                idx.apply_namespace(&ns);
                for r in project_roles(&name) {
                    idx.apply_role(&r);
                }
            }
        }
        rss_roles = rss_kib();
        for u in 0..USERS {
            let user = format!("user{u}");
            idx.apply_global_role_binding(&global_role_binding(&user, "platform-regular"));
            for _ in 0..2 {
                let w = rng.next(WORKSPACES);
                let role = ["admin", "regular", "viewer", "self-provisioner"][rng.next(4)];
                let mut b = workspace_role_binding(
                    &format!("ws{w}"),
                    &user,
                    &format!("ws{w}-{role}"),
                    None,
                    None,
                );
                b.metadata.name = Some(format!("{user}-ws{w}-{role}-{}", rng.next(1_000_000)));
                idx.apply_workspace_role_binding(&b);
            }
            for _ in 0..2 {
                let ns = format!("ws{}-p{}", rng.next(WORKSPACES), rng.next(PROJECTS_PER_WS));
                let role = ["admin", "operator", "viewer"][rng.next(3)];
                idx.apply_role_binding(&project_role_binding(&ns, &user, role, None));
            }
            bindings += 5;
        }
    }
    let rss_index = rss_kib();
    let users_cache = user_cache();
    let rss_users = rss_kib();
    let paths = [
        ("GET", "/api/v1/namespaces/{ns}/pods"),
        ("POST", "/api/v1/namespaces/{ns}/configmaps"),
        (
            "GET",
            "/kapis/iam.kubesphere.io/v1beta1/workspaces/{ws}/workspacemembers",
        ),
        ("GET", "/kapis/tenant.kubesphere.io/v1beta1/workspaces/{ws}"),
        ("DELETE", "/apis/apps/v1/namespaces/{ns}/deployments/web"),
        ("GET", "/kapis/iam.kubesphere.io/v1beta1/users"),
    ];
    let n = 200_000;
    let mut lat = Vec::with_capacity(n);
    let mut allowed = 0usize;
    for _ in 0..n {
        let user = UserInfo::new(
            format!("user{}", rng.next(USERS)),
            vec!["system:authenticated".into()],
        );
        let w = rng.next(WORKSPACES);
        let (m, p) = paths[rng.next(paths.len())];
        let path = p
            .replace("{ns}", &format!("ws{w}-p{}", rng.next(PROJECTS_PER_WS)))
            .replace("{ws}", &format!("ws{w}"));
        let start = Instant::now();
        let info = RequestInfo::parse(m, &path, "");
        let d = authz.authorize(&user, &info);
        lat.push(start.elapsed().as_nanos() as u64);
        allowed += usize::from(d.allowed);
    }
    lat.sort_unstable();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)] as f64 / 1000.0;
    println!(
        "authz_bench: {WORKSPACES} workspaces, {USERS} users, {bindings} bindings, {} projects",
        WORKSPACES * PROJECTS_PER_WS
    );
    println!(
        "decisions: {n} ({allowed} allowed)  p50 {:.2} us  p99 {:.2} us  max {:.2} us",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    let roles_kib = rss_roles.saturating_sub(rss_start);
    let bindings_kib = rss_index.saturating_sub(rss_roles);
    let users_kib = rss_users.saturating_sub(rss_index);
    println!(
        "index memory (estimate): {:.1} MiB",
        authz.read().approx_bytes() as f64 / (1024.0 * 1024.0)
    );
    println!(
        "RSS: start {:.1} MiB; + roles, templates, workspaces and projects {:.1} MiB; + bindings {:.1} MiB; + user cache {:.1} MiB; total {:.1} MiB",
        mib(rss_start),
        mib(roles_kib),
        mib(bindings_kib),
        mib(users_kib),
        mib(rss_users)
    );
    println!(
        "per object: {:.0} bytes per workspace (its 4 roles and {PROJECTS_PER_WS} projects with their 3 roles each), {:.0} bytes per binding ({bindings}), {:.0} bytes per cached user ({})",
        roles_kib as f64 * 1024.0 / WORKSPACES as f64,
        bindings_kib as f64 * 1024.0 / bindings as f64,
        users_kib as f64 * 1024.0 / USERS as f64,
        users_cache.synced_count
    );
}

/// What [`user_cache`] built, kept alive so its memory stays counted.
struct UserCache {
    _users: identity::users::Users,
    synced_count: usize,
}

/// The identity service's user cache (what token checks read) holding `USERS` users,
/// filled the way its watch fills it. Its client is never called.
fn user_cache() -> UserCache {
    // The client's request buffer needs a runtime to exist in, though nothing is sent.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap_or_else(|e| panic!("tokio runtime: {e}"));
    let _in_rt = rt.enter();
    let client = kubeclient::in_process(axum::Router::new(), UserInfo::new("bench", vec![]));
    let users = identity::users::Users::new(client);
    for u in 0..USERS {
        let name = format!("user{u}");
        let user = identity::User {
            metadata: kube::api::ObjectMeta {
                name: Some(name.clone()),
                uid: Some(format!("00000000-0000-4000-8000-{u:012}")),
                ..Default::default()
            },
            spec: identity::UserSpec {
                email: format!("{name}@example.com"),
                display_name: Some(format!("User {u}")),
                ..Default::default()
            },
            status: None,
        };
        users.remember(&user);
    }
    let synced_count = (0..USERS)
        .filter(|u| users.cached(&format!("user{u}")).is_some())
        .count();
    UserCache {
        _users: users,
        synced_count,
    }
}
