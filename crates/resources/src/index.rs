//! One resource type's cache: projected objects indexed by namespace, owner and sort keys,
//! listed by walking the ordered keys instead of sorting per request.

use crate::filter::{self, FilterRegistry, Lookup};
use crate::merge::Merge;
use crate::object;
use crate::projection;
use crate::query::{ListResult, Matcher, Query, SortField, page_window, update_seconds};
use apimachinery::labels::LabelSource;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// A position in a sorted list: (sort time, name, namespace, slot); the time is 0 by name.
/// The slot (where the entry lives) never decides the order, as (name, namespace) is
/// unique; it lets a walk reach the entry without hashing.
pub type Key = (i64, Arc<str>, Arc<str>, u32);

/// An object's (namespace, name).
type ObjectRef = (Arc<str>, Arc<str>);

/// Labels kept outside the serialized projection so selectors need no parsing.
struct Labels(Box<[(Box<str>, Box<str>)]>);

impl LabelSource for Labels {
    fn label(&self, key: &str) -> Option<&str> {
        self.0
            .binary_search_by(|(k, _)| k.as_ref().cmp(key))
            .ok()
            .map(|i| self.0[i].1.as_ref())
    }
}

/// One cached object: its projection as compact JSON, and what fast filters read.
struct Entry {
    json: Box<str>,
    name: Arc<str>,
    created: i64,
    updated: i64,
    alias: Option<Box<str>>,
    status: Option<Box<str>>,
    labels: Labels,
    owners: Box<[Arc<str>]>,
}

/// Sort orders over a set of objects.
#[derive(Default)]
struct Ordered {
    created: BTreeSet<Key>,
    updated: BTreeSet<Key>,
    name: BTreeSet<Key>,
}

impl Ordered {
    fn set(&self, field: SortField, has_update: bool) -> &BTreeSet<Key> {
        match field {
            SortField::Name => &self.name,
            SortField::UpdateTime if has_update => &self.updated,
            _ => &self.created,
        }
    }

    fn insert(&mut self, e: &Entry, ns: &Arc<str>, slot: u32, has_update: bool) {
        self.created
            .insert((e.created, e.name.clone(), ns.clone(), slot));
        self.name.insert((0, e.name.clone(), ns.clone(), slot));
        if has_update {
            self.updated
                .insert((e.updated, e.name.clone(), ns.clone(), slot));
        }
    }

    fn remove(&mut self, e: &Entry, ns: &Arc<str>, slot: u32) {
        self.created
            .remove(&(e.created, e.name.clone(), ns.clone(), slot));
        self.name.remove(&(0, e.name.clone(), ns.clone(), slot));
        self.updated
            .remove(&(e.updated, e.name.clone(), ns.clone(), slot));
    }
}

/// The objects of one namespace ("" holds cluster-scoped objects).
#[derive(Default)]
struct Bucket {
    entries: HashMap<Arc<str>, u32>,
    ordered: Ordered,
}

/// The cache of one resource type (plural name), fed by `apply` and `delete`.
pub struct ResourceIndex {
    resource: String,
    has_update: bool,
    buckets: HashMap<Arc<str>, Bucket>,
    all: Ordered,
    by_owner: HashMap<Arc<str>, BTreeSet<ObjectRef>>,
    slots: Vec<Option<Entry>>,
    free: Vec<u32>,
    len: usize,
}

