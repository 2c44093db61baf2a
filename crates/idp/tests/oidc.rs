//! OIDCIdentityProvider against a small OIDC provider started by each test.
#![allow(clippy::unwrap_used)]

#[path = "support/oidc_server.rs"]
mod oidc_server;

use std::sync::Arc;

use idp::oidc::OidcProvider;
use idp::{IdpError, OAuthProvider, Provider, ProviderConfig};
use oidc_server::{CLIENT_ID, CLIENT_SECRET, OidcServer, REDIRECT, Signer};
use serde_json::{Value, json};

// Test-only RSA keys made with `openssl genpkey -algorithm RSA`; they protect nothing.
const RSA_KEY: &str = include_str!("fixtures/rsa-test-key.pem");
const OTHER_RSA_KEY: &str = include_str!("fixtures/rsa-other-key.pem");

fn options(server: &OidcServer) -> Value {
    json!({
        "issuer": server.issuer(),
        "clientID": CLIENT_ID,
        "clientSecret": CLIENT_SECRET,
        "redirectURL": REDIRECT,
        "scopes": ["openid", "email", "profile", "groups"],
    })
}

fn oauth(provider: Value) -> Arc<dyn OAuthProvider> {
    let cfg = ProviderConfig::from_value(json!({
        "name": "test-oidc",
        "type": "OIDCIdentityProvider",
        "mappingMethod": "lookup",
        "provider": provider,
    }))
    .unwrap();
    match idp::build(&cfg).unwrap() {
        Provider::OAuth(p) => p,
        Provider::Password(_) => panic!("OIDC must be an OAuth provider"),
    }
}

async fn rsa_setup() -> (OidcServer, Signer, Arc<dyn OAuthProvider>) {
    let server = OidcServer::start().await;
    let key = Signer::rsa(RSA_KEY, "rsa-1");
    server.publish(&[&key]);
    let provider = oauth(options(&server));
    (server, key, provider)
}

fn with(mut claims: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        claims[k] = v.clone();
    }
    claims
}

async fn exchange_err(provider: &Arc<dyn OAuthProvider>, code: &str, nonce: &str) -> IdpError {
    provider.exchange(code, "ignored", nonce).await.unwrap_err()
}

#[tokio::test]
async fn good_exchange_maps_claims() {
    let (server, key, provider) = rsa_setup().await;
    let claims = with(
        server.claims("user-123", "n-1"),
        json!({"preferred_username": "alice", "email": "alice@example.org",
               "name": "Alice Liddell", "groups": ["dev", "ops"]}),
    );
    server.grant("code-1", key.sign(&claims), json!({}));
    let identity = provider.exchange("code-1", "ignored", "n-1").await.unwrap();
    assert_eq!(identity.username, "alice");
    assert_eq!(identity.email, "alice@example.org");
    assert_eq!(identity.display_name, "Alice Liddell");
    assert_eq!(identity.groups, ["dev", "ops"]);
    assert_eq!(identity.uid, "user-123");
    assert_eq!(identity.provider, "test-oidc");

    // client_secret_post, with the configured redirectURL winning over the given one.
    let form = &server.token_requests()[0];
    assert_eq!(form["client_secret"], CLIENT_SECRET);
    assert_eq!(form["redirect_uri"], REDIRECT);
    assert_eq!(form["code"], "code-1");

    // The code is single use at the provider: replaying it is an invalid grant.
    let err = exchange_err(&provider, "code-1", "n-1").await;
    assert!(matches!(err, IdpError::InvalidGrant(_)), "{err:?}");
    assert_eq!(err.oauth_error(), "invalid_grant");
    assert_eq!(server.discovery_fetches(), 1, "discovery is cached");
    assert_eq!(server.jwks_fetches(), 1, "keys are cached");
}

#[tokio::test]
async fn authorize_url_carries_state_nonce_and_scopes() {
    let (server, _key, provider) = rsa_setup().await;
    let url = provider
        .authorize_url("st&1", "no nce", "http://x/cb")
        .await
        .unwrap();
    let (base, query) = url.split_once('?').unwrap();
    assert_eq!(base, format!("{}/authorize", server.issuer()));
    let params: std::collections::HashMap<String, String> =
        form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["client_id"], CLIENT_ID);
    assert_eq!(params["redirect_uri"], REDIRECT);
    assert_eq!(params["scope"], "openid email profile groups");
    assert_eq!(params["state"], "st&1");
    assert_eq!(params["nonce"], "no nce");

    // Without a configured redirectURL the caller's callback is used.
    let mut opts = options(&server);
    opts["redirectURL"] = json!("");
    let url = oauth(opts)
        .authorize_url("s", "n", "http://x/cb")
        .await
        .unwrap();
    assert!(url.contains("redirect_uri=http%3A%2F%2Fx%2Fcb"), "{url}");
}

