//! The set of resource caches: one `ResourceIndex` per resource type, the workspace →
//! namespaces index kept from namespace labels, and cross-resource lookups for filters.

use crate::filter::Lookup;
use crate::index::ResourceIndex;
use crate::object;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The label that puts a namespace (a project) in a workspace.
pub const WORKSPACE_LABEL: &str = "kubesphere.io/workspace";

/// One resource type the store serves.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceType {
    /// API group ("" for core).
    pub group: String,
    /// Preferred version.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Plural name, as in the URL.
    pub plural: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
}

/// A cached resource type and its index.
pub struct Cached {
    /// What it is.
    pub kind: ResourceType,
    /// Its objects.
    pub index: RwLock<ResourceIndex>,
    /// Whether its first full list has been loaded.
    pub synced: std::sync::atomic::AtomicBool,
}

impl Cached {
    /// True once the first full list is in.
    pub fn is_synced(&self) -> bool {
        self.synced.load(std::sync::atomic::Ordering::Acquire)
    }
}

/// All caches. Readers take per-resource read locks; watchers write one resource at a time.
#[derive(Default)]
pub struct Store {
    resources: RwLock<HashMap<String, Arc<Cached>>>,
    workspaces: RwLock<Workspaces>,
}

#[derive(Default)]
struct Workspaces {
    of_namespace: HashMap<String, String>,
    namespaces: HashMap<String, BTreeSet<String>>,
}

impl Workspaces {
    fn set(&mut self, namespace: &str, workspace: Option<&str>) {
        if let Some(old) = self.of_namespace.remove(namespace)
            && let Some(set) = self.namespaces.get_mut(&old)
        {
            set.remove(namespace);
            if set.is_empty() {
                self.namespaces.remove(&old);
            }
        }
        if let Some(ws) = workspace.filter(|w| !w.is_empty()) {
            self.of_namespace.insert(namespace.into(), ws.into());
            self.namespaces
                .entry(ws.into())
                .or_default()
                .insert(namespace.into());
        }
    }
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

impl Store {
    /// An empty store.
    pub fn new() -> Self {
        Store::default()
    }

    /// Registers a resource type (idempotent) and returns its cache.
    pub fn register(&self, kind: ResourceType) -> Arc<Cached> {
        let mut resources = write(&self.resources);
        if let Some(existing) = resources.get(&kind.plural)
            && existing.kind == kind
        {
            return existing.clone();
        }
        let cached = Arc::new(Cached {
            index: RwLock::new(ResourceIndex::new(kind.plural.clone())),
            kind: kind.clone(),
            synced: std::sync::atomic::AtomicBool::new(false),
        });
        resources.insert(kind.plural.clone(), cached.clone());
        cached
    }

    /// Forgets a resource type (its CRD was removed).
    pub fn unregister(&self, plural: &str) {
        write(&self.resources).remove(plural);
    }

    /// The cache of a resource by plural name.
    pub fn resource(&self, plural: &str) -> Option<Arc<Cached>> {
        read(&self.resources).get(plural).cloned()
    }

    /// The plural names served.
    pub fn plurals(&self) -> Vec<String> {
        read(&self.resources).keys().cloned().collect()
    }

    /// Adds or replaces an object of a registered resource; namespaces also update the
    /// workspace index. Unknown resources are ignored.
    pub fn apply(&self, plural: &str, object: &Value) {
        if plural == "namespaces" {
            write(&self.workspaces)
                .set(object::name(object), object::label(object, WORKSPACE_LABEL));
        }
        if let Some(cached) = self.resource(plural) {
            write(&cached.index).apply(object);
        }
    }

    /// Removes an object of a registered resource.
    pub fn delete(&self, plural: &str, object: &Value) {
        if plural == "namespaces" {
            write(&self.workspaces).set(object::name(object), None);
        }
        if let Some(cached) = self.resource(plural) {
            write(&cached.index).delete(object);
        }
    }

    /// Replaces every object of a resource (a watch's initial list or relist).
    pub fn replace(&self, plural: &str, objects: &[Value]) {
        if plural == "namespaces" {
            let mut ws = write(&self.workspaces);
            *ws = Workspaces::default();
            for o in objects {
                ws.set(object::name(o), object::label(o, WORKSPACE_LABEL));
            }
        }
        if let Some(cached) = self.resource(plural) {
            let mut index = write(&cached.index);
            index.clear();
            for o in objects {
                index.apply(o);
            }
            cached
                .synced
                .store(true, std::sync::atomic::Ordering::Release);
        }
    }

    /// Swaps in a complete index built from a fresh list and marks the resource synced.
    pub fn install(&self, plural: &str, index: ResourceIndex) {
        if plural == "namespaces" {
            let mut ws = Workspaces::default();
            for o in index.list_all(None) {
                ws.set(object::name(&o), object::label(&o, WORKSPACE_LABEL));
            }
            *write(&self.workspaces) = ws;
        }
        if let Some(cached) = self.resource(plural) {
            *write(&cached.index) = index;
            cached
                .synced
                .store(true, std::sync::atomic::Ordering::Release);
        }
    }

    /// The namespaces of a workspace (its projects).
    pub fn workspace_namespaces(&self, workspace: &str) -> BTreeSet<String> {
        read(&self.workspaces)
            .namespaces
            .get(workspace)
            .cloned()
            .unwrap_or_default()
    }

    /// The workspace a namespace belongs to.
    pub fn workspace_of(&self, namespace: &str) -> Option<String> {
        read(&self.workspaces).of_namespace.get(namespace).cloned()
    }
}

impl Lookup for Store {
    fn get(&self, resource: &str, namespace: &str, name: &str) -> Option<Arc<Value>> {
        let cached = self.resource(resource)?;
        let index = read(&cached.index);
        index.get(namespace, name).map(Arc::new)
    }

    fn list(&self, resource: &str, namespace: Option<&str>) -> Vec<Arc<Value>> {
        let Some(cached) = self.resource(resource) else {
            return Vec::new();
        };
        let index = read(&cached.index);
        index
            .list_all(namespace)
            .into_iter()
            .map(Arc::new)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ns(name: &str, ws: Option<&str>) -> Value {
        match ws {
            Some(ws) => json!({"metadata": {"name": name, "labels": {WORKSPACE_LABEL: ws}}}),
            None => json!({"metadata": {"name": name}}),
        }
    }

    #[test]
    fn workspace_index_follows_relabelling() {
        let store = Store::new();
        store.apply("namespaces", &ns("p1", Some("w1")));
        store.apply("namespaces", &ns("p2", Some("w1")));
        assert_eq!(store.workspace_namespaces("w1").len(), 2);
        store.apply("namespaces", &ns("p2", Some("w2")));
        assert_eq!(store.workspace_namespaces("w1"), ["p1".to_string()].into());
        assert_eq!(store.workspace_of("p2").as_deref(), Some("w2"));
        store.apply("namespaces", &ns("p1", None));
        assert!(store.workspace_namespaces("w1").is_empty());
        store.delete("namespaces", &ns("p2", Some("w2")));
        assert!(store.workspace_namespaces("w2").is_empty());
        store.replace("namespaces", &[ns("p3", Some("w3"))]);
        assert_eq!(store.workspace_namespaces("w3"), ["p3".to_string()].into());
    }
}
