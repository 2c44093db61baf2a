//! The RBAC object index: roles by name and bindings by subject, kept current by
//! `apply`/`delete` so a decision only touches the caller's own bindings.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use apimachinery::labels::Selector;
use serde_json::{Map, Value};

use crate::{Error, PolicyRule, RoleKind};

/// A binding's roleRef that does not resolve. `Display` is the authorizer's
/// wording (informer listers name the singular resource).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleRefError {
    /// The referenced Role or ClusterRole does not exist.
    #[error("{}.rbac.authorization.k8s.io {name:?} not found", kind.singular())]
    NotFound {
        /// Which kind the roleRef names.
        kind: RoleKind,
        /// The missing role's name.
        name: String,
    },
    /// A roleRef kind other than Role or ClusterRole.
    #[error("unsupported role reference kind: {0:?}")]
    UnsupportedKind(String),
}

impl RoleRefError {
    /// The wording of the API storage, which reports a missing role as its
    /// registry's NotFound (plural resource, e.g. `roles.rbac.authorization.k8s.io "x" not found`).
    pub fn registry_message(&self) -> String {
        match self {
            RoleRefError::NotFound { kind, name } => {
                format!(
                    "{}.rbac.authorization.k8s.io {name:?} not found",
                    kind.resource()
                )
            }
            other => other.to_string(),
        }
    }
}

/// The four kinds the index holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Role,
    ClusterRole,
    RoleBinding,
    ClusterRoleBinding,
}

impl Kind {
    /// Parses a `kind` string as the API writes it.
    pub fn parse(kind: &str) -> Result<Self, Error> {
        match kind {
            "Role" => Ok(Kind::Role),
            "ClusterRole" => Ok(Kind::ClusterRole),
            "RoleBinding" => Ok(Kind::RoleBinding),
            "ClusterRoleBinding" => Ok(Kind::ClusterRoleBinding),
            other => Err(Error::UnknownKind(other.to_string())),
        }
    }

