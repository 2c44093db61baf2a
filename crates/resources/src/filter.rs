//! Filters: KubeSphere's generic metadata filters, the built-in per-resource ones, and the
//! registry through which other crates add filters (e.g. `users?globalrole=`).

use crate::object::{self, annotation, array_at, owner_references, str_at};
use crate::status;
use apimachinery::labels;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// KubeSphere's display-name annotation, also matched by the `name` filter (v4).
pub const ALIAS_ANNOTATION: &str = "kubesphere.io/alias-name";

/// Read access to other cached objects, for filters that look across kinds
/// (a pod's Service, a pod's ReplicaSet, a user's role bindings).
pub trait Lookup: Send + Sync {
    /// One object of a resource (plural name) by namespace ("" for cluster-scoped) and name.
    fn get(&self, resource: &str, namespace: &str, name: &str) -> Option<Arc<Value>>;
    /// Every object of a resource, optionally within one namespace.
    fn list(&self, resource: &str, namespace: Option<&str>) -> Vec<Arc<Value>>;
}

/// A lookup that finds nothing: filters needing other objects then fail to match.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoLookup;

impl Lookup for NoLookup {
    fn get(&self, _: &str, _: &str, _: &str) -> Option<Arc<Value>> {
        None
    }
    fn list(&self, _: &str, _: Option<&str>) -> Vec<Arc<Value>> {
        Vec::new()
    }
}

/// A filter for one query key of one resource: does `object` pass `?key=value`?
pub trait Filter: Send + Sync {
    /// True when the object passes.
    fn matches(&self, object: &Value, value: &str, lookup: &dyn Lookup) -> bool;
}

impl<F> Filter for F
where
    F: Fn(&Value, &str, &dyn Lookup) -> bool + Send + Sync,
{
    fn matches(&self, object: &Value, value: &str, lookup: &dyn Lookup) -> bool {
        self(object, value, lookup)
    }
}

/// Filters registered by other crates, keyed by (resource plural, query key). A registered
/// filter takes precedence over the built-in meaning of that key for that resource.
#[derive(Default)]
pub struct FilterRegistry {
    hooks: RwLock<HashMap<(String, String), Arc<dyn Filter>>>,
}

impl std::fmt::Debug for FilterRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<(String, String)> = match self.hooks.read() {
            Ok(h) => h.keys().cloned().collect(),
            Err(_) => Vec::new(),
        };
        f.debug_struct("FilterRegistry")
            .field("keys", &keys)
            .finish()
    }
}

impl FilterRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        FilterRegistry::default()
    }

    /// Registers (or replaces) the filter for `?key=` on `resource`.
    pub fn register(
        &self,
        resource: impl Into<String>,
        key: impl Into<String>,
        filter: Arc<dyn Filter>,
    ) {
        let mut hooks = self.hooks.write().unwrap_or_else(|e| e.into_inner());
        hooks.insert((resource.into(), key.into()), filter);
    }

    /// The filter registered for a resource and key.
    pub fn get(&self, resource: &str, key: &str) -> Option<Arc<dyn Filter>> {
        let hooks = self.hooks.read().unwrap_or_else(|e| e.into_inner());
        hooks.get(&(resource.to_string(), key.to_string())).cloned()
    }

    /// The filters for a query's keys resolved once, so per-object matching takes no lock.
    pub fn resolve(
        &self,
        resource: &str,
        filters: &[(String, String)],
    ) -> Vec<Option<Arc<dyn Filter>>> {
        let hooks = self.hooks.read().unwrap_or_else(|e| e.into_inner());
        filters
            .iter()
            .map(|(k, _)| hooks.get(&(resource.to_string(), k.clone())).cloned())
            .collect()
    }
}

/// Whether an object of `resource` passes `?key=value` by the built-in meanings: the
/// per-resource ones first, then the generic metadata ones; unknown keys pass (v4).
pub fn builtin(resource: &str, key: &str, value: &str, obj: &Value, lookup: &dyn Lookup) -> bool {
    if let Some(result) = per_resource(resource, key, value, obj, lookup) {
        return result;
    }
    metadata(key, value, obj)
}