impl ResourceIndex {
    /// An empty index for `resource`.
    pub fn new(resource: impl Into<String>) -> Self {
        let resource = resource.into();
        ResourceIndex {
            has_update: matches!(resource.as_str(), "deployments" | "jobs"),
            resource,
            buckets: HashMap::new(),
            all: Ordered::default(),
            by_owner: HashMap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }

    /// The resource's plural name.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// How many objects are cached.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds or replaces an object (by namespace and name).
    pub fn apply(&mut self, object: &Value) {
        let ns_str = object::namespace(object);
        let name_str = object::name(object);
        if name_str.is_empty() {
            return;
        }
        self.delete_key(ns_str, name_str);
        let projected = projection::project(&self.resource, object);
        let ns: Arc<str> = match self.buckets.get_key_value(ns_str) {
            Some((k, _)) => k.clone(),
            None => Arc::from(ns_str),
        };
        let name: Arc<str> = Arc::from(name_str);
        let mut labels: Vec<(Box<str>, Box<str>)> = object::labels(object)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.as_str().into(), v.as_str()?.into())))
            .collect();
        labels.sort();
        let owners: Box<[Arc<str>]> = object::owner_references(object)
            .filter_map(|o| o.get("uid").and_then(Value::as_str))
            .map(|uid| match self.by_owner.get_key_value(uid) {
                Some((k, _)) => k.clone(),
                None => Arc::from(uid),
            })
            .collect();
        let entry = Entry {
            json: projected.to_string().into_boxed_str(),
            name: name.clone(),
            created: object::creation_seconds(object),
            updated: update_seconds(&self.resource, object),
            alias: object::annotation(object, filter::ALIAS_ANNOTATION).map(Box::from),
            status: filter::status_of(&self.resource, object).map(|s| s.as_ref().into()),
            labels: Labels(labels.into_boxed_slice()),
            owners,
        };
        for uid in entry.owners.iter() {
            self.by_owner
                .entry(uid.clone())
                .or_default()
                .insert((ns.clone(), name.clone()));
        }
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
            }
        };
        self.all.insert(&entry, &ns, slot, self.has_update);
        let bucket = self.buckets.entry(ns.clone()).or_default();
        bucket.ordered.insert(&entry, &ns, slot, self.has_update);
        bucket.entries.insert(name, slot);
        if let Some(cell) = self.slots.get_mut(slot as usize) {
            *cell = Some(entry);
        }
        self.len += 1;
    }

    /// Removes an object; true when it was cached.
    pub fn delete(&mut self, object: &Value) -> bool {
        self.delete_key(object::namespace(object), object::name(object))
    }

    /// Removes the object with this namespace ("" if cluster-scoped) and name.
    pub fn delete_key(&mut self, namespace: &str, name: &str) -> bool {
        let Some((ns, bucket)) = self.buckets.get_key_value(namespace) else {
            return false;
        };
        let ns = ns.clone();
        if !bucket.entries.contains_key(name) {
            return false;
        }
        let Some(bucket) = self.buckets.get_mut(namespace) else {
            return false;
        };
        let Some(slot) = bucket.entries.remove(name) else {
            return false;
        };
        let Some(entry) = self.slots.get_mut(slot as usize).and_then(Option::take) else {
            return false;
        };
        self.free.push(slot);
        bucket.ordered.remove(&entry, &ns, slot);
        if bucket.entries.is_empty() {
            self.buckets.remove(namespace);
        }
        self.all.remove(&entry, &ns, slot);
        for uid in entry.owners.iter() {
            if let Some(set) = self.by_owner.get_mut(uid) {
                set.remove(&(ns.clone(), entry.name.clone()));
                if set.is_empty() {
                    self.by_owner.remove(uid);
                }
            }
        }
        self.len -= 1;
        true
    }

    /// Drops everything (a watch restarting from a fresh list).
    pub fn clear(&mut self) {
        *self = ResourceIndex::new(std::mem::take(&mut self.resource));
    }

    /// The cached projection of one object.
    pub fn get(&self, namespace: &str, name: &str) -> Option<Value> {
        let slot = *self.buckets.get(namespace)?.entries.get(name)?;
        let entry = self.slots.get(slot as usize)?.as_ref()?;
        Some(parse(&entry.json))
    }

    /// Every cached projection, optionally within one namespace.
    pub fn list_all(&self, namespace: Option<&str>) -> Vec<Value> {
        self.buckets
            .iter()
            .filter(|(ns, _)| namespace.is_none_or(|n| n == ns.as_ref()))
            .flat_map(|(_, b)| b.entries.values())
            .filter_map(|slot| self.slots.get(*slot as usize)?.as_ref())
            .map(|e| parse(&e.json))
            .collect()
    }

    /// Namespaces holding at least one object.
    pub fn namespaces(&self) -> impl Iterator<Item = &str> {
        self.buckets.keys().map(|k| k.as_ref())
    }

    /// One page of a query, restricted to `scope` namespaces when given. Walks the keys
    /// of the requested order across the namespaces in scope and evaluates filters on
    /// the way; only the page's objects are decoded.
    pub fn list(
        &self,
        query: &Query,
        scope: Option<&BTreeSet<String>>,
        registry: &FilterRegistry,
        lookup: &dyn Lookup,
    ) -> ListResult {
        let hooks = registry.resolve(&self.resource, &query.filters);
        let plan = Plan::new(&self.resource, query, &hooks);
        let slow_matcher = Matcher::new(&self.resource, &plan.slow, registry, lookup);
        let field = query.sort_by;

        let owned;
        let sets: Vec<&BTreeSet<Key>> = if let Some(uid) = plan.owner_narrowing {
            owned = self.owned_keys(uid, field, scope, plan.namespace);
            vec![&owned]
        } else if let Some(ns) = plan.namespace {
            let in_scope = scope.is_none_or(|s| s.contains(ns));
            self.buckets
                .get(ns)
                .filter(|_| in_scope)
                .map(|b| b.ordered.set(field, self.has_update))
                .into_iter()
                .collect()
        } else if let Some(scope) = scope {
            scope
                .iter()
                .filter_map(|ns| self.buckets.get(ns.as_str()))
                .map(|b| b.ordered.set(field, self.has_update))
                .collect()
        } else {
            vec![self.all.set(field, self.has_update)]
        };

        let (start, end) = page_window(query.page, query.limit, usize::MAX);
        let mut page: Vec<&Entry> = Vec::new();
        let unfiltered = query.label_selector.is_none() && plan.is_empty();
        let total_items = if unfiltered {
            let total: usize = sets.iter().map(|s| s.len()).sum();
            let keys = Merge::new(sets, query.ascending).take(end).skip(start);
            page.extend(keys.filter_map(|k| self.entry(k)));
            total
        } else {
            let mut matched = 0usize;
            for key in Merge::new(sets, query.ascending) {
                let Some(entry) = self.entry(key) else {
                    continue;
                };
                if !plan.fast_matches(&self.resource, query, entry, key)
                    || (plan.needs_object() && !slow_matcher.matches(&parse(&entry.json)))
                {
                    continue;
                }
                if matched >= start && matched < end {
                    page.push(entry);
                }
                matched += 1;
            }
            matched
        };
        ListResult {
            items: page.into_iter().map(|e| parse(&e.json)).collect(),
            total_items,
        }
    }

    fn entry(&self, key: &Key) -> Option<&Entry> {
        self.slots.get(key.3 as usize)?.as_ref()
    }

    fn owned_keys(
        &self,
        uid: &str,
        field: SortField,
        scope: Option<&BTreeSet<String>>,
        namespace: Option<&str>,
    ) -> BTreeSet<Key> {
        let Some(owned) = self.by_owner.get(uid) else {
            return BTreeSet::new();
        };
        owned
            .iter()
            .filter(|(ns, _)| scope.is_none_or(|s| s.contains(ns.as_ref())))
            .filter(|(ns, _)| namespace.is_none_or(|n| n == ns.as_ref()))
            .filter_map(|(ns, name)| {
                let slot = *self.buckets.get(ns)?.entries.get(name)?;
                let e = self.slots.get(slot as usize)?.as_ref()?;
                let time = match field {
                    SortField::Name => 0,
                    SortField::UpdateTime if self.has_update => e.updated,
                    _ => e.created,
                };
                Some((time, name.clone(), ns.clone(), slot))
            })
            .collect()
    }

    /// Approximate heap bytes held per object (for the memory benchmark): the serialized
    /// projections plus label copies; the index structures come on top.
    pub fn payload_bytes(&self) -> usize {
        self.slots
            .iter()
            .flatten()
            .map(|e| {
                e.json.len()
                    + e.name.len()
                    + e.alias.as_ref().map_or(0, |a| a.len())
                    + e.status.as_ref().map_or(0, |s| s.len())
                    + e.labels
                        .0
                        .iter()
                        .map(|(k, v)| k.len() + v.len() + 32)
                        .sum::<usize>()
            })
            .sum()
    }
}

