//! The `LDAPIdentityProvider`: manager bind, user search, user bind, attributes and groups.

mod config;
pub mod filter;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, Scope, SearchEntry, SearchOptions};
use serde_json::Value;

pub use config::LdapConfig;

use crate::error::{IdpError, Result};
use crate::identity::Identity;
use crate::provider::{BoxFuture, PasswordProvider};
use crate::tls::{TlsOptions, client_config};

/// LDAP result codes this provider tells apart (RFC 4511 appendix A).
mod rc {
    pub const SUCCESS: u32 = 0;
    pub const SIZE_LIMIT_EXCEEDED: u32 = 4;
    pub const NO_SUCH_OBJECT: u32 = 32;
    pub const INAPPROPRIATE_AUTHENTICATION: u32 = 48;
    pub const INVALID_CREDENTIALS: u32 = 49;
}

/// Checks usernames and passwords against an LDAP directory.
pub struct LdapProvider {
    name: String,
    cfg: LdapConfig,
    url: String,
    starttls: bool,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl std::fmt::Debug for LdapProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LdapProvider")
            .field("name", &self.name)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

fn unavailable(what: &str, e: LdapError) -> IdpError {
    IdpError::Unavailable(format!("ldap {what}: {e}"))
}

impl LdapProvider {
    /// Builds the provider `name` from its `provider:` options. Checks the options and
    /// loads the CA, but does not connect.
    pub fn new(name: &str, provider: &Value) -> Result<Self> {
        let cfg = LdapConfig::from_value(provider)?;
        let (url, starttls) = cfg.url();
        let tls = if cfg.uses_tls() {
            Some(Arc::new(client_config(&TlsOptions {
                root_ca: Some(cfg.root_ca.clone()),
                root_ca_data: Some(cfg.root_ca_data.clone()),
                insecure_skip_verify: cfg.insecure_skip_verify,
            })?))
        } else {
            None
        };
        Ok(LdapProvider {
            name: name.to_string(),
            cfg,
            url,
            starttls,
            tls,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &LdapConfig {
        &self.cfg
    }

    fn settings(&self) -> LdapConnSettings {
        let mut settings = LdapConnSettings::new().set_conn_timeout(self.cfg.timeout());
        if let Some(tls) = &self.tls {
            settings = settings.set_config(tls.clone()).set_starttls(self.starttls);
        }
        settings
    }

    async fn authenticate_inner(&self, username: &str, password: &str) -> Result<Identity> {
        // An empty password would make the user bind an unauthenticated bind (RFC 4513
        // 5.1.2), which many servers answer with success: refuse before any I/O.
        if password.is_empty() || username.trim().is_empty() {
            return Err(IdpError::InvalidCredentials);
        }
        let (conn, mut ldap) = LdapConnAsync::with_settings(self.settings(), &self.url)
            .await
            .map_err(|e| unavailable("connect", e))?;
        let driver = tokio::spawn(async move {
            if let Err(e) = conn.drive().await {
                tracing::debug!("ldap connection ended: {e}");
            }
        });
        let result = self.session(&mut ldap, username, password).await;
        let timeout = self.cfg.timeout();
        // Closing politely is best effort; the login result is already decided.
        let _ = tokio::time::timeout(timeout, ldap.unbind()).await;
        drop(ldap);
        if tokio::time::timeout(timeout, driver).await.is_err() {
            tracing::debug!("ldap connection did not close in time");
        }
        result
    }

    async fn session(&self, ldap: &mut Ldap, username: &str, password: &str) -> Result<Identity> {
        let timeout = self.cfg.timeout();
        let bind = ldap
            .with_timeout(timeout)
            .simple_bind(&self.cfg.manager_dn, &self.cfg.manager_password)
            .await
            .map_err(|e| unavailable("manager bind", e))?;
        match bind.rc {
            rc::SUCCESS => {}
            rc::INVALID_CREDENTIALS | rc::INAPPROPRIATE_AUTHENTICATION => {
                return Err(IdpError::Config(format!(
                    "ldap manager bind as {:?} refused: {}",
                    self.cfg.manager_dn, bind
                )));
            }
            _ => return Err(IdpError::Unavailable(format!("ldap manager bind: {bind}"))),
        }

        let user = self.find_user(ldap, username, timeout).await?;
        let login = first(&user.attrs, &self.cfg.login_attribute)
            .unwrap_or(username)
            .to_string();
        let groups = self.groups(ldap, &user, &login, timeout).await?;

        // The user bind comes last: after it the connection has the user's rights, not
        // the manager's, so every search is done before.
        let bind = ldap
            .with_timeout(timeout)
            .simple_bind(&user.dn, password)
            .await
            .map_err(|e| unavailable("user bind", e))?;
        match bind.rc {
            rc::SUCCESS => {}
            rc::INVALID_CREDENTIALS | rc::INAPPROPRIATE_AUTHENTICATION => {
                return Err(IdpError::InvalidCredentials);
            }
            _ => return Err(IdpError::Unavailable(format!("ldap user bind: {bind}"))),
        }

        let attr = |name: &str| {
            if name.is_empty() {
                String::new()
            } else {
                first(&user.attrs, name).unwrap_or_default().to_string()
            }
        };
        Ok(Identity {
            // KubeSphere v4 lowercases LDAP usernames: directories match case-insensitively,
            // local user names must be lowercase.
            username: login.to_lowercase(),
            email: attr(&self.cfg.mail_attribute),
            display_name: attr(&self.cfg.display_name_attribute),
            groups,
            provider: self.name.clone(),
            uid: login,
        })
    }

    async fn find_user(
        &self,
        ldap: &mut Ldap,
        username: &str,
        timeout: Duration,
    ) -> Result<SearchEntry> {
        let filter = filter::equality_and(
            &self.cfg.login_attribute,
            username,
            &self.cfg.user_search_filter,
        );
        let mut attrs = vec![
            self.cfg.login_attribute.as_str(),
            self.cfg.mail_attribute.as_str(),
        ];
        for extra in [
            &self.cfg.display_name_attribute,
            &self.cfg.user_member_attribute,
        ] {
            if !extra.is_empty() {
                attrs.push(extra.as_str());
            }
        }
        // Two is enough to tell "exactly one" from "ambiguous".
        let result = ldap
            .with_timeout(timeout)
            .with_search_options(SearchOptions::new().sizelimit(2))
            .search(&self.cfg.user_search_base, Scope::Subtree, &filter, attrs)
            .await
            .map_err(|e| unavailable("user search", e))?;
        match result.1.rc {
            rc::SUCCESS | rc::SIZE_LIMIT_EXCEEDED => {}
            rc::NO_SUCH_OBJECT => {
                return Err(IdpError::Config(format!(
                    "ldap userSearchBase {:?} does not exist",
                    self.cfg.user_search_base
                )));
            }
            _ => {
                return Err(IdpError::Unavailable(format!(
                    "ldap user search: {}",
                    result.1
                )));
            }
        }
        let mut entries: Vec<SearchEntry> = result
            .0
            .into_iter()
            .filter(|e| !e.is_ref() && !e.is_intermediate())
            .map(SearchEntry::construct)
            .collect();
        if entries.len() > 1 {
            tracing::warn!(
                provider = %self.name,
                "ldap user search matched more than one entry; refusing the login"
            );
        }
        match (entries.pop(), entries.is_empty()) {
            (Some(entry), true) => Ok(entry),
            _ => Err(IdpError::InvalidCredentials),
        }
    }

    async fn groups(
        &self,
        ldap: &mut Ldap,
        user: &SearchEntry,
        login: &str,
        timeout: Duration,
    ) -> Result<Vec<String>> {
        let mut groups = BTreeSet::new();
        if !self.cfg.user_member_attribute.is_empty() {
            for dn in user
                .attrs
                .get(&self.cfg.user_member_attribute)
                .into_iter()
                .flatten()
            {
                groups.insert(filter::first_rdn_value(dn).to_string());
            }
        }
        if !self.cfg.group_search_base.is_empty() {
            let member = &self.cfg.group_member_attribute;
            let value = if member.eq_ignore_ascii_case("memberUid") {
                login
            } else {
                user.dn.as_str()
            };
            let filter = filter::equality_and(member, value, &self.cfg.group_search_filter);
            let result = ldap
                .with_timeout(timeout)
                .search(
                    &self.cfg.group_search_base,
                    Scope::Subtree,
                    &filter,
                    vec!["cn"],
                )
                .await
                .map_err(|e| unavailable("group search", e))?;
            if result.1.rc != rc::SUCCESS && result.1.rc != rc::SIZE_LIMIT_EXCEEDED {
                return Err(IdpError::Unavailable(format!(
                    "ldap group search: {}",
                    result.1
                )));
            }
            for entry in result
                .0
                .into_iter()
                .filter(|e| !e.is_ref() && !e.is_intermediate())
            {
                let entry = SearchEntry::construct(entry);
                let name = first(&entry.attrs, "cn")
                    .unwrap_or_else(|| filter::first_rdn_value(&entry.dn))
                    .to_string();
                groups.insert(name);
            }
        }
        Ok(groups.into_iter().collect())
    }
}

/// First value of an attribute; attribute names are case-insensitive in LDAP.
fn first<'a>(attrs: &'a HashMap<String, Vec<String>>, name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.first())
        .map(String::as_str)
}

impl PasswordProvider for LdapProvider {
    fn authenticate<'a>(
        &'a self,
        username: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Identity>> {
        Box::pin(async move {
            // Bounds the whole exchange even if the server trickles bytes forever.
            let overall = self.cfg.timeout() * 4;
            match tokio::time::timeout(overall, self.authenticate_inner(username, password)).await {
                Ok(result) => result,
                Err(_) => Err(IdpError::Unavailable("ldap: timed out".into())),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn empty_password_is_refused_without_connecting() {
        // Port 9 on localhost has nobody listening: reaching the network would give
        // Unavailable, not InvalidCredentials.
        let p = LdapProvider::new(
            "ldap",
            &json!({"host": "127.0.0.1:9", "userSearchBase": "dc=x"}),
        )
        .unwrap();
        assert!(matches!(
            p.authenticate("alice", "").await,
            Err(IdpError::InvalidCredentials)
        ));
        assert!(matches!(
            p.authenticate("", "pw").await,
            Err(IdpError::InvalidCredentials)
        ));
        assert!(matches!(
            p.authenticate("alice", "pw").await,
            Err(IdpError::Unavailable(_))
        ));
    }
}
