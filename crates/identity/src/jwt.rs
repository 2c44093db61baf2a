//! JWTs with KubeSphere's claims, signed and verified with the install's ES256 key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::keys::SigningKey;

/// Leeway for `exp`/`nbf` between replicas' clocks (KubeSphere's `maximumClockSkew`).
pub const MAX_CLOCK_SKEW_SECS: i64 = 10;

/// The kind of token, KubeSphere's `token_type` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenType {
    /// Authenticates API requests.
    AccessToken,
    /// Obtains new access tokens at `/oauth/token`.
    RefreshToken,
    /// The OIDC ID token for an OAuth client.
    IdToken,
    /// A one-time authorization code (our own; codes are JWTs bound to a session).
    AuthorizationCode,
    /// The `state` of a login through an external identity provider.
    LoginState,
}

/// The claims of every token this crate issues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Subject: the username.
    pub sub: String,
    /// Audience (OAuth client id for ID tokens and codes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Not before, Unix seconds.
    pub nbf: i64,
    /// The session id.
    pub jti: String,
    /// The username (KubeSphere reads this rather than `sub`).
    #[serde(default)]
    pub username: String,
    /// access_token, refresh_token, id_token, ...
    pub token_type: TokenType,
    /// KubeSphere's `extra`: `uninitialized: ["true"]` for a user who must change the password.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Vec<String>>,
    /// Granted scopes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// OIDC nonce echoed into the ID token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// OIDC email (ID tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// OIDC display name (ID tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// OIDC preferred_username (ID tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// Where to send the browser back to (authorization codes and login state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
}

/// Why a token was not accepted. Callers answer 401 for every variant alike; the
/// variants exist for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Not three base64url segments of JSON.
    #[error("malformed token")]
    Malformed,
    /// A header other than ES256 with our `kid`.
    #[error("token not signed by this installation's key")]
    UnknownKey,
    /// The signature does not match.
    #[error("invalid token signature")]
    BadSignature,
    /// Issued by another issuer.
    #[error("token issued by another issuer")]
    WrongIssuer,
    /// Past `exp` (plus skew).
    #[error("token expired")]
    Expired,
    /// Before `nbf` (minus skew).
    #[error("token not yet valid")]
    NotYetValid,
    /// A token of another `token_type` than the one expected.
    #[error("wrong token type")]
    WrongType,
    /// Signing failed.
    #[error("cannot sign token")]
    Sign,
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    kid: Option<String>,
}

/// Signs `claims` into a compact JWS.
pub fn encode(key: &SigningKey, claims: &Claims) -> Result<String, Error> {
    let header = Header {
        alg: "ES256".into(),
        typ: Some("JWT".into()),
        kid: Some(key.kid().to_string()),
    };
    let h = serde_json::to_vec(&header).map_err(|_| Error::Sign)?;
    let c = serde_json::to_vec(claims).map_err(|_| Error::Sign)?;
    let mut out = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(h),
        URL_SAFE_NO_PAD.encode(c)
    );
    let sig = key.sign(out.as_bytes()).map_err(|_| Error::Sign)?;
    out.push('.');
    out.push_str(&URL_SAFE_NO_PAD.encode(sig));
    Ok(out)
}

/// Verifies signature, issuer, time window and type, and returns the claims.
pub fn decode(
    key: &SigningKey,
    issuer: &str,
    token: &str,
    now: i64,
    want: TokenType,
) -> Result<Claims, Error> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::Malformed);
    };
    let header: Header = URL_SAFE_NO_PAD
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(Error::Malformed)?;
    // The algorithm is fixed: never taken from the token (no "none", no HS256 with
    // the public key as secret).
    if header.alg != "ES256" || header.kid.as_deref() != Some(key.kid()) {
        return Err(Error::UnknownKey);
    }
    let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| Error::Malformed)?;
    let signed_len = h.len() + 1 + c.len();
    if !key.verify(&token.as_bytes()[..signed_len], &sig) {
        return Err(Error::BadSignature);
    }
    let claims: Claims = URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(Error::Malformed)?;
    if claims.iss != issuer {
        return Err(Error::WrongIssuer);
    }
    if now >= claims.exp + MAX_CLOCK_SKEW_SECS {
        return Err(Error::Expired);
    }
    if now + MAX_CLOCK_SKEW_SECS < claims.nbf {
        return Err(Error::NotYetValid);
    }
    if claims.token_type != want {
        return Err(Error::WrongType);
    }
    Ok(claims)
}

