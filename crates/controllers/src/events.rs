//! A recorder of core/v1 Events that aggregates repeats the way client-go's EventCorrelator does.
//!
//! kubectl describe reads core/v1 Events, so controllers write those (not
//! events.k8s.io/v1). An event identical to one recorded within the last ten minutes
//! (same object, type, reason and message) bumps the stored event's `count` and
//! `lastTimestamp` with a patch instead of creating a new object.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{Api, Patch, PatchParams, PostParams};
use tokio::sync::Mutex;
use tokio::time::Instant;

/// How long an identical event is folded into the previous one.
pub const AGGREGATION_WINDOW: Duration = Duration::from_secs(600);

/// Entries kept in the correlation cache before the oldest are dropped (client-go keeps 4096).
const CACHE_SIZE: usize = 4096;

/// Event severity, as `Event.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// An expected state change.
    Normal,
    /// Something the user should look at.
    Warning,
}

impl EventType {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// Why an event could not be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API server refused or failed the create or patch.
    #[error("writing event {name} in {namespace}: {source}")]
    Write {
        namespace: String,
        name: String,
        #[source]
        source: kube::Error,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    kind: String,
    namespace: String,
    name: String,
    uid: String,
    api_version: String,
    field_path: String,
    type_: &'static str,
    reason: String,
    message: String,
}

#[derive(Debug, Clone)]
struct Seen {
    event_namespace: String,
    event_name: String,
    count: i32,
    last_seen: Instant,
}

/// Writes Events for one component (`source.component`, `reportingComponent`).
#[derive(Clone)]
pub struct Recorder {
    client: kube::Client,
    component: String,
    host: Option<String>,
    cache: Arc<std::sync::Mutex<HashMap<Key, Slot>>>,
}

/// The last event written for one key; `None` until its first write succeeds.
type Slot = Arc<Mutex<Option<Seen>>>;

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("component", &self.component)
            .finish()
    }
}

impl Recorder {
    /// A recorder reporting as `component` (e.g. `deployment-controller`).
    pub fn new(client: kube::Client, component: &str) -> Self {
        Recorder {
            client,
            component: component.to_string(),
            host: None,
            cache: Arc::new(std::sync::Mutex::new(HashMap::new())),
        }
    }

    /// Sets `source.host` and `reportingInstance` (kubelet-style recorders name their node).
    pub fn with_host(mut self, host: &str) -> Self {
        self.host = Some(host.to_string());
        self
    }

    /// Records an event; failures are logged, never returned, because an event is
    /// advisory and must not fail the reconcile that emits it.
    pub async fn record(
        &self,
        object: &ObjectReference,
        type_: EventType,
        reason: &str,
        message: &str,
    ) {
        if let Err(e) = self.try_record(object, type_, reason, message).await {
            tracing::warn!(error = %e, reason, "dropping event");
        }
    }

