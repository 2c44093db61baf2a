//! Dynamic admission: ValidatingAdmissionWebhook and MutatingAdmissionWebhook,
//! driven by the webhook configurations in the watch cache.

pub mod client;
pub mod config;
mod dispatch;
pub mod matching;
mod resolve;
pub mod review;
mod write_request;

pub use dispatch::{Request, mutate, validate};
pub use matching::Operation;
pub use write_request::{options_for, write_request};

use crate::server::Inner;
use config::Hook;
use std::sync::{Arc, Mutex};

const GROUP: &str = "admissionregistration.k8s.io";

/// Parsed webhook configurations, re-parsed only when the cached configuration
/// objects change (told apart by their revisions, which are unique per write).
#[derive(Debug, Default)]
pub struct Webhooks {
    validating: Mutex<Snapshot>,
    mutating: Mutex<Snapshot>,
}

#[derive(Debug, Default)]
struct Snapshot {
    revisions: Vec<u64>,
    hooks: Arc<Vec<Hook>>,
}

impl Webhooks {
    /// The webhooks now configured, mutating or validating, in the order they run
    /// (configuration name, then position in the configuration).
    pub fn current(&self, inner: &Inner, mutating: bool) -> Arc<Vec<Hook>> {
        let plural = if mutating {
            "mutatingwebhookconfigurations"
        } else {
            "validatingwebhookconfigurations"
        };
        let Some(res) = inner.registry.get(GROUP, "v1", plural) else {
            return Arc::default();
        };
        let (start, end) = res.range(None);
        let mut revisions = Vec::new();
        // Collecting revisions under the cache's lock without cloning objects keeps
        // the common case (nothing configured, or nothing changed) cheap.
        inner.cache.range(&start, &end, None, 0, |_, o| {
            revisions.push(o.revision);
            false
        });
        let slot = if mutating {
            &self.mutating
        } else {
            &self.validating
        };
        let mut snap = slot.lock().unwrap_or_else(|e| e.into_inner());
        if snap.revisions == revisions {
            return snap.hooks.clone();
        }
        let (items, _, _) = inner.cache.range(&start, &end, None, 0, |_, _| true);
        let hooks: Vec<Hook> = items
            .iter()
            .flat_map(|(_, o)| config::parse_configuration(&o.value(), mutating))
            .collect();
        snap.revisions = items.iter().map(|(_, o)| o.revision).collect();
        snap.hooks = Arc::new(hooks);
        snap.hooks.clone()
    }
}

/// Webhooks are never called for the objects that configure admission, so a
/// broken webhook can always be removed.
pub fn exempt(group: &str, resource: &str) -> bool {
    group == GROUP
        && matches!(
            resource,
            "validatingwebhookconfigurations"
                | "mutatingwebhookconfigurations"
                | "validatingadmissionpolicies"
                | "validatingadmissionpolicybindings"
                | "mutatingadmissionpolicies"
                | "mutatingadmissionpolicybindings"
        )
}
