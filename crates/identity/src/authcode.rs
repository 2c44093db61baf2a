//! The authorization code flow for registered OAuth clients (this platform as an OIDC provider), with one-time codes bound to sessions.
//!
//! A code is a short-lived JWT naming a session created with `code: pending`.
//! Redeeming it flips the session to active with an update conditioned on the
//! resourceVersion read, so of two concurrent redemptions (on any replicas) only
//! one succeeds.

use crate::clients::OAuthClient;
use crate::jwt::{self, Claims, TokenType};
use crate::login::LoginError;
use crate::service::{Identity, TokenResponse};
use crate::sessions::Session;
use crate::users::UserFacts;

/// How long an authorization code may wait to be redeemed.
pub const CODE_TTL_SECS: i64 = 300;

/// What `/oauth/authorize` was asked for.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeRequest {
    /// The client's redirect URI (must be registered exactly).
    pub redirect_uri: String,
    /// Space-separated scopes.
    pub scope: String,
    /// The OIDC nonce for the ID token.
    pub nonce: Option<String>,
}

impl Identity {
    /// Issues a one-time code for `user` to `client`.
    pub async fn issue_code(
        &self,
        user: &UserFacts,
        client: &OAuthClient,
        req: &AuthorizeRequest,
    ) -> Result<String, LoginError> {
        if !client.allows_redirect(&req.redirect_uri) {
            return Err(LoginError::InvalidGrant(
                "redirect_uri is not registered for this client".into(),
            ));
        }
        let now = self.now();
        let session = Session {
            id: crate::sessions::new_id(),
            username: user.name.clone(),
            uid: user.uid.clone(),
            client_id: client.name.clone(),
            // An unredeemed code's session dies with the code.
            expires_at: now + CODE_TTL_SECS,
            code_pending: true,
        };
        self.sessions()
            .create(session.clone())
            .await
            .map_err(|e| LoginError::Internal(e.to_string()))?;
        let claims = Claims {
            iss: self.options().issuer.clone(),
            sub: user.name.clone(),
            aud: Some(client.name.clone()),
            exp: now + CODE_TTL_SECS,
            iat: now,
            nbf: now,
            jti: session.id,
            username: user.name.clone(),
            token_type: TokenType::AuthorizationCode,
            extra: Default::default(),
            scopes: req.scope.split_whitespace().map(str::to_string).collect(),
            nonce: req.nonce.clone(),
            email: None,
            name: None,
            preferred_username: None,
            redirect_uri: Some(req.redirect_uri.clone()),
        };
        jwt::encode(self.key(), &claims).map_err(|e| LoginError::Internal(e.to_string()))
    }

    /// Redeems a code for tokens (plus an ID token when `openid` was asked for).
    pub async fn redeem_code(
        &self,
        code: &str,
        client: &OAuthClient,
        redirect_uri: &str,
    ) -> Result<TokenResponse, LoginError> {
        let invalid = || LoginError::InvalidGrant("invalid authorization code".into());
        let c = jwt::decode(
            self.key(),
            &self.options().issuer,
            code,
            self.now(),
            TokenType::AuthorizationCode,
        )
        .map_err(|_| invalid())?;
        if c.aud.as_deref() != Some(client.name.as_str())
            || c.redirect_uri.as_deref() != Some(redirect_uri)
        {
            return Err(invalid());
        }
        let (mut session, rv) = self
            .sessions()
            .fetch(&c.jti)
            .await
            .map_err(|e| LoginError::Internal(e.to_string()))?
            .ok_or_else(invalid)?;
        if !session.code_pending || session.username != c.username {
            return Err(invalid());
        }
        session.code_pending = false;
        session.expires_at = self.now() + self.options().refresh_token_max_age_secs;
        if self.sessions().update(session.clone(), rv).await.is_err() {
            // Another redemption won the race: a code is good for one use only.
            return Err(invalid());
        }
        let user = self
            .users()
            .get(&session.username)
            .await
            .ok_or_else(invalid)?;
        if user.uid != session.uid || user.state == crate::kinds::UserState::Disabled {
            self.sessions().revoke(&session.id).await.ok();
            return Err(invalid());
        }
        let mut tokens = self
            .tokens_for(&user, &session)
            .map_err(|e| LoginError::Internal(e.to_string()))?;
        if c.scopes.iter().any(|s| s == "openid") {
            tokens.id_token = Some(
                self.id_token(&user, &session.id, &client.name, c.nonce)
                    .map_err(|e| LoginError::Internal(e.to_string()))?,
            );
        }
        Ok(tokens)
    }

    /// Signs an OIDC ID token for `client_id`.
    fn id_token(
        &self,
        user: &UserFacts,
        session: &str,
        client_id: &str,
        nonce: Option<String>,
    ) -> Result<String, jwt::Error> {
        let now = self.now();
        let claims = Claims {
            iss: self.options().issuer.clone(),
            sub: user.name.clone(),
            aud: Some(client_id.to_string()),
            exp: now + self.options().access_token_max_age_secs,
            iat: now,
            nbf: now,
            jti: session.to_string(),
            username: user.name.clone(),
            token_type: TokenType::IdToken,
            extra: Default::default(),
            scopes: vec![],
            nonce,
            email: (!user.email.is_empty()).then(|| user.email.clone()),
            name: user.display_name.clone(),
            preferred_username: Some(user.name.clone()),
            redirect_uri: None,
        };
        jwt::encode(self.key(), &claims)
    }
}
