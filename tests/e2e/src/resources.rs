//! Helpers for the resources API black-box tests: admin login with the first-login password change, `{items,totalItems}` answers, manifests applied with a bearer token.

use std::path::Path;
use std::time::Duration;

use http::Method;
use serde_json::Value;

use crate::platform::{PlatformServer, eventually, initial_admin_password};

/// `resources.kubesphere.io/v1alpha3`.
pub const V1ALPHA3: &str = "/kapis/resources.kubesphere.io/v1alpha3";
/// `resources.kubesphere.io/v1alpha2` (revisions, abnormal workloads).
pub const V1ALPHA2: &str = "/kapis/resources.kubesphere.io/v1alpha2";
/// `tenant.kubesphere.io/v1beta1`.
pub const TENANT: &str = "/kapis/tenant.kubesphere.io/v1beta1";
/// `iam.kubesphere.io/v1beta1`.
pub const IAM: &str = "/kapis/iam.kubesphere.io/v1beta1";

/// The password admin is given after its first login.
pub const ADMIN_PASSWORD: &str = "Res-Admin-Passw0rd";

/// Logs admin in with the generated password, changes it as the first login requires,
/// and returns a token of the second login.
pub fn admin_token(server: &PlatformServer) -> String {
    let first = initial_admin_password(server.process.data_dir())
        .unwrap_or_else(|e| panic!("initial admin password of {}: {e}", server.name));
    let t = server.login("admin", &first);
    let token = access_token(&t);
    let body = serde_json::json!({"currentPassword": first, "password": ADMIN_PASSWORD});
    let r = server
        .as_token(&token)
        .json(
            Method::PUT,
            &format!("{IAM}/users/admin/password"),
            Some(&body),
        )
        .unwrap_or_else(|e| panic!("changing admin's password on {}: {e}", server.name));
    assert_eq!(
        r.status,
        200,
        "changing admin's password: {}\n{}",
        r.text(),
        server.logs()
    );
    access_token(&server.login("admin", ADMIN_PASSWORD))
}

/// The `access_token` of a token response.
pub fn access_token(token_response: &Value) -> String {
    token_response["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access_token in {token_response}"))
        .to_owned()
}

/// `GET path` with `token`: the status and the JSON body (`Null` if not JSON).
pub fn get_json(server: &PlatformServer, token: &str, path: &str) -> (u16, Value) {
    let r = server.get(token, path);
    (r.status, r.json().unwrap_or(Value::Null))
}

/// `GET path`, which must answer 200 with `{items, totalItems}`: `namespace/name` of
/// each item (`name` for cluster-scoped ones) in order, and `totalItems`.
pub fn list(server: &PlatformServer, token: &str, path: &str) -> (Vec<String>, u64) {
    let r = server.get(token, path);
    assert_eq!(
        r.status,
        200,
        "GET {path} on {}: {}\n{}",
        server.name,
        r.text(),
        server.logs()
    );
    let body = r
        .json()
        .unwrap_or_else(|e| panic!("GET {path}: {e}: {}", r.text()));
    let total = body["totalItems"]
        .as_u64()
        .unwrap_or_else(|| panic!("GET {path}: no totalItems in {body}"));
    (item_names(&body), total)
}

/// `namespace/name` (or `name`) of each item of a list answer.
pub fn item_names(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .map(|items| items.iter().map(object_ref).collect())
        .unwrap_or_default()
}

/// `namespace/name`, or `name` for a cluster-scoped object.
pub fn object_ref(object: &Value) -> String {
    let name = object["metadata"]["name"].as_str().unwrap_or("");
    match object["metadata"]["namespace"].as_str() {
        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
        _ => name.to_owned(),
    }
}

/// Polls `GET path` until the `namespace/name`s it lists equal `want` (in order), for up
/// to `timeout`, and fails with the last answer and the server's log.
pub fn wait_list(
    server: &PlatformServer,
    token: &str,
    path: &str,
    want: &[&str],
    timeout: Duration,
) {
    eventually(
        &format!("GET {path} to list {want:?}"),
        timeout,
        &[(server.name, &server.process)],
        || {
            let r = server.get(token, path);
            let body = r.json().unwrap_or(Value::Null);
            let names = item_names(&body);
            if r.status == 200 && names == want {
                Ok(())
            } else {
                Err(format!("{} {names:?} {}", r.status, r.text()))
            }
        },
    );
}

/// `kubectl apply -f` of `yaml` (written to `dir/file`) with `token`; must succeed.
pub fn apply_manifest(server: &PlatformServer, token: &str, dir: &Path, file: &str, yaml: &str) {
    let path = dir.join(file);
    std::fs::write(&path, yaml).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    let Some(p) = path.to_str() else {
        panic!("non-UTF-8 path {}", path.display())
    };
    let out = server.kubectl(token, &["apply", "-f", p]);
    assert!(out.success(), "{out}\n{}", server.logs());
}

/// kubectl with `token`; must succeed.
pub fn kubectl_ok(server: &PlatformServer, token: &str, args: &[&str]) -> String {
    let out = server.kubectl(token, args);
    assert!(out.success(), "{out}\n{}", server.logs());
    out.stdout
}

/// Sends `method path body` as `token`, retrying for up to `timeout` until it answers
/// 2xx (or 409 for a create that a previous attempt already made): controllers derive
/// workspaces and roles asynchronously.
pub fn send_until_done(
    server: &PlatformServer,
    token: &str,
    method: Method,
    path: &str,
    body: &Value,
    timeout: Duration,
) {
    eventually(
        &format!("{method} {path}"),
        timeout,
        &[(server.name, &server.process)],
        || {
            let r = server
                .as_token(token)
                .json(method.clone(), path, Some(body))
                .map_err(|e| e.to_string())?;
            if (200..300).contains(&r.status) || (r.status == 409 && method == Method::POST) {
                Ok(())
            } else {
                Err(format!("{} {}", r.status, r.text()))
            }
        },
    );
}
