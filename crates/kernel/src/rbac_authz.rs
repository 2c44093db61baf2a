//! Kubernetes RBAC in the kernel: the `rbac` crate's index kept in step with the
//! stored Roles and bindings (on the store's commit path, so a new binding applies
//! to the very next request), the authorizer built on it, ClusterRole aggregation,
//! the bootstrap policy, and escalation checks on role and binding writes.

use crate::authz::{Attributes, Authorizer, Decision, MastersOnly};
use crate::response::ApiError;
use crate::server::Inner;
use crate::write::{WriteOptions, create_object, guaranteed_update};
use apimachinery::{StatusError, UserInfo};
use serde_json::Value;
use std::sync::{Arc, RwLock};
use std::time::Duration;

const PREFIX: &str = "/rbac.authorization.k8s.io/";

/// The RBAC index shared by the authorizer and the commit path.
pub type SharedIndex = Arc<RwLock<rbac::Index>>;

fn kind_of(plural: &str) -> Option<(rbac::Kind, &'static str, bool)> {
    match plural {
        "roles" => Some((rbac::Kind::Role, "Role", true)),
        "clusterroles" => Some((rbac::Kind::ClusterRole, "ClusterRole", false)),
        "rolebindings" => Some((rbac::Kind::RoleBinding, "RoleBinding", true)),
        "clusterrolebindings" => {
            Some((rbac::Kind::ClusterRoleBinding, "ClusterRoleBinding", false))
        }
        _ => None,
    }
}

/// Feeds one stored object (or its deletion) into the index.
pub fn index_event(index: &SharedIndex, key: &str, value: Option<&[u8]>) {
    let Some(rest) = key.strip_prefix(PREFIX) else {
        return;
    };
    let mut parts = rest.split('/');
    let Some((kind, kind_name, namespaced)) = parts.next().and_then(kind_of) else {
        return;
    };
    let (ns, name) = if namespaced {
        (parts.next().unwrap_or(""), parts.next().unwrap_or(""))
    } else {
        ("", parts.next().unwrap_or(""))
    };
    let mut idx = index.write().unwrap_or_else(|e| e.into_inner());
    match value.and_then(|v| serde_json::from_slice::<Value>(v).ok()) {
        Some(mut obj) => {
            // Built-in objects are stored without type meta.
            if let Some(m) = obj.as_object_mut() {
                m.insert("kind".into(), Value::String(kind_name.into()));
                m.insert(
                    "apiVersion".into(),
                    Value::String("rbac.authorization.k8s.io/v1".into()),
                );
            }
            if let Err(e) = idx.apply(&obj) {
                tracing::warn!(key, error = %e, "RBAC object not indexed");
            }
        }
        None => {
            idx.delete(kind, ns, name);
        }
    }
}

/// RBAC behind the `system:masters` superuser group, as kube-apiserver chains them.
pub struct RbacAuthorizer {
    pub index: SharedIndex,
}

impl Authorizer for RbacAuthorizer {
    fn authorize(&self, user: &UserInfo, a: &Attributes) -> Decision {
        if user.in_group("system:masters") {
            return Decision::Allow;
        }
        let attrs = rbac::Attributes {
            user,
            verb: &a.verb,
            api_group: &a.group,
            resource: &a.resource,
            subresource: &a.subresource,
            namespace: &a.namespace,
            name: &a.name,
            path: a.path.as_deref(),
        };
        match self
            .index
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .authorize(&attrs)
        {
            rbac::Decision::Allow => Decision::Allow,
            rbac::Decision::NoOpinion(reason) => Decision::Deny(reason),
        }
    }

    fn rules(&self, user: &UserInfo, namespace: &str) -> (Vec<Value>, Vec<Value>, bool) {
        if user.in_group("system:masters") {
            return MastersOnly.rules(user, namespace);
        }
        self.index
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .rules_for(user, namespace)
    }
}

/// Refuses a Role/ClusterRole/binding write that would grant the caller more than it
/// holds (unless it has `escalate`/`bind`), as kube-apiserver's RBAC storage does.
pub fn check_write(
    inner: &Inner,
    plural: &str,
    user: &UserInfo,
    new: &Value,
    old: Option<&Value>,
) -> Result<(), ApiError> {
    let Some((_, kind_name, _)) = kind_of(plural) else {
        return Ok(());
    };
    let mut obj = new.clone();
    if let Some(m) = obj.as_object_mut() {
        m.insert("kind".into(), Value::String(kind_name.into()));
    }
    let idx = inner.rbac.read().unwrap_or_else(|e| e.into_inner());
    let result = if plural.ends_with("bindings") {
        idx.check_binding_write(user, &obj, old)
    } else {
        idx.check_role_write(user, &obj, old)
    };
    let name = crate::meta::name(new).unwrap_or("");
    result.map_err(|e| match e {
        rbac::EscalationError::RoleRef(rbac::RoleRefError::NotFound { ref name, .. }) => {
            let what = if e.to_string().starts_with("clusterrole") {
                "clusterroles"
            } else {
                "roles"
            };
            ApiError::from(StatusError::not_found(
                what,
                "rbac.authorization.k8s.io",
                name,
            ))
        }
        rbac::EscalationError::RoleRef(_) | rbac::EscalationError::Malformed(_) => {
            ApiError::from(StatusError::internal(&e))
        }
        _ => ApiError::from(StatusError::forbidden(
            plural,
            "rbac.authorization.k8s.io",
            name,
            e.forbidden_message(plural, name),
        )),
    })
}

/// Creates the default roles and bindings Kubernetes ships, if missing.
pub async fn bootstrap(inner: &Arc<Inner>) -> Result<(), ApiError> {
    for obj in rbac::bootstrap_objects() {
        let plural = match obj.get("kind").and_then(Value::as_str) {
            Some("ClusterRole") => "clusterroles",
            Some("ClusterRoleBinding") => "clusterrolebindings",
            Some("Role") => "roles",
            _ => "rolebindings",
        };
        let res = inner.resource("rbac.authorization.k8s.io", "v1", plural)?;
        let ns = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(String::from);
        let name = crate::meta::name(&obj).unwrap_or("").to_string();
        if inner
            .cache
            .get(&res.key(ns.as_deref().unwrap_or(""), &name))
            .is_some()
        {
            continue;
        }
        match create_object(inner, &res, ns.as_deref(), obj, &WriteOptions::system()).await {
            Ok(_) => {}
            Err(e) if e.0.code() == 409 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Keeps aggregated ClusterRoles' rules the union of the roles they select
/// (kube-controller-manager's clusterrole-aggregation controller).
pub async fn aggregation(inner: Arc<Inner>) {
    loop {
        let stale = inner
            .rbac
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .stale_aggregations();
        for (name, rules) in stale {
            let Ok(res) = inner.resource("rbac.authorization.k8s.io", "v1", "clusterroles") else {
                return;
            };
            let rules: Vec<Value> = rules.iter().map(|r| r.to_value()).collect();
            let r = guaranteed_update(
                &inner,
                &res,
                None,
                &name,
                None,
                None,
                &WriteOptions::system(),
                |cur| {
                    let mut v = cur.clone();
                    v["rules"] = Value::Array(rules.clone());
                    Ok(v)
                },
            )
            .await;
            if let Err(e) = r {
                tracing::debug!(role = %name, error = %e.0, "aggregating cluster role");
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
