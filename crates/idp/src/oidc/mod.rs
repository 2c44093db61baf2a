//! The `OIDCIdentityProvider`: discovery, authorization URL, code exchange, ID token verification, claims mapping.

mod config;
mod http;
pub mod jwks;
pub mod jwt;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ::http::StatusCode;
use serde_json::{Map, Value};
use tokio::sync::{Mutex, RwLock};

pub use config::{EndpointOverrides, OidcConfig};
use http::HttpClient;
use jwks::JwkSet;

use crate::error::{IdpError, Result};
use crate::identity::Identity;
use crate::provider::{BoxFuture, OAuthProvider};
use crate::tls::{TlsOptions, client_config};

/// Tolerated clock difference with the provider (KubeSphere's `maximumClockSkew` default).
const CLOCK_SKEW_SECS: i64 = 10;
/// Timeout of each request to the provider.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Wall clock in seconds since the epoch; injectable so expiry is testable without waiting.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

fn system_clock() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The provider's endpoints, from discovery with the configured overrides applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Authorization endpoint.
    pub authorization: String,
    /// Token endpoint.
    pub token: String,
    /// Userinfo endpoint (may be empty).
    pub userinfo: String,
    /// JWKS document.
    pub jwks: String,
}

/// Logs in through an OpenID Connect provider with the authorization code flow.
pub struct OidcProvider {
    name: String,
    cfg: OidcConfig,
    http: HttpClient,
    clock: Clock,
    endpoints: Mutex<Option<Arc<Endpoints>>>,
    keys: RwLock<Option<Arc<JwkSet>>>,
}

impl std::fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProvider")
            .field("name", &self.name)
            .field("issuer", &self.cfg.issuer)
            .finish_non_exhaustive()
    }
}

