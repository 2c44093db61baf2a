//! Escalation prevention: nobody may create a role or binding granting more than
//! they hold, unless they have `escalate` (roles) or `bind` (bindings) on it.

use apimachinery::UserInfo;
use serde_json::Value;

use crate::authorize::aggregate_message;
use crate::index::RoleRefError;
use crate::rule::go_quoted_list;
use crate::{Attributes, Decision, Error, GROUP, Index, PolicyRule, compact_rules, covers};

/// The group kube-apiserver trusts with everything (`EscalationAllowed`).
const PRIVILEGED_GROUP: &str = "system:masters";

/// Which kind of role a write targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleKind {
    Role,
    ClusterRole,
}

impl RoleKind {
    /// The singular resource name informer listers use in NotFound errors.
    pub fn singular(self) -> &'static str {
        match self {
            RoleKind::Role => "role",
            RoleKind::ClusterRole => "clusterrole",
        }
    }

    /// The plural resource name.
    pub fn resource(self) -> &'static str {
        match self {
            RoleKind::Role => "roles",
            RoleKind::ClusterRole => "clusterroles",
        }
    }
}

/// Why a role or binding write is refused. kube-apiserver answers each with a 403
/// Forbidden whose message [`EscalationError::forbidden_message`] renders.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EscalationError {
    /// The object grants rules the caller does not hold; the full message.
    #[error("{0}")]
    NotHeld(String),
    /// Only holders of every permission may set an aggregationRule.
    #[error("must have cluster-admin privileges to use the aggregationRule")]
    AggregationRule,
    /// The binding's roleRef does not resolve. kube-apiserver returns the
    /// registry's error as is: 404 NotFound for a missing role (details kind
    /// `roles`/`clusterroles`), a 500 for an unsupported kind.
    #[error("{}", .0.registry_message())]
    RoleRef(RoleRefError),
    /// The object could not be read.
    #[error(transparent)]
    Malformed(#[from] Error),
}

impl EscalationError {
    /// `NewForbidden(groupResource, name, err)`'s message, e.g.
    /// `roles.rbac.authorization.k8s.io "x" is forbidden: ...`.
    pub fn forbidden_message(&self, resource: &str, name: &str) -> String {
        format!("{resource}.{GROUP} {name:?} is forbidden: {self}")
    }
}

/// `*` on everything, the authority an aggregationRule requires.
pub fn full_authority() -> Vec<PolicyRule> {
    vec![
        PolicyRule::resource(&["*"], &["*"], &["*"]),
        PolicyRule::urls(&["*"], &["*"]),
    ]
}

/// Whether `owner_rules` grant everything `requested` does; `Err` holds the
/// uncovered rules, broken down per group/resource/verb/name.
pub fn confirm_no_escalation(
    owner_rules: &[PolicyRule],
    requested: &[PolicyRule],
) -> Result<(), Vec<PolicyRule>> {
    covers(owner_rules, requested)
}

/// The message `ConfirmNoEscalation` writes for uncovered rules.
pub fn describe_missing(
    user: &UserInfo,
    missing: &[PolicyRule],
    resolution_errors: &[RoleRefError],
) -> String {
    let mut lines: Vec<String> = compact_rules(missing)
        .iter()
        .map(PolicyRule::compact_string)
        .collect();
    lines.sort();
    lines.dedup();
    let mut msg = format!(
        "user {:?} (groups={}) is attempting to grant RBAC permissions not currently held:\n{}",
        user.name,
        go_quoted_list(&user.groups),
        lines.join("\n")
    );
    if !resolution_errors.is_empty() {
        // RulesFor returns one Aggregate, which %v prints inside a one-element slice.
        msg.push_str(&format!(
            "; resolution errors: [{}]",
            aggregate_message(
                &resolution_errors
                    .iter()
                    .map(RoleRefError::registry_message)
                    .collect::<Vec<_>>()
            )
        ));
    }
    msg
}

impl Index {
    /// `ConfirmNoEscalation`: whether `user` holds every rule of `requested` in
    /// `namespace` (cluster-wide rules only when empty).
    pub fn confirm_no_escalation(
        &self,
        user: &UserInfo,
        namespace: &str,
        requested: &[PolicyRule],
    ) -> Result<(), EscalationError> {
        let (owner, errors) = self.rules_of(user, namespace);
        confirm_no_escalation(&owner, requested)
            .map_err(|missing| EscalationError::NotHeld(describe_missing(user, &missing, &errors)))
    }

