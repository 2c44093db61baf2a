//! Bearer-token authentication: signature, expiry, live session and an enabled user → `UserInfo`.

use apimachinery::UserInfo;

use crate::jwt::{self, TokenType};
use crate::kinds::UserState;
use crate::service::Identity;
use crate::sessions::Session;
use crate::users::UserFacts;

/// Turns the platform's access tokens into users. Cheap to clone.
#[derive(Clone)]
pub struct Authenticator {
    pub(crate) identity: Identity,
}

impl Authenticator {
    fn claims(&self, token: &str) -> Option<jwt::Claims> {
        let i = &self.identity;
        if !jwt::is_ours(i.key(), token) {
            return None;
        }
        match jwt::decode(
            i.key(),
            &i.options().issuer,
            token,
            i.now(),
            TokenType::AccessToken,
        ) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::debug!(error = %e, "bearer token refused");
                None
            }
        }
    }

    /// From the local caches only, without I/O: for the embedded kernel's
    /// synchronous authenticator (`kubectl --token`). A session created moments
    /// ago by another replica may not be known yet; the async path covers that.
    pub fn authenticate_cached(&self, token: &str) -> Option<UserInfo> {
        let c = self.claims(token)?;
        let s = self.identity.sessions().cached(&c.jti)?;
        let u = self.identity.users().cached(&s.username)?;
        user_info(&c, &s, &u)
    }

    /// From the caches, falling back to one read of the session and of the user
    /// when the cache does not know them (the gateway's path).
    pub async fn authenticate(&self, token: &str) -> Option<UserInfo> {
        let c = self.claims(token)?;
        let s = self.identity.sessions().get(&c.jti, c.iat).await?;
        let u = self.identity.users().get(&s.username).await?;
        user_info(&c, &s, &u)
    }
}

fn user_info(c: &jwt::Claims, s: &Session, u: &UserFacts) -> Option<UserInfo> {
    if s.username != c.username || s.code_pending {
        return None;
    }
    // A user deleted and re-created under the same name is another user.
    if !s.uid.is_empty() && s.uid != u.uid {
        return None;
    }
    if u.state == UserState::Disabled {
        return None;
    }
    let mut groups = u.groups.clone();
    if !groups.iter().any(|g| g == "system:authenticated") {
        groups.push("system:authenticated".into());
    }
    Some(UserInfo {
        name: u.name.clone(),
        uid: u.uid.clone(),
        groups,
        extra: Default::default(),
    })
}
