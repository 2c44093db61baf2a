//! A small OpenID Connect provider for tests: discovery, JWKS, token endpoint (client_secret_post), userinfo.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use serde_json::{Value, json};

pub const CLIENT_ID: &str = "ferrosphere";
pub const CLIENT_SECRET: &str = "client-secret-1";
pub const REDIRECT: &str = "http://console.test/oauth/callback/test-oidc";

/// A signing key with its id.
pub enum Signer {
    Rsa(RsaKeyPair, String),
    Ec(EcdsaKeyPair, String),
}

impl Signer {
    /// An RS256 key from a PKCS#8 PEM fixture.
    pub fn rsa(pem: &str, kid: &str) -> Signer {
        let der = rustls_pemfile::private_key(&mut pem.as_bytes())
            .unwrap()
            .unwrap();
        Signer::Rsa(
            RsaKeyPair::from_pkcs8(der.secret_der()).unwrap(),
            kid.to_string(),
        )
    }

    /// A fresh ES256 key.
    pub fn ec(kid: &str) -> Signer {
        let rng = SystemRandom::new();
        let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        Signer::Ec(
            EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap(),
            kid.to_string(),
        )
    }

    pub fn kid(&self) -> &str {
        match self {
            Signer::Rsa(_, kid) | Signer::Ec(_, kid) => kid,
        }
    }

    pub fn alg(&self) -> &'static str {
        match self {
            Signer::Rsa(..) => "RS256",
            Signer::Ec(..) => "ES256",
        }
    }

    /// The public JWK.
    pub fn jwk(&self) -> Value {
        match self {
            Signer::Rsa(key, kid) => {
                let c = signature::RsaPublicKeyComponents::<Vec<u8>>::from(key.public());
                json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
                       "n": URL_SAFE_NO_PAD.encode(&c.n), "e": URL_SAFE_NO_PAD.encode(&c.e)})
            }
            Signer::Ec(key, kid) => {
                let p = key.public_key().as_ref();
                json!({"kty": "EC", "use": "sig", "crv": "P-256", "kid": kid,
                       "x": URL_SAFE_NO_PAD.encode(&p[1..33]), "y": URL_SAFE_NO_PAD.encode(&p[33..65])})
            }
        }
    }

    /// A compact JWS over `claims` with this key, announcing `kid` in the header.
    pub fn sign_as(&self, kid: &str, claims: &Value) -> String {
        let header = json!({"alg": self.alg(), "typ": "JWT", "kid": kid});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let rng = SystemRandom::new();
        let sig = match self {
            Signer::Rsa(key, _) => {
                let mut sig = vec![0; key.public().modulus_len()];
                key.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &rng,
                    input.as_bytes(),
                    &mut sig,
                )
                .unwrap();
                sig
            }
            Signer::Ec(key, _) => key.sign(&rng, input.as_bytes()).unwrap().as_ref().to_vec(),
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    pub fn sign(&self, claims: &Value) -> String {
        self.sign_as(self.kid(), claims)
    }
}

struct Grant {
    id_token: String,
    access_token: String,
}

#[derive(Default)]
struct Inner {
    issuer: String,
    jwks: Mutex<Vec<Value>>,
    codes: Mutex<HashMap<String, Grant>>,
    userinfo: Mutex<HashMap<String, Value>>,
    discovery_fetches: AtomicUsize,
    jwks_fetches: AtomicUsize,
    token_requests: Mutex<Vec<HashMap<String, String>>>,
}

/// A running provider; the server task ends with the test's runtime.
#[derive(Clone)]
pub struct OidcServer {
    inner: Arc<Inner>,
}

impl OidcServer {
    pub async fn start() -> OidcServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let inner = Arc::new(Inner {
            issuer,
            ..Default::default()
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .with_state(inner.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        OidcServer { inner }
    }

    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// Replaces the published key set.
    pub fn publish(&self, keys: &[&Signer]) {
        *self.inner.jwks.lock().unwrap() = keys.iter().map(|k| k.jwk()).collect();
    }

    /// Registers a one-time code that yields `id_token`, and userinfo for its access token.
    pub fn grant(&self, code: &str, id_token: String, userinfo: Value) {
        let access_token = format!("at-{code}");
        self.inner
            .userinfo
            .lock()
            .unwrap()
            .insert(access_token.clone(), userinfo);
        self.inner.codes.lock().unwrap().insert(
            code.to_string(),
            Grant {
                id_token,
                access_token,
            },
        );
    }

    /// Standard claims for a token issued now to our client.
    pub fn claims(&self, sub: &str, nonce: &str) -> Value {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        json!({
            "iss": self.issuer(), "aud": CLIENT_ID, "sub": sub, "nonce": nonce,
            "iat": now, "exp": now + 300,
        })
    }

    pub fn discovery_fetches(&self) -> usize {
        self.inner.discovery_fetches.load(Ordering::SeqCst)
    }

    pub fn jwks_fetches(&self) -> usize {
        self.inner.jwks_fetches.load(Ordering::SeqCst)
    }

    pub fn token_requests(&self) -> Vec<HashMap<String, String>> {
        self.inner.token_requests.lock().unwrap().clone()
    }
}

async fn discovery(State(s): State<Arc<Inner>>) -> Json<Value> {
    s.discovery_fetches.fetch_add(1, Ordering::SeqCst);
    let i = &s.issuer;
    Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "userinfo_endpoint": format!("{i}/userinfo"),
        "jwks_uri": format!("{i}/jwks"),
        "response_types_supported": ["code"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
    }))
}

async fn jwks(State(s): State<Arc<Inner>>) -> Json<Value> {
    s.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    Json(json!({"keys": *s.jwks.lock().unwrap()}))
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": error})),
    )
        .into_response()
}

async fn token(State(s): State<Arc<Inner>>, body: String) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    s.token_requests.lock().unwrap().push(form.clone());
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    if field("client_id") != CLIENT_ID || field("client_secret") != CLIENT_SECRET {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    if field("grant_type") != "authorization_code" {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    if field("redirect_uri") != REDIRECT {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let Some(grant) = s.codes.lock().unwrap().remove(field("code")) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    Json(json!({
        "access_token": grant.access_token, "token_type": "Bearer", "expires_in": 300,
        "id_token": grant.id_token,
    }))
    .into_response()
}

async fn userinfo(State(s): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    match s.userinfo.lock().unwrap().get(token) {
        Some(info) => Json(info.clone()).into_response(),
        None => oauth_error(StatusCode::UNAUTHORIZED, "invalid_token"),
    }
}
