//! The authorization matrix as data plus a runner that replays it through any transport (in-process here, HTTPS in the lead's suite).

use futures::future::BoxFuture;
use serde_json::{Value, json};

/// Sends one request as `user` and returns the HTTP status and body. Implemented
/// in-process by the tests and over HTTPS (with each user's token) by black-box suites.
pub trait Transport: Send + Sync {
    fn send<'a>(
        &'a self,
        user: &'a str,
        method: &'a str,
        path: &'a str,
        body: Option<Value>,
    ) -> BoxFuture<'a, (u16, Value)>;
}

/// The users of the matrix and what they hold once [`setup`] has run.
pub const SUBJECTS: &[&str] = &[
    "padmin",
    "preg",
    "psp",
    "wsadmin",
    "wsregular",
    "wsviewer",
    "wssp",
    "projadmin",
    "projop",
    "projview",
    "badmin",
    "nobody",
];

const IAM: &str = "/kapis/iam.kubesphere.io/v1beta1";
const TENANT: &str = "/kapis/tenant.kubesphere.io/v1beta1";

/// One row: a request and the subjects allowed to make it (everyone else must get 403).
#[derive(Debug, Clone)]
pub struct Case {
    pub method: &'static str,
    /// `{self}` is replaced by the subject's name.
    pub path: String,
    pub body: Option<Value>,
    pub allowed: Vec<&'static str>,
    /// Run only for these subjects (for writes that would change the fixture if allowed).
    pub only: Option<Vec<&'static str>>,
}

fn case(method: &'static str, path: impl Into<String>, allowed: &[&'static str]) -> Case {
    Case {
        method,
        path: path.into(),
        body: None,
        allowed: allowed.to_vec(),
        only: None,
    }
}

const EVERYONE: &[&str] = SUBJECTS;

fn user_body(name: &str, role: Option<&str>) -> Value {
    let mut u = json!({
        "apiVersion": "iam.kubesphere.io/v1beta1", "kind": "User",
        "metadata": {"name": name},
        "spec": {"email": format!("{name}@example.com"), "password": "Passw0rd!x"},
    });
    if let Some(r) = role {
        u["metadata"]["annotations"] = json!({"iam.kubesphere.io/globalrole": r});
    }
    u
}

/// The requests, made as `admin`, that build the fixture: users, two workspaces with a
/// project each, and one member per built-in role. Send them in order and retry each
/// until it answers 2xx: the controllers derive workspaces and roles asynchronously.
pub fn setup() -> Vec<(&'static str, String, Value)> {
    let mut out = Vec::new();
    let roles: &[(&str, Option<&str>)] = &[
        ("padmin", Some("platform-admin")),
        ("preg", Some("platform-regular")),
        ("psp", Some("platform-self-provisioner")),
        ("wsadmin", Some("platform-regular")),
        ("wsregular", Some("platform-regular")),
        ("wsviewer", Some("platform-regular")),
        ("wssp", Some("platform-regular")),
        ("projadmin", Some("platform-regular")),
        ("projop", Some("platform-regular")),
        ("projview", Some("platform-regular")),
        ("badmin", Some("platform-regular")),
        ("nobody", None),
        ("target", None),
    ];
    for (name, role) in roles {
        out.push(("POST", format!("{IAM}/users"), user_body(name, *role)));
    }
    for ws in ["ws-a", "ws-b"] {
        out.push((
            "POST",
            format!("{TENANT}/workspacetemplates"),
            json!({"apiVersion": "tenant.kubesphere.io/v1beta1", "kind": "WorkspaceTemplate", "metadata": {"name": ws}, "spec": {"template": {"spec": {}}}}),
        ));
    }
    out.push((
        "POST",
        format!("{TENANT}/workspaces/ws-a/namespaces"),
        json!({"metadata": {"name": "pa"}}),
    ));
    out.push((
        "POST",
        format!("{TENANT}/workspaces/ws-b/namespaces"),
        json!({"metadata": {"name": "pb"}}),
    ));
    let ws_members = json!([
        {"username": "wsadmin", "roleRef": "ws-a-admin"},
        {"username": "wsregular", "roleRef": "ws-a-regular"},
        {"username": "wsviewer", "roleRef": "ws-a-viewer"},
        {"username": "wssp", "roleRef": "ws-a-self-provisioner"},
    ]);
    out.push((
        "POST",
        format!("{IAM}/workspaces/ws-a/workspacemembers"),
        ws_members,
    ));
    out.push((
        "POST",
        format!("{IAM}/workspaces/ws-b/workspacemembers"),
        json!([{"username": "badmin", "roleRef": "ws-b-admin"}]),
    ));
    out.push((
        "POST",
        format!("{IAM}/namespaces/pa/namespacemembers"),
        json!([
            {"username": "projadmin", "roleRef": "admin"},
            {"username": "projop", "roleRef": "operator"},
            {"username": "projview", "roleRef": "viewer"},
        ]),
    ));
    out
}

