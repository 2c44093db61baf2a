//! One resource type's cache: projected objects indexed by namespace, owner and sort keys,
//! listed by walking the ordered keys instead of sorting per request.

use crate::compact::{self, Interner};
use crate::filter::{self, FilterRegistry, Lookup};
use crate::ident::{ByName, Ident};
use crate::merge::Merge;
use crate::object;
use crate::projection;
use crate::query::{ListResult, Matcher, Query, SortField, page_window, update_seconds};
use apimachinery::labels::LabelSource;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// A position in a sorted list: (sort time, identity, slot); the time is 0 by name.
/// The slot (where the entry lives) never decides the order, as identities are unique;
/// it lets a walk reach the entry without hashing.
pub type Key = (i64, Ident, u32);

/// An entry's labels, interned and sorted by key, read through the interner so selectors
/// need no decoding.
struct LabelView<'a> {
    labels: &'a [(u32, u32)],
    strings: &'a Interner,
}

impl LabelSource for LabelView<'_> {
    fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .binary_search_by(|(k, _)| self.strings.get(*k).cmp(key))
            .ok()
            .map(|i| self.strings.get(self.labels[i].1))
    }
}

/// One cached object: its projection in compact form, and what fast filters read.
struct Entry {
    data: Box<[u8]>,
    id: Ident,
    created: i64,
    updated: i64,
    alias: Option<Box<str>>,
    status: Option<u32>,
    labels: Box<[(u32, u32)]>,
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

    fn insert(&mut self, e: &Entry, slot: u32, has_update: bool) {
        self.created.insert((e.created, e.id.clone(), slot));
        self.name.insert((0, e.id.clone(), slot));
        if has_update {
            self.updated.insert((e.updated, e.id.clone(), slot));
        }
    }

    fn remove(&mut self, e: &Entry, slot: u32) {
        self.created.remove(&(e.created, e.id.clone(), slot));
        self.name.remove(&(0, e.id.clone(), slot));
        self.updated.remove(&(e.updated, e.id.clone(), slot));
    }
}

/// The objects of one namespace ("" holds cluster-scoped objects).
#[derive(Default)]
struct Bucket {
    entries: HashMap<ByName, u32>,
    ordered: Ordered,
}

