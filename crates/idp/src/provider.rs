//! The provider traits (password and OAuth), the `Provider` handle, `build` and a name-indexed registry.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::config::{ProviderConfig, ProviderType};
use crate::error::{IdpError, Result};
use crate::identity::Identity;
use crate::ldap::LdapProvider;
use crate::oidc::OidcProvider;

/// A boxed future that can be sent between threads; what the provider traits return so
/// that they stay usable as `Arc<dyn ...>`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A provider that checks a username and password itself (LDAP): used by the
/// `password` grant of `/oauth/token` with `provider=<name>`.
pub trait PasswordProvider: Send + Sync {
    /// Checks the credentials. An empty password is always refused with
    /// [`IdpError::InvalidCredentials`] before anything is sent to the provider.
    fn authenticate<'a>(
        &'a self,
        username: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Identity>>;
}

/// A provider the browser is redirected to (OIDC): `/oauth/authorize` redirects to
/// [`OAuthProvider::authorize_url`], the provider redirects back to
/// `/oauth/callback/{name}` with a code, which [`OAuthProvider::exchange`] turns into an
/// identity.
pub trait OAuthProvider: Send + Sync {
    /// The URL to send the browser to. `state` and `nonce` are opaque values the caller
    /// generated and remembers (the nonce must be passed again to `exchange`).
    /// `redirect_uri` is used when the configuration has no `redirectURL`; a configured
    /// `redirectURL` wins, because it is what the provider has registered.
    /// Async because the authorization endpoint may come from discovery.
    fn authorize_url<'a>(
        &'a self,
        state: &'a str,
        nonce: &'a str,
        redirect_uri: &'a str,
    ) -> BoxFuture<'a, Result<String>>;

    /// Exchanges the authorization code for tokens, verifies the ID token (signature,
    /// issuer, audience, expiry, nonce) and maps its claims. `redirect_uri` must be the
    /// same value given to `authorize_url`.
    fn exchange<'a>(
        &'a self,
        code: &'a str,
        redirect_uri: &'a str,
        nonce: &'a str,
    ) -> BoxFuture<'a, Result<Identity>>;
}

/// A built provider, ready to use. Cheap to clone; keep it across logins so that
/// discovery documents and keys stay cached.
#[derive(Clone)]
pub enum Provider {
    /// Checks passwords itself (LDAP).
    Password(Arc<dyn PasswordProvider>),
    /// Redirect based (OIDC).
    OAuth(Arc<dyn OAuthProvider>),
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Provider::Password(_) => f.write_str("Provider::Password(..)"),
            Provider::OAuth(_) => f.write_str("Provider::OAuth(..)"),
        }
    }
}

/// Builds the provider a configuration describes. Does no I/O (OIDC discovery happens on
/// first use). Refuses disabled providers and types this crate does not implement.
pub fn build(cfg: &ProviderConfig) -> Result<Provider> {
    if cfg.disabled {
        return Err(IdpError::Disabled(cfg.name.clone()));
    }
    match cfg.type_ {
        ProviderType::Ldap => Ok(Provider::Password(Arc::new(LdapProvider::new(
            &cfg.name,
            &cfg.provider,
        )?))),
        ProviderType::Oidc => Ok(Provider::OAuth(Arc::new(OidcProvider::new(
            &cfg.name,
            &cfg.provider,
        )?))),
        ref other => Err(IdpError::UnsupportedType(other.to_string())),
    }
}

/// A configured provider together with its built handle.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The configuration it was built from.
    pub config: ProviderConfig,
    /// The provider.
    pub provider: Provider,
}

/// The enabled providers by name. Build it once from the configurations and rebuild it
/// when they change (compare the Secrets' resourceVersions); the providers cache their
/// discovery documents and keys across logins.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    entries: BTreeMap<String, Entry>,
}

impl Registry {
    /// Builds every configuration; those that fail (disabled, unsupported, invalid) are
    /// left out and returned with their error, so one bad entry does not hide the others.
    pub fn build(configs: Vec<ProviderConfig>) -> (Registry, Vec<(String, IdpError)>) {
        let mut entries = BTreeMap::new();
        let mut errors = Vec::new();
        for config in configs {
            match build(&config) {
                Ok(provider) => {
                    entries.insert(config.name.clone(), Entry { config, provider });
                }
                Err(e) => errors.push((config.name.clone(), e)),
            }
        }
        (Registry { entries }, errors)
    }

