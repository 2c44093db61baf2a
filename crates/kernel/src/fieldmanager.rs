//! managedFields and server-side apply: the `apply` crate's structured-merge-diff
//! logic, given list and map semantics from the built-in OpenAPI definitions or a
//! CRD's schema.

use crate::registry::{Resource, Source};
use crate::response::ApiError;
use apimachinery::StatusError;
use apply::{ListType, MapType, PathElement};
use serde_json::{Map, Value};

/// List and map semantics of one resource's objects.
pub struct ResourceSchema<'a> {
    defs: &'a Map<String, Value>,
    root: Option<&'a Value>,
    custom: Option<&'a structural::Schema>,
}

impl<'a> ResourceSchema<'a> {
    pub fn new(res: &'a Resource) -> Self {
        let defs = openapi::definitions_v2();
        match &res.source {
            Source::Custom(c) => ResourceSchema {
                defs,
                root: None,
                custom: c.schema.as_ref(),
            },
            _ => {
                let root = openapi::definition_name(&res.group, &res.version, &res.kind)
                    .and_then(|n| defs.get(n));
                ResourceSchema {
                    defs,
                    root,
                    custom: None,
                }
            }
        }
    }

    fn resolve(&self, mut node: &'a Value) -> &'a Value {
        for _ in 0..8 {
            if let Some(r) = node.get("$ref").and_then(Value::as_str) {
                match self.defs.get(r.rsplit('/').next().unwrap_or(r)) {
                    Some(n) => node = n,
                    None => break,
                }
            } else if let Some(first) = node
                .get("allOf")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
            {
                node = first;
            } else {
                break;
            }
        }
        node
    }

    /// The built-in schema node at `path`, and the extensions on the property
    /// that led to it (patch metadata sits on the property, not the type).
    fn node(&self, path: &[PathElement]) -> Option<(&'a Value, Option<&'a Value>)> {
        let mut node = self.resolve(self.root?);
        let mut via: Option<&'a Value> = None;
        for el in path {
            let next = match el {
                PathElement::Field(f) => node
                    .get("properties")
                    .and_then(|p| p.get(f))
                    .or_else(|| node.get("additionalProperties").filter(|a| a.is_object()))?,
                _ => node.get("items")?,
            };
            via = Some(next);
            node = self.resolve(next);
        }
        Some((node, via))
    }

    fn custom_path(path: &[PathElement]) -> Vec<&str> {
        path.iter()
            .map(|e| match e {
                PathElement::Field(f) => f.as_str(),
                // structural descends into `items` for any segment on an array.
                _ => "[]",
            })
            .collect()
    }
}

fn ext<'v>(a: Option<&'v Value>, b: &'v Value, key: &str) -> Option<&'v Value> {
    a.and_then(|v| v.get(key)).or_else(|| b.get(key))
}

impl apply::Schema for ResourceSchema<'_> {
    fn list_type(&self, path: &[PathElement]) -> ListType {
        if let Some(c) = self.custom {
            return match c.list_semantics(&Self::custom_path(path)) {
                Some(s) => match s.list_type {
                    structural::ListType::Map => ListType::Map {
                        keys: s.list_map_keys,
                    },
                    structural::ListType::Set => ListType::Set,
                    structural::ListType::Atomic => ListType::Atomic,
                },
                None => ListType::Atomic,
            };
        }
        let Some((node, via)) = self.node(path) else {
            return ListType::Atomic;
        };
        let strings = |v: Option<&Value>| -> Vec<String> {
            v.and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        match ext(via, node, "x-kubernetes-list-type").and_then(Value::as_str) {
            Some("map") => {
                let mut keys = strings(ext(via, node, "x-kubernetes-list-map-keys"));
                if keys.is_empty() {
                    keys = ext(via, node, "x-kubernetes-patch-merge-key")
                        .and_then(Value::as_str)
                        .map(|k| vec![k.to_string()])
                        .unwrap_or_default();
                }
                ListType::Map { keys }
            }
            Some("set") => ListType::Set,
            Some(_) => ListType::Atomic,
            None => {
                let merge = ext(via, node, "x-kubernetes-patch-strategy")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.contains("merge"));
                match ext(via, node, "x-kubernetes-patch-merge-key").and_then(Value::as_str) {
                    Some(k) if merge => ListType::Map {
                        keys: vec![k.to_string()],
                    },
                    None if merge => ListType::Set,
                    _ => ListType::Atomic,
                }
            }
        }
    }

    fn map_type(&self, path: &[PathElement]) -> MapType {
        if let Some(c) = self.custom {
            return match c.list_semantics(&Self::custom_path(path)) {
                Some(s) if s.map_type == structural::MapType::Atomic => MapType::Atomic,
                _ => MapType::Struct,
            };
        }
        let Some((node, via)) = self.node(path) else {
            return MapType::Granular;
        };
        if ext(via, node, "x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic") {
            return MapType::Atomic;
        }
        if node.get("properties").is_some() {
            MapType::Struct
        } else {
            MapType::Granular
        }
    }
}

/// The manager name for a write: the `fieldManager` parameter, else the client's
/// user agent up to the first `/` (as kube-apiserver derives it).
pub fn manager_name(field_manager: Option<&str>, user_agent: Option<&str>) -> String {
    if let Some(m) = field_manager.filter(|m| !m.is_empty()) {
        return m.to_string();
    }
    let ua = user_agent.unwrap_or("unknown");
    ua.split('/')
        .next()
        .unwrap_or(ua)
        .chars()
        .filter(|c| !c.is_control())
        .take(128)
        .collect()
}

