//! The platform through `sphere up` and `sphere serve`: OAuth logins, sessions, forged tokens, lockout, audit and the authorization matrix over HTTPS.
#![allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure, which is the point

use std::collections::HashMap;
use std::time::Duration;

use e2e::{
    PlatformServer as Server, RawClient, eventually, initial_admin_password, json_str, jwt_claims,
    logs_of, password_login, refresh_login,
};
use futures::future::BoxFuture;
use http::Method;
use serde_json::{Value, json};
use tenancy::matrix::{self, Transport};

const IAM: &str = "/kapis/iam.kubesphere.io/v1beta1";
const AUDIT: &str = "/kapis/tenant.kubesphere.io/v1alpha2/auditing/events";
/// The password `tenancy::matrix::setup` gives every user it creates.
const MATRIX_PASSWORD: &str = "Passw0rd!x";
/// Another replica learns of a logout through a watch on the session Secrets; on a
/// healthy system that takes well under a second.
const PROPAGATION: Duration = Duration::from_secs(10);
/// Controllers and watches settle within seconds; a loaded 2-core CI box gets slack.
const SETTLE: Duration = Duration::from_secs(60);

fn access(t: &Value) -> String {
    t["access_token"].as_str().unwrap().to_owned()
}

/// Replays the matrix over HTTPS, each subject with its own bearer token.
struct Https {
    client: RawClient,
    tokens: HashMap<String, String>,
}

impl Transport for Https {
    fn send<'a>(
        &'a self,
        user: &'a str,
        method: &'a str,
        path: &'a str,
        body: Option<Value>,
    ) -> BoxFuture<'a, (u16, Value)> {
        Box::pin(async move {
            // A transport failure is reported as 599 so that it fails allowed and denied cells alike.
            let Some(token) = self.tokens.get(user) else {
                return (599, json!({"message": format!("no token for {user}")}));
            };
            let Ok(method_) = Method::from_bytes(method.as_bytes()) else {
                return (599, json!({"message": format!("bad method {method}")}));
            };
            let content_type = if method == "PATCH" {
                "application/merge-patch+json"
            } else {
                "application/json"
            };
            let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
            match self
                .client
                .with_token(token)
                .request(method_, path, &[("content-type", content_type)], bytes)
                .await
            {
                Ok(r) => (
                    r.status,
                    serde_json::from_slice(&r.body).unwrap_or(Value::Null),
                ),
                Err(e) => (599, json!({"message": e.to_string()})),
            }
        })
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Builds the matrix fixture through `server` as admin, logs every subject in and waits
/// until the last bindings reached the authorizer and Kubernetes RBAC.
fn matrix_fixture(server: &Server, admin_token: &str) -> Https {
    let rt = runtime();
    let mut t = Https {
        client: server.anon.clone(),
        tokens: HashMap::from([("admin".to_owned(), admin_token.to_owned())]),
    };
    let servers = [(server.name, &server.process)];
    for (method, path, body) in matrix::setup() {
        // Controllers derive workspaces and their roles asynchronously: retry each step.
        // A retried create whose first attempt went through answers 409, which is done too.
        eventually(&format!("setup {method} {path}"), SETTLE, &servers, || {
            let (s, r) = rt.block_on(t.send("admin", method, &path, Some(body.clone())));
            if (200..300).contains(&s) || (s == 409 && method == "POST") {
                Ok(())
            } else {
                Err(format!("{s} {r}"))
            }
        });
    }
    for who in matrix::SUBJECTS {
        let tok = server.login(who, MATRIX_PASSWORD);
        t.tokens.insert((*who).to_owned(), access(&tok));
    }
    let (who, method, path) = matrix::ready_probe();
    for (who, path) in [
        (who, path.as_str()),
        ("wsviewer", "/api/v1/namespaces/pa/pods"),
        ("wsadmin", "/api/v1/namespaces/pa/pods"),
        ("badmin", "/api/v1/namespaces/pb/pods"),
        ("padmin", "/api/v1/nodes"),
    ] {
        eventually(
            &format!("{who} {method} {path}"),
            SETTLE,
            &servers,
            || match rt.block_on(t.send(who, method, path, None)) {
                (200, _) => Ok(()),
                (s, r) => Err(format!("{s} {r}")),
            },
        );
    }
    t
}

