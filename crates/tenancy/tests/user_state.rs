//! Disabling a user through the users API: the state goes through the status subresource, logins are refused and tokens stop working.
#![allow(clippy::unwrap_used)]

mod support;

use apimachinery::UserInfo;
use axum::body::Body;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const IAM: &str = "/kapis/iam.kubesphere.io/v1beta1";

async fn call(app: &axum::Router, req: http::Request<Body>) -> (u16, Value) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn as_user(user: &str, method: &str, path: &str, body: Option<&Value>) -> http::Request<Body> {
    let mut req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from(
            body.map(|b| serde_json::to_vec(b).unwrap())
                .unwrap_or_default(),
        ))
        .unwrap();
    req.extensions_mut()
        .insert(UserInfo::new(user, vec!["system:authenticated".into()]));
    req
}

async fn login(app: &axum::Router, user: &str, pw: &str) -> (u16, Value) {
    let form = format!(
        "grant_type=password&username={user}&password={pw}&client_id=kubesphere&client_secret=kubesphere"
    );
    call(
        app,
        http::Request::post("/oauth/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_user_cannot_log_in_and_their_tokens_stop_working() {
    let env = support::start().await;
    let id = identity::Identity::new(env.admin.clone(), identity::OAuthOptions::default())
        .await
        .unwrap();
    tokio::spawn(identity::run_controllers(id.clone()));
    let authz = env.authz.clone();
    let kapis = tenancy::router(tenancy::State::new(env.admin.clone(), env.authz.clone())).layer(
        axum::middleware::from_fn(move |req, next| {
            tenancy::api::authorize(authz.clone(), req, next)
        }),
    );
    let oauth = identity::router(id.clone());

    for (name, role) in [("dora", None), ("preg", Some("platform-regular"))] {
        let mut body = json!({
            "metadata": {"name": name},
            "spec": {"email": format!("{name}@example.com"), "password": "Passw0rd!x"},
        });
        if let Some(r) = role {
            body["metadata"]["annotations"] = json!({"iam.kubesphere.io/globalrole": r});
        }
        let (s, r) = call(
            &kapis,
            as_user("admin", "POST", &format!("{IAM}/users"), Some(&body)),
        )
        .await;
        assert_eq!(s, 200, "{r}");
    }
    let (s, t) = login(&oauth, "dora", "Passw0rd!x").await;
    assert_eq!(s, 200, "{t}");
    let token = t["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        id.authenticator().authenticate(&token).await.unwrap().name,
        "dora"
    );

    // The console's way: GET the user, set status.state, PUT it back.
    let (_, mut dora) = call(
        &kapis,
        as_user("admin", "GET", &format!("{IAM}/users/dora"), None),
    )
    .await;
    dora["status"] = json!({"state": "Disabled"});
    let path = format!("{IAM}/users/dora");

    // Neither a regular user nor dora herself may change the state.
    let (s, r) = call(&kapis, as_user("preg", "PUT", &path, Some(&dora))).await;
    assert_eq!(s, 403, "a regular user disables dora: {r}");
    let (s, r) = call(&kapis, as_user("dora", "PUT", &path, Some(&dora))).await;
    assert_eq!(s, 403, "dora disables herself: {r}");
    let (s, r) = call(&kapis, as_user("admin", "GET", &path, None)).await;
    assert_eq!(s, 200);
    assert_ne!(r["status"]["state"], "Disabled", "{r}");
    // A state the API does not hand out is refused.
    let mut odd = dora.clone();
    odd["status"]["state"] = json!("AuthLimitExceeded");
    let (s, r) = call(&kapis, as_user("admin", "PUT", &path, Some(&odd))).await;
    assert_eq!(s, 400, "{r}");

    let (s, r) = call(&kapis, as_user("admin", "PUT", &path, Some(&dora))).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["status"]["state"], "Disabled", "answer: {r}");
    assert!(r["spec"].get("password").is_none(), "{r}");
    let (_, r) = call(&kapis, as_user("admin", "GET", &path, None)).await;
    assert_eq!(r["status"]["state"], "Disabled", "stored: {r}");
    assert!(r["status"]["lastTransitionTime"].is_string(), "{r}");

    let (s, r) = login(&oauth, "dora", "Passw0rd!x").await;
    assert_eq!(s, 400, "login of a disabled user: {r}");
    assert_eq!(r["error"], "invalid_grant", "{r}");
    assert_eq!(r["error_description"], "Account suspended.", "{r}");
    support::eventually("dora's token refused", || async {
        id.authenticator()
            .authenticate(&token)
            .await
            .is_none()
            .then_some(())
    })
    .await;
    assert!(id.authenticator().authenticate_cached(&token).is_none());

    // Enabling her again restores logins.
    let (_, mut dora) = call(&kapis, as_user("admin", "GET", &path, None)).await;
    dora["status"]["state"] = json!("Active");
    let (s, r) = call(&kapis, as_user("admin", "PUT", &path, Some(&dora))).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["status"]["state"], "Active", "{r}");
    support::eventually("dora logs in again", || async {
        (login(&oauth, "dora", "Passw0rd!x").await.0 == 200).then_some(())
    })
    .await;
    env.cancel.cancel();
}
