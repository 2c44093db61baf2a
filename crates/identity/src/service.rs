//! The identity service of one replica: key, caches, options and the operations on sessions and tokens.

use std::sync::{Arc, RwLock};

use kube::Api;
use serde::Serialize;

use crate::clock::{Clock, TokioClock};
use crate::jwt::{self, Claims, TokenType};
use crate::keys::SigningKey;
use crate::kinds::{LoginRecord, User};
use crate::options::OAuthOptions;
use crate::ratelimit::RateLimiter;
use crate::sessions::{Session, Sessions};
use crate::users::{UserFacts, Users};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The signing key could not be loaded or created.
    #[error(transparent)]
    Key(#[from] crate::keys::Error),
    /// A session operation failed.
    #[error(transparent)]
    Session(#[from] crate::sessions::Error),
    /// The cluster failed.
    #[error("identity: {0}")]
    Kube(#[from] kube::Error),
    /// A token could not be signed.
    #[error(transparent)]
    Token(#[from] jwt::Error),
    /// The lockout bookkeeping failed.
    #[error(transparent)]
    Lockout(#[from] crate::lockout::Error),
}

/// The answer of `/oauth/token`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct TokenResponse {
    /// The access token (a JWT).
    pub access_token: String,
    /// Always "Bearer".
    pub token_type: String,
    /// The refresh token (a JWT).
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The OIDC ID token, for the authorization code grant with scope openid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

pub(crate) struct Inner {
    pub client: kube::Client,
    pub key: SigningKey,
    pub options: OAuthOptions,
    pub clock: Arc<dyn Clock>,
    pub sessions: Arc<Sessions>,
    pub users: Arc<Users>,
    pub limiter: RateLimiter,
    pub providers: RwLock<Arc<idp::Registry>>,
}

/// The identity service; cheap to clone (one per replica, shared by its handlers).
#[derive(Clone)]
pub struct Identity {
    pub(crate) inner: Arc<Inner>,
}

impl Identity {
    /// Starts the service over `client` (the platform's own client): loads or
    /// creates the install's signing key. Call [`crate::run_controllers`] to keep
    /// its caches in step.
    pub async fn new(client: kube::Client, options: OAuthOptions) -> Result<Identity, Error> {
        Self::with_clock(client, options, Arc::new(TokioClock::new())).await
    }

    /// As [`Identity::new`] with an injected clock (tests).
    pub async fn with_clock(
        client: kube::Client,
        options: OAuthOptions,
        clock: Arc<dyn Clock>,
    ) -> Result<Identity, Error> {
        let key = crate::keys::load_or_create(&client).await?;
        let limiter = RateLimiter::new(
            options.ip_rate_limit_burst,
            options.ip_rate_limit_per_minute,
        );
        Ok(Identity {
            inner: Arc::new(Inner {
                sessions: Arc::new(Sessions::new(client.clone(), clock.clone())),
                users: Arc::new(Users::new(client.clone())),
                client,
                key,
                options,
                clock,
                limiter,
                providers: RwLock::new(Arc::new(idp::Registry::default())),
            }),
        })
    }

    /// Replaces the identity providers (LDAP, OIDC) logins may use.
    pub fn set_providers(&self, registry: idp::Registry) {
        if let Ok(mut p) = self.inner.providers.write() {
            *p = Arc::new(registry);
        }
    }

    pub(crate) fn providers(&self) -> Arc<idp::Registry> {
        self.inner
            .providers
            .read()
            .map(|p| p.clone())
            .unwrap_or_default()
    }

    /// The options in force.
    pub fn options(&self) -> &OAuthOptions {
        &self.inner.options
    }

    /// The token signing key (its public half is the JWKS).
    pub fn key(&self) -> &SigningKey {
        &self.inner.key
    }

    /// The current time of the service's clock, Unix seconds.
    pub fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    /// The session store.
    pub fn sessions(&self) -> &Arc<Sessions> {
        &self.inner.sessions
    }

    /// The user cache.
    pub fn users(&self) -> &Arc<Users> {
        &self.inner.users
    }

    pub(crate) fn user_api(&self) -> Api<User> {
        Api::all(self.inner.client.clone())
    }

    pub(crate) fn record_api(&self) -> Api<LoginRecord> {
        Api::all(self.inner.client.clone())
    }

    /// The platform client.
    pub fn client(&self) -> &kube::Client {
        &self.inner.client
    }

    /// The authenticator for bearer tokens, sharing this service's caches.
    pub fn authenticator(&self) -> crate::Authenticator {
        crate::Authenticator {
            identity: self.clone(),
        }
    }

    fn claims(&self, user: &UserFacts, session: &str, ty: TokenType, exp: i64) -> Claims {
        let now = self.now();
        let mut extra = std::collections::BTreeMap::new();
        if user.uninitialized {
            extra.insert("uninitialized".to_string(), vec!["true".to_string()]);
        }
        Claims {
            iss: self.inner.options.issuer.clone(),
            sub: user.name.clone(),
            aud: None,
            exp,
            iat: now,
            nbf: now,
            jti: session.to_string(),
            username: user.name.clone(),
            token_type: ty,
            extra,
            scopes: vec![],
            nonce: None,
            email: None,
            name: None,
            preferred_username: None,
            redirect_uri: None,
        }
    }

    /// Signs access and refresh tokens for `user` in `session`.
    pub(crate) fn tokens_for(
        &self,
        user: &UserFacts,
        session: &Session,
    ) -> Result<TokenResponse, jwt::Error> {
        let now = self.now();
        let o = &self.inner.options;
        let access_exp = (now + o.access_token_max_age_secs).min(session.expires_at);
        let access = jwt::encode(
            &self.inner.key,
            &self.claims(user, &session.id, TokenType::AccessToken, access_exp),
        )?;
        let refresh = jwt::encode(
            &self.inner.key,
            &self.claims(
                user,
                &session.id,
                TokenType::RefreshToken,
                session.expires_at,
            ),
        )?;
        Ok(TokenResponse {
            access_token: access,
            token_type: "Bearer".into(),
            refresh_token: refresh,
            expires_in: access_exp - now,
            id_token: None,
        })
    }

    /// Opens a session for `user` (revoking the user's others when
    /// `multipleLogin` is off) and returns its tokens.
    pub async fn open_session(
        &self,
        user: &UserFacts,
        client_id: &str,
    ) -> Result<(Session, TokenResponse), Error> {
        let session = Session {
            id: crate::sessions::new_id(),
            username: user.name.clone(),
            uid: user.uid.clone(),
            client_id: client_id.to_string(),
            expires_at: self.now() + self.inner.options.refresh_token_max_age_secs,
            code_pending: false,
        };
        self.inner.sessions.create(session.clone()).await?;
        if !self.inner.options.multiple_login && !user.uid.is_empty() {
            self.inner
                .sessions
                .revoke_user(&user.uid, Some(&session.id))
                .await?;
        }
        let tokens = self.tokens_for(user, &session)?;
        Ok((session, tokens))
    }

    /// Revokes the session an access (or refresh) token belongs to.
    pub async fn logout(&self, token: &str) -> Result<bool, Error> {
        let now = self.now();
        let issuer = &self.inner.options.issuer;
        let claims = jwt::decode(&self.inner.key, issuer, token, now, TokenType::AccessToken)
            .or_else(|_| jwt::decode(&self.inner.key, issuer, token, now, TokenType::RefreshToken));
        let Ok(claims) = claims else {
            return Ok(false);
        };
        self.inner.sessions.revoke(&claims.jti).await?;
        Ok(true)
    }

    /// One pass of the housekeeping controllers: expired sessions deleted, locked
    /// users whose window has passed unlocked, LoginRecords beyond retention
    /// deleted. [`crate::run_controllers`] runs it periodically.
    pub async fn housekeeping(&self) -> Result<(), Error> {
        let now = self.now();
        let o = &self.inner.options;
        self.inner.sessions.collect_expired().await?;
        crate::lockout::unlock_expired(&self.user_api(), now, o.lockout()).await?;
        crate::records::enforce_retention(
            &self.record_api(),
            now,
            o.login_history_retention_period_secs,
            o.login_history_maximum_entries,
        )
        .await?;
        Ok(())
    }
}

/// Runs the identity controllers of one replica until the future is dropped: the
/// session and user watches that feed the caches, and housekeeping every minute.
pub async fn run_controllers(identity: Identity) {
    let sessions = identity.inner.sessions.clone();
    let users = identity.inner.users.clone();
    let housekeeping = async {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(e) = identity.housekeeping().await {
                tracing::warn!(error = %e, "identity housekeeping failed");
            }
        }
    };
    tokio::join!(sessions.run(), users.run(), housekeeping);
}