    /// Records an event and returns the stored Event.
    pub async fn try_record(
        &self,
        object: &ObjectReference,
        type_: EventType,
        reason: &str,
        message: &str,
    ) -> Result<Event, Error> {
        let key = Key {
            kind: object.kind.clone().unwrap_or_default(),
            namespace: object.namespace.clone().unwrap_or_default(),
            name: object.name.clone().unwrap_or_default(),
            uid: object.uid.clone().unwrap_or_default(),
            api_version: object.api_version.clone().unwrap_or_default(),
            field_path: object.field_path.clone().unwrap_or_default(),
            type_: type_.as_str(),
            reason: reason.to_string(),
            message: message.to_string(),
        };
        // Only events with the same key need to wait for each other (to fold counts);
        // the map's lock is held just long enough to find the key's slot, so a
        // scheduler reporting thousands of different pods writes them concurrently.
        let slot = {
            let mut cache = self
                .cache
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(slot) = cache.get(&key) {
                slot.clone()
            } else {
                if cache.len() >= CACHE_SIZE {
                    evict_oldest(&mut cache);
                }
                let slot = Arc::new(Mutex::new(None));
                cache.insert(key.clone(), slot.clone());
                slot
            }
        };
        let mut seen_slot = slot.lock().await;
        let now = jiff::Timestamp::now();
        let previous = seen_slot
            .as_ref()
            .filter(|s| s.last_seen.elapsed() < AGGREGATION_WINDOW)
            .cloned();
        if let Some(seen) = previous {
            let api: Api<Event> = Api::namespaced(self.client.clone(), &seen.event_namespace);
            let count = seen.count + 1;
            let patch = serde_json::json!({
                "count": count,
                "lastTimestamp": Time(now),
                "message": message,
            });
            match api
                .patch(
                    &seen.event_name,
                    &PatchParams::default(),
                    &Patch::Merge(&patch),
                )
                .await
            {
                Ok(ev) => {
                    *seen_slot = Some(Seen {
                        count,
                        last_seen: Instant::now(),
                        ..seen
                    });
                    return Ok(ev);
                }
                // Someone deleted or expired the event: start a new one, as client-go does.
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(source) => {
                    return Err(Error::Write {
                        namespace: seen.event_namespace,
                        name: seen.event_name,
                        source,
                    });
                }
            }
        }
        let event_namespace = match object.namespace.as_deref() {
            Some(ns) if !ns.is_empty() => ns.to_string(),
            _ => "default".to_string(),
        };
        let nanos = now.as_nanosecond();
        let event_name = format!("{}.{:x}", key.name, nanos);
        let event = Event {
            metadata: ObjectMeta {
                name: Some(event_name.clone()),
                namespace: Some(event_namespace.clone()),
                ..Default::default()
            },
            involved_object: object.clone(),
            reason: Some(reason.to_string()),
            message: Some(message.to_string()),
            type_: Some(type_.as_str().to_string()),
            count: Some(1),
            first_timestamp: Some(Time(now)),
            last_timestamp: Some(Time(now)),
            source: Some(EventSource {
                component: Some(self.component.clone()),
                host: self.host.clone(),
            }),
            reporting_component: Some(self.component.clone()),
            reporting_instance: Some(self.host.clone().unwrap_or_default()),
            ..Default::default()
        };
        let api: Api<Event> = Api::namespaced(self.client.clone(), &event_namespace);
        let created = api
            .create(&PostParams::default(), &event)
            .await
            .map_err(|source| Error::Write {
                namespace: event_namespace.clone(),
                name: event_name.clone(),
                source,
            })?;
        *seen_slot = Some(Seen {
            event_namespace,
            event_name,
            count: 1,
            last_seen: Instant::now(),
        });
        Ok(created)
    }
}

/// Drops slots whose event has left the aggregation window, then the oldest, until
/// there is room. A slot whose write is in flight (locked) is kept: its writer will
/// fill it in.
fn evict_oldest(cache: &mut HashMap<Key, Slot>) {
    let window_start = Instant::now().checked_sub(AGGREGATION_WINDOW);
    let last_seen = |slot: &Slot| -> Option<Option<Instant>> {
        slot.try_lock()
            .ok()
            .map(|s| s.as_ref().map(|s| s.last_seen))
    };
    cache.retain(|_, slot| match last_seen(slot) {
        None => true,
        Some(None) => false,
        Some(Some(t)) => window_start.is_none_or(|w| t > w),
    });
    while cache.len() >= CACHE_SIZE {
        let Some(oldest) = cache
            .iter()
            .filter_map(|(k, slot)| last_seen(slot).flatten().map(|t| (k, t)))
            .min_by_key(|(_, t)| *t)
            .map(|(k, _)| k.clone())
        else {
            break;
        };
        cache.remove(&oldest);
    }
}

/// A reference to `obj` for `Event.involvedObject`.
pub fn object_reference<K>(obj: &K) -> ObjectReference
where
    K: kube::Resource<DynamicType = ()>,
{
    let meta = obj.meta();
    ObjectReference {
        api_version: Some(K::api_version(&()).to_string()),
        kind: Some(K::kind(&()).to_string()),
        name: meta.name.clone(),
        namespace: meta.namespace.clone(),
        uid: meta.uid.clone(),
        resource_version: meta.resource_version.clone(),
        field_path: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_type_wire_values() {
        assert_eq!(EventType::Normal.as_str(), "Normal");
        assert_eq!(EventType::Warning.as_str(), "Warning");
    }

    #[tokio::test(start_paused = true)]
    async fn eviction_drops_expired_then_oldest() {
        let mut cache = HashMap::new();
        let k = |i: usize| Key {
            kind: "Pod".into(),
            namespace: "ns".into(),
            name: format!("p{i}"),
            uid: String::new(),
            api_version: "v1".into(),
            field_path: String::new(),
            type_: "Normal",
            reason: "R".into(),
            message: "m".into(),
        };
        let seen = || {
            Arc::new(Mutex::new(Some(Seen {
                event_namespace: "ns".into(),
                event_name: "e".into(),
                count: 1,
                last_seen: Instant::now(),
            })))
        };
        cache.insert(k(0), seen());
        tokio::time::advance(AGGREGATION_WINDOW + Duration::from_secs(1)).await;
        for i in 1..CACHE_SIZE {
            cache.insert(k(i), seen());
        }
        evict_oldest(&mut cache);
        assert!(!cache.contains_key(&k(0)));
        assert_eq!(cache.len(), CACHE_SIZE - 1);
    }
}
