//! The authorization code flow for a registered client: one-time codes, redirect checks, ID tokens.
#![allow(clippy::unwrap_used)]

mod common;

use apimachinery::UserInfo;
use axum::body::Body;
use common::*;
use http::Request;
use identity::OAuthOptions;
use identity::clock::ManualClock;
use tower::ServiceExt;

#[tokio::test]
async fn code_is_issued_to_a_logged_in_user_and_redeemed_once() {
    let c = cluster().await;
    let clock = ManualClock::new();
    let id = replica(&c, &clock, OAuthOptions::default()).await;
    let r = identity::router(id.clone());
    create_user(&c, "ivy", &identity::password::hash("ivy-pass-12").unwrap()).await;
    let secret = identity::clients::register(
        id.client(),
        "other-sphere",
        vec!["https://rp.test/oauth/callback/sphere".into()],
        false,
    )
    .await
    .unwrap();
    let (_, t) = login(&r, "ivy", "ivy-pass-12").await;
    let access = t["access_token"].as_str().unwrap();

    let authorize = |redirect: &str, authed: bool| {
        let mut req = Request::get(format!(
            "/oauth/authorize?response_type=code&client_id=other-sphere&redirect_uri={}&scope=openid%20email&state=xyz&nonce=n-1",
            redirect
        ));
        if authed {
            req = req.header("authorization", format!("Bearer {access}"));
        }
        req.body(Body::empty()).unwrap()
    };
    // Not logged in.
    assert_eq!(
        call(
            &r,
            authorize("https%3A%2F%2Frp.test%2Foauth%2Fcallback%2Fsphere", false)
        )
        .await
        .0,
        401
    );
    // Unregistered redirect: refused without redirecting.
    assert_eq!(
        call(&r, authorize("https%3A%2F%2Fevil.test%2F", true))
            .await
            .0,
        400
    );

    let resp = r
        .clone()
        .oneshot(authorize(
            "https%3A%2F%2Frp.test%2Foauth%2Fcallback%2Fsphere",
            true,
        ))
        .await
        .unwrap();
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with("https://rp.test/oauth/callback/sphere?code="),
        "{location}"
    );
    assert!(location.ends_with("&state=xyz"));
    let code = location
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();

    // The gateway's UserInfo works as well as a bearer token.
    let mut via_gateway = Request::get(
        "/oauth/authorize?response_type=code&client_id=other-sphere&redirect_uri=https%3A%2F%2Frp.test%2Foauth%2Fcallback%2Fsphere",
    )
    .body(Body::empty())
    .unwrap();
    via_gateway
        .extensions_mut()
        .insert(UserInfo::new("ivy", vec![]));
    assert!(
        r.clone()
            .oneshot(via_gateway)
            .await
            .unwrap()
            .status()
            .is_redirection()
    );

    let redeem = |code: &str, secret: &str| {
        token_req(&format!(
            "grant_type=authorization_code&code={code}&client_id=other-sphere&client_secret={secret}&redirect_uri=https%3A%2F%2Frp.test%2Foauth%2Fcallback%2Fsphere"
        ))
    };
    assert_eq!(call(&r, redeem(&code, "wrong")).await.0, 401);
    let (code_status, tokens) = call(&r, redeem(&code, &secret)).await;
    assert_eq!(code_status, 200, "{tokens}");
    let idt = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(idt["aud"], "other-sphere");
    assert_eq!(idt["nonce"], "n-1");
    assert_eq!(idt["email"], "ivy@example.com");
    assert_eq!(idt["token_type"], "id_token");
    let who = id
        .authenticator()
        .authenticate(tokens["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(who.name, "ivy");
    // A code works once.
    let (again, e) = call(&r, redeem(&code, &secret)).await;
    assert_eq!((again, e["error"].as_str()), (400, Some("invalid_grant")));
}