    /// The `kind` string.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Role => "Role",
            Kind::ClusterRole => "ClusterRole",
            Kind::RoleBinding => "RoleBinding",
            Kind::ClusterRoleBinding => "ClusterRoleBinding",
        }
    }

    fn namespaced(self) -> bool {
        matches!(self, Kind::Role | Kind::RoleBinding)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ClusterRoleEntry {
    pub(crate) rules: Arc<[PolicyRule]>,
    pub(crate) labels: Map<String, Value>,
    /// `Some` when the role carries an aggregationRule; invalid selectors are
    /// kept as match-nothing since API validation rejects them before storage.
    pub(crate) selectors: Option<Vec<Selector>>,
}

#[derive(Debug, Clone)]
pub(crate) struct Binding {
    pub(crate) role_kind: String,
    pub(crate) role_name: String,
    subjects: Vec<SubjectKey>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum SubjectKey {
    /// A User subject, or a ServiceAccount as its `system:serviceaccount:ns:name` user.
    User(String),
    Group(String),
}

/// Bindings naming one subject: cluster-wide ones, and namespaced ones per namespace.
#[derive(Debug, Default)]
pub(crate) struct SubjectBindings {
    pub(crate) cluster: BTreeSet<String>,
    pub(crate) namespaced: HashMap<String, BTreeSet<String>>,
}

impl SubjectBindings {
    fn is_empty(&self) -> bool {
        self.cluster.is_empty() && self.namespaced.is_empty()
    }
}

/// Every RBAC object of the cluster, indexed for authorization.
#[derive(Debug, Default)]
pub struct Index {
    pub(crate) roles: HashMap<String, HashMap<String, Arc<[PolicyRule]>>>,
    /// Ordered by name because aggregation visits matching roles sorted by name.
    pub(crate) cluster_roles: BTreeMap<String, ClusterRoleEntry>,
    pub(crate) role_bindings: HashMap<String, HashMap<String, Binding>>,
    pub(crate) cluster_role_bindings: HashMap<String, Binding>,
    pub(crate) by_user: HashMap<String, SubjectBindings>,
    pub(crate) by_group: HashMap<String, SubjectBindings>,
}

impl Index {
    /// An empty index: nobody may do anything.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces an object as the API serves it (added or modified event).
    pub fn apply(&mut self, object: &Value) -> Result<(), Error> {
        let kind = Kind::parse(object.get("kind").and_then(Value::as_str).unwrap_or(""))?;
        let meta = object.get("metadata").and_then(Value::as_object);
        let name = meta
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| Error::MissingName(kind.as_str().to_string()))?;
        let namespace = meta
            .and_then(|m| m.get("namespace"))
            .and_then(Value::as_str)
            .unwrap_or("");
        // Cluster-scoped objects ignore a stray namespace, as the API server does.
        let namespace = if kind.namespaced() { namespace } else { "" };
        if kind.namespaced() && namespace.is_empty() {
            return Err(Error::MissingNamespace {
                kind: kind.as_str().to_string(),
                name: name.to_string(),
            });
        }
        match kind {
            Kind::Role => {
                let rules = PolicyRule::list_from_value(object.get("rules"))?;
                self.roles
                    .entry(namespace.to_string())
                    .or_default()
                    .insert(name.to_string(), rules.into());
            }
            Kind::ClusterRole => {
                let rules = PolicyRule::list_from_value(object.get("rules"))?;
                let labels = meta
                    .and_then(|m| m.get("labels"))
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                let selectors = parse_aggregation(object.get("aggregationRule"))?;
                self.cluster_roles.insert(
                    name.to_string(),
                    ClusterRoleEntry {
                        rules: rules.into(),
                        labels,
                        selectors,
                    },
                );
            }
            Kind::RoleBinding | Kind::ClusterRoleBinding => {
                let binding = parse_binding(object, namespace)?;
                self.remove_binding(kind, namespace, name);
                self.index_binding(namespace, name, &binding.subjects);
                if kind == Kind::RoleBinding {
                    self.role_bindings
                        .entry(namespace.to_string())
                        .or_default()
                        .insert(name.to_string(), binding);
                } else {
                    self.cluster_role_bindings.insert(name.to_string(), binding);
                }
            }
        }
        Ok(())
    }

    /// Removes an object (deleted event); `namespace` is ignored for cluster kinds.
    /// Returns whether it was present.
    pub fn delete(&mut self, kind: Kind, namespace: &str, name: &str) -> bool {
        match kind {
            Kind::Role => {
                let Some(ns) = self.roles.get_mut(namespace) else {
                    return false;
                };
                let found = ns.remove(name).is_some();
                if ns.is_empty() {
                    self.roles.remove(namespace);
                }
                found
            }
            Kind::ClusterRole => self.cluster_roles.remove(name).is_some(),
            Kind::RoleBinding | Kind::ClusterRoleBinding => {
                self.remove_binding(kind, namespace, name)
            }
        }
    }

    /// The rules of a Role, if present.
    pub fn role_rules(&self, namespace: &str, name: &str) -> Option<&[PolicyRule]> {
        self.roles.get(namespace)?.get(name).map(|r| &r[..])
    }

    /// The rules of a ClusterRole, if present.
    pub fn cluster_role_rules(&self, name: &str) -> Option<&[PolicyRule]> {
        self.cluster_roles.get(name).map(|r| &r.rules[..])
    }

    /// The rules a binding's roleRef points at (`GetRoleReferenceRules`).
    pub fn role_ref_rules(
        &self,
        kind: &str,
        name: &str,
        binding_namespace: &str,
    ) -> Result<&[PolicyRule], RoleRefError> {
        let not_found = |kind| RoleRefError::NotFound {
            kind,
            name: name.to_string(),
        };
        match kind {
            "Role" => self
                .role_rules(binding_namespace, name)
                .ok_or_else(|| not_found(RoleKind::Role)),
            "ClusterRole" => self
                .cluster_role_rules(name)
                .ok_or_else(|| not_found(RoleKind::ClusterRole)),
            other => Err(RoleRefError::UnsupportedKind(other.to_string())),
        }
    }

    fn index_binding(&mut self, namespace: &str, name: &str, subjects: &[SubjectKey]) {
        for subject in subjects {
            let entry = match subject {
                SubjectKey::User(u) => self.by_user.entry(u.clone()).or_default(),
                SubjectKey::Group(g) => self.by_group.entry(g.clone()).or_default(),
            };
            if namespace.is_empty() {
                entry.cluster.insert(name.to_string());
            } else {
                entry
                    .namespaced
                    .entry(namespace.to_string())
                    .or_default()
                    .insert(name.to_string());
            }
        }
    }

    fn remove_binding(&mut self, kind: Kind, namespace: &str, name: &str) -> bool {
        let (namespace, old) = if kind == Kind::ClusterRoleBinding {
            ("", self.cluster_role_bindings.remove(name))
        } else {
            let Some(ns) = self.role_bindings.get_mut(namespace) else {
                return false;
            };
            let old = ns.remove(name);
            if ns.is_empty() {
                self.role_bindings.remove(namespace);
            }
            (namespace, old)
        };
        let Some(old) = old else {
            return false;
        };
        for subject in &old.subjects {
            let (map, key) = match subject {
                SubjectKey::User(u) => (&mut self.by_user, u),
                SubjectKey::Group(g) => (&mut self.by_group, g),
            };
            let Some(entry) = map.get_mut(key) else {
                continue;
            };
            if namespace.is_empty() {
                entry.cluster.remove(name);
            } else if let Some(names) = entry.namespaced.get_mut(namespace) {
                names.remove(name);
                if names.is_empty() {
                    entry.namespaced.remove(namespace);
                }
            }
            if entry.is_empty() {
                map.remove(key);
            }
        }
        true
    }
}

fn parse_aggregation(rule: Option<&Value>) -> Result<Option<Vec<Selector>>, Error> {
    let rule = match rule {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(Error::Malformed("aggregationRule must be an object".into())),
    };
    let selectors = match rule.get("clusterRoleSelectors") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(a)) => a.as_slice(),
        Some(_) => {
            return Err(Error::Malformed(
                "aggregationRule.clusterRoleSelectors must be a list".into(),
            ));
        }
    };
    Ok(Some(
        selectors
            .iter()
            .map(|s| Selector::from_label_selector(s).unwrap_or_else(|_| Selector::nothing()))
            .collect(),
    ))
}

