//! ServiceAccount tokens: ES256 JWTs signed with a key generated per install and
//! kept in the data dir, issued through `serviceaccounts/{name}/token`
//! (TokenRequest), accepted as bearer tokens while their ServiceAccount (and the
//! Pod or Secret they are bound to, if any) still exists with the same uid, and
//! reviewed through TokenReview. Other bearer-token
//! authenticators (the platform's OAuth tokens) plug in beside it.

use apimachinery::UserInfo;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};
use std::path::Path;

/// The issuer and default audience of the kernel's tokens, as kube-apiserver's default.
pub const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

const KEY_FILE: &str = "sa-signing.pk8";

/// Why the signing key could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or write the service account signing key {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the service account signing key {0} is not a valid P-256 PKCS#8 key; move it away to generate a new one (existing tokens stop working)"
    )]
    Invalid(std::path::PathBuf),
}

/// Signs and verifies tokens.
pub struct TokenSigner {
    key: EcdsaKeyPair,
    kid: String,
    rng: SystemRandom,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner")
            .field("kid", &self.kid)
            .finish()
    }
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

impl TokenSigner {
    /// Loads `DIR/sa-signing.pk8`, creating it (mode 0600) on first start.
    pub fn load_or_create(dir: &Path) -> Result<Self, KeyError> {
        let path = dir.join(KEY_FILE);
        let rng = SystemRandom::new();
        let io = |source| KeyError::Io {
            path: path.clone(),
            source,
        };
        let pkcs8 = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let doc =
                    EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                        .map_err(|_| KeyError::Invalid(path.clone()))?;
                let tmp = dir.join(format!("{KEY_FILE}.tmp"));
                write_private(&tmp, doc.as_ref()).map_err(io)?;
                std::fs::rename(&tmp, &path).map_err(io)?;
                doc.as_ref().to_vec()
            }
            Err(e) => return Err(io(e)),
        };
        let key =
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &rng)
                .map_err(|_| KeyError::Invalid(path.clone()))?;
        let digest = ring::digest::digest(&ring::digest::SHA256, key.public_key().as_ref());
        let kid = b64(&digest.as_ref()[..16]);
        Ok(TokenSigner { key, kid, rng })
    }

    pub fn sign(&self, claims: &Value) -> Option<String> {
        let header = json!({"alg": "ES256", "kid": self.kid});
        let input = format!(
            "{}.{}",
            b64(&serde_json::to_vec(&header).ok()?),
            b64(&serde_json::to_vec(claims).ok()?)
        );
        let sig = self.key.sign(&self.rng, input.as_bytes()).ok()?;
        Some(format!("{input}.{}", b64(sig.as_ref())))
    }

    /// The claims of a token this signer issued, if its signature checks out.
    /// Expiry and audience are the caller's to check.
    pub fn verify(&self, token: &str) -> Option<Value> {
        let mut parts = token.split('.');
        let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let dec = |x: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(x)
                .ok()
        };
        let header: Value = serde_json::from_slice(&dec(h)?).ok()?;
        if header.get("alg").and_then(Value::as_str) != Some("ES256")
            || header.get("kid").and_then(Value::as_str) != Some(&self.kid)
        {
            return None;
        }
        let public = signature::UnparsedPublicKey::new(
            &signature::ECDSA_P256_SHA256_FIXED,
            self.key.public_key().as_ref(),
        );
        public
            .verify(format!("{h}.{p}").as_bytes(), &dec(s)?)
            .ok()?;
        serde_json::from_slice(&dec(p)?).ok()
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// A bearer-token authenticator besides ServiceAccount tokens (e.g. the platform's
/// OAuth access tokens).
pub trait TokenAuthenticator: Send + Sync + 'static {
    /// The token's user, or None if this authenticator does not accept it.
    fn authenticate(&self, token: &str) -> Option<UserInfo>;
}

/// The claims of a new ServiceAccount token.
pub fn claims(
    namespace: &str,
    sa: &str,
    sa_uid: &str,
    audiences: &[String],
    now: i64,
    expiration: i64,
) -> Value {
    json!({
        "aud": audiences,
        "exp": now + expiration,
        "iat": now,
        "iss": ISSUER,
        "jti": uuid::Uuid::new_v4().to_string(),
        "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": sa, "uid": sa_uid}},
        "nbf": now,
        "sub": format!("system:serviceaccount:{namespace}:{sa}"),
    })
}

