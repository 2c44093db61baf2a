//! Keeps a provider `Registry` in step with the identity provider Secrets through a watch.

use std::collections::BTreeMap;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::runtime::watcher::{self, Event};
use kube::runtime::{WatchStreamExt, watcher as watch_stream};

use crate::config::{
    CONFIG_TYPE_IDENTITY_PROVIDER, CONFIG_TYPE_LABEL, ProviderConfig, SECRET_TYPE,
};
use crate::error::IdpError;
use crate::provider::Registry;

/// Watches the identity provider Secrets (type `config.kubesphere.io/identityprovider`,
/// label `config.kubesphere.io/type=identityprovider`) in `namespace` and calls
/// `on_change` with a fresh [`Registry`] after the initial list and after every change.
///
/// Providers whose configuration did not change are carried over, so their cached
/// discovery documents and keys survive edits to other providers. Broken entries are
/// logged and left out. Runs until the task is dropped; watch errors are retried with
/// backoff. Because the state is in the cluster, every replica converges on the same
/// providers.
pub async fn watch_providers<F>(client: kube::Client, namespace: &str, mut on_change: F)
where
    F: FnMut(Registry) + Send,
{
    let api: Api<Secret> = Api::namespaced(client, namespace);
    let config = watcher::Config::default().labels(&format!(
        "{CONFIG_TYPE_LABEL}={CONFIG_TYPE_IDENTITY_PROVIDER}"
    ));
    let mut events = std::pin::pin!(watch_stream(api, config).default_backoff());
    let mut secrets: BTreeMap<String, Secret> = BTreeMap::new();
    let mut initial: Option<BTreeMap<String, Secret>> = None;
    let mut current = Registry::default();
    while let Some(event) = events.next().await {
        match event {
            Ok(Event::Init) => initial = Some(BTreeMap::new()),
            Ok(Event::InitApply(secret)) => {
                if let Some(initial) = initial.as_mut() {
                    initial.insert(key(&secret), secret);
                }
            }
            Ok(Event::InitDone) => {
                secrets = initial.take().unwrap_or_default();
                current = publish(&current, &secrets, &mut on_change);
            }
            Ok(Event::Apply(secret)) => {
                secrets.insert(key(&secret), secret);
                current = publish(&current, &secrets, &mut on_change);
            }
            Ok(Event::Delete(secret)) => {
                secrets.remove(&key(&secret));
                current = publish(&current, &secrets, &mut on_change);
            }
            Err(e) => tracing::warn!("watching identity provider secrets: {e}"),
        }
    }
}

fn key(secret: &Secret) -> String {
    secret.metadata.name.clone().unwrap_or_default()
}

fn publish<F: FnMut(Registry)>(
    current: &Registry,
    secrets: &BTreeMap<String, Secret>,
    on_change: &mut F,
) -> Registry {
    let configs = secrets
        .values()
        .filter(|s| s.type_.as_deref() == Some(SECRET_TYPE))
        .filter_map(|s| match ProviderConfig::from_secret(s) {
            Ok(config) => Some(config),
            Err(e) => {
                tracing::warn!(secret = %key(s), "ignoring identity provider: {e}");
                None
            }
        })
        .collect();
    let (next, errors) = current.rebuild(configs);
    for (name, error) in errors {
        match error {
            IdpError::Disabled(_) => tracing::debug!(provider = %name, "{error}"),
            _ => tracing::warn!(provider = %name, "ignoring identity provider: {error}"),
        }
    }
    on_change(next.clone());
    next
}