fn parse(json: &str) -> Value {
    match serde_json::from_str(json) {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "cached projection does not parse");
            Value::Null
        }
    }
}

/// How one query is evaluated: filters answerable from an entry's kept fields, and the
/// rest, which need the decoded projection.
struct Plan<'q> {
    fast: Vec<(&'q str, &'q str)>,
    slow: Query,
    namespace: Option<&'q str>,
    owner_narrowing: Option<&'q str>,
}

impl<'q> Plan<'q> {
    fn new(resource: &str, query: &'q Query, hooks: &[Option<Arc<dyn crate::Filter>>]) -> Self {
        let mut fast = Vec::new();
        let mut slow = Query {
            field_selector: query.field_selector.clone(),
            ..Query::default()
        };
        let mut namespace = None;
        let mut owner_narrowing = None;
        let has_status = filter::status_of(resource, &Value::Null).is_some();
        for ((key, value), hook) in query.filters.iter().zip(hooks) {
            if hook.is_some() {
                slow.filters.push((key.clone(), value.clone()));
                continue;
            }
            match key.as_str() {
                "namespace" => {
                    namespace.get_or_insert(value.as_str());
                    fast.push((key.as_str(), value.as_str()));
                }
                "name" | "nameAndAlias" | "names" => fast.push((key.as_str(), value.as_str())),
                "status" if has_status => fast.push((key.as_str(), value.as_str())),
                "ownerReference" if resource != "pods" => {
                    owner_narrowing.get_or_insert(value.as_str());
                    slow.filters.push((key.clone(), value.clone()));
                }
                _ => slow.filters.push((key.clone(), value.clone())),
            }
        }
        Plan {
            fast,
            slow,
            namespace,
            owner_narrowing,
        }
    }

    fn is_empty(&self) -> bool {
        self.fast.is_empty() && !self.needs_object()
    }

    fn needs_object(&self) -> bool {
        !self.slow.filters.is_empty() || self.slow.field_selector.is_some()
    }

    fn fast_matches(&self, resource: &str, query: &Query, entry: &Entry, key: &Key) -> bool {
        if let Some(selector) = &query.label_selector
            && !selector.matches(&entry.labels)
        {
            return false;
        }
        self.fast.iter().all(|(k, v)| match *k {
            "namespace" => key.2.as_ref() == *v,
            "names" => v.split(',').any(|n| n == entry.name.as_ref()),
            "status" => entry
                .status
                .as_deref()
                .is_some_and(|s| filter::status_matches(resource, s, v)),
            _ => filter::name_matches(&entry.name, entry.alias.as_deref(), v),
        })
    }
}