/// What a verified ServiceAccount token says, before the account is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaClaims {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub audiences: Vec<String>,
}

/// Checks issuer, time window (60 s of clock skew allowed, as kube does) and
/// audience (`want` must share one with the token).
pub fn check_claims(c: &Value, now: i64, want: &[String]) -> Option<SaClaims> {
    if c.get("iss").and_then(Value::as_str) != Some(ISSUER) {
        return None;
    }
    let exp = c.get("exp").and_then(Value::as_i64)?;
    let nbf = c.get("nbf").and_then(Value::as_i64).unwrap_or(0);
    if now >= exp + 60 || now + 60 < nbf {
        return None;
    }
    let auds: Vec<String> = match c.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    };
    if !auds.iter().any(|a| want.contains(a)) {
        return None;
    }
    let k = c.get("kubernetes.io")?;
    Some(SaClaims {
        namespace: k.get("namespace")?.as_str()?.to_string(),
        name: k.pointer("/serviceaccount/name")?.as_str()?.to_string(),
        uid: k.pointer("/serviceaccount/uid")?.as_str()?.to_string(),
        audiences: auds,
    })
}

/// The object a token is bound to (TokenRequest `spec.boundObjectRef`): the token
/// stops authenticating once the object is gone or replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundObject {
    /// `pod` or `secret`, as the claim names it.
    pub claim: &'static str,
    pub name: String,
    pub uid: String,
}

/// Resolves a TokenRequest's `boundObjectRef` for ServiceAccount `sa` against
/// `lookup(plural, name)` (the current object in the account's namespace), with
/// kube-apiserver's errors.
pub fn resolve_bound_object(
    sa: &str,
    reference: &Value,
    lookup: impl Fn(&str, &str) -> Option<Value>,
) -> Result<BoundObject, apimachinery::StatusError> {
    use apimachinery::StatusError;
    let kind = reference.get("kind").and_then(Value::as_str).unwrap_or("");
    let api_version = reference
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let name = reference
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let want_uid = reference.get("uid").and_then(Value::as_str).unwrap_or("");
    let (claim, plural) = match (api_version, kind) {
        ("v1", "Pod") => ("pod", "pods"),
        ("v1", "Secret") => ("secret", "secrets"),
        _ => {
            let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
            let version = api_version.rsplit_once('/').map_or(api_version, |(_, v)| v);
            return Err(StatusError::bad_request(format!(
                "cannot bind token for serviceaccount {sa:?} to object of type {group}/{version}, Kind={kind}"
            )));
        }
    };
    let obj = lookup(plural, &name).ok_or_else(|| StatusError::not_found(plural, "", &name))?;
    if claim == "pod"
        && obj
            .pointer("/spec/serviceAccountName")
            .and_then(Value::as_str)
            != Some(sa)
    {
        return Err(StatusError::bad_request(format!(
            "cannot bind token for serviceaccount {sa:?} to pod running with different serviceaccount name."
        )));
    }
    let uid = obj
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if !want_uid.is_empty() && want_uid != uid {
        return Err(StatusError::conflict(
            kind,
            "",
            &name,
            &format!(
                "the UID in the bound object reference ({want_uid}) does not match the UID in record. The object might have been deleted and then recreated"
            ),
        ));
    }
    Ok(BoundObject { claim, name, uid })
}

/// Records the bound object in the token's `kubernetes.io` claim.
pub fn bind_claims(claims: &mut Value, b: &BoundObject) {
    if let Some(k) = claims
        .get_mut("kubernetes.io")
        .and_then(Value::as_object_mut)
    {
        k.insert(b.claim.into(), json!({"name": b.name, "uid": b.uid}));
    }
}

/// The object a token's claims bind it to, if any.
pub fn bound_object(c: &Value) -> Option<BoundObject> {
    ["pod", "secret"].into_iter().find_map(|claim| {
        let o = c.get("kubernetes.io")?.get(claim)?;
        Some(BoundObject {
            claim,
            name: o.get("name")?.as_str()?.to_string(),
            uid: o.get("uid")?.as_str()?.to_string(),
        })
    })
}

/// Whether the bound object is still there with the same uid and not being
/// deleted: `current` is the object now stored under the token's name.
pub fn bound_object_valid(b: &BoundObject, current: Option<&Value>) -> bool {
    current.is_some_and(|o| {
        o.pointer("/metadata/uid").and_then(Value::as_str) == Some(b.uid.as_str())
            && o.pointer("/metadata/deletionTimestamp").is_none()
    })
}

