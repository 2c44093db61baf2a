//! The resources API (resources.kubesphere.io/v1alpha3, workspace paths, revisions, abnormal workloads) through `sphere up` and through `sphere serve` on a separate `sphere kernel`, with kubectl-created objects.
#![allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure, which is the point

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use e2e::PlatformServer as Server;
use e2e::resources::{
    IAM, TENANT, V1ALPHA3, access_token, admin_token, apply_manifest, get_json, item_names,
    kubectl_ok, list, send_until_done, wait_list,
};
use http::Method;
use serde_json::json;

#[path = "resources/access.rs"]
mod access;
#[path = "resources/queries.rs"]
mod queries;

use access::{bad_input, data_values, follows_changes, members, user_queries};
use queries::{configmap_queries, workload_queries};

/// Controllers and watches settle within seconds; a loaded 2-core CI box gets slack.
const SETTLE: Duration = Duration::from_secs(90);
const PASSWORD: &str = "Passw0rd!x";
const SECRET_VALUE: &str = "S3CRET-VALUE-hunter2";
const TOKEN_VALUE: &str = "TOKEN-VALUE-xyz";
const CM_VALUE: &str = "CM-VALUE-ALPHA";
/// Every object the scenario creates carries this label, so lists ignore the system's own.
const MINE: &str = "e2e%3Dres";