/// Fields a write through `subresource` neither gains nor loses owners of.
fn reset_fields(res: &Resource, subresource: &str, obj: &Value) -> Option<apply::FieldSet> {
    let mut set = apply::FieldSet::new();
    match subresource {
        "" if res.has_status() => set.insert(&[PathElement::Field("status".into())]),
        "status" => {
            for k in obj
                .as_object()
                .map(|m| m.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
            {
                if !matches!(k.as_str(), "status" | "metadata" | "apiVersion" | "kind") {
                    set.insert(&[PathElement::Field(k)]);
                }
            }
        }
        _ => return None,
    }
    Some(set)
}

fn apply_error(e: apply::ApplyError) -> ApiError {
    let v = e.to_status();
    match serde_json::from_value::<apimachinery::Status>(v) {
        Ok(status) => ApiError(StatusError {
            status: Box::new(status),
        }),
        Err(_) => ApiError::from(StatusError::bad_request(e.to_string())),
    }
}

/// Records a non-apply write by `manager` in `new`'s managedFields.
pub fn track_update(
    res: &Resource,
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    subresource: &str,
) {
    let empty = Value::Object(Map::new());
    let old = old.unwrap_or(&empty);
    let managed = apply::managers_of(old).unwrap_or_default();
    let now = crate::meta::now();
    let ignored = reset_fields(res, subresource, new);
    let actor = apply::Actor {
        manager,
        subresource,
        now: &now,
        ignored: ignored.as_ref(),
    };
    let schema = ResourceSchema::new(res);
    match apply::update(old, new, &actor, &schema, &managed) {
        Ok(managers) => apply::set_managers(new, &managers),
        // An object whose lists cannot be keyed keeps the managers it had.
        Err(e) => {
            tracing::debug!(error = %e, "managedFields not updated");
            apply::set_managers(new, &managed);
        }
    }
}

/// Fills list-map key fields the schema defaults (`protocol: TCP` on ports), as
/// kube-apiserver's typed conversion of an apply configuration does; without it a
/// container port with no protocol could not be keyed.
fn default_list_keys(schema: &ResourceSchema<'_>, v: &mut Value, path: &mut Vec<PathElement>) {
    use apply::Schema;
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                path.push(PathElement::Field(k.clone()));
                default_list_keys(schema, child, path);
                path.pop();
            }
        }
        Value::Array(items) => {
            if let ListType::Map { keys } = schema.list_type(path)
                && keys.iter().any(|k| k == "protocol")
            {
                for item in items.iter_mut() {
                    if let Some(obj) = item.as_object_mut() {
                        obj.entry("protocol")
                            .or_insert_with(|| Value::String("TCP".into()));
                    }
                }
            }
            for (i, item) in items.iter_mut().enumerate() {
                path.push(PathElement::Index(i));
                default_list_keys(schema, item, path);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Server-side apply of `config` onto `live` (None when the object does not exist).
pub fn apply_config(
    res: &Resource,
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
    subresource: &str,
) -> Result<Value, ApiError> {
    let managed = match live {
        Some(l) => apply::managers_of(l)
            .map_err(|e| ApiError::from(StatusError::bad_request(e.to_string())))?,
        None => Vec::new(),
    };
    let now = crate::meta::now();
    let ignored = reset_fields(res, subresource, config);
    let actor = apply::Actor {
        manager,
        subresource,
        now: &now,
        ignored: ignored.as_ref(),
    };
    let schema = ResourceSchema::new(res);
    let mut config = config.clone();
    default_list_keys(&schema, &mut config, &mut Vec::new());
    apply::apply(live, &config, &actor, force, &schema, &managed)
        .map(|a| a.object)
        .map_err(apply_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;
    use apply::Schema;

    #[test]
    fn builtin_list_semantics_come_from_openapi() {
        let reg = Registry::with_builtins();
        let d = reg.get("apps", "v1", "deployments").expect("deployments");
        let s = ResourceSchema::new(&d);
        let f = |x: &str| PathElement::Field(x.into());
        let containers = [f("spec"), f("template"), f("spec"), f("containers")];
        assert_eq!(
            s.list_type(&containers),
            ListType::Map {
                keys: vec!["name".into()]
            }
        );
        assert_eq!(s.map_type(&[f("spec")]), MapType::Struct);
        assert_eq!(s.map_type(&[f("metadata"), f("labels")]), MapType::Granular);
        let args = [
            f("spec"),
            f("template"),
            f("spec"),
            f("containers"),
            PathElement::Index(0),
            f("args"),
        ];
        assert_eq!(s.list_type(&args), ListType::Atomic);
        let ports = [
            f("spec"),
            f("template"),
            f("spec"),
            f("containers"),
            PathElement::Index(0),
            f("ports"),
        ];
        assert_eq!(
            s.list_type(&ports),
            ListType::Map {
                keys: vec!["containerPort".into(), "protocol".into()]
            }
        );
        let mut cfg = serde_json::json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "ports": [{"containerPort": 80}]}]}}}});
        default_list_keys(&s, &mut cfg, &mut Vec::new());
        assert_eq!(
            cfg.pointer("/spec/template/spec/containers/0/ports/0/protocol"),
            Some(&serde_json::json!("TCP"))
        );
        assert_eq!(
            manager_name(None, Some("kubectl/v1.32.4 (linux/amd64)")),
            "kubectl"
        );
        assert_eq!(
            manager_name(Some("kubectl-create"), Some("kubectl/v1.32.4")),
            "kubectl-create"
        );
    }
}
