//! The straightforward list pipeline (filter every object, sort all, slice a page): the
//! reference the indexed engine is tested against, and the path for uncached lists.

use super::{Query, SortField};
use crate::filter::{self, Filter, FilterRegistry, Lookup, NoLookup};
use crate::object;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;

/// KubeSphere's list answer: `{"items": [...], "totalItems": N}`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, Default)]
pub struct ListResult {
    /// The requested page.
    pub items: Vec<Value>,
    /// How many objects matched before paging.
    #[serde(rename = "totalItems")]
    pub total_items: usize,
}

/// Where an object falls in a sorted list: ties in the sort field are broken by name and
/// then namespace, in the same direction, so pages are stable.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SortKey {
    /// Seconds since the epoch of the sort time; 0 when sorting by name.
    pub time: i64,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
}

/// The sort key of an object of `resource` for a sort field.
pub fn sort_key(resource: &str, field: SortField, obj: &Value) -> SortKey {
    let time = match field {
        SortField::Name => 0,
        SortField::CreationTimestamp => object::creation_seconds(obj),
        SortField::UpdateTime => update_seconds(resource, obj),
    };
    SortKey {
        time,
        name: object::name(obj).to_string(),
        namespace: object::namespace(obj).to_string(),
    }
}

/// Deployments use the newest condition `lastUpdateTime`, jobs the newest
/// `lastTransitionTime`; other resources their creation time.
pub fn update_seconds(resource: &str, obj: &Value) -> i64 {
    let field = match resource {
        "deployments" => "lastUpdateTime",
        "jobs" => "lastTransitionTime",
        _ => return object::creation_seconds(obj),
    };
    object::array_at(obj, &["status", "conditions"])
        .iter()
        .map(|c| object::seconds(c.get(field).and_then(Value::as_str)))
        .fold(object::creation_seconds(obj), i64::max)
}

/// KubeSphere's `GetValidPagination` over `total` sorted matches.
pub fn page_window(page: i64, limit: Option<i64>, total: usize) -> (usize, usize) {
    let Some(limit) = limit else {
        return (0, total);
    };
    let Some(offset) = page.checked_sub(1).and_then(|p| p.checked_mul(limit)) else {
        return (0, 0);
    };
    if limit < 0 || offset < 0 {
        return (0, 0);
    }
    let (Ok(offset), Ok(limit)) = (usize::try_from(offset), usize::try_from(limit)) else {
        return (0, 0);
    };
    if offset > total {
        return (0, 0);
    }
    (offset, offset.saturating_add(limit).min(total))
}

/// A query's filters resolved for one resource, applied object by object.
pub struct Matcher<'a> {
    resource: &'a str,
    query: &'a Query,
    hooks: Vec<Option<Arc<dyn Filter>>>,
    /// Name sets of the filters that follow other objects (`users?workspace=`).
    prepared: Vec<Option<HashSet<String>>>,
    lookup: &'a dyn Lookup,
}

impl<'a> Matcher<'a> {
    /// Resolves registered filters once for the query.
    pub fn new(
        resource: &'a str,
        query: &'a Query,
        registry: &FilterRegistry,
        lookup: &'a dyn Lookup,
    ) -> Self {
        let hooks = registry.resolve(resource, &query.filters);
        let prepared = query
            .filters
            .iter()
            .zip(&hooks)
            .map(|((key, value), hook)| match hook {
                Some(_) => None,
                None => crate::users::prepare(resource, key, value, lookup),
            })
            .collect();
        Matcher {
            resource,
            query,
            hooks,
            prepared,
            lookup,
        }
    }

    /// Whether an object passes the label selector, the field selector and every filter.
    pub fn matches(&self, obj: &Value) -> bool {
        if let Some(selector) = &self.query.label_selector
            && !selector.matches_object(obj)
        {
            return false;
        }
        if let Some(selector) = &self.query.field_selector
            && !filter::field_selector_matches(selector, obj)
        {
            return false;
        }
        self.query
            .filters
            .iter()
            .zip(self.hooks.iter().zip(&self.prepared))
            .all(|((key, value), (hook, prepared))| match (hook, prepared) {
                (Some(f), _) => f.matches(obj, value, self.lookup),
                (None, Some(names)) => names.contains(object::name(obj)),
                (None, None) => filter::builtin(self.resource, key, value, obj, self.lookup),
            })
    }
}

/// Whether one object of `resource` passes a query (no registered filters, no lookups).
pub fn matches(resource: &str, query: &Query, obj: &Value) -> bool {
    Matcher::new(resource, query, &FilterRegistry::new(), &NoLookup).matches(obj)
}