/// Runs every matrix cell and fails listing each mismatch and the log tail.
fn replay_matrix(server: &Server, t: &Https) {
    let failures = runtime().block_on(matrix::run(t, &matrix::cases()));
    let report: Vec<String> = failures
        .iter()
        .map(|f| {
            format!(
                "{:<10} {:<6} {:<70} expected {} got {} {}",
                f.subject,
                f.method,
                f.path,
                if f.expected_allowed { "allow" } else { "deny" },
                f.status,
                f.message
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} matrix cells differ on {}:\n{}\n{}",
        failures.len(),
        server.name,
        report.join("\n"),
        server.logs()
    );
}

/// Sends `n` bad logins for `user` at once and returns their statuses.
fn parallel_bad_logins(server: &Server, user: &str, n: usize) -> Vec<u16> {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let anon = server.anon.clone();
                s.spawn(move || {
                    password_login(&anon, user, &format!("wrong-password-{i}"))
                        .map(|r| r.status)
                        .unwrap_or(599)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn create_user(server: &Server, admin_token: &str, name: &str) {
    let body = json!({
        "apiVersion": "iam.kubesphere.io/v1beta1", "kind": "User",
        "metadata": {"name": name},
        "spec": {"email": format!("{name}@example.com"), "password": MATRIX_PASSWORD},
    });
    let r = server
        .as_token(admin_token)
        .json(Method::POST, &format!("{IAM}/users"), Some(&body))
        .unwrap();
    assert_eq!(
        r.status,
        200,
        "creating {name}: {}\n{}",
        r.text(),
        server.logs()
    );
}

#[test]
fn embedded_up_logins_sessions_matrix_lockout_and_audit() {
    let dir = tempfile::tempdir().unwrap();
    let (da, db) = (dir.path().join("a"), dir.path().join("b"));
    let (a, b) = Server::start_pair(("up A", &["up"], &da), ("up B", &["up"], &db));

    // First login with the generated password: the token says the password must change.
    let first = initial_admin_password(a.process.data_dir()).unwrap();
    let t1 = a.login("admin", &first);
    assert_eq!(t1["token_type"], "Bearer", "{t1}");
    assert!(t1["expires_in"].as_i64().unwrap_or(0) > 0, "{t1}");
    let tok1 = access(&t1);
    let claims = jwt_claims(&tok1).unwrap();
    assert_eq!(claims["username"], "admin", "{claims}");
    assert_eq!(
        claims["extra"]["uninitialized"],
        json!(["true"]),
        "{claims}"
    );

    // The token works on /kapis and, through the passthrough, on /api and with kubectl.
    let r = a.get(&tok1, &format!("{IAM}/users/admin"));
    assert_eq!(r.status, 200, "{}\n{}", r.text(), a.logs());
    let me = r.json().unwrap();
    assert_eq!(me["metadata"]["name"], "admin");
    assert!(
        me["spec"].get("password").is_none(),
        "password leaked: {me}"
    );
    let r = a.get(&tok1, "/api/v1/namespaces");
    assert_eq!(r.status, 200, "{}\n{}", r.text(), a.logs());
    let out = a.kubectl(&tok1, &["get", "ns"]);
    assert!(out.success(), "{out}\n{}", a.logs());
    assert!(out.stdout.contains("kubesphere-system"), "{out}");
    let r = a.anon.get(&format!("{IAM}/users")).unwrap();
    assert_eq!(r.status, 401, "anonymous list of users: {}", r.text());

    // The first-login flow: a wrong current password is refused, the right one changes it.
    let change = |current: &str, new: &str| {
        a.as_token(&tok1)
            .json(
                Method::PUT,
                &format!("{IAM}/users/admin/password"),
                Some(&json!({"currentPassword": current, "password": new})),
            )
            .unwrap()
    };
    let r = change("not-the-password-1", "N3w-admin-Passw0rd");
    assert_eq!(r.status, 400, "wrong currentPassword: {}", r.text());
    let r = change(&first, "N3w-admin-Passw0rd");
    assert_eq!(r.status, 200, "{}\n{}", r.text(), a.logs());
    let r = password_login(&a.anon, "admin", &first).unwrap();
    assert_eq!(
        r.status,
        400,
        "the old password still logs in: {}",
        r.text()
    );
    assert_eq!(json_str(&r, "error").as_deref(), Some("invalid_grant"));
    let t2 = a.login("admin", "N3w-admin-Passw0rd");
    let tok2 = access(&t2);
    let claims = jwt_claims(&tok2).unwrap();
    assert!(
        claims["extra"].get("uninitialized").is_none(),
        "still uninitialized after the change: {claims}"
    );
    // The session that changed the password stays logged in (the console keeps working).
    assert_eq!(a.get(&tok1, &format!("{IAM}/users/admin")).status, 200);

    // Refresh grant: a new access token that works.
    let r = refresh_login(&a.anon, t2["refresh_token"].as_str().unwrap()).unwrap();
    assert_eq!(r.status, 200, "refresh: {}", r.text());
    let refreshed = json_str(&r, "access_token").unwrap();
    assert_ne!(refreshed, tok2);
    assert_eq!(a.get(&refreshed, &format!("{IAM}/users/admin")).status, 200);

    // Logout kills the session everywhere: /kapis, /api, kubectl and its refresh token.
    let t3 = a.login("admin", "N3w-admin-Passw0rd");
    let tok3 = access(&t3);
    assert_eq!(a.get(&tok3, "/api/v1/namespaces").status, 200);
    let r = a
        .as_token(&tok3)
        .request_blocking(Method::POST, "/oauth/logout", &[], Vec::new())
        .unwrap();
    assert_eq!(r.status, 200, "logout: {}", r.text());
    let r = a.get(&tok3, &format!("{IAM}/users/admin"));
    assert_eq!(r.status, 401, "a logged-out token on /kapis: {}", r.text());
    let r = a.get(&tok3, "/api/v1/namespaces");
    assert_eq!(r.status, 401, "a logged-out token on /api: {}", r.text());
    let out = a.kubectl(&tok3, &["get", "ns"]);
    assert!(
        !out.success() && out.stderr.contains("Unauthorized"),
        "kubectl with a logged-out token: {out}"
    );
    let r = refresh_login(&a.anon, t3["refresh_token"].as_str().unwrap()).unwrap();
    assert_eq!(r.status, 400, "refresh after logout: {}", r.text());
    // Other sessions of the same user are not affected.
    assert_eq!(a.get(&tok2, &format!("{IAM}/users/admin")).status, 200);

    // A token signed by another installation is refused, as is a tampered one.
    let tb = access(&b.login(
        "admin",
        &initial_admin_password(b.process.data_dir()).unwrap(),
    ));
    assert_eq!(b.get(&tb, &format!("{IAM}/users/admin")).status, 200);
    for path in [format!("{IAM}/users/admin"), "/api/v1/namespaces".into()] {
        let r = a.get(&tb, &path);
        assert_eq!(r.status, 401, "B's token on A {path}: {}", r.text());
    }
    let parts: Vec<&str> = tok2.split('.').collect();
    let mut forged_claims = jwt_claims(&tok2).unwrap();
    forged_claims["username"] = json!("padmin");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        base64_url(&forged_claims.to_string()),
        parts[2]
    );
    assert_eq!(
        a.get(&forged, "/api/v1/namespaces").status,
        401,
        "tampered claims"
    );
    let unsigned = format!(
        "{}.{}.",
        base64_url(r#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    for path in [format!("{IAM}/users/admin"), "/api/v1/namespaces".into()] {
        assert_eq!(a.get(&unsigned, &path).status, 401, "alg=none on {path}");
    }

    // The authorization matrix, over HTTPS with every subject's own token.
    let t = matrix_fixture(&a, &tok2);
    replay_matrix(&a, &t);

    // Lockout: of 6 simultaneous bad logins at most 5 are checked, the rest get 429,
    // and then even the right password is refused.
    create_user(&a, &tok2, "locky");
    let statuses = parallel_bad_logins(&a, "locky", 6);
    let checked = statuses.iter().filter(|s| **s == 400).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert!(
        checked <= 5 && limited >= 1 && checked + limited == 6,
        "statuses of 6 parallel bad logins: {statuses:?}\n{}",
        a.logs()
    );
    let r = password_login(&a.anon, "locky", MATRIX_PASSWORD).unwrap();
    assert_eq!(
        r.status,
        429,
        "right password on a locked account: {}",
        r.text()
    );
    eventually(
        "locky shows AuthLimitExceeded",
        SETTLE,
        &[(a.name, &a.process)],
        || {
            let u = a.get(&tok2, &format!("{IAM}/users/locky")).json().unwrap();
            (u["status"]["state"] == "AuthLimitExceeded")
                .then_some(())
                .ok_or_else(|| u["status"].to_string())
        },
    );

    // Audit: admin's requests are recorded, and only admin's.
    let audit = eventually(
        "admin's requests in the audit log",
        SETTLE,
        &[(a.name, &a.process)],
        || {
            let r = a.get(&tok2, &format!("{AUDIT}?user_filter=admin&size=1000"));
            if r.status != 200 {
                return Err(format!("{} {}", r.status, r.text()));
            }
            let v = r.json().unwrap();
            let records = v["query"]["records"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            records
                .iter()
                .any(|e| {
                    e["requestURI"] == "/api/v1/namespaces" && e["responseStatus"]["code"] == 200
                })
                .then_some(v.clone())
                .ok_or_else(|| format!("no GET /api/v1/namespaces by admin in {v}"))
        },
    );
    let total = audit["query"]["total"].as_u64().unwrap();
    let records = audit["query"]["records"].as_array().unwrap();
    assert!(total >= 10 && !records.is_empty(), "{audit}");
    assert!(
        records.iter().all(|e| e["user"]["username"] == "admin"),
        "user_filter=admin returned others: {audit}"
    );
    assert!(
        records.iter().any(|e| e["requestURI"]
            .as_str()
            .is_some_and(|u| u.starts_with(&format!("{IAM}/users")))
            && e["verb"] == "create"),
        "no user creation by admin in the audit log: {audit}"
    );
    let r = a.get(&tok2, &format!("{AUDIT}?user_filter=nobody&size=1000"));
    let denied = r.json().unwrap();
    assert!(
        denied["query"]["records"]
            .as_array()
            .is_some_and(|rs| rs.iter().any(|e| e["responseStatus"]["code"] == 403)),
        "nobody's refused matrix requests are not audited: {denied}"
    );
}

fn base64_url(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[test]
fn serve_on_a_separate_kernel_matrix_and_passthrough() {
    let dir = tempfile::tempdir().unwrap();
    let kernel = Server::start("kernel", &["kernel"], &dir.path().join("kernel"));
    let kubeconfig = kernel.process.kubeconfig();
    let kc = kubeconfig.to_str().unwrap().to_owned();
    let s1 = Server::start(
        "serve",
        &["serve", "--kubeconfig", &kc],
        &dir.path().join("s1"),
    );
    let all = [(kernel.name, &kernel.process), (s1.name, &s1.process)];
    let password = initial_admin_password(s1.process.data_dir()).unwrap();
    let admin = access(&s1.login("admin", &password));

    // The matrix through serve, with zero failures.
    let m = matrix_fixture(&s1, &admin);
    replay_matrix(&s1, &m);

    // kubectl through serve's passthrough acts as the user: the kernel's RBAC decides,
    // and the platform's own (cluster-admin) identity is never used for the user.
    let nobody = &m.tokens["nobody"];
    let projview = &m.tokens["projview"];
    let projop = &m.tokens["projop"];
    let padmin = &m.tokens["padmin"];
    let out = s1.kubectl(nobody, &["get", "ns"]);
    assert!(
        !out.success()
            && out.stderr.to_lowercase().contains("forbidden")
            && out.stderr.contains("\"nobody\""),
        "nobody lists namespaces: {out}\n{}",
        logs_of(&all)
    );
    let out = s1.kubectl(nobody, &["auth", "can-i", "list", "namespaces"]);
    assert_eq!(out.stdout.trim(), "no", "{out}");
    let out = s1.kubectl(padmin, &["auth", "can-i", "list", "namespaces"]);
    assert_eq!(out.stdout.trim(), "yes", "{out}");
    let out = s1.kubectl(padmin, &["get", "ns", "pa", "pb"]);
    assert!(out.success(), "{out}\n{}", logs_of(&all));
    let out = s1.kubectl(projview, &["get", "configmaps", "-n", "pa"]);
    assert!(out.success(), "{out}\n{}", logs_of(&all));
    let out = s1.kubectl(projview, &["create", "configmap", "viewer-cm", "-n", "pa"]);
    assert!(
        !out.success()
            && out.stderr.to_lowercase().contains("forbidden")
            && out.stderr.contains("\"projview\""),
        "a viewer creates a configmap: {out}"
    );
    let out = s1.kubectl(projview, &["get", "configmaps", "-n", "pb"]);
    assert!(
        !out.success() && out.stderr.to_lowercase().contains("forbidden"),
        "{out}"
    );
    let out = s1.kubectl(projop, &["create", "configmap", "op-cm", "-n", "pa"]);
    assert!(
        out.success(),
        "an operator creates a configmap: {out}\n{}",
        logs_of(&all)
    );
    // The kernel itself holds the object (read with the kernel's own admin credentials),
    // while a platform token means nothing to the bare kernel.
    let kadmin = RawClient::from_kubeconfig(&kubeconfig).unwrap();
    let r = kadmin
        .get("/api/v1/namespaces/pa/configmaps/op-cm")
        .unwrap();
    assert_eq!(r.status, 200, "op-cm on the kernel: {}", r.text());
    let r = kernel.get(padmin, "/api/v1/namespaces");
    assert_eq!(
        r.status,
        401,
        "a platform token on the bare kernel: {}",
        r.text()
    );
}

#[test]
fn two_serve_replicas_share_sessions_and_lockout() {
    let dir = tempfile::tempdir().unwrap();
    let kernel = Server::start("kernel", &["kernel"], &dir.path().join("kernel"));
    let kc = kernel.process.kubeconfig().to_str().unwrap().to_owned();
    // The first replica creates admin and writes the password; the second finds admin there.
    let s1 = Server::start(
        "serve 1",
        &["serve", "--kubeconfig", &kc],
        &dir.path().join("s1"),
    );
    let s2 = Server::start(
        "serve 2",
        &["serve", "--kubeconfig", &kc],
        &dir.path().join("s2"),
    );
    let all = [
        (kernel.name, &kernel.process),
        (s1.name, &s1.process),
        (s2.name, &s2.process),
    ];
    let password = initial_admin_password(s1.process.data_dir()).unwrap();
    let admin = access(&s1.login("admin", &password));

    // Lockout counts failures on the User, so 5 bad logins spread over both replicas lock it.
    create_user(&s1, &admin, "spread");
    for i in 0..5 {
        let s = if i % 2 == 0 { &s1 } else { &s2 };
        let r = password_login(&s.anon, "spread", "wrong-password-x").unwrap();
        assert_eq!(
            r.status,
            400,
            "bad login {i} on {}: {}\n{}",
            s.name,
            r.text(),
            logs_of(&all)
        );
    }
    for s in [&s1, &s2] {
        let r = password_login(&s.anon, "spread", "wrong-password-x").unwrap();
        assert_eq!(
            r.status,
            429,
            "6th bad login on {}: {}\n{}",
            s.name,
            r.text(),
            logs_of(&all)
        );
        let r = password_login(&s.anon, "spread", MATRIX_PASSWORD).unwrap();
        assert_eq!(
            r.status,
            429,
            "right password, locked, on {}: {}",
            s.name,
            r.text()
        );
    }

    // A session made on one replica is valid on the other; logging out through the other
    // ends it on both. Sessions live in the cluster and each replica's cache follows a
    // watch, so the first replica may take a moment: poll for up to PROPAGATION.
    let t = s1.login("admin", &password);
    let tok = access(&t);
    let r = s2.get(&tok, &format!("{IAM}/users/admin"));
    assert_eq!(
        r.status,
        200,
        "a token issued by serve 1 on serve 2: {}\n{}",
        r.text(),
        logs_of(&all)
    );
    let r = s2
        .as_token(&tok)
        .request_blocking(Method::POST, "/oauth/logout", &[], Vec::new())
        .unwrap();
    assert_eq!(r.status, 200, "logout on serve 2: {}", r.text());
    assert_eq!(s2.get(&tok, &format!("{IAM}/users/admin")).status, 401);
    eventually(
        "the logged-out token refused by serve 1",
        PROPAGATION,
        &all,
        || match (
            s1.get(&tok, &format!("{IAM}/users/admin")).status,
            s1.get(&tok, "/api/v1/namespaces").status,
        ) {
            (401, 401) => Ok(()),
            other => Err(format!("{other:?}")),
        },
    );
    assert_eq!(
        s1.get(&admin, &format!("{IAM}/users/admin")).status,
        200,
        "other session"
    );
}
