//! Global, workspace and project roles and role bindings under /kapis, with escalation checks on every grant.

mod routes;

pub(super) use routes::routes;

use super::{ApiError, State, list};
use crate::authz::{Level, rule_from_k8s};
use crate::escalation::{check_grant, check_not_self};
use crate::names;
use apimachinery::UserInfo;
use axum::Json;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, PostParams,
};
use rbac::PolicyRule;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    GlobalRole,
    GlobalRoleBinding,
    WorkspaceRole,
    WorkspaceRoleBinding,
    Role,
    RoleBinding,
}

impl Kind {
    fn resource(self) -> ApiResource {
        let (g, k, p) = match self {
            Kind::GlobalRole => (names::IAM_GROUP, "GlobalRole", "globalroles"),
            Kind::GlobalRoleBinding => {
                (names::IAM_GROUP, "GlobalRoleBinding", "globalrolebindings")
            }
            Kind::WorkspaceRole => (names::IAM_GROUP, "WorkspaceRole", "workspaceroles"),
            Kind::WorkspaceRoleBinding => (
                names::IAM_GROUP,
                "WorkspaceRoleBinding",
                "workspacerolebindings",
            ),
            Kind::Role => (names::RBAC_GROUP, "Role", "roles"),
            Kind::RoleBinding => (names::RBAC_GROUP, "RoleBinding", "rolebindings"),
        };
        let v = if g == names::RBAC_GROUP {
            "v1"
        } else {
            "v1beta1"
        };
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(g, v, k), p)
    }

    fn is_binding(self) -> bool {
        matches!(
            self,
            Kind::GlobalRoleBinding | Kind::WorkspaceRoleBinding | Kind::RoleBinding
        )
    }
}

/// Where a request is: the platform, a workspace, or a namespace.
#[derive(Debug, Clone)]
enum At {
    Global,
    Workspace(String),
    Namespace(String),
}

impl At {
    fn level(&self) -> Level {
        match self {
            At::Global => Level::Global,
            At::Workspace(w) => Level::Workspace(w.clone()),
            At::Namespace(n) => Level::Namespace(n.clone()),
        }
    }
}

/// An Api for `kind` at `at`. WorkspaceRoles and their bindings are cluster-scoped
/// objects that Kubernetes RBAC cannot limit to one workspace, so their writes use the
/// platform client after the scope authorizer and the escalation check have decided;
/// everything else is written as the caller.
fn api(state: &State, caller: &UserInfo, kind: Kind, at: &At, write: bool) -> Api<DynamicObject> {
    let client = match (write, kind) {
        (true, Kind::WorkspaceRole | Kind::WorkspaceRoleBinding) | (false, _) => {
            state.client.clone()
        }
        (true, _) => state.as_caller(caller),
    };
    match at {
        At::Namespace(ns) => Api::namespaced_with(client, ns, &kind.resource()),
        _ => Api::all_with(client, &kind.resource()),
    }
}

fn in_scope(kind: Kind, at: &At, obj: &Value) -> bool {
    match (kind, at) {
        (Kind::WorkspaceRole | Kind::WorkspaceRoleBinding, At::Workspace(ws)) => {
            obj.pointer(&format!(
                "/metadata/labels/{}",
                names::WORKSPACE_LABEL.replace('/', "~1")
            ))
            .and_then(Value::as_str)
                == Some(ws.as_str())
        }
        _ => true,
    }
}

fn rules_in(v: Option<&Value>) -> Result<Vec<PolicyRule>, ApiError> {
    let list: Vec<k8s_openapi::api::rbac::v1::PolicyRule> = match v {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| ApiError::bad_request(format!("rules: {e}")))?,
    };
    Ok(list.iter().map(rule_from_k8s).collect())
}

