//! Informer caches with client-go-style indexes: by namespace and by controller owner UID.
//!
//! kube-runtime's reflector store is one flat map, so "the pods of this ReplicaSet"
//! meant a scan of every pod in the cluster. Here the object table is keyed by
//! namespace first (the namespace index costs nothing), and a cache built with
//! [`Indexes::Controller`] also keeps kube-controller-manager's `controllerUIDIndex`:
//! objects by the UID of their controller reference, and objects without one
//! (orphans, which an owner may adopt) per namespace. Every object is held once, in
//! an `Arc`; the indexes share the same `Arc`s and interned names.
//!
//! `metadata.managedFields` is dropped on the way in, as kube-controller-manager does
//! (kubernetes#118455): no controller reads it, it is the largest part of a cached pod,
//! and an update that omits it keeps the server's copy.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use kube::Resource;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher::Event;
use tokio::sync::watch;

use crate::pods;

/// A namespace or name, allocated once and shared by the object table and the indexes.
type Name = Arc<str>;
/// Objects of one namespace by name.
type ByName<K> = BTreeMap<Name, Arc<K>>;
/// Objects by namespace and name.
type ByKey<K> = BTreeMap<(Name, Name), Arc<K>>;

/// Which indexes a cache keeps besides the namespace index every cache has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Indexes {
    /// Only the namespace index.
    #[default]
    Namespace,
    /// Also objects by controller owner UID, and orphans (no controller) by namespace.
    Controller,
}

/// The writer side was dropped (its watch stopped) before the first list finished.
#[derive(Debug, thiserror::Error)]
#[error("the informer stopped before its cache was filled")]
pub struct WriterDropped;

/// Objects by controller UID, and objects without a controller by namespace.
struct ControllerIndex<K> {
    owned: HashMap<Box<str>, ByKey<K>>,
    orphans: HashMap<Name, ByName<K>>,
}

impl<K: Resource> ControllerIndex<K> {
    fn new() -> Self {
        ControllerIndex {
            owned: HashMap::new(),
            orphans: HashMap::new(),
        }
    }

    fn insert(&mut self, ns: &Name, name: &Name, obj: &Arc<K>) {
        match pods::controller_ref(obj.meta()) {
            Some(r) => {
                let key = (ns.clone(), name.clone());
                if let Some(m) = self.owned.get_mut(r.uid.as_str()) {
                    m.insert(key, obj.clone());
                } else {
                    self.owned
                        .insert(r.uid.as_str().into(), BTreeMap::from([(key, obj.clone())]));
                }
            }
            None => {
                self.orphans
                    .entry(ns.clone())
                    .or_default()
                    .insert(name.clone(), obj.clone());
            }
        }
    }

    /// Drops the entries `old` (the version previously stored) was indexed under;
    /// its owner may differ from the new version's after an adoption or release.
    fn remove(&mut self, ns: &Name, name: &Name, old: &K) {
        match pods::controller_ref(old.meta()) {
            Some(r) => {
                let uid = r.uid.as_str();
                if let Some(m) = self.owned.get_mut(uid) {
                    m.remove(&(ns.clone(), name.clone()));
                    if m.is_empty() {
                        self.owned.remove(uid);
                    }
                }
            }
            None => {
                if let Some(m) = self.orphans.get_mut(ns) {
                    m.remove(name);
                    if m.is_empty() {
                        self.orphans.remove(ns);
                    }
                }
            }
        }
    }
}

/// One consistent set of objects and its indexes.
struct State<K> {
    /// Namespace ("" for cluster-scoped objects) to name to object: the object table
    /// and the namespace index at once.
    by_namespace: HashMap<Name, ByName<K>>,
    controller: Option<ControllerIndex<K>>,
    len: usize,
}

impl<K: Resource> State<K> {
    fn new(indexes: Indexes) -> Self {
        State {
            by_namespace: HashMap::new(),
            controller: (indexes == Indexes::Controller).then(ControllerIndex::new),
            len: 0,
        }
    }

    fn indexes(&self) -> Indexes {
        if self.controller.is_some() {
            Indexes::Controller
        } else {
            Indexes::Namespace
        }
    }

    /// Stores `obj`, replacing (and unindexing) the version with its name.
    fn insert(&mut self, obj: Arc<K>) {
        let meta = obj.meta();
        let ns_str = meta.namespace.as_deref().unwrap_or_default();
        let name_str = meta.name.as_deref().unwrap_or_default();
        let ns = match self.by_namespace.get_key_value(ns_str) {
            Some((k, _)) => k.clone(),
            None => Name::from(ns_str),
        };
        let objects = self.by_namespace.entry(ns.clone()).or_default();
        let (name, old) = match objects.get_key_value(name_str) {
            Some((k, _)) => {
                let k = k.clone();
                let old = objects.insert(k.clone(), obj.clone());
                (k, old)
            }
            None => {
                let k = Name::from(name_str);
                objects.insert(k.clone(), obj.clone());
                self.len += 1;
                (k, None)
            }
        };
        if let Some(ix) = self.controller.as_mut() {
            if let Some(old) = &old {
                ix.remove(&ns, &name, old);
            }
            ix.insert(&ns, &name, &obj);
        }
    }

