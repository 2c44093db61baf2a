//! Indexed watch fan-out: a watch selecting `field=value` on a field of the body
//! (a kubelet's `spec.nodeName=<node>`) is woken only by events whose new or old
//! object has that value, as kube-apiserver's watch cache does with indexed triggers.
//!
//! One dispatcher task reads the cache's event broadcast, parses each event's object
//! once, and hands it to the matching watches; without the index every such watch
//! woke up for every event of every resource and parsed the object itself.

use crate::cache::{Cache, CachedObject, Event};
use crate::registry::{Resource, Source};
use crate::select::{Filter, field_value_or_empty};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::{broadcast, mpsc};

/// Events a watch may have pending before it counts as too slow and is cut (the
/// client resumes from the last resourceVersion it saw, as after a lagging broadcast).
const QUEUE: usize = 4096;

/// One event for one watch, with whether the new and the old object pass its filter.
#[derive(Debug)]
pub struct Delivery {
    pub event: Arc<Event>,
    pub now: bool,
    pub before: bool,
}

struct Sub {
    id: u64,
    start: String,
    end: String,
    filter: Arc<Filter>,
    tx: mpsc::Sender<Delivery>,
}

/// Watches of one resource indexed by one field.
struct Group {
    prefix: String,
    field: String,
    res: Arc<Resource>,
    by_value: HashMap<String, Vec<Sub>>,
}

#[derive(Default)]
struct State {
    groups: Vec<Group>,
    next_id: u64,
    running: bool,
}

/// The registry of indexed watches and its dispatcher.
pub struct Fanout {
    cache: Arc<Cache>,
    state: Mutex<State>,
    /// Every event up to this revision has been handed to the indexed watches.
    dispatched: AtomicU64,
}

impl std::fmt::Debug for Fanout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fanout").finish_non_exhaustive()
    }
}

/// A registered watch; dropping it unregisters.
pub struct Subscription {
    fanout: Weak<Fanout>,
    id: u64,
    prefix: String,
    field: String,
    value: String,
    pub rx: mpsc::Receiver<Delivery>,
}