/// Whether `token` looks like one of ours (a JWT whose header names `kid`), so an
/// authenticator can skip tokens meant for someone else without logging noise.
pub fn is_ours(key: &SigningKey, token: &str) -> bool {
    token
        .split('.')
        .next()
        .and_then(|h| URL_SAFE_NO_PAD.decode(h).ok())
        .and_then(|b| serde_json::from_slice::<Header>(&b).ok())
        .is_some_and(|h| h.kid.as_deref() == Some(key.kid()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn claims(now: i64) -> Claims {
        Claims {
            iss: "kubesphere".into(),
            sub: "alice".into(),
            aud: None,
            exp: now + 7200,
            iat: now,
            nbf: now,
            jti: "s1".into(),
            username: "alice".into(),
            token_type: TokenType::AccessToken,
            extra: BTreeMap::from([("uninitialized".into(), vec!["true".into()])]),
            scopes: vec![],
            nonce: None,
            email: None,
            name: None,
            preferred_username: None,
            redirect_uri: None,
        }
    }

    #[test]
    fn round_trip_and_window() {
        let (k, _) = SigningKey::generate().unwrap();
        let t = encode(&k, &claims(1000)).unwrap();
        let c = decode(&k, "kubesphere", &t, 1000, TokenType::AccessToken).unwrap();
        assert_eq!(c.username, "alice");
        assert_eq!(c.extra["uninitialized"], vec!["true"]);
        assert_eq!(
            decode(
                &k,
                "kubesphere",
                &t,
                1000 + 7200 + 10,
                TokenType::AccessToken
            ),
            Err(Error::Expired)
        );
        assert!(decode(&k, "kubesphere", &t, 1000 + 7209, TokenType::AccessToken).is_ok());
        assert_eq!(
            decode(&k, "kubesphere", &t, 900, TokenType::AccessToken),
            Err(Error::NotYetValid)
        );
        assert_eq!(
            decode(&k, "kubesphere", &t, 1000, TokenType::RefreshToken),
            Err(Error::WrongType)
        );
        assert_eq!(
            decode(&k, "other", &t, 1000, TokenType::AccessToken),
            Err(Error::WrongIssuer)
        );
        let body: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(t.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(body["token_type"], "access_token");
        assert_eq!(body["jti"], "s1");
    }

    #[test]
    fn forged_tampered_and_foreign_tokens_are_refused() {
        let (k, _) = SigningKey::generate().unwrap();
        let (other, _) = SigningKey::generate().unwrap();
        let t = encode(&k, &claims(1000)).unwrap();
        // Signed by another install.
        let foreign = encode(&other, &claims(1000)).unwrap();
        assert_eq!(
            decode(&k, "kubesphere", &foreign, 1000, TokenType::AccessToken),
            Err(Error::UnknownKey)
        );
        // Another key's signature under our kid.
        let parts: Vec<&str> = t.split('.').collect();
        let forged_sig = other
            .sign(format!("{}.{}", parts[0], parts[1]).as_bytes())
            .unwrap();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            parts[1],
            URL_SAFE_NO_PAD.encode(forged_sig)
        );
        assert_eq!(
            decode(&k, "kubesphere", &forged, 1000, TokenType::AccessToken),
            Err(Error::BadSignature)
        );
        // Claims changed after signing.
        let mut c = claims(1000);
        c.username = "admin".into();
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c).unwrap()),
            parts[2]
        );
        assert_eq!(
            decode(&k, "kubesphere", &tampered, 1000, TokenType::AccessToken),
            Err(Error::BadSignature)
        );
        // alg none.
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","kid":"{}"}}"#, k.kid())),
            parts[1]
        );
        assert_eq!(
            decode(&k, "kubesphere", &none, 1000, TokenType::AccessToken),
            Err(Error::UnknownKey)
        );
        assert_eq!(
            decode(&k, "kubesphere", "a.b", 1000, TokenType::AccessToken),
            Err(Error::Malformed)
        );
        assert!(is_ours(&k, &t));
        assert!(!is_ours(&k, &foreign));
    }
}