/// Fills a role's rules from its aggregated templates (as KubeSphere's aggregation
/// controller does) and returns every rule it grants.
fn role_rules(state: &State, body: &mut Value) -> Result<Vec<PolicyRule>, ApiError> {
    let mut rules = rules_in(body.get("rules"))?;
    let mut names: Vec<String> = body
        .pointer("/aggregationRoleTemplates/templateNames")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if names.is_empty() {
        // KubeSphere v3's console names the templates only in this annotation (a JSON
        // array in a string); the role is stored with them as templateNames too, so
        // that the authorizer's index and the stored rules agree.
        names = annotated_templates(body)?;
        if !names.is_empty()
            && let Some(o) = body.as_object_mut()
        {
            let agg = o
                .entry("aggregationRoleTemplates")
                .or_insert_with(|| serde_json::json!({}));
            if !agg.is_object() {
                return Err(ApiError::bad_request(
                    "aggregationRoleTemplates must be an object",
                ));
            }
            agg["templateNames"] = serde_json::json!(names);
        }
    }
    if !names.is_empty() {
        let idx = state.authz.read();
        let mut agg = Vec::new();
        for n in &names {
            let t = idx.templates.get(n).ok_or_else(|| {
                ApiError::bad_request(format!("role template {n:?} does not exist"))
            })?;
            agg.extend(t.rules.iter().cloned());
        }
        rules = agg;
        let k8s: Vec<_> = rules.iter().map(crate::authz::rule_to_k8s).collect();
        if let Some(o) = body.as_object_mut() {
            o.insert(
                "rules".into(),
                serde_json::to_value(k8s).map_err(|e| ApiError::internal(e.to_string()))?,
            );
        }
    }
    Ok(rules)
}

/// The template names in the `iam.kubesphere.io/aggregation-roles` annotation.
fn annotated_templates(body: &Value) -> Result<Vec<String>, ApiError> {
    let Some(text) = body
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(AGGREGATION_ANNOTATION))
        .and_then(Value::as_str)
    else {
        return Ok(Vec::new());
    };
    serde_json::from_str(text).map_err(|e| {
        ApiError::bad_request(format!(
            "annotation {AGGREGATION_ANNOTATION} must be a JSON array of role template names: {e}"
        ))
    })
}

const AGGREGATION_ANNOTATION: &str = "iam.kubesphere.io/aggregation-roles";