/// Filters, sorts and pages objects with the generic filters only.
pub fn apply(query: &Query, items: Vec<Value>) -> ListResult {
    apply_for("", query, items, &FilterRegistry::new(), &NoLookup)
}

/// Filters, sorts and pages objects of one resource (plural name), with its per-resource
/// filters, the registered ones, and `lookup` for filters that consult other objects.
pub fn apply_for(
    resource: &str,
    query: &Query,
    items: Vec<Value>,
    registry: &FilterRegistry,
    lookup: &dyn Lookup,
) -> ListResult {
    let matcher = Matcher::new(resource, query, registry, lookup);
    let mut keyed: Vec<(SortKey, Value)> = items
        .into_iter()
        .filter(|o| matcher.matches(o))
        .map(|o| (sort_key(resource, query.sort_by, &o), o))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    if !query.ascending {
        keyed.reverse();
    }
    let total_items = keyed.len();
    let (start, end) = query.window(total_items);
    ListResult {
        items: keyed
            .into_iter()
            .skip(start)
            .take(end - start)
            .map(|(_, o)| o)
            .collect(),
        total_items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(ns: &str, name: &str, created: &str) -> Value {
        json!({"metadata": {"name": name, "namespace": ns, "creationTimestamp": created}})
    }

    fn names(r: &ListResult) -> Vec<String> {
        r.items
            .iter()
            .map(|o| format!("{}/{}", object::namespace(o), object::name(o)))
            .collect()
    }

    #[test]
    fn sorts_descending_by_default_with_name_ties() {
        let items = vec![
            obj("a", "x", "2024-01-01T00:00:00Z"),
            obj("a", "y", "2024-01-01T00:00:00Z"),
            obj("b", "y", "2024-01-01T00:00:00Z"),
            obj("a", "old", "2023-01-01T00:00:00Z"),
        ];
        let r = apply(&Query::default(), items.clone());
        assert_eq!(r.total_items, 4);
        assert_eq!(names(&r), ["b/y", "a/y", "a/x", "a/old"]);
        let q = Query::parse("ascending=true&limit=2&page=2").unwrap();
        let r = apply(&q, items.clone());
        assert_eq!(names(&r), ["a/y", "b/y"]);
        let q = Query::parse("sortBy=name&ascending=true").unwrap();
        assert_eq!(names(&apply(&q, items)), ["a/old", "a/x", "a/y", "b/y"]);
    }

    #[test]
    fn filters_and_selectors_combine() {
        let mut a = obj("a", "web-1", "2024-01-01T00:00:00Z");
        a["metadata"]["labels"] = json!({"app": "web"});
        let b = obj("a", "web-2", "2024-01-02T00:00:00Z");
        let q = Query::parse("labelSelector=app%3Dweb&name=web").unwrap();
        let r = apply(&q, vec![a.clone(), b.clone()]);
        assert_eq!((r.total_items, names(&r)), (1, vec!["a/web-1".to_string()]));
        let r = apply(&Query::parse("limit=1&page=9").unwrap(), vec![a, b]);
        assert_eq!((r.total_items, r.items.len()), (2, 0));
    }

    #[test]
    fn per_resource_status_and_update_time() {
        let mut d1 = obj("a", "d1", "2024-01-01T00:00:00Z");
        d1["status"] = json!({"replicas": 1, "readyReplicas": 1,
            "conditions": [{"lastUpdateTime": "2024-06-01T00:00:00Z"}]});
        let mut d2 = obj("a", "d2", "2024-02-01T00:00:00Z");
        d2["status"] = json!({"replicas": 2, "readyReplicas": 1});
        let q = Query::parse("status=running").unwrap();
        let reg = FilterRegistry::new();
        let r = apply_for(
            "deployments",
            &q,
            vec![d1.clone(), d2.clone()],
            &reg,
            &NoLookup,
        );
        assert_eq!(names(&r), ["a/d1"]);
        let r = apply(&q, vec![d1.clone(), d2.clone()]);
        assert_eq!(
            r.total_items, 2,
            "status means nothing for an unknown resource"
        );
        let q = Query::parse("sortBy=updateTime").unwrap();
        let r = apply_for("deployments", &q, vec![d2, d1], &reg, &NoLookup);
        assert_eq!(names(&r), ["a/d1", "a/d2"]);
    }

    #[test]
    fn serializes_as_kubesphere() {
        let r = ListResult {
            items: vec![json!({"a": 1})],
            total_items: 3,
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"items": [{"a": 1}], "totalItems": 3})
        );
    }
}
