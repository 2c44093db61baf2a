//! The login flows behind `/oauth/token`: password (local or an identity provider), refresh, and mapping external identities to Users.

use kube::ResourceExt;
use kube::api::{ObjectMeta, Patch, PatchParams, PostParams};

use crate::clock::k8s_time;
use crate::jwt::{self, TokenType};
use crate::kinds::{ANNOTATION_IDENTITY_PROVIDER, LoginRecordType, User, UserSpec, UserState};
use crate::records::{self, Attempt};
use crate::service::{Identity, TokenResponse};
use crate::users::UserFacts;

/// Why a login failed; each maps to an OAuth2 error and HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Wrong username or password, bad refresh token, unknown user.
    #[error("{0}")]
    InvalidGrant(String),
    /// The account is locked (KubeSphere's message; HTTP 429).
    #[error("auth rate limit exceeded")]
    Locked,
    /// Too many requests from one address (HTTP 429).
    #[error("too many login requests from this address; try again later")]
    RateLimited,
    /// The identity provider failed.
    #[error(transparent)]
    Provider(#[from] idp::IdpError),
    /// The cluster failed.
    #[error("login failed: {0}")]
    Internal(String),
}

impl LoginError {
    /// The OAuth2 `error` code.
    pub fn code(&self) -> &'static str {
        match self {
            LoginError::InvalidGrant(_) | LoginError::Locked | LoginError::RateLimited => {
                "invalid_grant"
            }
            LoginError::Provider(e) => e.oauth_error(),
            LoginError::Internal(_) => "server_error",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> http::StatusCode {
        match self {
            LoginError::InvalidGrant(_) => http::StatusCode::BAD_REQUEST,
            LoginError::Locked | LoginError::RateLimited => http::StatusCode::TOO_MANY_REQUESTS,
            LoginError::Provider(e) => e.http_status(),
            LoginError::Internal(_) => http::StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

fn internal(e: impl std::fmt::Display) -> LoginError {
    LoginError::Internal(e.to_string())
}

/// Where a login comes from, for LoginRecords and the per-address limit.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// The OAuth client id.
    pub client_id: String,
    /// The client's address.
    pub source_ip: String,
    /// Its User-Agent.
    pub user_agent: String,
}

/// The source address recorded when the request's peer is not known.
pub const UNKNOWN_SOURCE: &str = "unknown";

const BAD_CREDENTIALS: &str = "incorrect username or password";

/// KubeSphere v4's `error_description` for a login of a Disabled user (HTTP 400, `invalid_grant`).
pub const ACCOUNT_SUSPENDED: &str = "Account suspended.";

impl Identity {
    /// Takes a token from the per-address bucket. Requests whose address is
    /// unknown are not limited here: one shared bucket for all of them would let
    /// a single client lock everyone out (the per-user lockout still applies).
    pub fn admit(&self, source_ip: &str) -> Result<(), LoginError> {
        if source_ip == UNKNOWN_SOURCE {
            return Ok(());
        }
        let ms = self.now().saturating_mul(1000);
        if self.inner.limiter.allow(source_ip, ms) {
            Ok(())
        } else {
            Err(LoginError::RateLimited)
        }
    }

    async fn record(
        &self,
        user: &str,
        kind: LoginRecordType,
        provider: &str,
        c: &Client,
        ok: bool,
        reason: &str,
    ) {
        let r = records::record(
            &self.record_api(),
            Attempt {
                username: user,
                kind,
                provider,
                source_ip: &c.source_ip,
                user_agent: &c.user_agent,
                success: ok,
                reason,
            },
        )
        .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, user, "cannot write LoginRecord");
        }
    }

    async fn mark_login(&self, user: &str) {
        let patch = serde_json::json!({"status": {"lastLoginTime": k8s_time(self.now())}});
        if let Err(e) = self
            .user_api()
            .patch_status(user, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            tracing::warn!(error = %e, user, "cannot update lastLoginTime");
        }
    }

    /// The password grant. `provider` names an identity provider (LDAP) or is
    /// empty for the local password.
    pub async fn login_password(
        &self,
        username: &str,
        password: &str,
        provider: &str,
        c: &Client,
    ) -> Result<TokenResponse, LoginError> {
        if username.is_empty() || password.is_empty() {
            return Err(LoginError::InvalidGrant(BAD_CREDENTIALS.into()));
        }
        if !provider.is_empty() {
            return self.login_provider(username, password, provider, c).await;
        }
        let mut name = username.to_string();
        if self.users().get(&name).await.is_none()
            && username.contains('@')
            && let Some(n) = self.users().by_email(username)
        {
            name = n;
        }
        let api = self.user_api();
        let policy = self.options().lockout();
        let attempt = crate::sessions::new_id();
        let now = self.now();
        let user = match crate::lockout::reserve(&api, &name, &attempt, now, policy).await {
            Ok(u) => u,
            Err(crate::lockout::Error::NotFound) => {
                // Spend the time a real check would, so response times do not tell
                // which usernames exist.
                let _ = verify_blocking(password.to_string(), DUMMY_HASH.to_string()).await;
                return Err(LoginError::InvalidGrant(BAD_CREDENTIALS.into()));
            }
            // No LoginRecord for refused attempts: each would be a write an
            // attacker could trigger at will; the User's state shows the lock.
            Err(crate::lockout::Error::Locked) => return Err(LoginError::Locked),
            Err(crate::lockout::Error::Contention) => return Err(LoginError::Locked),
            Err(e) => return Err(internal(e)),
        };
        let stored = user.spec.password.clone().unwrap_or_default();
        let ok = verify_blocking(password.to_string(), stored.clone()).await;
        if !ok {
            let locked = crate::lockout::record_failure(&api, &name, now, policy)
                .await
                .map_err(internal)?;
            self.record(&name, LoginRecordType::Token, "", c, false, BAD_CREDENTIALS)
                .await;
            tracing::info!(user = %name, locked, "failed login");
            return Err(LoginError::InvalidGrant(BAD_CREDENTIALS.into()));
        }
        let rehash = if crate::password::needs_rehash(&stored) {
            let plain = password.to_string();
            tokio::task::spawn_blocking(move || crate::password::hash(&plain))
                .await
                .map_err(internal)?
                .ok()
        } else {
            None
        };
        let user = crate::lockout::release(&api, &name, &attempt, now, policy, rehash.as_deref())
            .await
            .map_err(internal)?;
        if user.state() == UserState::Disabled {
            self.record(
                &name,
                LoginRecordType::Token,
                "",
                c,
                false,
                ACCOUNT_SUSPENDED,
            )
            .await;
            return Err(LoginError::InvalidGrant(ACCOUNT_SUSPENDED.into()));
        }
        self.finish_login(&user, LoginRecordType::Token, "", c)
            .await
    }

    /// Finishes a login through an external provider for the mapped `user`.
    pub async fn finish_external(
        &self,
        user: &User,
        kind: LoginRecordType,
        provider: &str,
        c: &Client,
    ) -> Result<TokenResponse, LoginError> {
        if user.state() == UserState::Disabled {
            return Err(LoginError::InvalidGrant(ACCOUNT_SUSPENDED.into()));
        }
        self.finish_login(user, kind, provider, c).await
    }

    async fn finish_login(
        &self,
        user: &User,
        kind: LoginRecordType,
        provider: &str,
        c: &Client,
    ) -> Result<TokenResponse, LoginError> {
        self.users().remember(user);
        let facts = UserFacts::of(user);
        let (_, tokens) = self
            .open_session(&facts, &c.client_id)
            .await
            .map_err(internal)?;
        self.record(&facts.name, kind, provider, c, true, "").await;
        self.mark_login(&facts.name).await;
        Ok(tokens)
    }

    async fn login_provider(
        &self,
        username: &str,
        password: &str,
        provider: &str,
        c: &Client,
    ) -> Result<TokenResponse, LoginError> {
        let registry = self.providers();
        let (cfg, p) = registry.password(provider)?;
        let api = self.user_api();
        let policy = self.options().lockout();
        let attempt = crate::sessions::new_id();
        let now = self.now();
        // Lockout applies to users that already exist here; a first login through
        // the provider has no User to count against yet.
        let reserved = match crate::lockout::reserve(&api, username, &attempt, now, policy).await {
            Ok(_) => true,
            Err(crate::lockout::Error::NotFound) => false,
            Err(crate::lockout::Error::Locked | crate::lockout::Error::Contention) => {
                return Err(LoginError::Locked);
            }
            Err(e) => return Err(internal(e)),
        };
        match p.authenticate(username, password).await {
            Ok(ident) => {
                if reserved {
                    crate::lockout::release(&api, username, &attempt, now, policy, None)
                        .await
                        .map_err(internal)?;
                }
                let user = self.map_identity(&ident, cfg.mapping_method).await?;
                if user.state() == UserState::Disabled {
                    return Err(LoginError::InvalidGrant(ACCOUNT_SUSPENDED.into()));
                }
                self.finish_login(&user, LoginRecordType::Token, provider, c)
                    .await
            }
            Err(e) => {
                if reserved {
                    if e.is_bad_credentials() {
                        crate::lockout::record_failure(&api, username, now, policy)
                            .await
                            .map_err(internal)?;
                        self.record(
                            username,
                            LoginRecordType::Token,
                            provider,
                            c,
                            false,
                            BAD_CREDENTIALS,
                        )
                        .await;
                    } else {
                        // Not the user's fault: give the attempt back.
                        crate::lockout::release(&api, username, &attempt, now, policy, None)
                            .await
                            .map_err(internal)?;
                    }
                }
                Err(e.into())
            }
        }
    }

    /// The User an external identity maps to: by origin-uid label, then by name;
    /// with `auto`, created on first login.
    pub async fn map_identity(
        &self,
        ident: &idp::Identity,
        method: idp::MappingMethod,
    ) -> Result<User, LoginError> {
        let api = self.user_api();
        if let Some(sel) = ident.user_label_selector() {
            let found = api
                .list(&kube::api::ListParams::default().labels(&sel))
                .await
                .map_err(internal)?;
            if let Some(u) = found.items.into_iter().next() {
                return Ok(u);
            }
        }
        if let Some(u) = api.get_opt(&ident.username).await.map_err(internal)? {
            // With lookup an administrator provisioned the User for this login.
            // With auto, a same-named User that this provider did not create (say
            // the local `admin`) must not be taken over by whoever the provider
            // calls by that name.
            let linked = u.annotations().get(ANNOTATION_IDENTITY_PROVIDER) == Some(&ident.provider);
            if method != idp::MappingMethod::Auto || linked {
                return Ok(u);
            }
            return Err(LoginError::InvalidGrant(format!(
                "user {} exists here and is not linked to identity provider {}",
                ident.username, ident.provider
            )));
        }
        if method != idp::MappingMethod::Auto {
            return Err(LoginError::InvalidGrant(format!(
                "user {} from identity provider {} is not registered here",
                ident.username, ident.provider
            )));
        }
        let user = User {
            metadata: ObjectMeta {
                name: Some(ident.username.clone()),
                labels: ident.user_labels(),
                annotations: Some(std::collections::BTreeMap::from([(
                    ANNOTATION_IDENTITY_PROVIDER.to_string(),
                    ident.provider.clone(),
                )])),
                ..Default::default()
            },
            spec: UserSpec {
                email: ident.email.clone(),
                display_name: (!ident.display_name.is_empty()).then(|| ident.display_name.clone()),
                groups: ident.groups.clone(),
                ..Default::default()
            },
            status: None,
        };
        match api.create(&PostParams::default(), &user).await {
            Ok(u) => Ok(u),
            // Created concurrently by another login or replica.
            Err(kube::Error::Api(s)) if s.code == 409 => {
                api.get(&ident.username).await.map_err(internal)
            }
            Err(kube::Error::Api(s)) if s.code == 422 => Err(LoginError::InvalidGrant(format!(
                "the username {:?} from the identity provider is not a valid user name",
                ident.username
            ))),
            Err(e) => Err(internal(e)),
        }
    }

    /// The refresh grant: a new access token (and refresh token) for a live
    /// session of an enabled user; the session's lifetime is renewed.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenResponse, LoginError> {
        let invalid = || LoginError::InvalidGrant("invalid refresh token".into());
        let c = jwt::decode(
            self.key(),
            &self.options().issuer,
            refresh_token,
            self.now(),
            TokenType::RefreshToken,
        )
        .map_err(|_| invalid())?;
        let (mut session, rv) = self
            .sessions()
            .fetch(&c.jti)
            .await
            .map_err(internal)?
            .ok_or_else(invalid)?;
        if session.username != c.username || session.code_pending {
            return Err(invalid());
        }
        let user = self
            .user_api()
            .get_opt(&session.username)
            .await
            .map_err(internal)?
            .ok_or_else(invalid)?;
        if user.uid().unwrap_or_default() != session.uid || user.state() == UserState::Disabled {
            return Err(invalid());
        }
        session.expires_at = self.now() + self.options().refresh_token_max_age_secs;
        match self.sessions().update(session.clone(), rv).await {
            Ok(()) => {}
            // A concurrent refresh of the same session renewed it already.
            Err(crate::sessions::Error::Kube(kube::Error::Api(s))) if s.code == 409 => {}
            Err(e) => return Err(internal(e)),
        }
        self.users().remember(&user);
        self.tokens_for(&UserFacts::of(&user), &session)
            .map_err(internal)
    }
}

/// An argon2id hash of a random string, verified against when the user does not exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1GGsn0Pw0dWTJ7ZcGJ2tqMZfZqzkdXbVd4a1gqAPRDA";

async fn verify_blocking(plain: String, stored: String) -> bool {
    tokio::task::spawn_blocking(move || crate::password::verify(&plain, &stored))
        .await
        .unwrap_or(false)
}