/// The rules a binding's roleRef grants, for the escalation check.
fn bound_rules(
    state: &State,
    kind: Kind,
    at: &At,
    body: &Value,
) -> Result<Vec<PolicyRule>, ApiError> {
    let role = body
        .pointer("/roleRef/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let role_kind = body
        .pointer("/roleRef/kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let idx = state.authz.read();
    let missing =
        || ApiError::bad_request(format!("roleRef {role_kind} {role:?} does not exist here"));
    match (kind, at) {
        (Kind::GlobalRoleBinding, _) => idx
            .global_roles
            .get(role)
            .map(|d| idx.effective_rules(d))
            .ok_or_else(missing),
        (Kind::WorkspaceRoleBinding, At::Workspace(ws)) => match idx.workspace_roles.get(role) {
            Some((rws, d)) if rws == ws => Ok(idx.effective_rules(d)),
            _ => Err(missing()),
        },
        (Kind::RoleBinding, At::Namespace(ns)) => {
            let r = if role_kind == "ClusterRole" {
                idx.cluster_roles.get(role)
            } else {
                idx.roles.get(&(ns.clone(), role.to_string()))
            };
            r.map(|r| r.to_vec()).ok_or_else(missing)
        }
        _ => Err(missing()),
    }
}

fn subjects_of(body: &Value, kind: &str) -> Vec<String> {
    body.get("subjects")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter(|s| s.get("kind").and_then(Value::as_str) == Some(kind))
                .filter_map(|s| s.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `caller` belongs to `group`, by authentication or by a GroupBinding: binding
/// such a group is binding oneself.
fn member_of(state: &State, caller: &UserInfo, group: &str) -> bool {
    caller.groups.iter().any(|g| g == group)
        || state
            .authz
            .read()
            .user_groups
            .get(&caller.name)
            .is_some_and(|gs| gs.contains(group))
}

/// Labels a binding with the one user or group it grants to, as KubeSphere does, so
/// the binding can be found and removed with its user or group.
fn label_subject(body: &mut Value) {
    let users = subjects_of(body, "User");
    let groups = subjects_of(body, "Group");
    let label = match (users.as_slice(), groups.as_slice()) {
        ([u], []) => (names::USER_REF_LABEL, u.clone()),
        ([], [g]) => (names::GROUP_REF_LABEL, g.clone()),
        _ => return,
    };
    let meta = body
        .as_object_mut()
        .map(|o| o.entry("metadata").or_insert_with(|| json!({})));
    if let Some(meta) = meta.and_then(Value::as_object_mut) {
        let labels = meta.entry("labels").or_insert_with(|| json!({}));
        if let Some(l) = labels.as_object_mut() {
            l.entry(label.0).or_insert(Value::String(label.1));
        }
    }
}

/// Validates a role or binding about to be written and prepares its body.
fn prepare(
    state: &State,
    caller: &UserInfo,
    kind: Kind,
    at: &At,
    body: &mut Value,
) -> Result<(), ApiError> {
    let r = kind.resource();
    if let Some(o) = body.as_object_mut() {
        o.insert("apiVersion".into(), r.api_version.clone().into());
        o.insert("kind".into(), r.kind.clone().into());
    }
    if let At::Workspace(ws) = at {
        let meta = body
            .as_object_mut()
            .map(|o| o.entry("metadata").or_insert_with(|| json!({})));
        if let Some(meta) = meta.and_then(Value::as_object_mut) {
            let labels = meta.entry("labels").or_insert_with(|| json!({}));
            if let Some(l) = labels.as_object_mut() {
                l.insert(names::WORKSPACE_LABEL.into(), Value::String(ws.clone()));
            }
        }
    }
    let requested = if kind.is_binding() {
        for u in subjects_of(body, "User") {
            check_not_self(&state.authz, caller, &u)?;
        }
        for g in subjects_of(body, "Group") {
            if member_of(state, caller, &g) {
                check_not_self(&state.authz, caller, &caller.name)?;
            }
        }
        label_subject(body);
        bound_rules(state, kind, at, body)?
    } else {
        role_rules(state, body)?
    };
    check_grant(&state.authz, caller, &at.level(), &requested)?;
    Ok(())
}

async fn do_list(
    state: &State,
    caller: &UserInfo,
    kind: Kind,
    at: At,
    q: Option<String>,
) -> Result<Json<Value>, ApiError> {
    let mut lp = ListParams::default();
    if let At::Workspace(ws) = &at {
        lp = lp.labels(&format!("{}={ws}", names::WORKSPACE_LABEL));
    }
    let items = api(state, caller, kind, &at, false).list(&lp).await?;
    let items = items
        .items
        .into_iter()
        .filter_map(|o| serde_json::to_value(o).ok())
        .collect();
    Ok(Json(list(q.as_deref(), &[], items)?.1))
}

async fn do_get(
    state: &State,
    caller: &UserInfo,
    kind: Kind,
    at: At,
    name: &str,
) -> Result<Json<Value>, ApiError> {
    let o = api(state, caller, kind, &at, false).get(name).await?;
    let v = serde_json::to_value(o).map_err(|e| ApiError::internal(e.to_string()))?;
    if !in_scope(kind, &at, &v) {
        return Err(ApiError::not_found(format!("{name:?} not found")));
    }
    Ok(Json(v))
}

async fn do_write(
    state: &State,
    caller: &UserInfo,
    kind: Kind,
    at: At,
    name: Option<&str>,
    mut body: Value,
) -> Result<Json<Value>, ApiError> {
    prepare(state, caller, kind, &at, &mut body)?;
    if let Some(n) = name {
        let existing = api(state, caller, kind, &at, false).get(n).await?;
        let existing =
            serde_json::to_value(existing).map_err(|e| ApiError::internal(e.to_string()))?;
        if !in_scope(kind, &at, &existing) {
            return Err(ApiError::not_found(format!("{n:?} not found")));
        }
        if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("name".into(), Value::String(n.to_string()));
        }
    }
    let obj: DynamicObject =
        serde_json::from_value(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let w = api(state, caller, kind, &at, true);
    let out = match name {
        Some(n) => w.replace(n, &PostParams::default(), &obj).await?,
        None => w.create(&PostParams::default(), &obj).await?,
    };
    Ok(Json(
        serde_json::to_value(out).map_err(|e| ApiError::internal(e.to_string()))?,
    ))
}

/// POST: one object, or (as KubeSphere's group role binding APIs send) a list of them.
/// Every item of a list passes the checks before any is written, so a refused grant
/// leaves nothing half-done.
async fn do_create(
    state: &State,
    caller: &UserInfo,
    kind: Kind,
    at: At,
    body: Value,
) -> Result<Json<Value>, ApiError> {
    let Value::Array(items) = body else {
        return do_write(state, caller, kind, at, None, body).await;
    };
    let mut prepared = Vec::with_capacity(items.len());
    for mut item in items {
        prepare(state, caller, kind, &at, &mut item)?;
        prepared.push(item);
    }
    let w = api(state, caller, kind, &at, true);
    let mut out = Vec::with_capacity(prepared.len());
    for item in prepared {
        let obj: DynamicObject =
            serde_json::from_value(item).map_err(|e| ApiError::bad_request(e.to_string()))?;
        let created = w.create(&PostParams::default(), &obj).await?;
        out.push(serde_json::to_value(created).map_err(|e| ApiError::internal(e.to_string()))?);
    }
    Ok(Json(Value::Array(out)))
}

/// PATCH with a JSON merge patch (`application/merge-patch+json`, or plain JSON as
/// KubeSphere's handlers take it). The patch is applied here and the RESULT goes through
/// the same checks as a PUT, so a patch cannot grant what an update could not; the
/// write is conditioned on the resourceVersion that was patched.
async fn do_patch(
    state: &State,
    caller: &UserInfo,
    kind: Kind,
    at: At,
    name: &str,
    content_type: Option<&str>,
    patch: Value,
) -> Result<Json<Value>, ApiError> {
    let ct = content_type
        .and_then(|c| c.split(';').next())
        .map(str::trim)
        .unwrap_or("application/merge-patch+json");
    if !matches!(ct, "application/merge-patch+json" | "application/json") {
        return Err(ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the patch type {ct:?} is not supported here: use application/merge-patch+json"
            ),
        ));
    }
    if !patch.is_object() {
        return Err(ApiError::bad_request("a merge patch must be a JSON object"));
    }
    let existing = api(state, caller, kind, &at, false).get(name).await?;
    let mut doc = serde_json::to_value(existing).map_err(|e| ApiError::internal(e.to_string()))?;
    if !in_scope(kind, &at, &doc) {
        return Err(ApiError::not_found(format!("{name:?} not found")));
    }
    let rv = doc.pointer("/metadata/resourceVersion").cloned();
    json_patch::merge(&mut doc, &patch);
    if let Some(meta) = doc.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("name".into(), Value::String(name.to_string()));
        meta.remove("managedFields");
        if let Some(rv) = rv {
            meta.entry("resourceVersion").or_insert(rv);
        }
    }
    do_write(state, caller, kind, at, Some(name), doc).await
}

async fn do_delete(
    state: &State,
    caller: &UserInfo,
    kind: Kind,
    at: At,
    name: &str,
) -> Result<Json<Value>, ApiError> {
    let _found = do_get(state, caller, kind, at.clone(), name).await?;
    api(state, caller, kind, &at, true)
        .delete(name, &DeleteParams::default())
        .await?;
    Ok(Json(
        json!({"kind": "Status", "apiVersion": "v1", "status": "Success", "code": 200}),
    ))
}