fn str_field(doc: &Value, key: &str) -> String {
    doc.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

impl OidcProvider {
    /// Builds the provider `name` from its `provider:` options. No I/O: discovery and keys
    /// are fetched on first use and cached.
    pub fn new(name: &str, provider: &Value) -> Result<Self> {
        let cfg = OidcConfig::from_value(provider)?;
        let tls = client_config(&TlsOptions {
            root_ca: Some(cfg.root_ca.clone()),
            root_ca_data: Some(cfg.root_ca_data.clone()),
            insecure_skip_verify: cfg.insecure_skip_verify,
        })?;
        Ok(OidcProvider {
            name: name.to_string(),
            http: HttpClient::new(tls, HTTP_TIMEOUT),
            cfg,
            clock: Arc::new(system_clock),
            endpoints: Mutex::new(None),
            keys: RwLock::new(None),
        })
    }

    /// Replaces the wall clock (seconds since the epoch) used for expiry checks.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The configuration in use.
    pub fn config(&self) -> &OidcConfig {
        &self.cfg
    }

    /// The endpoints, fetching `<issuer>/.well-known/openid-configuration` once. A failed
    /// discovery is not cached, so the next login tries again.
    pub async fn endpoints(&self) -> Result<Arc<Endpoints>> {
        let mut cached = self.endpoints.lock().await;
        if let Some(endpoints) = cached.as_ref() {
            return Ok(endpoints.clone());
        }
        let o = &self.cfg.endpoint;
        let overridden =
            !o.auth_url.is_empty() && !o.token_url.is_empty() && !o.jwks_url.is_empty();
        let doc = if overridden {
            Value::Null
        } else {
            let url = format!(
                "{}/.well-known/openid-configuration",
                self.cfg.issuer.trim_end_matches('/')
            );
            let resp = self.http.get_json(&url, None).await?;
            if resp.status != StatusCode::OK || !resp.body.is_object() {
                return Err(IdpError::Unavailable(format!(
                    "{url}: answered {} without a discovery document",
                    resp.status
                )));
            }
            // OIDC Discovery 4.3: the document must name exactly the issuer we asked.
            if str_field(&resp.body, "issuer") != self.cfg.issuer {
                return Err(IdpError::Config(format!(
                    "{url}: issuer {:?} does not match the configured {:?}",
                    str_field(&resp.body, "issuer"),
                    self.cfg.issuer
                )));
            }
            resp.body
        };
        let pick = |over: &str, key: &str| {
            if over.is_empty() {
                str_field(&doc, key)
            } else {
                over.to_string()
            }
        };
        let endpoints = Endpoints {
            authorization: pick(&o.auth_url, "authorization_endpoint"),
            token: pick(&o.token_url, "token_endpoint"),
            userinfo: pick(&o.user_info_url, "userinfo_endpoint"),
            jwks: pick(&o.jwks_url, "jwks_uri"),
        };
        for (what, url) in [
            ("authorization_endpoint", &endpoints.authorization),
            ("token_endpoint", &endpoints.token),
            ("jwks_uri", &endpoints.jwks),
        ] {
            if url.is_empty() {
                return Err(IdpError::Unavailable(format!(
                    "OIDC provider {:?} has no {what}",
                    self.name
                )));
            }
        }
        let endpoints = Arc::new(endpoints);
        *cached = Some(endpoints.clone());
        Ok(endpoints)
    }

    async fn fetch_keys(&self, url: &str) -> Result<Arc<JwkSet>> {
        let resp = self.http.get_json(url, None).await?;
        let set = (resp.status == StatusCode::OK)
            .then(|| JwkSet::parse(&resp.body))
            .flatten()
            .ok_or_else(|| {
                IdpError::Unavailable(format!("{url}: answered {} without a key set", resp.status))
            })?;
        let set = Arc::new(set);
        *self.keys.write().await = Some(set.clone());
        Ok(set)
    }

    /// Verifies the ID token's signature with the provider's keys, refetching the key set
    /// once when no cached key matches (the provider rotated its keys), then its claims.
    pub async fn verify_id_token(&self, token: &str, nonce: &str) -> Result<Map<String, Value>> {
        let endpoints = self.endpoints().await?;
        let jwt = jwt::decode(token)?;
        let cached = self.keys.read().await.clone();
        let keys = match cached {
            Some(keys) => keys,
            None => self.fetch_keys(&endpoints.jwks).await?,
        };
        let verifies = |set: &JwkSet| {
            set.candidates(jwt.kid.as_deref(), &jwt.alg)
                .any(|k| k.verify(&jwt.alg, jwt.signing_input.as_bytes(), &jwt.signature))
        };
        let known = keys
            .candidates(jwt.kid.as_deref(), &jwt.alg)
            .next()
            .is_some();
        let valid = if known {
            verifies(&keys)
        } else {
            verifies(&*self.fetch_keys(&endpoints.jwks).await?)
        };
        if !valid {
            return Err(IdpError::InvalidGrant("id_token: bad signature".into()));
        }
        jwt::check_claims(
            &jwt.claims,
            &jwt::Expected {
                issuer: &self.cfg.issuer,
                client_id: &self.cfg.client_id,
                nonce,
                now: (self.clock)(),
                skew: CLOCK_SKEW_SECS,
            },
        )?;
        Ok(jwt.claims)
    }

    fn redirect<'a>(&'a self, given: &'a str) -> &'a str {
        if self.cfg.redirect_url.is_empty() {
            given
        } else {
            &self.cfg.redirect_url
        }
    }

    async fn authorize_url_inner(
        &self,
        state: &str,
        nonce: &str,
        redirect_uri: &str,
    ) -> Result<String> {
        let endpoints = self.endpoints().await?;
        let scope = self.cfg.scopes.join(" ");
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.cfg.client_id)
            .append_pair("redirect_uri", self.redirect(redirect_uri))
            .append_pair("scope", &scope)
            .append_pair("state", state)
            .append_pair("nonce", nonce)
            .finish();
        let sep = if endpoints.authorization.contains('?') {
            '&'
        } else {
            '?'
        };
        Ok(format!("{}{sep}{query}", endpoints.authorization))
    }

    async fn exchange_inner(
        &self,
        code: &str,
        redirect_uri: &str,
        nonce: &str,
    ) -> Result<Identity> {
        if code.is_empty() {
            return Err(IdpError::InvalidGrant("empty authorization code".into()));
        }
        let endpoints = self.endpoints().await?;
        let resp = self
            .http
            .post_form(
                &endpoints.token,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", self.redirect(redirect_uri)),
                    ("client_id", &self.cfg.client_id),
                    ("client_secret", &self.cfg.client_secret),
                ],
            )
            .await?;
        if resp.status != StatusCode::OK {
            let error = str_field(&resp.body, "error");
            let description = str_field(&resp.body, "error_description");
            return Err(match (resp.status.as_u16(), error.as_str()) {
                (_, "invalid_client" | "unauthorized_client") => IdpError::Config(format!(
                    "OIDC provider {:?} refused our client credentials: {error} {description}",
                    self.name
                )),
                (400..=499, _) => {
                    IdpError::InvalidGrant(format!("{error} {description}").trim().to_string())
                }
                _ => IdpError::Unavailable(format!("token endpoint answered {}", resp.status)),
            });
        }
        let id_token = resp
            .body
            .get("id_token")
            .and_then(Value::as_str)
            .ok_or_else(|| IdpError::Unavailable("no id_token in the token response".into()))?;
        let mut claims = self.verify_id_token(id_token, nonce).await?;
        if self.cfg.get_user_info {
            self.merge_userinfo(&endpoints, &resp.body, &mut claims)
                .await?;
        }
        self.identity(&claims)
    }

    async fn merge_userinfo(
        &self,
        endpoints: &Endpoints,
        token_response: &Value,
        claims: &mut Map<String, Value>,
    ) -> Result<()> {
        if endpoints.userinfo.is_empty() {
            return Err(IdpError::Config(format!(
                "OIDC provider {:?}: getUserInfo is set but there is no userinfo endpoint",
                self.name
            )));
        }
        let access_token = token_response
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| IdpError::Unavailable("no access_token in the token response".into()))?;
        let resp = self
            .http
            .get_json(&endpoints.userinfo, Some(access_token))
            .await?;
        let Value::Object(info) = resp.body else {
            return Err(IdpError::Unavailable(format!(
                "userinfo endpoint answered {} without claims",
                resp.status
            )));
        };
        if resp.status != StatusCode::OK {
            return Err(IdpError::Unavailable(format!(
                "userinfo endpoint answered {}",
                resp.status
            )));
        }
        // OIDC Core 5.3.2: userinfo about somebody else must not be used.
        if info.get("sub") != claims.get("sub") {
            return Err(IdpError::InvalidGrant(
                "userinfo sub does not match the id_token".into(),
            ));
        }
        for (key, value) in info {
            if !matches!(
                key.as_str(),
                "iss" | "aud" | "sub" | "exp" | "iat" | "nonce"
            ) {
                claims.insert(key, value);
            }
        }
        Ok(())
    }

    fn identity(&self, claims: &Map<String, Value>) -> Result<Identity> {
        let text = |key: &str| {
            claims
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let uid = text("sub");
        let mut username = text(&self.cfg.preferred_username_key);
        if username.is_empty() {
            username = text("name");
        }
        if username.is_empty() {
            return Err(IdpError::InvalidGrant(format!(
                "the id_token has no {:?} or \"name\" claim",
                self.cfg.preferred_username_key
            )));
        }
        let groups = match claims.get("groups") {
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            Some(Value::String(one)) => vec![one.clone()],
            _ => Vec::new(),
        };
        Ok(Identity {
            username,
            email: text(&self.cfg.email_key),
            display_name: text("name"),
            groups,
            provider: self.name.clone(),
            uid,
        })
    }
}

impl OAuthProvider for OidcProvider {
    fn authorize_url<'a>(
        &'a self,
        state: &'a str,
        nonce: &'a str,
        redirect_uri: &'a str,
    ) -> BoxFuture<'a, Result<String>> {
        Box::pin(self.authorize_url_inner(state, nonce, redirect_uri))
    }

    fn exchange<'a>(
        &'a self,
        code: &'a str,
        redirect_uri: &'a str,
        nonce: &'a str,
    ) -> BoxFuture<'a, Result<Identity>> {
        Box::pin(self.exchange_inner(code, redirect_uri, nonce))
    }
}
