//! Login through an external OIDC provider, played by a second install served over TCP on loopback (mappingMethod auto).
#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use common::*;
use http::Request;
use identity::OAuthOptions;
use identity::clock::ManualClock;
use kube::ResourceExt;
use tower::ServiceExt;

fn path_and_query(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    format!("/{}", rest.split_once('/').unwrap().1)
}

#[tokio::test]
async fn oidc_login_through_another_install_creates_the_user() {
    // The provider: install B, reachable at its issuer URL.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let cb = cluster().await;
    let clock = ManualClock::new();
    let b = replica(
        &cb,
        &clock,
        OAuthOptions {
            issuer: issuer.clone(),
            ..Default::default()
        },
    )
    .await;
    let rb = identity::router(b.clone());
    tokio::spawn(axum::serve(listener, rb.clone()).into_future());
    let callback = "http://a.test/oauth/callback/sphere-b";
    let secret = identity::clients::register(b.client(), "sphere-a", vec![callback.into()], false)
        .await
        .unwrap();
    create_user(
        &cb,
        "judy",
        &identity::password::hash("judy-pass-1").unwrap(),
    )
    .await;
    let (_, tb) = login(&rb, "judy", "judy-pass-1").await;
    let judy_at_b = tb["access_token"].as_str().unwrap().to_string();

    // The relying party: install A with B configured as an OIDC provider.
    let ca = cluster().await;
    let a = replica(&ca, &clock, OAuthOptions::default()).await;
    let ra = identity::router(a.clone());
    let cfg = idp::ProviderConfig::from_value(serde_json::json!({
        "name": "sphere-b", "type": "OIDCIdentityProvider", "mappingMethod": "auto",
        "provider": {"issuer": issuer, "clientID": "sphere-a", "clientSecret": secret, "redirectURL": callback},
    }))
    .unwrap();
    let (registry, errors) = idp::Registry::build(vec![cfg]);
    assert!(errors.is_empty(), "{errors:?}");
    a.set_providers(registry);

    let (code, oauth_cfg) = call(
        &ra,
        Request::get("/kapis/config.kubesphere.io/v1alpha2/configs/oauth")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(oauth_cfg["identityProviders"][0]["name"], "sphere-b");
    assert!(
        !oauth_cfg.to_string().contains(&secret),
        "secrets are redacted"
    );

    // 1. A sends the browser to B.
    let resp = ra
        .clone()
        .oneshot(
            Request::get("/oauth/authorize?identity_provider=sphere-b")
                .header("host", "a.test")
                .header("x-forwarded-proto", "http")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let to_b = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(
        to_b.starts_with(&format!("{issuer}/oauth/authorize?")),
        "{to_b}"
    );

    // 2. Judy, logged in at B, authorizes A; B sends the browser back to A.
    let resp = rb
        .clone()
        .oneshot(
            Request::get(path_and_query(&to_b))
                .header("authorization", format!("Bearer {judy_at_b}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let to_a = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(to_a.starts_with(callback), "{to_a}");

    // 3. A redeems the code at B (over TCP) and logs Judy in, creating her User.
    let (code, t) = call(
        &ra,
        Request::get(path_and_query(&to_a))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(code, 200, "{t}");
    let who = a
        .authenticator()
        .authenticate(t["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(who.name, "judy");
    let judy = user(&ca, "judy").await;
    assert_eq!(
        judy.annotations()["iam.kubesphere.io/identity-provider"],
        "sphere-b"
    );
    assert_eq!(judy.spec.email, "judy@example.com");
    assert!(judy.spec.password.is_none());

    // A replayed callback is refused: B's code was good for one use.
    let (code, _) = call(
        &ra,
        Request::get(path_and_query(&to_a))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(code, 400);
}

#[tokio::test]
async fn auto_mapping_never_takes_over_a_local_user() {
    let c = cluster().await;
    let clock = ManualClock::new();
    let id = replica(&c, &clock, OAuthOptions::default()).await;
    create_user(
        &c,
        "admin",
        &identity::password::hash("local-admin-1").unwrap(),
    )
    .await;
    let outsider = idp::Identity {
        username: "admin".into(),
        email: "evil@example.com".into(),
        display_name: String::new(),
        groups: vec![],
        provider: "github".into(),
        uid: "123".into(),
    };
    assert!(
        id.map_identity(&outsider, idp::MappingMethod::Auto)
            .await
            .is_err()
    );
    // With lookup the administrator provisioned the name, so it maps.
    assert!(
        id.map_identity(&outsider, idp::MappingMethod::Lookup)
            .await
            .is_ok()
    );
    // Lookup never creates users.
    let stranger = idp::Identity {
        username: "nobody".into(),
        ..outsider.clone()
    };
    assert!(
        id.map_identity(&stranger, idp::MappingMethod::Lookup)
            .await
            .is_err()
    );
    let created = id
        .map_identity(&stranger, idp::MappingMethod::Auto)
        .await
        .unwrap();
    assert_eq!(created.labels()["iam.kubesphere.io/origin-uid"], "123");
    // The next login finds the same User through its origin-uid label.
    let again = id
        .map_identity(&stranger, idp::MappingMethod::Auto)
        .await
        .unwrap();
    assert_eq!(again.uid(), created.uid());
}