fn per_resource(
    resource: &str,
    key: &str,
    value: &str,
    obj: &Value,
    lookup: &dyn Lookup,
) -> Option<bool> {
    let result = match (resource, key) {
        (_, "status") => match status_of(resource, obj) {
            Some(status) => status_matches(resource, &status, value),
            None => return None,
        },
        ("persistentvolumeclaims", "storageClassName") => {
            str_at(obj, &["spec", "storageClassName"]) == Some(value)
        }
        ("persistentvolumes", "storageClassName") => {
            let class = str_at(obj, &["spec", "storageClassName"]).unwrap_or("");
            !class.is_empty() && class == value
        }
        ("pods", "phase") => str_at(obj, &["status", "phase"]).unwrap_or("") == value,
        ("pods", "nodeName") => str_at(obj, &["spec", "nodeName"]).unwrap_or("") == value,
        ("pods", "pvcName") => array_at(obj, &["spec", "volumes"])
            .iter()
            .any(|v| str_at(v, &["persistentVolumeClaim", "claimName"]) == Some(value)),
        ("pods", "podIP") => array_at(obj, &["status", "podIPs"]).iter().any(|ip| {
            ip.get("ip")
                .and_then(Value::as_str)
                .is_some_and(|ip| ip.contains(value))
        }),
        ("pods", "serviceName") => pod_in_service(obj, value, lookup),
        ("pods", "ownerReference") => pod_owned_by(obj, value, lookup),
        _ => return None,
    };
    Some(result)
}

/// The `status` an object of `resource` is filtered by: KubeSphere's computed state for
/// workloads, nodes and pods, the phase for namespaces and volumes; `None` where `status`
/// has no per-resource meaning.
pub fn status_of(resource: &str, obj: &Value) -> Option<std::borrow::Cow<'static, str>> {
    let computed = match resource {
        "deployments" => status::deployment(obj),
        "statefulsets" => status::statefulset(obj),
        "daemonsets" => status::daemonset(obj),
        "jobs" => status::job(obj),
        "cronjobs" => status::cronjob(obj),
        "nodes" => status::node(obj),
        "pods" => status::pod(obj),
        "namespaces" | "persistentvolumeclaims" | "persistentvolumes" => {
            let phase = str_at(obj, &["status", "phase"]).unwrap_or("");
            return Some(std::borrow::Cow::Owned(phase.to_string()));
        }
        _ => return None,
    };
    Some(std::borrow::Cow::Borrowed(computed))
}

/// Whether a `status_of` value passes `?status=value`: volumes compare phases ignoring
/// case, and PVCs require every `|`-separated value to match, as KubeSphere does.
pub fn status_matches(resource: &str, status: &str, value: &str) -> bool {
    match resource {
        "persistentvolumeclaims" => value.split('|').all(|s| status.eq_ignore_ascii_case(s)),
        "persistentvolumes" => status.eq_ignore_ascii_case(value),
        _ => status == value,
    }
}

/// `name` matches a substring of the name or of a non-empty alias annotation.
pub fn name_matches(name: &str, alias: Option<&str>, value: &str) -> bool {
    alias.is_some_and(|a| !a.is_empty() && a.contains(value)) || name.contains(value)
}

/// The generic `ObjectMeta` filters (`DefaultObjectMetaFilter`).
pub fn metadata(key: &str, value: &str, obj: &Value) -> bool {
    match key {
        "names" => {
            let name = object::name(obj);
            value.split(',').any(|n| n == name)
        }
        "name" | "nameAndAlias" => {
            name_matches(object::name(obj), annotation(obj, ALIAS_ANNOTATION), value)
        }
        "uid" => object::uid(obj) == value,
        "namespace" => object::namespace(obj) == value,
        "ownerReference" => owner_references(obj)
            .any(|o| o.get("uid").and_then(Value::as_str).unwrap_or("") == value),
        "ownerKind" => owner_references(obj)
            .any(|o| o.get("kind").and_then(Value::as_str).unwrap_or("") == value),
        "label" => selector_matches(value, object::labels(obj)),
        "annotation" => selector_matches(value, object::annotations(obj)),
        _ => true,
    }
}

/// `labelMatch`: the value is a label selector; an unparsable one matches nothing.
fn selector_matches(raw: &str, map: Option<&serde_json::Map<String, Value>>) -> bool {
    match labels::parse(raw) {
        Ok(selector) => selector.matches(&map),
        Err(_) => false,
    }
}

fn pod_in_service(pod: &Value, service: &str, lookup: &dyn Lookup) -> bool {
    let Some(svc) = lookup.get("services", object::namespace(pod), service) else {
        return false;
    };
    let Some(selector) = object::at(&svc, &["spec", "selector"]).and_then(Value::as_object) else {
        return false;
    };
    if selector.is_empty() {
        return false;
    }
    let labels = object::labels(pod);
    selector
        .iter()
        .all(|(k, v)| labels.and_then(|l| l.get(k)).and_then(Value::as_str) == v.as_str())
}

