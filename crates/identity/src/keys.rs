//! The per-install ES256 token signing key: generated once, kept in a Secret, published as a JWKS.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::Api;
use kube::api::{ObjectMeta, PostParams};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use std::collections::BTreeMap;

use crate::kinds::SYSTEM_NAMESPACE;

/// The Secret (in `kubesphere-system`) holding the signing key.
pub const SECRET_NAME: &str = "oauth-signing-key";
/// The Secret's data key: the private key as PKCS#8 DER.
pub const SECRET_KEY: &str = "es256.pk8";

/// Why the signing key could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The random number generator or ring rejected the key material.
    #[error("the token signing key is unusable: {0}")]
    Crypto(String),
    /// Reading or creating the Secret failed.
    #[error("cannot read or create the Secret {SYSTEM_NAMESPACE}/{SECRET_NAME}: {0}")]
    Kube(#[source] kube::Error),
    /// The Secret exists but holds no key.
    #[error(
        "the Secret {SYSTEM_NAMESPACE}/{SECRET_NAME} has no {SECRET_KEY} entry; delete it to generate a new key"
    )]
    Missing,
}

/// An ES256 key pair with its JWK form and RFC 7638 thumbprint as `kid`.
pub struct SigningKey {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
    kid: String,
    jwk: serde_json::Value,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish()
    }
}

impl SigningKey {
    /// A fresh random key, returned with its PKCS#8 encoding for storage.
    pub fn generate() -> Result<(SigningKey, Vec<u8>), Error> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| Error::Crypto("key generation failed".into()))?;
        let der = pkcs8.as_ref().to_vec();
        Ok((SigningKey::from_pkcs8(&der)?, der))
    }

    /// Loads a key from PKCS#8 DER.
    pub fn from_pkcs8(der: &[u8]) -> Result<SigningKey, Error> {
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng)
            .map_err(|e| Error::Crypto(e.to_string()))?;
        // An uncompressed P-256 point: 0x04 || x (32 bytes) || y (32 bytes).
        let public = pair.public_key().as_ref();
        if public.len() != 65 {
            return Err(Error::Crypto("unexpected public key length".into()));
        }
        let x = URL_SAFE_NO_PAD.encode(&public[1..33]);
        let y = URL_SAFE_NO_PAD.encode(&public[33..65]);
        // RFC 7638: the required members in lexicographic order, no whitespace.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(ring::digest::digest(
            &ring::digest::SHA256,
            canonical.as_bytes(),
        ));
        let jwk = serde_json::json!({
            "kty": "EC", "crv": "P-256", "x": x, "y": y,
            "use": "sig", "alg": "ES256", "kid": kid,
        });
        Ok(SigningKey {
            pair,
            rng,
            kid,
            jwk,
        })
    }

    /// The key id: the RFC 7638 thumbprint of the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> &serde_json::Value {
        &self.jwk
    }

    /// The JWKS document served at `/oauth/keys`.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": [self.jwk] })
    }

    /// An ES256 signature (r || s, 64 bytes) of `msg`.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, Error> {
        self.pair
            .sign(&self.rng, msg)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| Error::Crypto("signing failed".into()))
    }

    /// Whether `sig` is this key's ES256 signature of `msg`.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, self.pair.public_key().as_ref())
            .verify(msg, sig)
            .is_ok()
    }
}

/// Loads the install's signing key from its Secret, creating key and Secret on
/// first start. Creation is an atomic create: when several replicas start at
/// once, the one whose create succeeds wins and the others read its key.
pub async fn load_or_create(client: &kube::Client) -> Result<SigningKey, Error> {
    ensure_namespace(client).await.map_err(Error::Kube)?;
    let api: Api<Secret> = Api::namespaced(client.clone(), SYSTEM_NAMESPACE);
    if let Some(s) = api.get_opt(SECRET_NAME).await.map_err(Error::Kube)? {
        return from_secret(&s);
    }
    let (key, der) = SigningKey::generate()?;
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(SECRET_NAME.into()),
            namespace: Some(SYSTEM_NAMESPACE.into()),
            labels: Some(BTreeMap::from([(
                "app.kubernetes.io/managed-by".to_string(),
                "ferrosphere".to_string(),
            )])),
            ..Default::default()
        },
        type_: Some("Opaque".into()),
        data: Some(BTreeMap::from([(SECRET_KEY.to_string(), ByteString(der))])),
        ..Default::default()
    };
    match api.create(&PostParams::default(), &secret).await {
        Ok(_) => Ok(key),
        Err(kube::Error::Api(s)) if s.code == 409 => {
            let s = api.get(SECRET_NAME).await.map_err(Error::Kube)?;
            from_secret(&s)
        }
        Err(e) => Err(Error::Kube(e)),
    }
}

fn from_secret(s: &Secret) -> Result<SigningKey, Error> {
    let der = s
        .data
        .as_ref()
        .and_then(|d| d.get(SECRET_KEY))
        .map(|b| b.0.clone())
        .or_else(|| {
            s.string_data
                .as_ref()
                .and_then(|d| d.get(SECRET_KEY))
                .and_then(|t| STANDARD.decode(t).ok())
        })
        .ok_or(Error::Missing)?;
    SigningKey::from_pkcs8(&der)
}

/// Creates the platform's system namespace unless it exists.
pub(crate) async fn ensure_namespace(client: &kube::Client) -> Result<(), kube::Error> {
    let api: Api<Namespace> = Api::all(client.clone());
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(SYSTEM_NAMESPACE.into()),
            ..Default::default()
        },
        ..Default::default()
    };
    match api.create(&PostParams::default(), &ns).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        // Without create permission the namespace may still exist (a real cluster
        // where an operator made it); the Secret access that follows will tell.
        Err(kube::Error::Api(s)) if s.code == 403 => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_kid_is_the_thumbprint() {
        let (a, der) = SigningKey::generate().unwrap();
        let (b, _) = SigningKey::generate().unwrap();
        assert_ne!(a.kid(), b.kid());
        assert_eq!(a.kid().len(), 43);
        let again = SigningKey::from_pkcs8(&der).unwrap();
        assert_eq!(again.kid(), a.kid());
        let sig = a.sign(b"msg").unwrap();
        assert_eq!(sig.len(), 64);
        assert!(again.verify(b"msg", &sig));
        assert!(!b.verify(b"msg", &sig));
        assert!(!a.verify(b"msg2", &sig));
        let jwks = a.jwks();
        assert_eq!(jwks["keys"][0]["kid"], a.kid());
        assert_eq!(jwks["keys"][0]["alg"], "ES256");
        assert!(jwks["keys"][0].get("d").is_none());
    }

    #[test]
    fn rfc7638_thumbprint_matches_the_spec_example_shape() {
        // The thumbprint is over exactly crv, kty, x, y; recompute independently.
        let (k, _) = SigningKey::generate().unwrap();
        let j = k.jwk();
        let canonical = serde_json::to_string(&serde_json::json!({
            "crv": j["crv"], "kty": j["kty"], "x": j["x"], "y": j["y"]
        }))
        .unwrap();
        let want = URL_SAFE_NO_PAD.encode(ring::digest::digest(
            &ring::digest::SHA256,
            canonical.as_bytes(),
        ));
        assert_eq!(k.kid(), want);
    }
}
