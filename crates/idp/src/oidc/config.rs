//! The `provider:` options of an `OIDCIdentityProvider`, with KubeSphere's field names.

use serde::Deserialize;
use serde_json::Value;

use crate::error::{IdpError, Result};

/// Endpoint overrides (KubeSphere's `endpoint:`); each non-empty one wins over discovery.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct EndpointOverrides {
    /// Authorization endpoint.
    #[serde(rename = "authURL")]
    pub auth_url: String,
    /// Token endpoint.
    #[serde(rename = "tokenURL")]
    pub token_url: String,
    /// Userinfo endpoint.
    #[serde(rename = "userInfoURL")]
    pub user_info_url: String,
    /// JWKS document.
    #[serde(rename = "jwksURL")]
    pub jwks_url: String,
}

/// Options of an OIDC provider, as in KubeSphere's `oidcProvider`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct OidcConfig {
    /// The issuer; discovery is read from `<issuer>/.well-known/openid-configuration` and
    /// ID tokens must carry exactly this `iss`.
    pub issuer: String,
    /// The client id registered at the provider; ID tokens must name it in `aud`.
    #[serde(rename = "clientID")]
    pub client_id: String,
    /// The client secret, sent in the token request body (`client_secret_post`).
    #[serde(rename = "clientSecret")]
    pub client_secret: String,
    /// Endpoint overrides.
    pub endpoint: EndpointOverrides,
    /// The redirect URI registered at the provider (our `/oauth/callback/{name}`).
    #[serde(rename = "redirectURL")]
    pub redirect_url: String,
    /// Scopes requested besides `openid` (default `profile`, `email`).
    pub scopes: Vec<String>,
    /// Also call the userinfo endpoint and merge its claims.
    #[serde(rename = "getUserInfo")]
    pub get_user_info: bool,
    /// Accept any TLS certificate from the provider.
    #[serde(rename = "insecureSkipVerify")]
    pub insecure_skip_verify: bool,
    /// Claim holding the e-mail address (default `email`).
    #[serde(rename = "emailKey")]
    pub email_key: String,
    /// Claim holding the username (default `preferred_username`, then `name`).
    #[serde(rename = "preferredUsernameKey")]
    pub preferred_username_key: String,
    /// Path of a PEM file with the CA that signs the provider's certificate.
    #[serde(rename = "rootCA")]
    pub root_ca: String,
    /// Base64 PEM with the CA that signs the provider's certificate.
    #[serde(rename = "rootCAData")]
    pub root_ca_data: String,
}

impl OidcConfig {
    /// Parses the `provider:` map and fills the defaults.
    ///
    /// Unlike KubeSphere, an issuer is required: without one KubeSphere accepts ID tokens
    /// without checking their signature, which would let anyone forge a login.
    pub fn from_value(provider: &Value) -> Result<Self> {
        let value = if provider.is_null() {
            Value::Object(Default::default())
        } else {
            provider.clone()
        };
        let mut cfg: OidcConfig = serde_json::from_value(value)
            .map_err(|e| IdpError::Config(format!("OIDC provider: {e}")))?;
        if cfg.issuer.is_empty() {
            return Err(IdpError::Config("OIDC provider: issuer is required".into()));
        }
        if !(cfg.issuer.starts_with("https://") || cfg.issuer.starts_with("http://")) {
            return Err(IdpError::Config(format!(
                "OIDC provider: issuer {:?} is not an http(s) URL",
                cfg.issuer
            )));
        }
        if cfg.client_id.is_empty() {
            return Err(IdpError::Config(
                "OIDC provider: clientID is required".into(),
            ));
        }
        if cfg.email_key.is_empty() {
            cfg.email_key = "email".into();
        }
        if cfg.preferred_username_key.is_empty() {
            cfg.preferred_username_key = "preferred_username".into();
        }
        let mut scopes = vec!["openid".to_string()];
        let requested = if cfg.scopes.is_empty() {
            vec!["profile".to_string(), "email".to_string()]
        } else {
            std::mem::take(&mut cfg.scopes)
        };
        for scope in requested {
            if !scope.is_empty() && !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        cfg.scopes = scopes;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kubesphere_field_names_and_defaults() {
        let cfg = OidcConfig::from_value(&json!({
            "clientID": "ks",
            "clientSecret": "s",
            "issuer": "https://idp.example",
            "redirectURL": "https://ks/oauth/callback/idp",
            "getUserInfo": true,
            "insecureSkipVerify": false,
            "endpoint": {"authURL": "https://idp.example/auth", "jwksURL": "https://idp.example/k"},
        }))
        .unwrap();
        assert_eq!(cfg.client_id, "ks");
        assert_eq!(cfg.scopes, ["openid", "profile", "email"]);
        assert_eq!(cfg.email_key, "email");
        assert_eq!(cfg.preferred_username_key, "preferred_username");
        assert_eq!(cfg.endpoint.auth_url, "https://idp.example/auth");
        assert!(cfg.endpoint.token_url.is_empty());
        assert!(cfg.get_user_info);
        let custom = OidcConfig::from_value(&json!({
            "clientID": "ks", "issuer": "http://i", "scopes": ["openid", "groups"],
            "emailKey": "mail", "preferredUsernameKey": "login",
        }))
        .unwrap();
        assert_eq!(custom.scopes, ["openid", "groups"]);
        assert_eq!(custom.email_key, "mail");
    }

    #[test]
    fn requires_issuer_and_client() {
        assert!(OidcConfig::from_value(&json!({"clientID": "ks"})).is_err());
        assert!(OidcConfig::from_value(&json!({"issuer": "https://i"})).is_err());
        assert!(OidcConfig::from_value(&json!({"issuer": "i", "clientID": "c"})).is_err());
    }
}