#[tokio::test]
async fn es256_with_userinfo_and_custom_claim_keys() {
    let server = OidcServer::start().await;
    let key = Signer::ec("ec-1");
    server.publish(&[&key]);
    let mut opts = options(&server);
    opts["getUserInfo"] = json!(true);
    opts["emailKey"] = json!("mail");
    opts["preferredUsernameKey"] = json!("login");
    let provider = oauth(opts);
    // A thin ID token; the names come from userinfo.
    server.grant(
        "code-ec",
        key.sign(&server.claims("sub-9", "n")),
        json!({"sub": "sub-9", "login": "carol", "mail": "carol@example.org", "name": "Carol"}),
    );
    let identity = provider.exchange("code-ec", "", "n").await.unwrap();
    assert_eq!(identity.username, "carol");
    assert_eq!(identity.email, "carol@example.org");
    assert_eq!(identity.display_name, "Carol");
    assert_eq!(identity.uid, "sub-9");

    // Userinfo about another subject is refused.
    server.grant(
        "code-other",
        key.sign(&server.claims("sub-9", "n")),
        json!({"sub": "sub-10", "login": "mallory"}),
    );
    let err = exchange_err(&provider, "code-other", "n").await;
    assert!(matches!(err, IdpError::InvalidGrant(_)), "{err:?}");
}

#[tokio::test]
async fn wrong_nonce_audience_issuer_and_expired_tokens_are_refused() {
    let (server, key, provider) = rsa_setup().await;
    let base = with(server.claims("u", "n"), json!({"preferred_username": "u"}));
    let cases = [
        ("nonce", with(base.clone(), json!({"nonce": "other"}))),
        (
            "audience",
            with(base.clone(), json!({"aud": "someone-else"})),
        ),
        (
            "issuer",
            with(base.clone(), json!({"iss": "http://evil.example"})),
        ),
        ("expired", with(base.clone(), json!({"exp": 1_000_000}))),
    ];
    for (i, (what, claims)) in cases.iter().enumerate() {
        let code = format!("c{i}");
        server.grant(&code, key.sign(claims), json!({}));
        let err = exchange_err(&provider, &code, "n").await;
        assert!(matches!(err, IdpError::InvalidGrant(_)), "{what}: {err:?}");
        assert!(!err.is_bad_credentials() && !err.is_unavailable());
    }
    // The untouched claims are fine: the failures above are the changed claim's.
    server.grant("ok", key.sign(&base), json!({}));
    provider.exchange("ok", "", "n").await.unwrap();
}

#[tokio::test]
async fn expiry_follows_the_injected_clock() {
    let server = OidcServer::start().await;
    let key = Signer::rsa(RSA_KEY, "rsa-1");
    server.publish(&[&key]);
    let claims = json!({"iss": server.issuer(), "aud": CLIENT_ID, "sub": "u", "nonce": "n",
                        "preferred_username": "u", "iat": 1_000, "exp": 1_300});
    let at = |now: i64| {
        OidcProvider::new("test-oidc", &options(&server))
            .unwrap()
            .with_clock(Arc::new(move || now))
    };
    let token = key.sign(&claims);
    at(1_299).verify_id_token(&token, "n").await.unwrap();
    // Ten seconds of clock skew are tolerated, as KubeSphere's maximumClockSkew.
    at(1_310).verify_id_token(&token, "n").await.unwrap();
    let err = at(1_311).verify_id_token(&token, "n").await.unwrap_err();
    assert!(
        matches!(err, IdpError::InvalidGrant(ref m) if m.contains("expired")),
        "{err:?}"
    );
}

#[tokio::test]
async fn bad_signatures_and_unsigned_tokens_are_refused() {
    let (server, key, provider) = rsa_setup().await;
    let claims = with(server.claims("u", "n"), json!({"preferred_username": "u"}));

    // Signed by another key that claims the published key's id.
    let forger = Signer::rsa(OTHER_RSA_KEY, "rsa-1");
    server.grant("forged", forger.sign(&claims), json!({}));
    let err = exchange_err(&provider, "forged", "n").await;
    assert!(
        matches!(err, IdpError::InvalidGrant(ref m) if m.contains("signature")),
        "{err:?}"
    );

    // Payload changed after signing.
    let good = key.sign(&claims);
    let parts: Vec<&str> = good.split('.').collect();
    let evil = with(claims.clone(), json!({"preferred_username": "admin"}));
    use base64::Engine;
    let evil_payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(evil.to_string());
    server.grant(
        "tampered",
        format!("{}.{evil_payload}.{}", parts[0], parts[2]),
        json!({}),
    );
    assert!(matches!(
        exchange_err(&provider, "tampered", "n").await,
        IdpError::InvalidGrant(_)
    ));

    // alg "none" and HMAC with the public key as secret can never verify.
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let none = format!("{}.{}.", b64(&json!({"alg": "none"})), b64(&claims));
    server.grant("none", none, json!({}));
    assert!(matches!(
        exchange_err(&provider, "none", "n").await,
        IdpError::InvalidGrant(_)
    ));
    let hs = format!(
        "{}.{}.AAAA",
        b64(&json!({"alg": "HS256", "kid": "rsa-1"})),
        b64(&claims)
    );
    server.grant("hs", hs, json!({}));
    assert!(matches!(
        exchange_err(&provider, "hs", "n").await,
        IdpError::InvalidGrant(_)
    ));
}