/// A request that succeeds only once the whole fixture is in the authorizer's index
/// and Kubernetes RBAC (the last binding made, checked through Kubernetes).
pub fn ready_probe() -> (&'static str, &'static str, String) {
    (
        "projview",
        "GET",
        "/api/v1/namespaces/pa/configmaps".to_string(),
    )
}

/// The matrix.
pub fn cases() -> Vec<Case> {
    let pa_readers = &[
        "padmin",
        "wsadmin",
        "wsviewer",
        "projadmin",
        "projop",
        "projview",
    ];
    let mut c = vec![
        // Users.
        case("GET", format!("{IAM}/users"), &["padmin"]),
        case("GET", format!("{IAM}/users/{{self}}"), EVERYONE),
        case("GET", format!("{IAM}/users/padmin"), &["padmin"]),
        case(
            "GET",
            format!("{IAM}/users/{{self}}/roletemplates?scope=global"),
            EVERYONE,
        ),
        case(
            "GET",
            format!("{IAM}/users/padmin/roletemplates?scope=global"),
            &["padmin"],
        ),
        case("POST", format!("{IAM}/subjectaccessreviews"), EVERYONE),
        // Members.
        case("GET", format!("{IAM}/clustermembers"), &["padmin"]),
        case("GET", format!("{IAM}/clustermembers/{{self}}"), EVERYONE),
        case(
            "GET",
            format!("{IAM}/workspaces/ws-a/workspacemembers"),
            &["padmin", "wsadmin", "wsregular", "wsviewer"],
        ),
        case(
            "GET",
            format!("{IAM}/workspaces/ws-b/workspacemembers"),
            &["padmin", "badmin"],
        ),
        case(
            "GET",
            format!("{IAM}/workspaces/ws-a/workspacemembers/{{self}}/namespaces"),
            EVERYONE,
        ),
        case(
            "GET",
            format!("{IAM}/namespaces/pa/namespacemembers"),
            &["padmin", "wsadmin", "projadmin", "projop", "projview"],
        ),
        case(
            "GET",
            format!("{IAM}/namespaces/pb/namespacemembers"),
            &["padmin", "badmin"],
        ),
        // Roles.
        case("GET", format!("{IAM}/globalroles"), &["padmin"]),
        case(
            "GET",
            format!("{IAM}/workspaces/ws-a/workspaceroles"),
            &["padmin", "wsadmin", "wsviewer"],
        ),
        case(
            "GET",
            format!("{IAM}/workspaces/ws-b/workspaceroles"),
            &["padmin", "badmin"],
        ),
        case(
            "GET",
            format!("{IAM}/namespaces/pa/roles"),
            &["padmin", "wsadmin", "projadmin", "projop", "projview"],
        ),
        case(
            "GET",
            format!("{IAM}/namespaces/pb/rolebindings"),
            &["padmin", "badmin"],
        ),
        // Groups and their members.
        case(
            "GET",
            format!("{IAM}/workspaces/ws-a/groups"),
            &["padmin", "wsadmin", "wsregular", "wsviewer"],
        ),
        case(
            "GET",
            format!("{IAM}/workspaces/ws-a/groupbindings"),
            &["padmin", "wsadmin", "wsregular", "wsviewer"],
        ),
        case(
            "GET",
            format!("{IAM}/workspaces/ws-b/groups"),
            &["padmin", "badmin"],
        ),
        case(
            "GET",
            format!("{IAM}/workspaces/ws-b/groupbindings"),
            &["padmin", "badmin"],
        ),
        // Tenant.
        case("GET", format!("{TENANT}/workspacetemplates"), EVERYONE),
        case("GET", format!("{TENANT}/workspaces"), EVERYONE),
        case(
            "GET",
            format!("{TENANT}/workspaces/ws-a"),
            &["padmin", "wsadmin", "wsregular", "wsviewer", "wssp"],
        ),
        case(
            "GET",
            format!("{TENANT}/workspaces/ws-b"),
            &["padmin", "badmin"],
        ),
        case(
            "GET",
            format!("{TENANT}/workspacetemplates/ws-b"),
            &["padmin", "badmin"],
        ),
        case(
            "GET",
            format!("{TENANT}/workspaces/ws-a/namespaces"),
            &["padmin", "wsadmin", "wsviewer"],
        ),
        case(
            "GET",
            format!("{TENANT}/workspaces/ws-b/namespaces"),
            &["padmin", "badmin"],
        ),
        case("GET", format!("{TENANT}/clusters"), EVERYONE),
        case("GET", format!("{TENANT}/namespaces"), EVERYONE),
        // Kubernetes passthrough.
        case("GET", "/api/v1/namespaces/pa/pods", pa_readers),
        case("GET", "/api/v1/namespaces/pa/secrets", pa_readers),
        case("GET", "/apis/apps/v1/namespaces/pa/deployments", pa_readers),
        case("GET", "/api/v1/namespaces/pb/pods", &["padmin", "badmin"]),
        case("GET", "/api/v1/nodes", &["padmin"]),
        case("GET", "/api/v1/namespaces", &["padmin"]),
    ];
    // Writes whose success changes nothing the other rows depend on.
    let mut w = |method: &'static str,
                 path: String,
                 body: Value,
                 allowed: &[&'static str],
                 only: Option<&[&'static str]>| {
        c.push(Case {
            method,
            path,
            body: Some(body),
            allowed: allowed.to_vec(),
            only: only.map(|o| o.to_vec()),
        });
    };
    w(
        "POST",
        format!("{TENANT}/workspaces/ws-a/namespaces"),
        json!({"metadata": {"name": "new-{self}"}}),
        &["padmin", "wsadmin", "wssp"],
        None,
    );
    w(
        "POST",
        format!("{TENANT}/workspaces/ws-b/namespaces"),
        json!({"metadata": {"name": "newb-{self}"}}),
        &["padmin", "badmin"],
        None,
    );
    w(
        "POST",
        "/api/v1/namespaces/pa/configmaps".into(),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm-{self}"}}),
        &["padmin", "wsadmin", "projadmin", "projop"],
        None,
    );
    w(
        "POST",
        "/api/v1/namespaces/pb/configmaps".into(),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm-{self}"}}),
        &["padmin", "badmin"],
        None,
    );
    w(
        "POST",
        format!("{TENANT}/workspacetemplates"),
        json!({"metadata": {"name": "wst-{self}"}, "spec": {"template": {"spec": {}}}}),
        &["padmin", "psp"],
        None,
    );
    w(
        "POST",
        format!("{IAM}/users"),
        user_body("u-{self}", None),
        &["padmin"],
        None,
    );
    w(
        "POST",
        format!("{IAM}/workspaces/ws-a/groups"),
        json!({"metadata": {"name": "g-{self}"}}),
        &["padmin", "wsadmin"],
        None,
    );
    // Cross-tenant and privileged writes, run only for subjects that must be refused.
    let not = |allowed: &[&str]| -> Vec<&'static str> {
        SUBJECTS
            .iter()
            .copied()
            .filter(|s| !allowed.contains(s))
            .collect()
    };
    let deny_only = not(&["padmin", "badmin"]);
    c.push(Case {
        method: "DELETE",
        path: format!("{TENANT}/workspacetemplates/ws-b"),
        body: None,
        allowed: vec![],
        only: Some(deny_only.clone()),
    });
    c.push(Case {
        method: "POST",
        path: format!("{IAM}/workspaces/ws-b/workspacemembers"),
        body: Some(json!([{"username": "target", "roleRef": "ws-b-admin"}])),
        allowed: vec![],
        only: Some(deny_only.clone()),
    });
    c.push(Case {
        method: "DELETE",
        path: "/api/v1/namespaces/pb".into(),
        body: None,
        allowed: vec![],
        only: Some(deny_only.clone()),
    });
    c.push(Case {
        method: "POST",
        path: format!("{IAM}/workspaces/ws-b/groups"),
        body: Some(json!({"metadata": {"name": "gb-{self}"}})),
        allowed: vec![],
        only: Some(deny_only.clone()),
    });
    c.push(Case {
        method: "POST",
        path: format!("{IAM}/workspaces/ws-b/groupbindings"),
        body: Some(json!([{"userName": "target", "groupName": "gb"}])),
        allowed: vec![],
        only: Some(deny_only.clone()),
    });
    c.push(Case {
        method: "PATCH",
        path: format!("{IAM}/workspaces/ws-b/workspaceroles/ws-b-viewer"),
        body: Some(
            json!({"aggregationRoleTemplates": {"templateNames": ["workspace-manage-members"]}}),
        ),
        allowed: vec![],
        only: Some(deny_only),
    });
    c.push(Case {
        method: "PATCH",
        path: format!("{IAM}/globalroles/platform-regular"),
        body: Some(json!({"rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]})),
        allowed: vec![],
        only: Some(not(&["padmin"])),
    });
    c.push(Case {
        method: "POST",
        path: format!("{IAM}/globalrolebindings"),
        body: Some(json!({"metadata": {"name": "{self}-escalate"}, "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "{self}"}], "roleRef": {"apiGroup": "iam.kubesphere.io", "kind": "GlobalRole", "name": "platform-admin"}})),
        allowed: vec![],
        only: Some(not(&["padmin"])),
    });
    c.push(Case {
        method: "DELETE",
        path: format!("{IAM}/users/padmin"),
        body: None,
        allowed: vec![],
        only: Some(not(&["padmin"])),
    });
    c
}

/// One mismatch between the matrix and what the server did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub subject: String,
    pub method: String,
    pub path: String,
    pub expected_allowed: bool,
    pub status: u16,
    pub message: String,
}

fn fill(s: &str, who: &str) -> String {
    s.replace("{self}", who)
}

fn fill_value(v: &Value, who: &str) -> Value {
    match v {
        Value::String(s) => Value::String(fill(s, who)),
        Value::Array(a) => Value::Array(a.iter().map(|x| fill_value(x, who)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), fill_value(x, who)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Runs every case for every subject; a request is "allowed" when it is neither 401 nor
/// 403, and an allowed request must not fail with a server error.
pub async fn run(t: &dyn Transport, cases: &[Case]) -> Vec<Failure> {
    let mut failures = Vec::new();
    for c in cases {
        for who in SUBJECTS {
            if c.only.as_ref().is_some_and(|o| !o.contains(who)) {
                continue;
            }
            let path = fill(&c.path, who);
            let body = c.body.as_ref().map(|b| fill_value(b, who)).or_else(|| {
                (c.method == "POST" && path.ends_with("subjectaccessreviews")).then(|| {
                    json!({"spec": {"resourceAttributes": {"verb": "get", "resource": "pods", "namespace": "pa"}}})
                })
            });
            let (status, resp) = t.send(who, c.method, &path, body).await;
            let allowed = status != 401 && status != 403;
            let expected = c.allowed.contains(who);
            let ok_status = !expected || status < 500;
            if allowed != expected || !ok_status {
                failures.push(Failure {
                    subject: who.to_string(),
                    method: c.method.to_string(),
                    path,
                    expected_allowed: expected,
                    status,
                    message: resp
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                });
            }
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(u16);
    impl Transport for Fixed {
        fn send<'a>(
            &'a self,
            _: &'a str,
            _: &'a str,
            _: &'a str,
            _: Option<Value>,
        ) -> BoxFuture<'a, (u16, Value)> {
            Box::pin(async move { (self.0, Value::Null) })
        }
    }

    #[tokio::test]
    async fn the_runner_catches_both_kinds_of_mismatch() {
        let cases = cases();
        let allowed_cells: usize = cases.iter().map(|c| c.allowed.len()).sum();
        let all_cells: usize = cases
            .iter()
            .map(|c| c.only.as_ref().map_or(SUBJECTS.len(), Vec::len))
            .sum();
        assert!(
            allowed_cells > 50 && all_cells - allowed_cells > 200,
            "{allowed_cells} of {all_cells}"
        );
        assert_eq!(
            run(&Fixed(200), &cases).await.len(),
            all_cells - allowed_cells
        );
        assert_eq!(run(&Fixed(403), &cases).await.len(), allowed_cells);
    }
}
