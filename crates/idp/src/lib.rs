//! External identity providers for the platform: LDAP and OIDC.
//!
//! The `identity` crate owns the login endpoints; it parses the configured providers with
//! [`ProviderConfig`], builds them with [`build`] (or a [`Registry`]) and calls
//! [`PasswordProvider::authenticate`] for the `password` grant or
//! [`OAuthProvider::authorize_url`] / [`OAuthProvider::exchange`] for the redirect flow.
//! What it gets back is an [`Identity`]; mapping it to a local user (`mappingMethod`) is the
//! caller's job, with [`Identity::user_labels`] giving KubeSphere's labels.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod config;
mod error;
mod identity;
pub mod ldap;
pub mod oidc;
mod provider;
mod tls;
mod watch;

pub use config::{
    CONFIG_TYPE_IDENTITY_PROVIDER, CONFIG_TYPE_LABEL, MappingMethod, ProviderConfig, ProviderType,
    SECRET_DATA_KEY, SECRET_TYPE, list_from_cluster,
};
pub use error::{IdpError, Result};
pub use identity::{IDENTIFY_PROVIDER_LABEL, Identity, ORIGIN_UID_LABEL, is_label_value};
pub use provider::{BoxFuture, Entry, OAuthProvider, PasswordProvider, Provider, Registry, build};
pub use watch::watch_providers;