#[tokio::test]
async fn unknown_kid_refetches_the_key_set_once() {
    let (server, old, provider) = rsa_setup().await;
    let claims = with(server.claims("u", "n"), json!({"preferred_username": "u"}));
    server.grant("first", old.sign(&claims), json!({}));
    provider.exchange("first", "", "n").await.unwrap();
    assert_eq!(server.jwks_fetches(), 1);

    // The provider rotates to a new key: one refetch finds it.
    let new = Signer::ec("ec-2");
    server.publish(&[&old, &new]);
    server.grant("rotated", new.sign(&claims), json!({}));
    provider.exchange("rotated", "", "n").await.unwrap();
    assert_eq!(server.jwks_fetches(), 2);

    // Known keys are served from the cache.
    server.grant("again", new.sign(&claims), json!({}));
    provider.exchange("again", "", "n").await.unwrap();
    assert_eq!(server.jwks_fetches(), 2);

    // A kid nobody publishes costs exactly one refetch, then fails.
    server.grant("ghost", new.sign_as("ghost", &claims), json!({}));
    let err = exchange_err(&provider, "ghost", "n").await;
    assert!(matches!(err, IdpError::InvalidGrant(_)), "{err:?}");
    assert_eq!(server.jwks_fetches(), 3);
}

#[tokio::test]
async fn provider_problems_are_unavailable_or_configuration() {
    // Nobody listens there: discovery fails, and is retried on the next call.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let provider = oauth(json!({"issuer": dead, "clientID": CLIENT_ID}));
    let err = provider
        .authorize_url("s", "n", REDIRECT)
        .await
        .unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    let err = exchange_err(&provider, "c", "n").await;
    assert!(err.is_unavailable(), "{err:?}");

    // Wrong client secret: our configuration, not the user's fault.
    let server = OidcServer::start().await;
    let mut opts = options(&server);
    opts["clientSecret"] = json!("wrong");
    let err = exchange_err(&oauth(opts), "c", "n").await;
    assert!(matches!(err, IdpError::Config(_)), "{err:?}");

    // A discovery document for another issuer is refused.
    let mut opts = options(&server);
    opts["issuer"] = json!(format!("{}/", server.issuer()));
    let err = oauth(opts).authorize_url("s", "n", "").await.unwrap_err();
    assert!(matches!(err, IdpError::Config(_)), "{err:?}");
}

#[tokio::test]
async fn endpoint_overrides_skip_discovery() {
    let server = OidcServer::start().await;
    let key = Signer::rsa(RSA_KEY, "rsa-1");
    server.publish(&[&key]);
    let mut opts = options(&server);
    let i = server.issuer().to_string();
    opts["endpoint"] = json!({"authURL": format!("{i}/authorize?tenant=x"),
                              "tokenURL": format!("{i}/token"), "jwksURL": format!("{i}/jwks")});
    let provider = oauth(opts);
    let url = provider.authorize_url("s", "n", "").await.unwrap();
    assert!(
        url.starts_with(&format!("{i}/authorize?tenant=x&response_type=code")),
        "{url}"
    );
    let claims = with(server.claims("u", "n"), json!({"name": "Only Name"}));
    server.grant("c", key.sign(&claims), json!({}));
    let identity = provider.exchange("c", "", "n").await.unwrap();
    assert_eq!(
        identity.username, "Only Name",
        "falls back to the name claim"
    );
    assert_eq!(server.discovery_fetches(), 0);
}

/// A provider that accepts connections and never answers: discovery gives up after the
/// request timeout (paused clock) with Unavailable.
#[tokio::test(start_paused = true)]
async fn silent_provider_times_out_as_unavailable() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let provider = oauth(json!({"issuer": issuer, "clientID": CLIENT_ID}));
    let err = provider
        .authorize_url("s", "n", REDIRECT)
        .await
        .unwrap_err();
    assert!(
        matches!(err, IdpError::Unavailable(ref m) if m.contains("timed out")),
        "{err:?}"
    );
}