/// The cache of one resource type (plural name), fed by `apply` and `delete`.
pub struct ResourceIndex {
    resource: String,
    has_update: bool,
    buckets: HashMap<Arc<str>, Bucket>,
    all: Ordered,
    by_owner: HashMap<Arc<str>, BTreeSet<Ident>>,
    slots: Vec<Option<Entry>>,
    free: Vec<u32>,
    len: usize,
    strings: Interner,
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
            strings: Interner::default(),
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
        let id = Ident::new(ns_str, name_str);
        let strings = &mut self.strings;
        let mut labels: Vec<(u32, u32)> = object::labels(object)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| {
                let v = v.as_str()?;
                Some((strings.intern(k), strings.intern(v)))
            })
            .collect();
        labels.sort_by(|a, b| strings.get(a.0).cmp(strings.get(b.0)));
        let status = filter::status_of(&self.resource, object).map(|s| strings.intern(&s));
        let mut data = Vec::new();
        compact::encode(&projected, strings, &mut data);
        let owners: Box<[Arc<str>]> = object::owner_references(object)
            .filter_map(|o| o.get("uid").and_then(Value::as_str))
            .map(|uid| match self.by_owner.get_key_value(uid) {
                Some((k, _)) => k.clone(),
                None => Arc::from(uid),
            })
            .collect();
        let entry = Entry {
            data: data.into_boxed_slice(),
            id: id.clone(),
            created: object::creation_seconds(object),
            updated: update_seconds(&self.resource, object),
            alias: object::annotation(object, filter::ALIAS_ANNOTATION).map(Box::from),
            status,
            labels: labels.into_boxed_slice(),
            owners,
        };
        for uid in entry.owners.iter() {
            self.by_owner
                .entry(uid.clone())
                .or_default()
                .insert(id.clone());
        }
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
            }
        };
        self.all.insert(&entry, slot, self.has_update);
        let bucket = self.buckets.entry(ns).or_default();
        bucket.ordered.insert(&entry, slot, self.has_update);
        bucket.entries.insert(ByName(id), slot);
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
        bucket.ordered.remove(&entry, slot);
        if bucket.entries.is_empty() {
            self.buckets.remove(namespace);
        }
        self.all.remove(&entry, slot);
        compact::release(&entry.data, &mut self.strings);
        for (k, v) in entry.labels.iter() {
            self.strings.release(*k);
            self.strings.release(*v);
        }
        if let Some(status) = entry.status {
            self.strings.release(status);
        }
        for uid in entry.owners.iter() {
            if let Some(set) = self.by_owner.get_mut(uid) {
                set.remove(&entry.id);
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
        Some(self.decode(entry))
    }

    /// Every cached projection, optionally within one namespace.
    pub fn list_all(&self, namespace: Option<&str>) -> Vec<Value> {
        self.buckets
            .iter()
            .filter(|(ns, _)| namespace.is_none_or(|n| n == ns.as_ref()))
            .flat_map(|(_, b)| b.entries.values())
            .filter_map(|slot| self.slots.get(*slot as usize)?.as_ref())
            .map(|e| self.decode(e))
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
        let unfiltered = query.label_selector.is_none() && plan.is_empty();
        let matches = |entry: &Entry| {
            plan.fast_matches(&self.resource, query, entry, &self.strings)
                && (!plan.needs_object() || slow_matcher.matches(&self.decode(entry)))
        };
        let mut page: Vec<&Entry> = Vec::new();
        let total_items = if unfiltered {
            let total: usize = sets.iter().map(|s| s.len()).sum();
            let keys = Merge::new(sets, query.ascending).take(end).skip(start);
            page.extend(keys.filter_map(|k| self.entry(k)));
            total
        } else if scope.is_none() && plan.namespace.is_none() && plan.owner_narrowing.is_none() {
            // Cluster-wide: decide every object in slot order (a sequential scan, kind to
            // caches), then walk the sort order only until the page is full.
            let mut matched = vec![0u64; self.slots.len().div_ceil(64)];
            let mut total = 0usize;
            for (slot, entry) in self.slots.iter().enumerate() {
                if let Some(entry) = entry
                    && matches(entry)
                {
                    matched[slot / 64] |= 1 << (slot % 64);
                    total += 1;
                }
            }
            if start < end.min(total) {
                let is_match = |k: &&Key| {
                    let slot = k.2 as usize;
                    matched
                        .get(slot / 64)
                        .is_some_and(|w| w & (1 << (slot % 64)) != 0)
                };
                let keys = Merge::new(sets, query.ascending).filter(is_match);
                page.extend(keys.take(end).skip(start).filter_map(|k| self.entry(k)));
            }
            total
        } else {
            let mut matched = 0usize;
            for key in Merge::new(sets, query.ascending) {
                let Some(entry) = self.entry(key) else {
                    continue;
                };
                if !matches(entry) {
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
            items: page.into_iter().map(|e| self.decode(e)).collect(),
            total_items,
        }
    }

    fn decode(&self, entry: &Entry) -> Value {
        compact::decode(&entry.data, &self.strings).unwrap_or_else(|| {
            tracing::error!(resource = %self.resource, name = %entry.id.name(), "cached projection does not decode");
            Value::Null
        })
    }

    fn entry(&self, key: &Key) -> Option<&Entry> {
        self.slots.get(key.2 as usize)?.as_ref()
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
            .filter(|id| scope.is_none_or(|s| s.contains(id.namespace())))
            .filter(|id| namespace.is_none_or(|n| n == id.namespace()))
            .filter_map(|id| {
                let slot = *self.buckets.get(id.namespace())?.entries.get(id.name())?;
                let e = self.slots.get(slot as usize)?.as_ref()?;
                let time = match field {
                    SortField::Name => 0,
                    SortField::UpdateTime if self.has_update => e.updated,
                    _ => e.created,
                };
                Some((time, id.clone(), slot))
            })
            .collect()
    }

    /// How many distinct strings the cached objects share.
    pub fn interned_strings(&self) -> usize {
        self.strings.len()
    }

    /// Heap bytes of the cached projections and labels plus the distinct interned
    /// strings (for the memory benchmark); the index structures come on top.
    pub fn payload_bytes(&self) -> usize {
        let entries: usize = self
            .slots
            .iter()
            .flatten()
            .map(|e| {
                e.data.len()
                    + e.id.text_len()
                    + e.alias.as_ref().map_or(0, |a| a.len())
                    + e.labels.len() * 8
            })
            .sum();
        entries + self.strings.string_bytes()
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

    fn fast_matches(
        &self,
        resource: &str,
        query: &Query,
        entry: &Entry,
        strings: &Interner,
    ) -> bool {
        if let Some(selector) = &query.label_selector
            && !selector.matches(&LabelView {
                labels: &entry.labels,
                strings,
            })
        {
            return false;
        }
        self.fast.iter().all(|(k, v)| match *k {
            "namespace" => entry.id.namespace() == *v,
            "names" => v.split(',').any(|n| n == entry.id.name()),
            "status" => entry
                .status
                .is_some_and(|s| filter::status_matches(resource, strings.get(s), v)),
            _ => filter::name_matches(entry.id.name(), entry.alias.as_deref(), v),
        })
    }
}