/// The identity of a ServiceAccount.
pub fn sa_user(c: &SaClaims) -> UserInfo {
    let mut u = UserInfo::new(
        format!("system:serviceaccount:{}:{}", c.namespace, c.name),
        vec![
            "system:serviceaccounts".into(),
            format!("system:serviceaccounts:{}", c.namespace),
            "system:authenticated".into(),
        ],
    );
    u.uid = c.uid.clone();
    u
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_objects() {
        let pod = json!({"metadata": {"name": "p", "uid": "pod-1"}, "spec": {"serviceAccountName": "sa"}});
        let lookup =
            |plural: &str, name: &str| (plural == "pods" && name == "p").then(|| pod.clone());
        let r = json!({"kind": "Pod", "apiVersion": "v1", "name": "p", "uid": "pod-1"});
        let b = resolve_bound_object("sa", &r, lookup).expect("bound");
        assert_eq!(
            b,
            BoundObject {
                claim: "pod",
                name: "p".into(),
                uid: "pod-1".into()
            }
        );
        let mut c = claims("ns", "sa", "u-1", &[ISSUER.to_string()], 1_000, 3_600);
        bind_claims(&mut c, &b);
        assert_eq!(
            c["kubernetes.io"]["pod"],
            json!({"name": "p", "uid": "pod-1"})
        );
        assert_eq!(bound_object(&c), Some(b.clone()));
        assert!(bound_object_valid(&b, Some(&pod)));
        assert!(!bound_object_valid(&b, None), "deleted");
        let recreated = json!({"metadata": {"name": "p", "uid": "pod-2"}});
        assert!(!bound_object_valid(&b, Some(&recreated)), "recreated");

        let stale = json!({"kind": "Pod", "apiVersion": "v1", "name": "p", "uid": "pod-0"});
        let e = resolve_bound_object("sa", &stale, lookup).expect_err("uid mismatch");
        assert_eq!(e.code(), 409);
        let e = resolve_bound_object("other", &r, lookup).expect_err("other account");
        assert_eq!(
            e.status.message,
            "cannot bind token for serviceaccount \"other\" to pod running with different serviceaccount name."
        );
        let node = json!({"kind": "ConfigMap", "apiVersion": "v1", "name": "x"});
        let e = resolve_bound_object("sa", &node, lookup).expect_err("kind");
        assert_eq!(
            e.status.message,
            "cannot bind token for serviceaccount \"sa\" to object of type /v1, Kind=ConfigMap"
        );
        let missing = json!({"kind": "Secret", "apiVersion": "v1", "name": "gone"});
        assert_eq!(
            resolve_bound_object("sa", &missing, lookup)
                .expect_err("404")
                .code(),
            404
        );
    }

    #[test]
    fn sign_verify_and_claims() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = TokenSigner::load_or_create(dir.path()).expect("key");
        let c = claims("ns", "sa", "u-1", &[ISSUER.to_string()], 1_000, 3_600);
        let t = s.sign(&c).expect("signed");
        let back = s.verify(&t).expect("verifies");
        let sa = check_claims(&back, 1_010, &[ISSUER.to_string()]).expect("valid");
        assert_eq!(
            (sa.namespace.as_str(), sa.name.as_str(), sa.uid.as_str()),
            ("ns", "sa", "u-1")
        );
        assert!(
            check_claims(&back, 1_000 + 3_600 + 61, &[ISSUER.to_string()]).is_none(),
            "expired"
        );
        assert!(
            check_claims(&back, 1_010, &["other".to_string()]).is_none(),
            "wrong audience"
        );
        // Tampering with the payload breaks the signature.
        let mut parts: Vec<&str> = t.split('.').collect();
        let forged = b64(serde_json::to_vec(&claims(
            "kube-system",
            "admin",
            "u-1",
            &[ISSUER.to_string()],
            1_000,
            3_600,
        ))
        .expect("json")
        .as_slice());
        parts[1] = &forged;
        assert!(s.verify(&parts.join(".")).is_none());
        // Another install's key does not verify this one's tokens.
        let other = tempfile::tempdir().expect("tempdir");
        let s2 = TokenSigner::load_or_create(other.path()).expect("key");
        assert!(s2.verify(&t).is_none());
        // The key survives a restart.
        let again = TokenSigner::load_or_create(dir.path()).expect("reload");
        assert!(again.verify(&t).is_some());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
