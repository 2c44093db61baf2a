//! JSON Web Key sets (RFC 7517) and signature checks with `ring` for RS256/384/512, PS256 and ES256/384.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey, VerificationAlgorithm};
use serde_json::Value;

/// The public part of one key.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyMaterial {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// Uncompressed point (`04 || x || y`) with its curve name.
    Ec {
        crv: String,
        point: Vec<u8>,
    },
}

/// One usable signing key from a JWKS document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwk {
    /// The key id, when the provider gives one.
    pub kid: Option<String>,
    /// The algorithm the key is restricted to, when given.
    pub alg: Option<String>,
    material: KeyMaterial,
}

/// The signing keys of a provider. Keys of other types, encryption keys and malformed
/// entries are skipped: one odd key must not make the others unusable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JwkSet {
    /// The keys.
    pub keys: Vec<Jwk>,
}

fn b64(v: &Value, field: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(v.get(field)?.as_str()?.trim_end_matches('='))
        .ok()
}

impl JwkSet {
    /// Reads a JWKS document (`{"keys": [...]}`).
    pub fn parse(doc: &Value) -> Option<JwkSet> {
        let keys = doc.get("keys")?.as_array()?;
        let keys = keys
            .iter()
            .filter(|k| {
                k.get("use")
                    .and_then(Value::as_str)
                    .is_none_or(|u| u == "sig")
            })
            .filter_map(|k| {
                let material = match k.get("kty")?.as_str()? {
                    "RSA" => KeyMaterial::Rsa {
                        n: b64(k, "n")?,
                        e: b64(k, "e")?,
                    },
                    "EC" => {
                        let crv = k.get("crv")?.as_str()?.to_string();
                        let size = match crv.as_str() {
                            "P-256" => 32,
                            "P-384" => 48,
                            _ => return None,
                        };
                        let (x, y) = (b64(k, "x")?, b64(k, "y")?);
                        if x.len() != size || y.len() != size {
                            return None;
                        }
                        let mut point = Vec::with_capacity(1 + 2 * size);
                        point.push(4);
                        point.extend(x);
                        point.extend(y);
                        KeyMaterial::Ec { crv, point }
                    }
                    _ => return None,
                };
                Some(Jwk {
                    kid: k.get("kid").and_then(Value::as_str).map(str::to_string),
                    alg: k.get("alg").and_then(Value::as_str).map(str::to_string),
                    material,
                })
            })
            .collect();
        Some(JwkSet { keys })
    }

    /// The keys that may have produced a signature with `alg` and `kid`: the key with that
    /// id, or, for a token without `kid`, every key of the right type.
    pub fn candidates<'a>(
        &'a self,
        kid: Option<&'a str>,
        alg: &'a str,
    ) -> impl Iterator<Item = &'a Jwk> {
        self.keys.iter().filter(move |k| {
            kid.is_none_or(|kid| k.kid.as_deref() == Some(kid))
                && k.alg.as_deref().is_none_or(|a| a == alg)
                && k.fits(alg)
        })
    }
}

impl Jwk {
    fn fits(&self, alg: &str) -> bool {
        match (&self.material, alg) {
            (KeyMaterial::Rsa { .. }, "RS256" | "RS384" | "RS512" | "PS256") => true,
            (KeyMaterial::Ec { crv, .. }, "ES256") => crv == "P-256",
            (KeyMaterial::Ec { crv, .. }, "ES384") => crv == "P-384",
            _ => false,
        }
    }

    /// Checks `signature` over `message` for `alg`. Only asymmetric algorithms exist here:
    /// `none` and HMAC tokens can never verify.
    pub fn verify(&self, alg: &str, message: &[u8], signature: &[u8]) -> bool {
        if !self.fits(alg) {
            return false;
        }
        match &self.material {
            KeyMaterial::Rsa { n, e } => {
                let params: &signature::RsaParameters = match alg {
                    "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
                    "RS384" => &signature::RSA_PKCS1_2048_8192_SHA384,
                    "RS512" => &signature::RSA_PKCS1_2048_8192_SHA512,
                    "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
                    _ => return false,
                };
                RsaPublicKeyComponents { n, e }
                    .verify(params, message, signature)
                    .is_ok()
            }
            KeyMaterial::Ec { point, .. } => {
                let algorithm: &dyn VerificationAlgorithm = match alg {
                    "ES256" => &signature::ECDSA_P256_SHA256_FIXED,
                    "ES384" => &signature::ECDSA_P384_SHA384_FIXED,
                    _ => return false,
                };
                UnparsedPublicKey::new(algorithm, point)
                    .verify(message, signature)
                    .is_ok()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use serde_json::json;

    fn es256_key() -> (EcdsaKeyPair, Value) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let public = pair.public_key().as_ref();
        let jwk = json!({
            "kty": "EC", "crv": "P-256", "kid": "ec1", "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(&public[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&public[33..65]),
        });
        (pair, jwk)
    }

    #[test]
    fn es256_signatures_verify_and_tampering_fails() {
        let (pair, jwk) = es256_key();
        let set = JwkSet::parse(&json!({"keys": [jwk, {"kty": "oct", "k": "AAAA"}]})).unwrap();
        assert_eq!(set.keys.len(), 1, "symmetric keys are never usable");
        let sig = pair.sign(&SystemRandom::new(), b"hello").unwrap();
        let key = set.candidates(Some("ec1"), "ES256").next().unwrap();
        assert!(key.verify("ES256", b"hello", sig.as_ref()));
        assert!(!key.verify("ES256", b"hellO", sig.as_ref()));
        assert!(!key.verify("RS256", b"hello", sig.as_ref()));
        assert!(!key.verify("none", b"hello", b""));
        assert!(set.candidates(Some("other"), "ES256").next().is_none());
        assert!(set.candidates(None, "ES256").next().is_some());
        assert!(set.candidates(None, "HS256").next().is_none());
    }

    #[test]
    fn skips_malformed_and_encryption_keys() {
        let set = JwkSet::parse(&json!({"keys": [
            {"kty": "RSA", "n": "!!", "e": "AQAB"},
            {"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "EC", "crv": "P-256", "x": "AQAB", "y": "AQAB"},
            {"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "r"},
        ]}))
        .unwrap();
        assert_eq!(set.keys.len(), 1);
        assert_eq!(set.keys[0].kid.as_deref(), Some("r"));
        assert!(JwkSet::parse(&json!({"nokeys": []})).is_none());
    }
}