    /// Like [`Registry::build`], but keeps the entries of `self` whose configuration is
    /// unchanged, so their cached discovery documents and keys survive.
    pub fn rebuild(&self, configs: Vec<ProviderConfig>) -> (Registry, Vec<(String, IdpError)>) {
        let (mut keep, mut fresh) = (BTreeMap::new(), Vec::new());
        for config in configs {
            match self.entries.get(&config.name) {
                Some(entry) if entry.config == config => {
                    keep.insert(config.name.clone(), entry.clone());
                }
                _ => fresh.push(config),
            }
        }
        let (mut registry, errors) = Registry::build(fresh);
        registry.entries.extend(keep);
        (registry, errors)
    }

    /// The provider named `name`, or [`IdpError::NotFound`].
    pub fn get(&self, name: &str) -> Result<&Entry> {
        self.entries
            .get(name)
            .ok_or_else(|| IdpError::NotFound(name.to_string()))
    }

    /// The password provider named `name` (for the `password` grant with `provider=`).
    pub fn password(&self, name: &str) -> Result<(&ProviderConfig, Arc<dyn PasswordProvider>)> {
        let entry = self.get(name)?;
        match &entry.provider {
            Provider::Password(p) => Ok((&entry.config, p.clone())),
            Provider::OAuth(_) => Err(IdpError::Config(format!(
                "identity provider {name:?} does not accept passwords"
            ))),
        }
    }

    /// The OAuth provider named `name` (for `/oauth/authorize` and `/oauth/callback/{name}`).
    pub fn oauth(&self, name: &str) -> Result<(&ProviderConfig, Arc<dyn OAuthProvider>)> {
        let entry = self.get(name)?;
        match &entry.provider {
            Provider::OAuth(p) => Ok((&entry.config, p.clone())),
            Provider::Password(_) => Err(IdpError::Config(format!(
                "identity provider {name:?} is not an OAuth provider"
            ))),
        }
    }

    /// All entries, by name.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(yaml: &str) -> ProviderConfig {
        ProviderConfig::from_yaml(yaml).unwrap()
    }

    #[test]
    fn builds_by_type_and_refuses_the_rest() {
        let ldap = cfg(
            "name: ldap\ntype: LDAPIdentityProvider\nprovider:\n  host: 127.0.0.1:389\n  userSearchBase: dc=x\n  loginAttribute: uid\n",
        );
        assert!(matches!(build(&ldap), Ok(Provider::Password(_))));
        let oidc = cfg(
            "name: o\ntype: OIDCIdentityProvider\nprovider:\n  clientID: c\n  issuer: http://127.0.0.1:1\n",
        );
        assert!(matches!(build(&oidc), Ok(Provider::OAuth(_))));
        let github = cfg("name: gh\ntype: GitHubIdentityProvider\n");
        assert!(
            matches!(build(&github), Err(IdpError::UnsupportedType(t)) if t == "GitHubIdentityProvider")
        );
        let disabled = cfg("name: d\ntype: LDAPIdentityProvider\ndisabled: true\n");
        assert!(matches!(build(&disabled), Err(IdpError::Disabled(_))));
    }

    #[test]
    fn registry_keeps_good_entries() {
        let (registry, errors) = Registry::build(vec![
            cfg(
                "name: ldap\ntype: LDAPIdentityProvider\nprovider:\n  host: h:389\n  userSearchBase: dc=x\n",
            ),
            cfg("name: o\ntype: OIDCIdentityProvider\nprovider: {}\n"),
        ]);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, "o");
        assert!(registry.password("ldap").is_ok());
        assert!(registry.oauth("ldap").is_err());
        assert!(matches!(registry.get("nope"), Err(IdpError::NotFound(_))));
        assert_eq!(registry.entries().count(), 1);
    }

    #[test]
    fn rebuild_reuses_unchanged_providers() {
        let ldap = cfg(
            "name: ldap\ntype: LDAPIdentityProvider\nprovider:\n  host: h:389\n  userSearchBase: dc=x\n",
        );
        let oidc = cfg(
            "name: o\ntype: OIDCIdentityProvider\nprovider:\n  clientID: c\n  issuer: http://i\n",
        );
        let (first, _) = Registry::build(vec![ldap.clone(), oidc.clone()]);
        let mut changed = oidc.clone();
        changed.provider["clientID"] = "d".into();
        let (second, errors) = first.rebuild(vec![ldap, changed]);
        assert!(errors.is_empty());
        let same = |a: &Registry, b: &Registry, name: &str| match (
            &a.get(name).unwrap().provider,
            &b.get(name).unwrap().provider,
        ) {
            (Provider::Password(x), Provider::Password(y)) => Arc::ptr_eq(x, y),
            (Provider::OAuth(x), Provider::OAuth(y)) => Arc::ptr_eq(x, y),
            _ => false,
        };
        assert!(same(&first, &second, "ldap"));
        assert!(!same(&first, &second, "o"));
        let (third, _) = second.rebuild(vec![]);
        assert_eq!(third.entries().count(), 0);
    }
}
