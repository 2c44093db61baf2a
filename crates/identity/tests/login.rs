//! Login through `/oauth/token` against an in-process kernel: grants, clients, lockout, replicas, expiry, forgery.
#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use common::*;
use http::Request;
use identity::clock::ManualClock;
use identity::{OAuthOptions, UserState};
use kube::Api;
use kube::api::{Patch, PatchParams};

#[tokio::test]
async fn password_grant_refresh_userinfo_and_logout() {
    let c = cluster().await;
    let clock = ManualClock::new();
    let id = replica(&c, &clock, OAuthOptions::default()).await;
    let r = identity::router(id.clone());
    create_user(
        &c,
        "alice",
        &identity::password::hash("alice-pass-1").unwrap(),
    )
    .await;

    let (code, t) = login(&r, "alice", "alice-pass-1").await;
    assert_eq!(code, 200, "{t}");
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 7200);
    let access = t["access_token"].as_str().unwrap().to_string();
    let cl = claims(&access);
    assert_eq!(cl["username"], "alice");
    assert_eq!(cl["token_type"], "access_token");
    assert!(cl.get("extra").is_none());
    let who = id.authenticator().authenticate(&access).await.unwrap();
    assert_eq!(who.name, "alice");
    assert_eq!(who.groups, vec!["team-a", "system:authenticated"]);
    assert_eq!(id.authenticator().authenticate_cached(&access), Some(who));
    // The refresh token is not an access token.
    assert!(
        id.authenticator()
            .authenticate(t["refresh_token"].as_str().unwrap())
            .await
            .is_none()
    );

    let (code, info) = call(
        &r,
        Request::get("/oauth/userinfo")
            .header("authorization", format!("Bearer {access}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        (code, info["preferred_username"].as_str()),
        (200, Some("alice"))
    );

    let (code, t2) = call(
        &r,
        token_req(&format!(
            "grant_type=refresh_token&refresh_token={}&client_id=kubesphere",
            t["refresh_token"].as_str().unwrap()
        )),
    )
    .await;
    assert_eq!(code, 200, "{t2}");
    assert!(
        id.authenticator()
            .authenticate(t2["access_token"].as_str().unwrap())
            .await
            .is_some()
    );

    let (code, _) = call(
        &r,
        Request::post("/oauth/logout")
            .header("authorization", format!("Bearer {access}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(code, 200);
    // The whole session is gone: both access tokens and the refresh token.
    assert!(id.authenticator().authenticate(&access).await.is_none());
    assert!(
        id.authenticator()
            .authenticate(t2["access_token"].as_str().unwrap())
            .await
            .is_none()
    );
    let (code, _) = call(
        &r,
        Request::get("/oauth/userinfo")
            .header("authorization", format!("Bearer {access}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(code, 401);
    let (code, e) = call(
        &r,
        token_req(&format!(
            "grant_type=refresh_token&refresh_token={}",
            t["refresh_token"].as_str().unwrap()
        )),
    )
    .await;
    assert_eq!((code, e["error"].as_str()), (400, Some("invalid_grant")));

    // LoginRecords were written and lastLoginTime set.
    let u = user(&c, "alice").await;
    assert!(u.status.unwrap().last_login_time.is_some());
}

#[tokio::test]
async fn clients_fields_and_errors() {
    let c = cluster().await;
    let clock = ManualClock::new();
    let id = replica(&c, &clock, OAuthOptions::default()).await;
    let r = identity::router(id.clone());
    create_user(&c, "bob", &identity::password::hash("bob-pass-12").unwrap()).await;

    let (code, e) = login(&r, "bob", "wrong-pass").await;
    assert_eq!((code, e["error"].as_str()), (400, Some("invalid_grant")));
    let (code, e) = login(&r, "nobody", "wrong-pass").await;
    assert_eq!((code, e["error"].as_str()), (400, Some("invalid_grant")));
    // The console's `encrypt` and other unknown fields are ignored; so is the
    // console client's secret, whatever it is.
    let (code, _) = call(
        &r,
        token_req("grant_type=password&username=bob&password=bob-pass-12&client_id=kubesphere&client_secret=anything&encrypt=false&foo=bar"),
    )
    .await;
    assert_eq!(code, 200);
    // Logging in with the email address works as in KubeSphere.
    let (code, _) = login(&r, "bob%40example.com", "bob-pass-12").await;
    assert_eq!(code, 200);
    let (code, e) = call(
        &r,
        token_req("grant_type=client_credentials&client_id=kubesphere"),
    )
    .await;
    assert_eq!(
        (code, e["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (code, e) = call(
        &r,
        token_req("grant_type=password&username=bob&password=bob-pass-12&client_id=ghost"),
    )
    .await;
    assert_eq!((code, e["error"].as_str()), (401, Some("invalid_client")));

    let secret = identity::clients::register(id.client(), "ci", vec![], true)
        .await
        .unwrap();
    let (code, e) = call(
        &r,
        token_req(
            "grant_type=password&username=bob&password=bob-pass-12&client_id=ci&client_secret=nope",
        ),
    )
    .await;
    assert_eq!((code, e["error"].as_str()), (401, Some("invalid_client")));
    let (code, _) = call(
        &r,
        token_req(&format!("grant_type=password&username=bob&password=bob-pass-12&client_id=ci&client_secret={secret}")),
    )
    .await;
    assert_eq!(code, 200);
    let other = identity::clients::register(id.client(), "web", vec![], false)
        .await
        .unwrap();
    let (code, e) = call(
        &r,
        token_req(&format!("grant_type=password&username=bob&password=bob-pass-12&client_id=web&client_secret={other}")),
    )
    .await;
    assert_eq!(
        (code, e["error"].as_str()),
        (400, Some("unauthorized_client"))
    );

    // Discovery and keys.
    let (code, d) = call(
        &r,
        Request::get("/.well-known/openid-configuration")
            .header("host", "sphere.test")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(d["jwks_uri"], "https://sphere.test/oauth/keys");
    let (_, k) = call(&r, Request::get("/oauth/keys").body(Body::empty()).unwrap()).await;
    assert_eq!(k["keys"][0]["kid"], id.key().kid());
    let (code, cfg) = call(
        &r,
        Request::get("/kapis/config.kubesphere.io/v1alpha2/configs/oauth")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        (code, cfg["accessTokenMaxAge"].as_str()),
        (200, Some("2h0m0s"))
    );
}

#[tokio::test]
async fn lockout_under_a_parallel_burst_then_unlock_after_the_window() {
    let c = cluster().await;
    let clock = ManualClock::new();
    let id = replica(&c, &clock, OAuthOptions::default()).await;
    let r = identity::router(id.clone());
    create_user(
        &c,
        "carol",
        &identity::password::hash("carol-pass-1").unwrap(),
    )
    .await;

    let burst: Vec<_> = (0..20)
        .map(|_| {
            let r = r.clone();
            tokio::spawn(async move { login(&r, "carol", "bad-password").await.0 })
        })
        .collect();
    let mut codes = Vec::new();
    for h in burst {
        codes.push(h.await.unwrap());
    }
    let checked = codes.iter().filter(|c| **c == 400).count();
    let refused = codes.iter().filter(|c| **c == 429).count();
    assert_eq!((checked, refused), (5, 15), "{codes:?}");
    assert_eq!(
        user(&c, "carol").await.state(),
        UserState::AuthLimitExceeded
    );
    // Even the right password is refused while locked.
    let (code, e) = login(&r, "carol", "carol-pass-1").await;
    assert_eq!(
        (code, e["error_description"].as_str()),
        (429, Some("auth rate limit exceeded"))
    );

    clock.advance(30 * 60 + 1);
    id.housekeeping().await.unwrap();
    assert_eq!(user(&c, "carol").await.state(), UserState::Active);
    let (code, _) = login(&r, "carol", "carol-pass-1").await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn two_replicas_share_revocation_and_lockout() {
    let c = cluster().await;
    let clock = ManualClock::new();
    let a = replica(&c, &clock, OAuthOptions::default()).await;
    let b = replica(&c, &clock, OAuthOptions::default()).await;
    assert_eq!(
        a.key().kid(),
        b.key().kid(),
        "one key per install, shared by replicas"
    );
    let (ra, rb) = (identity::router(a.clone()), identity::router(b.clone()));
    create_user(
        &c,
        "dave",
        &identity::password::hash("dave-pass-1").unwrap(),
    )
    .await;

    let (code, t) = login(&ra, "dave", "dave-pass-1").await;
    assert_eq!(code, 200);
    let access = t["access_token"].as_str().unwrap().to_string();
    // B knows the session through its GET fallback, then through its watch.
    assert!(b.authenticator().authenticate(&access).await.is_some());
    assert!(eventually(|| a.authenticator().authenticate_cached(&access).is_some()).await);
    // Log out through B: A's cache loses the session through its watch.
    let (code, _) = call(
        &rb,
        Request::get("/oauth/logout")
            .header("authorization", format!("Bearer {access}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(code, 200);
    assert!(eventually(|| a.authenticator().authenticate_cached(&access).is_none()).await);
    assert!(a.authenticator().authenticate(&access).await.is_none());

    // Failures spread over both replicas count once.
    for i in 0..5 {
        let r = if i % 2 == 0 { &ra } else { &rb };
        assert_eq!(login(r, "dave", "bad-password").await.0, 400);
    }
    assert_eq!(login(&rb, "dave", "dave-pass-1").await.0, 429);
    assert_eq!(login(&ra, "dave", "dave-pass-1").await.0, 429);
}

#[tokio::test]
async fn expiry_refresh_disable_and_multiple_login_off() {
    let c = cluster().await;
    let clock = ManualClock::new();
    let opts = OAuthOptions {
        multiple_login: false,
        ..Default::default()
    };
    let id = replica(&c, &clock, opts).await;
    let r = identity::router(id.clone());
    create_user(
        &c,
        "erin",
        &identity::password::hash("erin-pass-1").unwrap(),
    )
    .await;
    let (_, first) = login(&r, "erin", "erin-pass-1").await;
    let (_, t) = login(&r, "erin", "erin-pass-1").await;
    // multipleLogin false: the second login revoked the first session.
    assert!(
        id.authenticator()
            .authenticate(first["access_token"].as_str().unwrap())
            .await
            .is_none()
    );
    let access = t["access_token"].as_str().unwrap().to_string();
    assert!(id.authenticator().authenticate(&access).await.is_some());

    clock.advance(2 * 3600 + 11);
    assert!(
        id.authenticator().authenticate(&access).await.is_none(),
        "expired"
    );
    let (code, t2) = call(
        &r,
        token_req(&format!(
            "grant_type=refresh_token&refresh_token={}",
            t["refresh_token"].as_str().unwrap()
        )),
    )
    .await;
    assert_eq!(code, 200, "{t2}");
    let access2 = t2["access_token"].as_str().unwrap().to_string();
    assert!(id.authenticator().authenticate(&access2).await.is_some());

    // A disabled user's tokens stop working.
    let users: Api<identity::User> = Api::all(c.client.clone());
    users
        .patch_status(
            "erin",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"status": {"state": "Disabled"}})),
        )
        .await
        .unwrap();
    assert!(eventually(|| id.authenticator().authenticate_cached(&access2).is_none()).await);
    assert_eq!(login(&r, "erin", "erin-pass-1").await.0, 400);

    // Expired sessions are garbage-collected.
    clock.advance(25 * 3600);
    id.housekeeping().await.unwrap();
    let secrets: Api<k8s_openapi::api::core::v1::Secret> =
        Api::namespaced(c.client.clone(), "kubesphere-system");
    let left = secrets
        .list(&kube::api::ListParams::default().labels("iam.kubesphere.io/session=true"))
        .await
        .unwrap();
    assert!(left.items.is_empty());
}

#[tokio::test]
async fn tokens_of_another_install_and_tampered_tokens_are_refused() {
    let c1 = cluster().await;
    let c2 = cluster().await;
    let clock = ManualClock::new();
    let id1 = replica(&c1, &clock, OAuthOptions::default()).await;
    let id2 = replica(&c2, &clock, OAuthOptions::default()).await;
    assert_ne!(
        id1.key().kid(),
        id2.key().kid(),
        "each install has its own key"
    );
    let hash = identity::password::hash("frank-pass-1").unwrap();
    create_user(&c1, "frank", &hash).await;
    create_user(&c2, "frank", &hash).await;
    let (_, t2) = login(&identity::router(id2.clone()), "frank", "frank-pass-1").await;
    let foreign = t2["access_token"].as_str().unwrap();
    assert!(id2.authenticator().authenticate(foreign).await.is_some());
    assert!(id1.authenticator().authenticate(foreign).await.is_none());

    let (_, t1) = login(&identity::router(id1.clone()), "frank", "frank-pass-1").await;
    let good = t1["access_token"].as_str().unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    let mut cl = claims(good);
    cl["username"] = "admin".into();
    use base64::Engine;
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&cl).unwrap()),
        parts[2]
    );
    assert!(id1.authenticator().authenticate(&forged).await.is_none());
    assert!(
        id1.authenticator()
            .authenticate("not-a-token")
            .await
            .is_none()
    );
}

#[tokio::test]
async fn bcrypt_import_is_rehashed_on_login() {
    let c = cluster().await;
    let clock = ManualClock::new();
    let id = replica(&c, &clock, OAuthOptions::default()).await;
    let r = identity::router(id.clone());
    let bcrypt = bcrypt::hash_with_result("P@88w0rd", 4)
        .unwrap()
        .format_for_version(bcrypt::Version::TwoA);
    create_user(&c, "grace", &bcrypt).await;
    assert_eq!(login(&r, "grace", "P%4088w0rd").await.0, 200);
    let stored = user(&c, "grace").await.spec.password.unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert_eq!(login(&r, "grace", "P%4088w0rd").await.0, 200);
}

#[tokio::test]
async fn per_address_limit_and_login_records() {
    let c = cluster().await;
    let clock = ManualClock::new();
    let opts = OAuthOptions {
        ip_rate_limit_burst: 3,
        ip_rate_limit_per_minute: 1,
        trust_forwarded_for: true,
        ..Default::default()
    };
    let id = replica(&c, &clock, opts).await;
    let r = identity::router(id.clone());
    create_user(&c, "kim", &identity::password::hash("kim-pass-12").unwrap()).await;
    let from = |ip: &str, pw: &str| {
        let mut req = token_req(&format!("grant_type=password&username=kim&password={pw}"));
        req.headers_mut()
            .insert("x-forwarded-for", ip.parse().unwrap());
        req.headers_mut()
            .insert("user-agent", "curl/8".parse().unwrap());
        req
    };
    assert_eq!(call(&r, from("10.1.2.3", "kim-pass-12")).await.0, 200);
    assert_eq!(call(&r, from("10.1.2.3", "bad-password")).await.0, 400);
    assert_eq!(call(&r, from("10.1.2.3", "kim-pass-12")).await.0, 200);
    let (code, e) = call(&r, from("10.1.2.3", "kim-pass-12")).await;
    assert_eq!(code, 429, "{e}");
    assert!(
        e["error_description"]
            .as_str()
            .unwrap()
            .contains("this address")
    );
    assert_eq!(call(&r, from("10.9.9.9", "kim-pass-12")).await.0, 200);
    clock.advance(60);
    assert_eq!(call(&r, from("10.1.2.3", "kim-pass-12")).await.0, 200);

    let records: Api<identity::LoginRecord> = Api::all(c.client.clone());
    let list = records
        .list(&kube::api::ListParams::default().labels("iam.kubesphere.io/user-ref=kim"))
        .await
        .unwrap();
    assert_eq!(list.items.len(), 5);
    let failed: Vec<_> = list.items.iter().filter(|r| !r.spec.success).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].spec.source_ip, "10.1.2.3");
    assert_eq!(failed[0].spec.user_agent, "curl/8");
    assert_eq!(failed[0].spec.type_, identity::LoginRecordType::Token);
    assert_eq!(failed[0].spec.reason, "incorrect username or password");
}
