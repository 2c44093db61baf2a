//! Authorization decision latency and index memory at 1,000 workspaces, 10,000 users and 50,000 bindings.
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

fn main() {
    let authz = Authorizer::new();
    let mut rng = Lcg(42);
    let mut bindings = 0usize;
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
    println!(
        "index memory (estimate): {:.1} MiB",
        authz.read().approx_bytes() as f64 / (1024.0 * 1024.0)
    );
}
