//! The watch cache: every current object in memory, plus a window of recent events
//! that watches start from. Fed by the store's commit sink, so a write is visible
//! here before it is acknowledged (read-your-writes).

use bytes::Bytes;
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, RwLock};
use tokio::sync::broadcast;

/// One stored object as the cache keeps it: the exact JSON that is served, plus the
/// parts that selectors need without parsing.
#[derive(Debug)]
pub struct CachedObject {
    pub raw: Bytes,
    pub revision: u64,
    pub create_revision: u64,
    labels: Box<[(Box<str>, Box<str>)]>,
}

impl CachedObject {
    pub fn new(raw: Bytes, revision: u64, create_revision: u64) -> Self {
        let labels = extract_labels(&raw);
        CachedObject {
            raw,
            revision,
            create_revision,
            labels,
        }
    }

    /// The object parsed; costs a full JSON parse.
    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.raw).unwrap_or(Value::Null)
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| &**k == key)
            .map(|(_, v)| &**v)
    }

    pub fn labels(&self) -> std::collections::BTreeMap<String, String> {
        self.labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

/// Reads only `metadata.labels`, skipping the rest of the document without building it.
fn extract_labels(raw: &[u8]) -> Box<[(Box<str>, Box<str>)]> {
    #[derive(serde::Deserialize)]
    struct Meta {
        #[serde(default)]
        labels: Option<BTreeMap<String, String>>,
    }
    #[derive(serde::Deserialize)]
    struct Doc {
        #[serde(default)]
        metadata: Option<Meta>,
    }
    match serde_json::from_slice::<Doc>(raw) {
        Ok(Doc {
            metadata: Some(Meta { labels: Some(l) }),
        }) => l
            .into_iter()
            .map(|(k, v)| (k.into_boxed_str(), v.into_boxed_str()))
            .collect(),
        _ => Box::new([]),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Added,
    Modified,
    Deleted,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Added => "ADDED",
            EventKind::Modified => "MODIFIED",
            EventKind::Deleted => "DELETED",
        }
    }
}

/// One change, as watchers see it.
#[derive(Debug)]
pub struct Event {
    pub revision: u64,
    pub key: String,
    pub kind: EventKind,
    /// The object after the change; for a deletion, its last state with the
    /// deletion's resourceVersion, as kube-apiserver sends it.
    pub object: Arc<CachedObject>,
    /// The object before the change (selectors need it to turn a MODIFIED that
    /// leaves the selection into a DELETED).
    pub previous: Option<Arc<CachedObject>>,
}

/// Where a watcher receives every event after its start.
pub type EventReceiver = broadcast::Receiver<Arc<Event>>;

/// A watch start older than the event window.
#[derive(Debug, Clone, Copy)]
pub struct TooOld {
    pub requested: u64,
    pub oldest: u64,
}

struct State {
    objects: BTreeMap<String, Arc<CachedObject>>,
    revision: u64,
    /// Every event with a revision above this is in `ring`.
    window_start: u64,
    ring: VecDeque<Arc<Event>>,
}