    /// Whether `user` may create (`old` = None) or update a Role or ClusterRole
    /// to `object`, as the roles/clusterroles storage decides.
    pub fn check_role_write(
        &self,
        user: &UserInfo,
        object: &Value,
        old: Option<&Value>,
    ) -> Result<(), EscalationError> {
        let kind = match object.get("kind").and_then(Value::as_str).unwrap_or("") {
            "Role" => RoleKind::Role,
            "ClusterRole" => RoleKind::ClusterRole,
            other => return Err(Error::UnknownKind(other.to_string()).into()),
        };
        let namespace = match kind {
            RoleKind::Role => meta_str(object, "namespace"),
            RoleKind::ClusterRole => "",
        };
        if escalation_allowed(user) || old.is_some_and(|o| only_gc_fields_differ(object, o)) {
            return Ok(());
        }
        let escalate = Attributes {
            user,
            verb: "escalate",
            api_group: GROUP,
            resource: kind.resource(),
            subresource: "",
            namespace,
            // RoleEscalationAuthorized uses the request's URL name, which a create lacks.
            name: if old.is_some() {
                meta_str(object, "name")
            } else {
                ""
            },
            path: None,
        };
        if self.authorize(&escalate) == Decision::Allow {
            return Ok(());
        }
        let rules = PolicyRule::list_from_value(object.get("rules"))?;
        self.confirm_no_escalation(user, namespace, &rules)?;
        let aggregates = |v: &Value| !v.get("aggregationRule").is_none_or(Value::is_null);
        if kind == RoleKind::ClusterRole
            && (aggregates(object) || old.is_some_and(aggregates))
            && self
                .confirm_no_escalation(user, "", &full_authority())
                .is_err()
        {
            return Err(EscalationError::AggregationRule);
        }
        Ok(())
    }

    /// Whether `user` may create (`old` = None) or update a RoleBinding or
    /// ClusterRoleBinding to `object`: it must hold every rule of the referenced
    /// role there, or have `bind` on that role.
    pub fn check_binding_write(
        &self,
        user: &UserInfo,
        object: &Value,
        old: Option<&Value>,
    ) -> Result<(), EscalationError> {
        let namespace = match object.get("kind").and_then(Value::as_str).unwrap_or("") {
            "RoleBinding" => meta_str(object, "namespace"),
            "ClusterRoleBinding" => "",
            other => return Err(Error::UnknownKind(other.to_string()).into()),
        };
        if escalation_allowed(user) || old.is_some_and(|o| only_gc_fields_differ(object, o)) {
            return Ok(());
        }
        let role_ref = |k: &str| {
            object
                .get("roleRef")
                .and_then(|r| r.get(k))
                .and_then(Value::as_str)
                .unwrap_or("")
        };
        let (kind, name) = (role_ref("kind"), role_ref("name"));
        let resource = match kind {
            "ClusterRole" => Some("clusterroles"),
            "Role" => Some("roles"),
            _ => None,
        };
        if let Some(resource) = resource {
            let bind = Attributes {
                user,
                verb: "bind",
                api_group: role_ref("apiGroup"),
                resource,
                subresource: "",
                namespace,
                name,
                path: None,
            };
            if self.authorize(&bind) == Decision::Allow {
                return Ok(());
            }
        }
        let rules = self
            .role_ref_rules(kind, name, namespace)
            .map_err(EscalationError::RoleRef)?;
        self.confirm_no_escalation(user, namespace, rules)
    }
}

fn escalation_allowed(user: &UserInfo) -> bool {
    user.groups.iter().any(|g| g == PRIVILEGED_GROUP)
}

fn meta_str<'a>(object: &'a Value, key: &str) -> &'a str {
    object
        .get("metadata")
        .and_then(|m| m.get(key))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `IsOnlyMutatingGCFields`: an update touching only ownerReferences and
/// finalizers must stay possible for the garbage collector.
fn only_gc_fields_differ(new: &Value, old: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("ownerReferences");
            meta.remove("finalizers");
        }
        v
    };
    strip(new) == strip(old)
}
