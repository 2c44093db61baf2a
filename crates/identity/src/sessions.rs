//! Login sessions: one Secret per session in `kubesphere-system`, mirrored into a local cache by a watch.
//!
//! A session is what a token's `jti` names. Deleting its Secret revokes every token
//! of the session on every replica: each replica's watch removes it from its cache.
//! Propagation bound: the latency of the watch (milliseconds on a healthy
//! connection). While a replica's watch is broken it stops trusting cache entries
//! older than [`UNSYNCED_TRUST_SECS`] and the async path re-reads them from the
//! cluster, so a broken watch delays a revocation by at most that long.

use futures::StreamExt;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{DeleteParams, ListParams, ObjectMeta, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, ResourceExt};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use crate::clock::Clock;
use crate::kinds::SYSTEM_NAMESPACE;

/// Label on every session Secret.
pub const LABEL_SESSION: &str = "iam.kubesphere.io/session";
/// Label holding the session owner's User uid (uids are valid label values; names may not be).
pub const LABEL_USER_UID: &str = "iam.kubesphere.io/user-uid";
/// The Secret type of sessions.
pub const SECRET_TYPE: &str = "iam.kubesphere.io/session";
/// How long after issue a token's session may still be missing from a synced
/// cache because the watch has not delivered it yet.
pub const FRESH_SECS: i64 = 10;
/// How long a cache entry is trusted without a healthy watch.
pub const UNSYNCED_TRUST_SECS: i64 = 30;

/// One login session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The session id (the tokens' `jti`).
    pub id: String,
    /// The user logged in.
    pub username: String,
    /// The User's uid at login: a user deleted and recreated is a different user.
    pub uid: String,
    /// The OAuth client the session was issued to.
    pub client_id: String,
    /// When the session ends (the refresh token's expiry), Unix seconds.
    pub expires_at: i64,
    /// Set for a session created by `/oauth/authorize` until its code is redeemed.
    pub code_pending: bool,
}

#[derive(Debug, Clone)]
struct Entry {
    session: Session,
    confirmed_at: i64,
}

/// Errors of the session store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The cluster refused or failed a session operation.
    #[error("session store: {0}")]
    Kube(#[from] kube::Error),
}

/// The session store of one replica.
pub struct Sessions {
    api: Api<Secret>,
    clock: Arc<dyn Clock>,
    cache: RwLock<HashMap<String, Entry>>,
    synced: AtomicBool,
}

fn secret_name(id: &str) -> String {
    format!("session-{id}")
}

fn get_str(d: &BTreeMap<String, ByteString>, k: &str) -> Option<String> {
    d.get(k).and_then(|b| String::from_utf8(b.0.clone()).ok())
}

/// Reads a session Secret; None when it is not one of ours or is malformed.
pub fn from_secret(s: &Secret) -> Option<Session> {
    let name = s.metadata.name.as_deref()?;
    let id = name.strip_prefix("session-")?;
    let d = s.data.as_ref()?;
    Some(Session {
        id: id.to_string(),
        username: get_str(d, "username")?,
        uid: get_str(d, "uid").unwrap_or_default(),
        client_id: get_str(d, "client").unwrap_or_default(),
        expires_at: get_str(d, "expiresAt")?.parse().ok()?,
        code_pending: get_str(d, "code").is_some_and(|c| c == "pending"),
    })
}

fn to_secret(s: &Session) -> Secret {
    let mut data = BTreeMap::new();
    let mut put = |k: &str, v: &str| {
        data.insert(k.to_string(), ByteString(v.as_bytes().to_vec()));
    };
    put("username", &s.username);
    put("uid", &s.uid);
    put("client", &s.client_id);
    put("expiresAt", &s.expires_at.to_string());
    if s.code_pending {
        put("code", "pending");
    }
    let mut labels = BTreeMap::from([(LABEL_SESSION.to_string(), "true".to_string())]);
    if !s.uid.is_empty() {
        labels.insert(LABEL_USER_UID.to_string(), s.uid.clone());
    }
    Secret {
        metadata: ObjectMeta {
            name: Some(secret_name(&s.id)),
            namespace: Some(SYSTEM_NAMESPACE.into()),
            labels: Some(labels),
            ..Default::default()
        },
        type_: Some(SECRET_TYPE.into()),
        data: Some(data),
        ..Default::default()
    }
}

