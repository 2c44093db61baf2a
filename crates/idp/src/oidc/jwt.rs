//! ID token parsing and claim checks (OIDC Core 3.1.3.7): issuer, audience, expiry with skew, nonce.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::error::{IdpError, Result};

/// A compact JWS split into its parts; the signature is not checked yet.
#[derive(Debug, Clone)]
pub struct UnverifiedJwt {
    /// `alg` from the header.
    pub alg: String,
    /// `kid` from the header, if any.
    pub kid: Option<String>,
    /// The claims.
    pub claims: Map<String, Value>,
    /// `base64url(header) "." base64url(payload)`: what the signature covers.
    pub signing_input: String,
    /// The decoded signature.
    pub signature: Vec<u8>,
}

fn invalid(msg: impl Into<String>) -> IdpError {
    IdpError::InvalidGrant(format!("id_token: {}", msg.into()))
}

fn decode_part(part: &str) -> Result<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| invalid("not base64url"))
}

/// Splits a compact JWS. Refuses anything but three non-empty base64url parts with JSON
/// objects as header and payload.
pub fn decode(token: &str) -> Result<UnverifiedJwt> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("not a compact JWS"));
    };
    let header: Map<String, Value> =
        serde_json::from_slice(&decode_part(h)?).map_err(|_| invalid("header is not JSON"))?;
    let claims: Map<String, Value> =
        serde_json::from_slice(&decode_part(p)?).map_err(|_| invalid("payload is not JSON"))?;
    let signature = decode_part(s)?;
    if signature.is_empty() {
        return Err(invalid("unsigned"));
    }
    if header.contains_key("crit") {
        return Err(invalid("critical header extensions are not supported"));
    }
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("no alg"))?
        .to_string();
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(UnverifiedJwt {
        alg,
        kid,
        claims,
        signing_input: format!("{h}.{p}"),
        signature,
    })
}

/// What a valid ID token must say.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// Exact `iss`.
    pub issuer: &'a str,
    /// Our client id, which must be in `aud`.
    pub client_id: &'a str,
    /// The nonce sent in the authorization request.
    pub nonce: &'a str,
    /// Now, in seconds since the epoch.
    pub now: i64,
    /// Tolerated clock difference, in seconds.
    pub skew: i64,
}

fn number(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| invalid(format!("{name} is not a number"))),
    }
}

/// Checks the claims of a token whose signature has been verified.
pub fn check_claims(claims: &Map<String, Value>, expected: &Expected<'_>) -> Result<()> {
    if claims.get("iss").and_then(Value::as_str) != Some(expected.issuer) {
        return Err(invalid("issuer mismatch"));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => return Err(invalid("no audience")),
    };
    if !audiences.contains(&expected.client_id) {
        return Err(invalid("audience mismatch"));
    }
    if let Some(azp) = claims.get("azp") {
        if azp.as_str() != Some(expected.client_id) {
            return Err(invalid("authorized party mismatch"));
        }
    } else if audiences.len() > 1 {
        return Err(invalid("several audiences and no authorized party"));
    }
    let exp = number(claims, "exp")?.ok_or_else(|| invalid("no exp"))?;
    if expected.now > exp.saturating_add(expected.skew) {
        return Err(invalid("expired"));
    }
    if let Some(nbf) = number(claims, "nbf")?
        && nbf > expected.now.saturating_add(expected.skew)
    {
        return Err(invalid("not yet valid"));
    }
    if let Some(iat) = number(claims, "iat")?
        && iat > expected.now.saturating_add(expected.skew)
    {
        return Err(invalid("issued in the future"));
    }
    let nonce = claims.get("nonce").and_then(Value::as_str).unwrap_or("");
    if !constant_time_eq(nonce.as_bytes(), expected.nonce.as_bytes()) {
        return Err(invalid("nonce mismatch"));
    }
    if claims
        .get("sub")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(invalid("no sub"));
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn good() -> Value {
        json!({"iss": "http://i", "aud": "ks", "sub": "u1", "exp": 1000, "iat": 900, "nonce": "n"})
    }

    const EXPECTED: Expected<'static> = Expected {
        issuer: "http://i",
        client_id: "ks",
        nonce: "n",
        now: 950,
        skew: 10,
    };

    fn check(v: Value) -> Result<()> {
        check_claims(&claims(v), &EXPECTED)
    }

    fn with(key: &str, value: Value) -> Value {
        let mut v = good();
        v[key] = value;
        v
    }

    #[test]
    fn accepts_good_claims_and_skew() {
        check(good()).unwrap();
        check(with("aud", json!(["ks"]))).unwrap();
        check(with("exp", json!(945))).unwrap();
        check(with("iat", json!(955))).unwrap();
    }

    #[test]
    fn refuses_bad_claims() {
        for (key, value) in [
            ("iss", json!("http://other")),
            ("aud", json!("other")),
            ("aud", json!(["ks", "other"])),
            ("exp", json!(939)),
            ("exp", json!("soon")),
            ("nbf", json!(961)),
            ("iat", json!(1200)),
            ("nonce", json!("m")),
            ("nonce", Value::Null),
            ("sub", json!("")),
            ("azp", json!("other")),
        ] {
            assert!(
                matches!(
                    check(with(key, value.clone())),
                    Err(IdpError::InvalidGrant(_))
                ),
                "{key}={value} accepted"
            );
        }
        let mut no_exp = good();
        no_exp.as_object_mut().unwrap().remove("exp");
        assert!(check(no_exp).is_err());
        let mut multi = with("aud", json!(["ks", "other"]));
        multi["azp"] = json!("ks");
        check(multi).unwrap();
    }

    #[test]
    fn decodes_compact_jws_only() {
        let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","kid":"k"}"#);
        let p = URL_SAFE_NO_PAD.encode(br#"{"sub":"x"}"#);
        let jwt = decode(&format!("{h}.{p}.AQID")).unwrap();
        assert_eq!(jwt.alg, "RS256");
        assert_eq!(jwt.kid.as_deref(), Some("k"));
        assert_eq!(jwt.signature, [1, 2, 3]);
        assert_eq!(jwt.signing_input, format!("{h}.{p}"));
        assert!(decode(&format!("{h}.{p}.")).is_err());
        assert!(decode(&format!("{h}.{p}")).is_err());
        assert!(decode(&format!("{h}.{p}.AQID.x")).is_err());
        assert!(decode("a.b.c").is_err());
        let crit = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","crit":["x"]}"#);
        assert!(decode(&format!("{crit}.{p}.AQID")).is_err());
    }
}