    /// Removes the object `ns`/`name` from the table and every index.
    fn remove(&mut self, ns_str: &str, name_str: &str) -> Option<Arc<K>> {
        let (ns, objects) = self.by_namespace.get_key_value(ns_str)?;
        let ns = ns.clone();
        let name = objects.get_key_value(name_str)?.0.clone();
        let objects = self.by_namespace.get_mut(ns_str)?;
        let old = objects.remove(name_str)?;
        if objects.is_empty() {
            self.by_namespace.remove(ns_str);
        }
        self.len -= 1;
        if let Some(ix) = self.controller.as_mut() {
            ix.remove(&ns, &name, &old);
        }
        Some(old)
    }

    fn find(&self, ns: &str, name: &str) -> Option<&Arc<K>> {
        self.by_namespace.get(ns)?.get(name)
    }

    fn all(&self) -> impl Iterator<Item = &Arc<K>> {
        self.by_namespace.values().flat_map(BTreeMap::values)
    }

    /// The objects of `ns` for which `f` is true, for caches without the index.
    fn scan_namespace(&self, ns: &str, f: impl Fn(&K) -> bool, out: &mut Vec<Arc<K>>) {
        let objects = self
            .by_namespace
            .get(ns)
            .into_iter()
            .flat_map(|m| m.values());
        out.extend(objects.filter(|o| f(o)).cloned());
    }

    fn controlled_by(&self, ns: &str, uid: &str, out: &mut Vec<Arc<K>>) {
        match &self.controller {
            Some(ix) => {
                let owned = ix.owned.get(uid).into_iter().flat_map(|m| m.iter());
                out.extend(
                    owned
                        .filter(|((o_ns, _), _)| &**o_ns == ns)
                        .map(|(_, o)| o.clone()),
                );
            }
            None => self.scan_namespace(ns, |o| pods::is_controlled_by(o.meta(), uid), out),
        }
    }

    fn orphans_in(&self, ns: &str, out: &mut Vec<Arc<K>>) {
        match &self.controller {
            Some(ix) => out.extend(
                ix.orphans
                    .get(ns)
                    .into_iter()
                    .flat_map(|m| m.values().cloned()),
            ),
            None => self.scan_namespace(ns, |o| pods::controller_ref(o.meta()).is_none(), out),
        }
    }
}

struct Shared<K> {
    state: RwLock<State<K>>,
    ready: watch::Receiver<bool>,
}

/// A read handle on an informer's objects. Clones share the same objects.
pub struct Cache<K> {
    shared: Arc<Shared<K>>,
}

impl<K> Clone for Cache<K> {
    fn clone(&self) -> Self {
        Cache {
            shared: self.shared.clone(),
        }
    }
}

