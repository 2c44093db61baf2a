//! A local cache of the facts about Users that token verification needs, fed by a watch (never the password hashes).

use futures::StreamExt;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, ResourceExt};
use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::kinds::{User, UserState};

/// What verification and login need to know about a User.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFacts {
    /// metadata.name.
    pub name: String,
    /// metadata.uid.
    pub uid: String,
    /// spec.groups.
    pub groups: Vec<String>,
    /// status.state.
    pub state: UserState,
    /// spec.email.
    pub email: String,
    /// spec.displayName.
    pub display_name: Option<String>,
    /// Must change the password.
    pub uninitialized: bool,
}

impl UserFacts {
    /// The facts of `u`.
    pub fn of(u: &User) -> Self {
        UserFacts {
            name: u.name_any(),
            uid: u.uid().unwrap_or_default(),
            groups: u.spec.groups.clone(),
            state: u.state(),
            email: u.spec.email.clone(),
            display_name: u.spec.display_name.clone(),
            uninitialized: u.uninitialized(),
        }
    }
}

/// The user cache of one replica.
pub struct Users {
    api: Api<User>,
    cache: RwLock<HashMap<String, UserFacts>>,
    synced: AtomicBool,
}

impl Users {
    /// A cache over `client`'s Users; call [`Users::run`] to fill it.
    pub fn new(client: kube::Client) -> Self {
        Users {
            api: Api::all(client),
            cache: RwLock::new(HashMap::new()),
            synced: AtomicBool::new(false),
        }
    }

    /// The Users API of the platform client.
    pub fn api(&self) -> &Api<User> {
        &self.api
    }

    /// The cached facts of `name`.
    pub fn cached(&self, name: &str) -> Option<UserFacts> {
        self.cache.read().ok()?.get(name).cloned()
    }

    /// Cached facts, or one GET when the cache does not know the user yet.
    pub async fn get(&self, name: &str) -> Option<UserFacts> {
        if let Some(f) = self.cached(name) {
            return Some(f);
        }
        let u = self.api.get_opt(name).await.ok().flatten()?;
        let f = UserFacts::of(&u);
        self.remember(&u);
        Some(f)
    }

    /// The user whose email is `email`, from the cache (KubeSphere lets users log
    /// in with their email address).
    pub fn by_email(&self, email: &str) -> Option<String> {
        let c = self.cache.read().ok()?;
        let mut hits = c.values().filter(|f| f.email.eq_ignore_ascii_case(email));
        let first = hits.next()?;
        // An email shared by two users identifies neither.
        if hits.next().is_some() {
            return None;
        }
        Some(first.name.clone())
    }

    /// Updates the cache from an object just read or written.
    pub fn remember(&self, u: &User) {
        if let Ok(mut c) = self.cache.write() {
            c.insert(u.name_any(), UserFacts::of(u));
        }
    }

    /// Whether the watch has delivered its first full list.
    pub fn synced(&self) -> bool {
        self.synced.load(Ordering::Acquire)
    }

    /// Keeps the cache in step with the cluster until the task is dropped.
    pub async fn run(&self) {
        let mut stream = watcher(self.api.clone(), watcher::Config::default())
            .default_backoff()
            .boxed();
        let mut fresh: Option<HashMap<String, UserFacts>> = None;
        while let Some(ev) = stream.next().await {
            match ev {
                Ok(watcher::Event::Init) => fresh = Some(HashMap::new()),
                Ok(watcher::Event::InitApply(u)) => {
                    if let Some(f) = fresh.as_mut() {
                        f.insert(u.name_any(), UserFacts::of(&u));
                    }
                }
                Ok(watcher::Event::InitDone) => {
                    if let (Some(f), Ok(mut c)) = (fresh.take(), self.cache.write()) {
                        *c = f;
                    }
                    self.synced.store(true, Ordering::Release);
                }
                Ok(watcher::Event::Apply(u)) => self.remember(&u),
                Ok(watcher::Event::Delete(u)) => {
                    if let Ok(mut c) = self.cache.write() {
                        c.remove(&u.name_any());
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "user watch failed");
                    self.synced.store(false, Ordering::Release);
                }
            }
        }
    }
}
