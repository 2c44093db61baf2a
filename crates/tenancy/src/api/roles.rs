//! Global, workspace and project roles and role bindings under /kapis, with escalation checks on every grant.

use super::{ApiError, IAM, State, list};
use crate::authz::{Level, rule_from_k8s};
use crate::escalation::{check_grant, check_not_self};
use crate::names;
use apimachinery::UserInfo;
use axum::extract::{Path, RawQuery, State as S};
use axum::routing::get;
use axum::{Extension, Json, Router};
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
    let names: Vec<String> = body
        .pointer("/aggregationRoleTemplates/templateNames")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
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

fn subject_users(body: &Value) -> Vec<String> {
    body.get("subjects")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter(|s| s.get("kind").and_then(Value::as_str) == Some("User"))
                .filter_map(|s| s.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
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
        for u in subject_users(body) {
            check_not_self(&state.authz, caller, &u)?;
        }
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

macro_rules! handlers {
    ($list:ident, $create:ident, $get:ident, $update:ident, $delete:ident, $kind:expr, global) => {
        async fn $list(
            S(s): S<State>,
            Extension(u): Extension<UserInfo>,
            RawQuery(q): RawQuery,
        ) -> Result<Json<Value>, ApiError> {
            do_list(&s, &u, $kind, At::Global, q).await
        }
        async fn $create(
            S(s): S<State>,
            Extension(u): Extension<UserInfo>,
            Json(b): Json<Value>,
        ) -> Result<Json<Value>, ApiError> {
            do_write(&s, &u, $kind, At::Global, None, b).await
        }
        async fn $get(
            S(s): S<State>,
            Extension(u): Extension<UserInfo>,
            Path(n): Path<String>,
        ) -> Result<Json<Value>, ApiError> {
            do_get(&s, &u, $kind, At::Global, &n).await
        }
        async fn $update(
            S(s): S<State>,
            Extension(u): Extension<UserInfo>,
            Path(n): Path<String>,
            Json(b): Json<Value>,
        ) -> Result<Json<Value>, ApiError> {
            do_write(&s, &u, $kind, At::Global, Some(&n), b).await
        }
        async fn $delete(
            S(s): S<State>,
            Extension(u): Extension<UserInfo>,
            Path(n): Path<String>,
        ) -> Result<Json<Value>, ApiError> {
            do_delete(&s, &u, $kind, At::Global, &n).await
        }
    };
    ($list:ident, $create:ident, $get:ident, $update:ident, $delete:ident, $kind:expr, $at:ident) => {
        async fn $list(
            S(s): S<State>,
            Extension(u): Extension<UserInfo>,
            Path(x): Path<String>,
            RawQuery(q): RawQuery,
        ) -> Result<Json<Value>, ApiError> {
            do_list(&s, &u, $kind, At::$at(x), q).await
        }
        async fn $create(
            S(s): S<State>,
            Extension(u): Extension<UserInfo>,
            Path(x): Path<String>,
            Json(b): Json<Value>,
        ) -> Result<Json<Value>, ApiError> {
            do_write(&s, &u, $kind, At::$at(x), None, b).await
        }
        async fn $get(
            S(s): S<State>,
            Extension(u): Extension<UserInfo>,
            Path((x, n)): Path<(String, String)>,
        ) -> Result<Json<Value>, ApiError> {
            do_get(&s, &u, $kind, At::$at(x), &n).await
        }
        async fn $update(
            S(s): S<State>,
            Extension(u): Extension<UserInfo>,
            Path((x, n)): Path<(String, String)>,
            Json(b): Json<Value>,
        ) -> Result<Json<Value>, ApiError> {
            do_write(&s, &u, $kind, At::$at(x), Some(&n), b).await
        }
        async fn $delete(
            S(s): S<State>,
            Extension(u): Extension<UserInfo>,
            Path((x, n)): Path<(String, String)>,
        ) -> Result<Json<Value>, ApiError> {
            do_delete(&s, &u, $kind, At::$at(x), &n).await
        }
    };
}

handlers!(
    list_gr,
    create_gr,
    get_gr,
    update_gr,
    delete_gr,
    Kind::GlobalRole,
    global
);
handlers!(
    list_grb,
    create_grb,
    get_grb,
    update_grb,
    delete_grb,
    Kind::GlobalRoleBinding,
    global
);
handlers!(
    list_wr,
    create_wr,
    get_wr,
    update_wr,
    delete_wr,
    Kind::WorkspaceRole,
    Workspace
);
handlers!(
    list_wrb,
    create_wrb,
    get_wrb,
    update_wrb,
    delete_wrb,
    Kind::WorkspaceRoleBinding,
    Workspace
);
handlers!(
    list_r,
    create_r,
    get_r,
    update_r,
    delete_r,
    Kind::Role,
    Namespace
);
handlers!(
    list_rb,
    create_rb,
    get_rb,
    update_rb,
    delete_rb,
    Kind::RoleBinding,
    Namespace
);

pub(super) fn routes() -> Router<State> {
    Router::new()
        .route(&format!("{IAM}/globalroles"), get(list_gr).post(create_gr))
        .route(
            &format!("{IAM}/globalroles/{{name}}"),
            get(get_gr).put(update_gr).delete(delete_gr),
        )
        .route(
            &format!("{IAM}/globalrolebindings"),
            get(list_grb).post(create_grb),
        )
        .route(
            &format!("{IAM}/globalrolebindings/{{name}}"),
            get(get_grb).put(update_grb).delete(delete_grb),
        )
        .route(
            &format!("{IAM}/workspaces/{{ws}}/workspaceroles"),
            get(list_wr).post(create_wr),
        )
        .route(
            &format!("{IAM}/workspaces/{{ws}}/workspaceroles/{{name}}"),
            get(get_wr).put(update_wr).delete(delete_wr),
        )
        .route(
            &format!("{IAM}/workspaces/{{ws}}/workspacerolebindings"),
            get(list_wrb).post(create_wrb),
        )
        .route(
            &format!("{IAM}/workspaces/{{ws}}/workspacerolebindings/{{name}}"),
            get(get_wrb).put(update_wrb).delete(delete_wrb),
        )
        .route(
            &format!("{IAM}/namespaces/{{ns}}/roles"),
            get(list_r).post(create_r),
        )
        .route(
            &format!("{IAM}/namespaces/{{ns}}/roles/{{name}}"),
            get(get_r).put(update_r).delete(delete_r),
        )
        .route(
            &format!("{IAM}/namespaces/{{ns}}/rolebindings"),
            get(list_rb).post(create_rb),
        )
        .route(
            &format!("{IAM}/namespaces/{{ns}}/rolebindings/{{name}}"),
            get(get_rb).put(update_rb).delete(delete_rb),
        )
}