fn parse_binding(object: &Value, namespace: &str) -> Result<Binding, Error> {
    let role_ref = object
        .get("roleRef")
        .and_then(Value::as_object)
        .ok_or_else(|| Error::Malformed("roleRef must be an object".into()))?;
    let field = |k: &str| {
        role_ref
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let subjects = match object.get("subjects") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(a)) => a.as_slice(),
        Some(_) => return Err(Error::Malformed("subjects must be a list".into())),
    };
    let mut keys = Vec::with_capacity(subjects.len());
    for s in subjects {
        let get = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or("");
        let key = match get("kind") {
            "User" => SubjectKey::User(get("name").to_string()),
            "Group" => SubjectKey::Group(get("name").to_string()),
            // appliesToUser: a ServiceAccount without namespace takes the binding's.
            "ServiceAccount" => {
                let sa_ns = match get("namespace") {
                    "" => namespace,
                    ns => ns,
                };
                if sa_ns.is_empty() {
                    continue;
                }
                SubjectKey::User(format!("system:serviceaccount:{sa_ns}:{}", get("name")))
            }
            _ => continue,
        };
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(Binding {
        role_kind: field("kind"),
        role_name: field("name"),
        subjects: keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rb(ns: &str, name: &str, subjects: Value) -> Value {
        json!({
            "kind": "RoleBinding",
            "metadata": {"name": name, "namespace": ns},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
            "subjects": subjects,
        })
    }

    #[test]
    fn subject_indexes_follow_replacements_and_deletes() {
        let mut idx = Index::new();
        idx.apply(&rb(
            "ns",
            "b",
            json!([
                {"kind": "User", "name": "u"},
                {"kind": "Group", "name": "g"},
                {"kind": "ServiceAccount", "name": "sa"},
                {"kind": "ServiceAccount", "name": "other", "namespace": "elsewhere"},
                {"kind": "Robot", "name": "ignored"}
            ]),
        ))
        .unwrap();
        let mut users: Vec<&String> = idx.by_user.keys().collect();
        users.sort();
        assert_eq!(
            users,
            [
                "system:serviceaccount:elsewhere:other",
                "system:serviceaccount:ns:sa",
                "u"
            ]
        );
        assert!(idx.by_group["g"].namespaced["ns"].contains("b"));
        idx.apply(&rb("ns", "b", json!([{"kind": "User", "name": "v"}])))
            .unwrap();
        assert_eq!(idx.by_user.keys().collect::<Vec<_>>(), ["v"]);
        assert!(idx.by_group.is_empty());
        assert!(idx.delete(Kind::RoleBinding, "ns", "b"));
        assert!(idx.by_user.is_empty());
        assert!(idx.role_bindings.is_empty());
    }

    #[test]
    fn cluster_binding_ignores_namespace_and_unqualified_service_accounts() {
        let mut idx = Index::new();
        idx.apply(&json!({
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "c", "namespace": "stray"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "r"},
            "subjects": [{"kind": "ServiceAccount", "name": "sa"}, {"kind": "Group", "name": "g"}],
        }))
        .unwrap();
        assert!(idx.by_user.is_empty());
        assert!(idx.by_group["g"].cluster.contains("c"));
        assert!(idx.by_group["g"].namespaced.is_empty());
        assert_eq!(
            idx.role_ref_rules("Role", "r", ""),
            Err(RoleRefError::NotFound {
                kind: RoleKind::Role,
                name: "r".into()
            })
        );
        assert_eq!(
            idx.role_ref_rules("Thing", "r", ""),
            Err(RoleRefError::UnsupportedKind("Thing".into()))
        );
        assert!(idx.delete(Kind::ClusterRoleBinding, "", "c"));
        assert!(idx.by_group.is_empty());
    }
}