impl Fanout {
    pub fn new(cache: Arc<Cache>) -> Arc<Fanout> {
        Arc::new(Fanout {
            cache,
            state: Mutex::new(State::default()),
            dispatched: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a watch of `res` with `filter` is served through the index, and by which term.
    pub fn index_term<'f>(res: &Resource, filter: &'f Filter) -> Option<(&'f str, &'f str)> {
        // Custom resources can change their selectable fields; only built-ins are indexed.
        match res.source {
            Source::Builtin(_) => filter.index_term(),
            _ => None,
        }
    }

    /// Registers a watch of keys in `[start, end)`. Every event committed after this
    /// call that the filter selects (before or after the change) is delivered, so
    /// take the starting snapshot or backlog *after* subscribing and skip events
    /// already covered by it.
    pub fn subscribe(
        self: &Arc<Self>,
        res: &Arc<Resource>,
        (field, value): (&str, &str),
        start: &str,
        end: &str,
        filter: Arc<Filter>,
    ) -> Subscription {
        let (tx, rx) = mpsc::channel(QUEUE);
        let prefix = res.key_prefix();
        let mut st = self.lock();
        if !st.running {
            // Subscribed here, under the lock, so no event committed after this
            // registration can slip past a dispatcher that is only starting.
            st.running = true;
            // An empty key range: only the receiver is wanted.
            let (_, _, events) = self.cache.snapshot_and_watch("", "");
            tokio::spawn(dispatch(self.clone(), events));
        }
        st.next_id += 1;
        let id = st.next_id;
        let pos = match st
            .groups
            .iter()
            .position(|g| g.prefix == prefix && g.field == field)
        {
            Some(p) => p,
            None => {
                st.groups.push(Group {
                    prefix: prefix.clone(),
                    field: field.to_string(),
                    res: res.clone(),
                    by_value: HashMap::new(),
                });
                st.groups.len() - 1
            }
        };
        st.groups[pos]
            .by_value
            .entry(value.to_string())
            .or_default()
            .push(Sub {
                id,
                start: start.to_string(),
                end: end.to_string(),
                filter,
                tx,
            });
        Subscription {
            fanout: Arc::downgrade(self),
            id,
            prefix,
            field: field.to_string(),
            value: value.to_string(),
            rx,
        }
    }

    /// The revision up to which every event has been queued to the indexed watches:
    /// a watch that drained its queue after reading this has seen all of them.
    pub fn dispatched(&self) -> u64 {
        self.dispatched.load(Ordering::Acquire)
    }

    fn unsubscribe(&self, s: &Subscription) {
        let mut st = self.lock();
        let Some(gi) = st
            .groups
            .iter()
            .position(|g| g.prefix == s.prefix && g.field == s.field)
        else {
            return;
        };
        let g = &mut st.groups[gi];
        if let Some(subs) = g.by_value.get_mut(&s.value) {
            subs.retain(|x| x.id != s.id);
            if subs.is_empty() {
                g.by_value.remove(&s.value);
            }
        }
        if g.by_value.is_empty() {
            st.groups.swap_remove(gi);
        }
    }

    /// Hands one event to the watches indexed under its old or new value.
    fn deliver(&self, ev: &Arc<Event>) {
        let mut st = self.lock();
        let mut now_body: Option<Value> = None;
        let mut prev_body: Option<Option<Value>> = None;
        for g in st.groups.iter_mut() {
            if !ev.key.starts_with(&g.prefix) {
                continue;
            }
            let body: &Value = now_body.get_or_insert_with(|| ev.object.value());
            let prev = prev_body
                .get_or_insert_with(|| ev.previous.as_ref().map(|p| p.value()))
                .as_ref();
            let v_now = field_value_or_empty(&g.res, body, &g.field);
            let v_prev = prev.map(|p| field_value_or_empty(&g.res, p, &g.field));
            let mut values = vec![v_now];
            if let Some(v) = v_prev
                && v != values[0]
            {
                values.push(v);
            }
            for v in values {
                let Some(subs) = g.by_value.get_mut(&v) else {
                    continue;
                };
                subs.retain(|s| offer(s, &g.res, ev, body, prev));
                if subs.is_empty() {
                    g.by_value.remove(&v);
                }
            }
        }
        st.groups.retain(|g| !g.by_value.is_empty());
    }

    /// Cuts every indexed watch: the dispatcher fell behind the broadcast and
    /// cannot tell what they missed. Their clients resume from what they saw.
    fn cut_all(&self) {
        self.lock().groups.clear();
    }

    /// Stops the dispatcher if nobody is subscribed; returns whether it stopped.
    fn stop_if_idle(&self) -> bool {
        let mut st = self.lock();
        if st.groups.is_empty() {
            st.running = false;
            return true;
        }
        false
    }
}

/// Offers `ev` to one watch; returns whether the watch stays registered.
fn offer(s: &Sub, res: &Resource, ev: &Arc<Event>, body: &Value, prev: Option<&Value>) -> bool {
    if !(ev.key.as_str() >= s.start.as_str() && ev.key.as_str() < s.end.as_str()) {
        return !s.tx.is_closed();
    }
    let sel = |o: &CachedObject, b: &Value| s.filter.matches_parsed(res, &ev.key, o, b);
    let now = sel(&ev.object, body);
    let before = match (&ev.previous, prev) {
        (Some(o), Some(b)) => sel(o, b),
        _ => false,
    };
    if !now && !before {
        return !s.tx.is_closed();
    }
    let d = Delivery {
        event: ev.clone(),
        now,
        before,
    };
    // A full queue means a watch too slow to keep up: dropping its sender ends it.
    s.tx.try_send(d).is_ok()
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(f) = self.fanout.upgrade() {
            f.unsubscribe(self);
        }
    }
}

async fn dispatch(fanout: Arc<Fanout>, mut events: broadcast::Receiver<Arc<Event>>) {
    loop {
        match events.recv().await {
            Ok(ev) => {
                fanout.deliver(&ev);
                fanout.dispatched.store(ev.revision, Ordering::Release);
                // Checked only when the queue is drained, so a new subscriber is
                // never left with a dispatcher that exits under it.
                if events.is_empty() && fanout.stop_if_idle() {
                    return;
                }
            }
            Err(broadcast::error::RecvError::Lagged(_)) => fanout.cut_all(),
            Err(broadcast::error::RecvError::Closed) => {
                fanout.cut_all();
                fanout.lock().running = false;
                return;
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::registry::Registry;
    use bytes::Bytes;
    use std::time::Duration;

    fn put(rev: u64, name: &str, node: &str) -> store::Event {
        let body = serde_json::json!({"metadata": {"name": name, "namespace": "ns"},
            "spec": {"nodeName": node}, "status": {"phase": format!("p{rev}")}});
        store::Event {
            revision: rev,
            key: format!("/core/pods/ns/{name}"),
            kind: store::EventKind::Put,
            value: Some(Bytes::from(serde_json::to_vec(&body).unwrap())),
            create_revision: 1,
        }
    }

    async fn next(sub: &mut Subscription) -> Option<(u64, bool, bool)> {
        tokio::time::timeout(Duration::from_millis(200), sub.rx.recv())
            .await
            .ok()
            .flatten()
            .map(|d| (d.event.revision, d.now, d.before))
    }

    #[tokio::test]
    async fn only_events_touching_the_value_are_delivered() {
        let cache = Arc::new(Cache::new(Vec::new(), 0, 100));
        let fanout = Fanout::new(cache.clone());
        let pods = Registry::with_builtins().get("", "v1", "pods").unwrap();
        let filter = Arc::new(Filter::parse(&pods, None, Some("spec.nodeName=n1")).unwrap());
        let term = Fanout::index_term(&pods, &filter).unwrap();
        assert_eq!(term, ("spec.nodeName", "n1"));
        let (start, end) = pods.range(None);
        let mut sub = fanout.subscribe(&pods, term, &start, &end, filter.clone());
        cache.apply(&[put(1, "a", "")]);
        cache.apply(&[put(2, "b", "n2")]);
        cache.apply(&[put(3, "a", "n1")]);
        cache.apply(&[put(4, "a", "n1")]);
        cache.apply(&[put(5, "a", "n2")]);
        cache.apply(&[store::Event {
            revision: 6,
            key: "/core/pods/ns/b".into(),
            kind: store::EventKind::Delete,
            value: None,
            create_revision: 1,
        }]);
        // Entering the selection, staying, leaving it; nothing about pod b on n2.
        assert_eq!(next(&mut sub).await, Some((3, true, false)));
        assert_eq!(next(&mut sub).await, Some((4, true, true)));
        assert_eq!(next(&mut sub).await, Some((5, false, true)));
        assert_eq!(next(&mut sub).await, None);
        assert_eq!(fanout.dispatched(), 6);
        drop(sub);
        assert!(fanout.lock().groups.is_empty());
    }

    #[tokio::test]
    async fn label_selectors_and_namespaces_still_apply() {
        let cache = Arc::new(Cache::new(Vec::new(), 0, 100));
        let fanout = Fanout::new(cache.clone());
        let pods = Registry::with_builtins().get("", "v1", "pods").unwrap();
        let filter =
            Arc::new(Filter::parse(&pods, Some("app=web"), Some("spec.nodeName=n1")).unwrap());
        let term = Fanout::index_term(&pods, &filter).unwrap();
        let (start, end) = pods.range(Some("other"));
        let mut elsewhere = fanout.subscribe(&pods, term, &start, &end, filter.clone());
        let (start, end) = pods.range(Some("ns"));
        let mut here = fanout.subscribe(&pods, term, &start, &end, filter.clone());
        let mut labelled = put(2, "a", "n1");
        let body = serde_json::json!({"metadata": {"name": "a", "namespace": "ns",
            "labels": {"app": "web"}}, "spec": {"nodeName": "n1"}});
        labelled.value = Some(Bytes::from(serde_json::to_vec(&body).unwrap()));
        cache.apply(&[put(1, "x", "n1"), labelled]);
        assert_eq!(next(&mut here).await, Some((2, true, false)));
        assert_eq!(next(&mut here).await, None);
        assert_eq!(next(&mut elsewhere).await, None);
    }

    #[test]
    fn only_exact_terms_on_body_fields_are_indexed() {
        let pods = Registry::with_builtins().get("", "v1", "pods").unwrap();
        let term = |f: &str| {
            let filter = Filter::parse(&pods, None, Some(f)).unwrap();
            Fanout::index_term(&pods, &filter).map(|(a, b)| (a.to_string(), b.to_string()))
        };
        assert_eq!(term("metadata.name=a"), None);
        assert_eq!(term("spec.nodeName!=n1"), None);
        assert_eq!(
            term("metadata.name=a,spec.nodeName=n1"),
            Some(("spec.nodeName".into(), "n1".into()))
        );
    }
}