const OBJECTS: &str = r#"
apiVersion: v1
kind: Node
metadata: {name: rs-node-x, labels: {e2e: res}}
spec: {unschedulable: true}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg-alpha, namespace: rs-a1, labels: {e2e: res, app: web}, annotations: {note: first}}
data: {color: CM-VALUE-ALPHA}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg-beta, namespace: rs-a1, labels: {e2e: res}, annotations: {kubesphere.io/alias-name: Gamma Settings}}
data: {k: v}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg-alpha, namespace: rs-a2, labels: {e2e: res, app: db}}
data: {k: v}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg-b, namespace: rs-b1, labels: {e2e: res}}
data: {k: v}
---
apiVersion: v1
kind: Secret
metadata: {name: sec-one, namespace: rs-a1, labels: {e2e: res}}
type: example.com/custom
stringData: {password: S3CRET-VALUE-hunter2}
---
apiVersion: v1
kind: Secret
metadata: {name: sec-two, namespace: rs-a1, labels: {e2e: res}}
type: Opaque
stringData: {token: TOKEN-VALUE-xyz}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: rs-a1, labels: {e2e: res, app: web}, annotations: {kubesphere.io/alias-name: Storefront}}
spec:
  replicas: 2
  selector: {matchLabels: {pod-of: web}}
  template:
    metadata: {labels: {pod-of: web}}
    spec: {containers: [{name: web, image: "nginx:1.25"}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: rs-a1, labels: {e2e: res}}
spec:
  replicas: 0
  selector: {matchLabels: {pod-of: api}}
  template:
    metadata: {labels: {pod-of: api}}
    spec: {containers: [{name: api, image: "nginx:1.25"}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: rs-a2, labels: {e2e: res}}
spec:
  replicas: 1
  selector: {matchLabels: {pod-of: worker}}
  template:
    metadata: {labels: {pod-of: worker}}
    spec: {containers: [{name: worker, image: "busybox:1.36"}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: other, namespace: rs-b1, labels: {e2e: res}}
spec:
  replicas: 1
  selector: {matchLabels: {pod-of: other}}
  template:
    metadata: {labels: {pod-of: other}}
    spec: {containers: [{name: other, image: "busybox:1.36"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: solo, namespace: rs-a1, labels: {e2e: res, role: cache}}
spec:
  nodeName: rs-node-x
  containers: [{name: c, image: "busybox:1.36"}]
---
apiVersion: v1
kind: Pod
metadata: {name: vol, namespace: rs-a1, labels: {e2e: res}}
spec:
  containers: [{name: c, image: "busybox:1.36", volumeMounts: [{name: data, mountPath: /data}]}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: data-claim}}]
---
apiVersion: v1
kind: Service
metadata: {name: web-svc, namespace: rs-a1, labels: {e2e: res}}
spec:
  selector: {role: cache}
  ports: [{port: 80}]
"#;

/// Users (all platform-regular): `rs-ws` views workspace rs-wa, `rs-proj` administers
/// project rs-a1 only, `rs-none` has no membership at all.
fn tenants(s: &Server, admin: &str) {
    for user in ["rs-ws", "rs-proj", "rs-none"] {
        let body = json!({
            "apiVersion": "iam.kubesphere.io/v1beta1", "kind": "User",
            "metadata": {"name": user,
                "annotations": {"iam.kubesphere.io/globalrole": "platform-regular"}},
            "spec": {"email": format!("{user}@example.com"), "password": PASSWORD},
        });
        send_until_done(
            s,
            admin,
            Method::POST,
            &format!("{IAM}/users"),
            &body,
            SETTLE,
        );
    }
    for ws in ["rs-wa", "rs-wb"] {
        let body = json!({"apiVersion": "tenant.kubesphere.io/v1beta1",
            "kind": "WorkspaceTemplate", "metadata": {"name": ws},
            "spec": {"template": {"spec": {}}}});
        let path = format!("{TENANT}/workspacetemplates");
        send_until_done(s, admin, Method::POST, &path, &body, SETTLE);
    }
    for (ws, project) in [("rs-wa", "rs-a1"), ("rs-wa", "rs-a2"), ("rs-wb", "rs-b1")] {
        let path = format!("{TENANT}/workspaces/{ws}/namespaces");
        let body = json!({"metadata": {"name": project}});
        send_until_done(s, admin, Method::POST, &path, &body, SETTLE);
    }
    let path = format!("{IAM}/workspaces/rs-wa/workspacemembers");
    let body = json!([{"username": "rs-ws", "roleRef": "rs-wa-viewer"}]);
    send_until_done(s, admin, Method::POST, &path, &body, SETTLE);
    let path = format!("{IAM}/namespaces/rs-a1/namespacemembers");
    let body = json!([{"username": "rs-proj", "roleRef": "admin"}]);
    send_until_done(s, admin, Method::POST, &path, &body, SETTLE);
}

fn refs(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

fn set(names: &[String]) -> BTreeSet<String> {
    names.iter().cloned().collect()
}

fn uid_of(s: &Server, admin: &str, args: &[&str]) -> String {
    let mut full = args.to_vec();
    full.extend(["-o", "jsonpath={.metadata.uid}"]);
    let uid = kubectl_ok(s, admin, &full);
    assert!(!uid.is_empty(), "no uid for {args:?}");
    uid
}

/// A member's view: 403 from the authorizer, or 200 listing only `allowed` namespaces.
fn assert_confined(s: &Server, token: &str, path: &str, allowed: &[&str]) {
    let (status, body) = get_json(s, token, path);
    match status {
        403 => {}
        200 => {
            let names = item_names(&body);
            assert!(
                names
                    .iter()
                    .all(|n| allowed.iter().any(|ns| n.starts_with(&format!("{ns}/")))),
                "GET {path} shows objects outside {allowed:?}: {names:?}"
            );
        }
        other => panic!("GET {path}: {other} {body}\n{}", s.logs()),
    }
}

/// The whole scenario against one platform endpoint (`up`, or `serve` on a kernel);
/// `controllers` says whether workload controllers run (not in a bare `sphere kernel`).
fn scenario(s: &Server, admin: &str, dir: &Path, controllers: bool) {
    tenants(s, admin);
    kubectl_ok(
        s,
        admin,
        &[
            "annotate",
            "namespace",
            "rs-a1",
            "kubesphere.io/alias-name=Shop Floor",
        ],
    );
    apply_manifest(s, admin, dir, "objects.yaml", OBJECTS);
    wait_list(
        s,
        admin,
        &format!("{V1ALPHA3}/configmaps?labelSelector={MINE}&sortBy=name&ascending=true"),
        &[
            "rs-a1/cfg-alpha",
            "rs-a2/cfg-alpha",
            "rs-b1/cfg-b",
            "rs-a1/cfg-beta",
        ],
        SETTLE,
    );
    wait_list(
        s,
        admin,
        &format!("{V1ALPHA3}/namespaces?name=Shop"),
        &["rs-a1"],
        SETTLE,
    );
    for (resource, count) in [
        ("secrets", 2),
        ("pods", 2),
        ("services", 1),
        ("deployments", 4),
    ] {
        e2e::eventually(
            &format!("{count} {resource}"),
            SETTLE,
            &[(s.name, &s.process)],
            || {
                let (names, total) = list(
                    s,
                    admin,
                    &format!("{V1ALPHA3}/{resource}?labelSelector={MINE}"),
                );
                (total == count).then_some(()).ok_or(format!("{names:?}"))
            },
        );
    }
    let ws = access_token(&s.login("rs-ws", PASSWORD));
    let proj = access_token(&s.login("rs-proj", PASSWORD));
    let none = access_token(&s.login("rs-none", PASSWORD));

    bad_input(s, admin);
    configmap_queries(s, admin);
    workload_queries(s, admin, controllers);
    members(s, &proj, &ws);
    data_values(s, admin, &proj, &ws, &none);
    user_queries(s, admin);
    follows_changes(s, admin, controllers);
}

#[test]
fn resources_api_through_sphere_up() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start("up", &["up"], &dir.path().join("up"));
    let admin = admin_token(&s);
    scenario(&s, &admin, dir.path(), true);
}

#[test]
fn resources_api_through_serve_on_a_kernel() {
    let dir = tempfile::tempdir().unwrap();
    let kernel = Server::start("kernel", &["kernel"], &dir.path().join("kernel"));
    let kubeconfig = kernel.process.kubeconfig();
    let kc = kubeconfig.to_str().unwrap().to_owned();
    let s = Server::start(
        "serve",
        &["serve", "--kubeconfig", &kc],
        &dir.path().join("serve"),
    );
    let admin = admin_token(&s);
    scenario(&s, &admin, dir.path(), false);
}