/// A pod matches its own owners and, through its ReplicaSet, the Deployment owning that.
fn pod_owned_by(pod: &Value, uid: &str, lookup: &dyn Lookup) -> bool {
    let mut replica_set = None;
    for owner in owner_references(pod) {
        if owner.get("kind").and_then(Value::as_str) == Some("ReplicaSet") {
            replica_set = owner.get("name").and_then(Value::as_str);
        }
        if owner.get("uid").and_then(Value::as_str).unwrap_or("") == uid {
            return true;
        }
    }
    let Some(rs_name) = replica_set else {
        return false;
    };
    lookup
        .get("replicasets", object::namespace(pod), rs_name)
        .is_some_and(|rs| {
            owner_references(&rs).any(|o| o.get("uid").and_then(Value::as_str).unwrap_or("") == uid)
        })
}

/// KubeSphere's fieldSelector on secrets, applied to every resource here: each term's field
/// is a dotted path in the object, compared with the value as text; an absent field fails.
pub fn field_selector_matches(selector: &apimachinery::fields::FieldSelector, obj: &Value) -> bool {
    selector.requirements().iter().all(|r| {
        let path: Vec<&str> = r.field.split('.').collect();
        let Some(found) = object::at(obj, &path) else {
            return false;
        };
        let text = match found {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match r.operator {
            apimachinery::fields::FieldOperator::Equals => text == r.value,
            apimachinery::fields::FieldOperator::NotEquals => text != r.value,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct OneService(Value);
    impl Lookup for OneService {
        fn get(&self, resource: &str, _: &str, name: &str) -> Option<Arc<Value>> {
            (resource == "services" && name == "web").then(|| Arc::new(self.0.clone()))
        }
        fn list(&self, _: &str, _: Option<&str>) -> Vec<Arc<Value>> {
            Vec::new()
        }
    }

    #[test]
    fn generic_metadata_filters() {
        let obj = json!({"metadata": {"name": "frontend", "namespace": "demo", "uid": "u1",
            "labels": {"app": "web"}, "annotations": {"kubesphere.io/alias-name": "Shop"},
            "ownerReferences": [{"uid": "o1", "kind": "ReplicaSet", "name": "rs"}]}});
        assert!(metadata("name", "front", &obj));
        assert!(metadata("name", "Sho", &obj));
        assert!(!metadata("name", "back", &obj));
        assert!(metadata("names", "a,frontend", &obj));
        assert!(!metadata("names", "front", &obj));
        assert!(metadata("uid", "u1", &obj));
        assert!(metadata("namespace", "demo", &obj));
        assert!(metadata("ownerReference", "o1", &obj));
        assert!(metadata("ownerKind", "ReplicaSet", &obj));
        assert!(metadata("label", "app=web", &obj));
        assert!(metadata("label", "app", &obj));
        assert!(!metadata("label", "app in (", &obj));
        assert!(metadata(
            "annotation",
            "kubesphere.io/alias-name=Shop",
            &obj
        ));
        assert!(metadata("whatever", "x", &obj));
    }

    #[test]
    fn pod_service_and_registry() {
        let pod = json!({"metadata": {"name": "p", "namespace": "n", "labels": {"app": "web"}}});
        let lookup = OneService(json!({"spec": {"selector": {"app": "web"}}}));
        assert!(builtin("pods", "serviceName", "web", &pod, &lookup));
        assert!(!builtin("pods", "serviceName", "web", &pod, &NoLookup));
        let registry = FilterRegistry::new();
        registry.register(
            "users",
            "globalrole",
            Arc::new(|o: &Value, v: &str, _: &dyn Lookup| object::name(o) == v),
        );
        let f = registry.get("users", "globalrole").unwrap();
        assert!(f.matches(&json!({"metadata": {"name": "admin"}}), "admin", &NoLookup));
        assert!(registry.get("pods", "globalrole").is_none());
    }

    #[test]
    fn field_selector_on_paths() {
        let secret = json!({"type": "kubernetes.io/tls", "metadata": {"resourceVersion": "5"}});
        let s = apimachinery::fields::parse("type=kubernetes.io/tls,metadata.resourceVersion!=4")
            .unwrap();
        assert!(field_selector_matches(&s, &secret));
        let s = apimachinery::fields::parse("spec.missing!=x").unwrap();
        assert!(!field_selector_matches(&s, &secret));
    }
}