impl<K: Resource> Cache<K> {
    fn read(&self) -> RwLockReadGuard<'_, State<K>> {
        // Every mutation leaves the maps consistent before it can panic (a panic
        // would come from an allocation), so a poisoned lock still holds a usable cache.
        self.shared.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State<K>> {
        self.shared.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The object `r` names, as kube-runtime's `Store::get`.
    pub fn get(&self, r: &ObjectRef<K>) -> Option<Arc<K>> {
        self.find(r.namespace.as_deref().unwrap_or_default(), &r.name)
    }

    /// The object `name` in namespace `ns` ("" for cluster-scoped kinds).
    pub fn find(&self, ns: &str, name: &str) -> Option<Arc<K>> {
        self.read().find(ns, name).cloned()
    }

    /// Every object.
    pub fn state(&self) -> Vec<Arc<K>> {
        self.read().all().cloned().collect()
    }

    /// Every object for which `f` is true. Prefer an index when the filter is one.
    pub fn state_filter(&self, f: impl Fn(&K) -> bool) -> Vec<Arc<K>> {
        self.read().all().filter(|o| f(o)).cloned().collect()
    }

    /// The objects in namespace `ns`, ordered by name.
    pub fn in_namespace(&self, ns: &str) -> Vec<Arc<K>> {
        self.read()
            .by_namespace
            .get(ns)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The objects in `ns` whose controller reference has `uid`.
    pub fn controlled_by(&self, ns: &str, uid: &str) -> Vec<Arc<K>> {
        let mut out = Vec::new();
        self.read().controlled_by(ns, uid, &mut out);
        out
    }

    /// The objects in `ns` without a controller reference: candidates for adoption.
    pub fn orphans_in(&self, ns: &str) -> Vec<Arc<K>> {
        let mut out = Vec::new();
        self.read().orphans_in(ns, &mut out);
        out
    }

    /// What an owner with `uid` in `ns` may claim, as kube-controller-manager's
    /// `FilterPodsByOwner` with orphans: its own objects, then the namespace's orphans,
    /// from one snapshot (an object adopted meanwhile is in exactly one of the two).
    /// Objects controlled by anyone else are never returned.
    pub fn claimable_by(&self, ns: &str, uid: &str) -> Vec<Arc<K>> {
        let mut out = Vec::new();
        let state = self.read();
        state.controlled_by(ns, uid, &mut out);
        state.orphans_in(ns, &mut out);
        out
    }

    /// How many objects the cache holds.
    pub fn len(&self) -> usize {
        self.read().len
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until the first list has been stored in full.
    pub async fn wait_until_ready(&self) -> Result<(), WriterDropped> {
        let mut rx = self.shared.ready.clone();
        rx.wait_for(|ready| *ready)
            .await
            .map(|_| ())
            .map_err(|_| WriterDropped)
    }
}

impl<K: Resource + std::fmt::Debug> std::fmt::Debug for Cache<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.read();
        f.debug_struct("Cache")
            .field("len", &state.len)
            .field("indexes", &state.indexes())
            .finish()
    }
}

/// What handlers are to be told after the writer applied one watch event.
#[derive(Debug)]
pub enum Change<K> {
    /// Nothing yet (a relist in progress).
    None,
    /// The object was added or updated.
    Applied(Arc<K>),
    /// The object was deleted; its last state as the server sent it.
    Deleted(Arc<K>),
    /// A relist replaced the whole state: `current` is every object now held, `gone`
    /// the ones the relist no longer had (deleted while the watch was down).
    Relisted {
        current: Vec<Arc<K>>,
        gone: Vec<Arc<K>>,
    },
}

/// The single writer of a [`Cache`], fed with watch events.
pub struct Writer<K> {
    cache: Cache<K>,
    /// The state a relist is building; readers keep the old one until `InitDone`.
    relist: Option<State<K>>,
    ready: watch::Sender<bool>,
}

impl<K: Resource> Writer<K> {
    /// An empty cache with `indexes`, and its writer.
    pub fn new(indexes: Indexes) -> Self {
        let (ready, rx) = watch::channel(false);
        Writer {
            cache: Cache {
                shared: Arc::new(Shared {
                    state: RwLock::new(State::new(indexes)),
                    ready: rx,
                }),
            },
            relist: None,
            ready,
        }
    }

    /// A read handle on the cache.
    pub fn cache(&self) -> Cache<K> {
        self.cache.clone()
    }

    /// Applies one watch event. A relist (`Init`, `InitApply`..., `InitDone`) is built
    /// aside and swapped in whole at `InitDone`, indexes included, so readers never
    /// see half a list.
    pub fn apply(&mut self, event: Event<K>) -> Change<K> {
        match event {
            Event::Apply(obj) => {
                let obj = Arc::new(trim(obj));
                self.cache.write().insert(obj.clone());
                Change::Applied(obj)
            }
            Event::Delete(obj) => {
                let meta = obj.meta();
                self.cache.write().remove(
                    meta.namespace.as_deref().unwrap_or_default(),
                    meta.name.as_deref().unwrap_or_default(),
                );
                Change::Deleted(Arc::new(obj))
            }
            Event::Init => {
                self.relist = Some(State::new(self.cache.read().indexes()));
                Change::None
            }
            Event::InitApply(obj) => {
                let indexes = self.cache.read().indexes();
                self.relist
                    .get_or_insert_with(|| State::new(indexes))
                    .insert(Arc::new(trim(obj)));
                Change::None
            }
            Event::InitDone => {
                let indexes = self.cache.read().indexes();
                let fresh = self.relist.take().unwrap_or_else(|| State::new(indexes));
                let old = std::mem::replace(&mut *self.cache.write(), fresh);
                self.ready.send_replace(true);
                let state = self.cache.read();
                let current = state.all().cloned().collect();
                let gone = old
                    .all()
                    .filter(|o| {
                        let m = o.meta();
                        state
                            .find(
                                m.namespace.as_deref().unwrap_or_default(),
                                m.name.as_deref().unwrap_or_default(),
                            )
                            .is_none()
                    })
                    .cloned()
                    .collect();
                Change::Relisted { current, gone }
            }
        }
    }
}

/// Drops what no controller reads before an object is cached.
fn trim<K: Resource>(mut obj: K) -> K {
    // None, not an empty list: an update carrying `managedFields: []` would clear them.
    obj.meta_mut().managed_fields = None;
    obj
}

#[cfg(test)]
mod tests;