/// A new random session id: 128 bits, hex.
pub fn new_id() -> String {
    let mut b = [0u8; 16];
    // A failing system RNG leaves zeros; creating the Secret then conflicts and
    // the login fails rather than sharing a session.
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Sessions {
    /// A store over `client`'s cluster; call [`Sessions::run`] to keep the cache in step.
    pub fn new(client: kube::Client, clock: Arc<dyn Clock>) -> Self {
        Sessions {
            api: Api::namespaced(client, SYSTEM_NAMESPACE),
            clock,
            cache: RwLock::new(HashMap::new()),
            synced: AtomicBool::new(false),
        }
    }

    fn put(&self, session: Session) {
        let now = self.clock.now();
        if let Ok(mut c) = self.cache.write() {
            c.insert(
                session.id.clone(),
                Entry {
                    session,
                    confirmed_at: now,
                },
            );
        }
    }

    fn forget(&self, id: &str) {
        if let Ok(mut c) = self.cache.write() {
            c.remove(id);
        }
    }

    /// Stores a new session in the cluster and in the local cache at once.
    pub async fn create(&self, session: Session) -> Result<(), Error> {
        self.api
            .create(&PostParams::default(), &to_secret(&session))
            .await?;
        self.put(session);
        Ok(())
    }

    /// Replaces a session (new expiry, code redeemed), failing with 409 when it
    /// changed since `resource_version` so that a code is redeemed only once.
    pub async fn update(&self, session: Session, resource_version: String) -> Result<(), Error> {
        let mut s = to_secret(&session);
        s.metadata.resource_version = Some(resource_version);
        self.api
            .replace(&secret_name(&session.id), &PostParams::default(), &s)
            .await?;
        self.put(session);
        Ok(())
    }

    /// The session from the local cache only (no I/O), if alive.
    pub fn cached(&self, id: &str) -> Option<Session> {
        let now = self.clock.now();
        let synced = self.synced.load(Ordering::Acquire);
        let c = self.cache.read().ok()?;
        let e = c.get(id)?;
        if e.session.expires_at <= now {
            return None;
        }
        if !synced && now - e.confirmed_at > UNSYNCED_TRUST_SECS {
            return None;
        }
        Some(e.session.clone())
    }

    /// The session of a token issued at `issued_at`, from the cache or else with
    /// one GET (a session another replica created moments ago), if alive. With a
    /// healthy watch, a token older than [`FRESH_SECS`] whose session is not
    /// cached was revoked: no GET, so replaying revoked tokens costs the cluster
    /// nothing.
    pub async fn get(&self, id: &str, issued_at: i64) -> Option<Session> {
        if let Some(s) = self.cached(id) {
            return Some(s);
        }
        if self.synced.load(Ordering::Acquire) && self.clock.now() - issued_at > FRESH_SECS {
            return None;
        }
        self.fetch(id).await.ok().flatten().map(|(s, _)| s)
    }

    /// Reads the session from the cluster with its resourceVersion.
    pub async fn fetch(&self, id: &str) -> Result<Option<(Session, String)>, Error> {
        let Some(secret) = self.api.get_opt(&secret_name(id)).await? else {
            self.forget(id);
            return Ok(None);
        };
        let rv = secret.resource_version().unwrap_or_default();
        let Some(s) = from_secret(&secret) else {
            return Ok(None);
        };
        if s.expires_at <= self.clock.now() {
            return Ok(None);
        }
        self.put(s.clone());
        Ok(Some((s, rv)))
    }

    /// Revokes one session on every replica. Deleting an absent session succeeds.
    pub async fn revoke(&self, id: &str) -> Result<(), Error> {
        self.forget(id);
        match self
            .api
            .delete(&secret_name(id), &DeleteParams::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Revokes every session of the User with `uid` except `keep`.
    pub async fn revoke_user(&self, uid: &str, keep: Option<&str>) -> Result<usize, Error> {
        let lp = ListParams::default().labels(&format!("{LABEL_USER_UID}={uid}"));
        let list = self.api.list(&lp).await?;
        let mut n = 0;
        for s in list.items {
            let Some(sess) = from_secret(&s) else {
                continue;
            };
            if Some(sess.id.as_str()) == keep {
                continue;
            }
            self.revoke(&sess.id).await?;
            n += 1;
        }
        Ok(n)
    }

    /// Deletes sessions past their expiry; returns how many.
    pub async fn collect_expired(&self) -> Result<usize, Error> {
        let lp = ListParams::default().labels(&format!("{LABEL_SESSION}=true"));
        let now = self.clock.now();
        let mut n = 0;
        for s in self.api.list(&lp).await?.items {
            if let Some(sess) = from_secret(&s)
                && sess.expires_at <= now
            {
                self.revoke(&sess.id).await?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Number of sessions in the local cache (for metrics and tests).
    pub fn cached_len(&self) -> usize {
        self.cache.read().map(|c| c.len()).unwrap_or(0)
    }

    /// Keeps the cache in step with the cluster until the task is dropped.
    pub async fn run(self: Arc<Self>) {
        let cfg = watcher::Config::default().labels(&format!("{LABEL_SESSION}=true"));
        let mut stream = watcher(self.api.clone(), cfg).default_backoff().boxed();
        let mut fresh: Option<HashMap<String, Entry>> = None;
        while let Some(ev) = stream.next().await {
            let now = self.clock.now();
            match ev {
                Ok(watcher::Event::Init) => fresh = Some(HashMap::new()),
                Ok(watcher::Event::InitApply(s)) => {
                    if let (Some(f), Some(sess)) = (fresh.as_mut(), from_secret(&s)) {
                        f.insert(
                            sess.id.clone(),
                            Entry {
                                session: sess,
                                confirmed_at: now,
                            },
                        );
                    }
                }
                Ok(watcher::Event::InitDone) => {
                    if let (Some(f), Ok(mut c)) = (fresh.take(), self.cache.write()) {
                        *c = f;
                    }
                    self.synced.store(true, Ordering::Release);
                }
                Ok(watcher::Event::Apply(s)) => {
                    if let Some(sess) = from_secret(&s) {
                        self.put(sess);
                    }
                }
                Ok(watcher::Event::Delete(s)) => {
                    if let Some(sess) = from_secret(&s) {
                        self.forget(&sess.id);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "session watch failed; re-reading sessions on use");
                    self.synced.store(false, Ordering::Release);
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn secret_round_trip() {
        let s = Session {
            id: new_id(),
            username: "alice".into(),
            uid: "u-1".into(),
            client_id: "kubesphere".into(),
            expires_at: 42,
            code_pending: true,
        };
        assert_eq!(s.id.len(), 32);
        let secret = to_secret(&s);
        assert_eq!(secret.labels()[LABEL_USER_UID], "u-1");
        assert_eq!(from_secret(&secret), Some(s));
        let mut other = secret.clone();
        other.metadata.name = Some("oauth-signing-key".into());
        assert_eq!(from_secret(&other), None);
    }
}