/// The cache. Cheap to share behind an `Arc`.
pub struct Cache {
    state: RwLock<State>,
    tx: broadcast::Sender<Arc<Event>>,
    capacity: usize,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl Cache {
    /// A cache holding `items` at `revision`, keeping the last `capacity` events.
    pub fn new(items: Vec<(String, Arc<CachedObject>)>, revision: u64, capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity.clamp(1024, 65536));
        Cache {
            state: RwLock::new(State {
                objects: items.into_iter().collect(),
                revision,
                window_start: revision,
                ring: VecDeque::with_capacity(capacity.min(4096)),
            }),
            tx,
            capacity,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn revision(&self) -> u64 {
        self.read().revision
    }

    pub fn len(&self) -> usize {
        self.read().objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, key: &str) -> Option<Arc<CachedObject>> {
        self.read().objects.get(key).cloned()
    }

    /// Objects with keys in `[start, end)`, after `after` if given, at the cache's
    /// current revision. `filter` runs under the lock: keep it cheap. Stops after
    /// `limit` matches (0 = no limit) and tells whether more matches may follow.
    pub fn range(
        &self,
        start: &str,
        end: &str,
        after: Option<&str>,
        limit: usize,
        mut filter: impl FnMut(&str, &CachedObject) -> bool,
    ) -> (Vec<(String, Arc<CachedObject>)>, u64, bool) {
        use std::ops::Bound;
        let st = self.read();
        let lower = match after {
            Some(a) if a >= start => Bound::Excluded(a.to_string()),
            _ => Bound::Included(start.to_string()),
        };
        let mut out = Vec::new();
        let mut more = false;
        for (k, o) in st.objects.range((lower, Bound::Excluded(end.to_string()))) {
            if filter(k, o) {
                if limit > 0 && out.len() == limit {
                    more = true;
                    break;
                }
                out.push((k.clone(), o.clone()));
            }
        }
        (out, st.revision, more)
    }

    /// Applies committed store events in revision order. Called on the store's writer
    /// thread before the writers are acknowledged.
    pub fn apply(&self, events: &[store::Event]) {
        let mut st = self.write();
        for ev in events {
            let previous = st.objects.get(&ev.key).cloned();
            let event = match (&ev.kind, &ev.value) {
                (store::EventKind::Put, Some(v)) => {
                    let obj = Arc::new(CachedObject::new(
                        v.clone(),
                        ev.revision,
                        ev.create_revision,
                    ));
                    st.objects.insert(ev.key.clone(), obj.clone());
                    let kind = if previous.is_some() {
                        EventKind::Modified
                    } else {
                        EventKind::Added
                    };
                    Event {
                        revision: ev.revision,
                        key: ev.key.clone(),
                        kind,
                        object: obj,
                        previous,
                    }
                }
                _ => {
                    st.objects.remove(&ev.key);
                    let Some(prev) = previous else { continue };
                    let raw = with_resource_version(&prev.raw, ev.revision);
                    let obj = Arc::new(CachedObject::new(raw, ev.revision, prev.create_revision));
                    Event {
                        revision: ev.revision,
                        key: ev.key.clone(),
                        kind: EventKind::Deleted,
                        object: obj,
                        previous: Some(prev),
                    }
                }
            };
            st.revision = ev.revision;
            let event = Arc::new(event);
            if st.ring.len() == self.capacity
                && let Some(old) = st.ring.pop_front()
            {
                st.window_start = old.revision;
            }
            st.ring.push_back(event.clone());
            // No receivers is normal; a lagging receiver finds out on its next recv.
            let _ = self.tx.send(event);
        }
        if let Some(last) = events.last() {
            st.revision = st.revision.max(last.revision);
        }
    }

    /// The events after `revision` still in the window, and a receiver for every later
    /// one, taken atomically so nothing is missed or repeated.
    pub fn watch_from(&self, revision: u64) -> Result<(Vec<Arc<Event>>, EventReceiver), TooOld> {
        let st = self.read();
        if revision < st.window_start {
            return Err(TooOld {
                requested: revision,
                oldest: st.window_start + 1,
            });
        }
        let backlog = st
            .ring
            .iter()
            .filter(|e| e.revision > revision)
            .cloned()
            .collect();
        Ok((backlog, self.tx.subscribe()))
    }

    /// The current objects in a range and a receiver for every later event, atomically
    /// (a watch without a resourceVersion starts with synthetic ADDED events).
    pub fn snapshot_and_watch(
        &self,
        start: &str,
        end: &str,
    ) -> (Vec<(String, Arc<CachedObject>)>, u64, EventReceiver) {
        use std::ops::Bound;
        let st = self.read();
        let items = st
            .objects
            .range::<String, _>((
                Bound::Included(start.to_string()),
                Bound::Excluded(end.to_string()),
            ))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        (items, st.revision, self.tx.subscribe())
    }

    /// The oldest revision a watch may start from.
    pub fn oldest(&self) -> u64 {
        self.read().window_start
    }
}

/// Rewrites `metadata.resourceVersion` in a stored object.
pub fn with_resource_version(raw: &[u8], revision: u64) -> Bytes {
    match serde_json::from_slice::<Value>(raw) {
        Ok(mut v) => {
            if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
                m.insert(
                    "resourceVersion".into(),
                    Value::String(revision.to_string()),
                );
            }
            Bytes::from(serde_json::to_vec(&v).unwrap_or_else(|_| raw.to_vec()))
        }
        Err(_) => Bytes::copy_from_slice(raw),
    }
}

/// Connects the store's commit notifications to the cache and to the RBAC index.
#[derive(Default)]
pub struct CacheSink {
    pub cache: std::sync::OnceLock<Arc<Cache>>,
    pub rbac: std::sync::OnceLock<crate::rbac_authz::SharedIndex>,
}

impl store::CommitSink for CacheSink {
    fn committed(&self, events: &[store::Event]) {
        if let Some(c) = self.cache.get() {
            c.apply(events);
        }
        if let Some(index) = self.rbac.get() {
            for ev in events {
                crate::rbac_authz::index_event(index, &ev.key, ev.value.as_deref());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(rev: u64, key: &str, body: &str) -> store::Event {
        store::Event {
            revision: rev,
            key: key.into(),
            kind: store::EventKind::Put,
            value: Some(Bytes::from(body.to_string())),
            create_revision: rev,
        }
    }

    #[test]
    fn events_window_and_labels() {
        let c = Cache::new(Vec::new(), 0, 2);
        c.apply(&[put(
            1,
            "/core/configmaps/a/x",
            r#"{"metadata":{"name":"x","labels":{"app":"web"}}}"#,
        )]);
        c.apply(&[put(
            2,
            "/core/configmaps/a/x",
            r#"{"metadata":{"name":"x"}}"#,
        )]);
        c.apply(&[store::Event {
            revision: 3,
            key: "/core/configmaps/a/x".into(),
            kind: store::EventKind::Delete,
            value: None,
            create_revision: 1,
        }]);
        assert!(c.get("/core/configmaps/a/x").is_none());
        assert!(
            c.watch_from(0).is_err(),
            "event 1 fell out of a window of 2"
        );
        let (backlog, _rx) = c.watch_from(1).expect("in window");
        let kinds: Vec<_> = backlog.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, vec![EventKind::Modified, EventKind::Deleted]);
        assert_eq!(
            backlog[0].previous.as_ref().and_then(|p| p.label("app")),
            Some("web")
        );
        let deleted = backlog[1].object.value();
        assert_eq!(deleted["metadata"]["resourceVersion"], "3");
        assert_eq!(c.revision(), 3);
    }

    #[test]
    fn range_is_bounded_and_paged() {
        let c = Cache::new(Vec::new(), 0, 10);
        for (i, n) in ["a", "b", "c"].iter().enumerate() {
            c.apply(&[put(i as u64 + 1, &format!("/core/configmaps/ns/{n}"), "{}")]);
        }
        c.apply(&[put(4, "/core/configmaps/other/z", "{}")]);
        let (page, rev, more) = c.range(
            "/core/configmaps/ns/",
            "/core/configmaps/ns0",
            None,
            2,
            |_, _| true,
        );
        assert_eq!((page.len(), rev, more), (2, 4, true));
        let (page, _, more) = c.range(
            "/core/configmaps/ns/",
            "/core/configmaps/ns0",
            Some(&page[1].0),
            2,
            |_, _| true,
        );
        assert_eq!((page.len(), more), (1, false));
        assert_eq!(page[0].0, "/core/configmaps/ns/c");
    }
}
