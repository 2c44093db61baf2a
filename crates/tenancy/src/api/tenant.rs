//! `tenant.kubesphere.io/v1beta1`: workspace templates, workspaces, a workspace's projects, clusters, and the namespaces a caller may see.

use super::{ApiError, State, TENANT, list};
use crate::kinds::{Workspace, WorkspaceTemplate};
use crate::names;
use apimachinery::UserInfo;
use axum::extract::{Path, RawQuery, State as S};
use axum::routing::get;
use axum::{Extension, Json, Router};
use k8s_openapi::api::core::v1::Namespace;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use std::collections::BTreeSet;

pub(super) fn routes() -> Router<State> {
    Router::new()
        .route(
            &format!("{TENANT}/workspacetemplates"),
            get(list_templates).post(create_template),
        )
        .route(
            &format!("{TENANT}/workspacetemplates/{{ws}}"),
            get(get_template)
                .put(update_template)
                .patch(patch_template)
                .delete(delete_template),
        )
        .route(&format!("{TENANT}/workspaces"), get(list_workspaces))
        .route(&format!("{TENANT}/workspaces/{{ws}}"), get(get_workspace))
        .route(
            &format!("{TENANT}/workspaces/{{ws}}/namespaces"),
            get(list_projects).post(create_project),
        )
        .route(
            &format!("{TENANT}/workspaces/{{ws}}/namespaces/{{ns}}"),
            get(get_project).delete(delete_project),
        )
        .route(&format!("{TENANT}/clusters"), get(list_clusters))
        .route(&format!("{TENANT}/clusters/{{c}}"), get(get_cluster))
        .route(&format!("{TENANT}/namespaces"), get(list_namespaces))
}

fn to_value<T: serde::Serialize>(t: &T) -> Result<Value, ApiError> {
    serde_json::to_value(t).map_err(|e| ApiError::internal(e.to_string()))
}

fn strip(mut v: Value) -> Value {
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
    v
}

/// Reads filtered by the caller's visibility use the platform client: the authorizer
/// decided which objects the caller may see, and listing everything as the caller
/// would be refused for callers who may see only some.
async fn visible_templates(state: &State, caller: &UserInfo) -> Result<Vec<Value>, ApiError> {
    let visible = state.authz.visible_workspaces(caller);
    let all = Api::<WorkspaceTemplate>::all(state.client.clone())
        .list(&ListParams::default())
        .await?;
    all.items
        .iter()
        .filter(|t| visible.as_ref().is_none_or(|v| v.contains(&t.name_any())))
        .map(|t| to_value(t).map(strip))
        .collect()
}

async fn list_templates(
    S(state): S<State>,
    Extension(caller): Extension<UserInfo>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let items = visible_templates(&state, &caller).await?;
    Ok(Json(list(q.as_deref(), &[], items)?.1))
}

async fn create_template(
    S(state): S<State>,
    Extension(caller): Extension<UserInfo>,
    Json(mut body): Json<Value>,
) -> Result<Json<Value>, ApiError> {
    let name = body
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if !names::is_dns_label(&name) {
        return Err(ApiError::bad_request(format!(
            "invalid workspace name {name:?}"
        )));
    }
    if let Some(o) = body.as_object_mut() {
        o.insert("apiVersion".into(), "tenant.kubesphere.io/v1beta1".into());
        o.insert("kind".into(), "WorkspaceTemplate".into());
    }
    if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        let ann = meta.entry("annotations").or_insert_with(|| json!({}));
        if let Some(a) = ann.as_object_mut() {
            a.insert(names::CREATOR.into(), Value::String(caller.name.clone()));
        }
    }
    let t: WorkspaceTemplate =
        serde_json::from_value(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    // As the caller: creating workspaces is a platform-level grant Kubernetes RBAC holds.
    let out = Api::<WorkspaceTemplate>::all(state.as_caller(&caller))
        .create(&PostParams::default(), &t)
        .await?;
    Ok(Json(strip(to_value(&out)?)))
}

async fn get_template(S(state): S<State>, Path(ws): Path<String>) -> Result<Json<Value>, ApiError> {
    let t = Api::<WorkspaceTemplate>::all(state.client.clone())
        .get(&ws)
        .await?;
    Ok(Json(strip(to_value(&t)?)))
}

async fn update_template(
    S(state): S<State>,
    Extension(caller): Extension<UserInfo>,
    Path(ws): Path<String>,
    Json(mut body): Json<Value>,
) -> Result<Json<Value>, ApiError> {
    if let Some(o) = body.as_object_mut() {
        o.insert("apiVersion".into(), "tenant.kubesphere.io/v1beta1".into());
        o.insert("kind".into(), "WorkspaceTemplate".into());
    }
    let t: WorkspaceTemplate =
        serde_json::from_value(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    check_manager_change(
        &state,
        &caller,
        &ws,
        t.spec.template.spec.manager.as_deref(),
    )
    .await?;
    let out = Api::<WorkspaceTemplate>::all(state.as_caller(&caller))
        .replace(&ws, &PostParams::default(), &t)
        .await?;
    Ok(Json(strip(to_value(&out)?)))
}

/// Changing a workspace's manager grants `<ws>-admin`: subject to the same rules as any grant.
async fn check_manager_change(
    state: &State,
    caller: &UserInfo,
    ws: &str,
    wanted: Option<&str>,
) -> Result<(), ApiError> {
    let current = Api::<WorkspaceTemplate>::all(state.client.clone())
        .get_opt(ws)
        .await?;
    let current = current.and_then(|t| t.spec.template.spec.manager);
    if let Some(m) = wanted.filter(|m| Some(*m) != current.as_deref()) {
        crate::escalation::check_not_self(&state.authz, caller, m)?;
        let rules = {
            let idx = state.authz.read();
            idx.workspace_roles
                .get(&names::workspace_role(ws, "admin"))
                .map(|(_, d)| idx.effective_rules(d))
                .unwrap_or_else(rbac::full_authority)
        };
        crate::escalation::check_grant(
            &state.authz,
            caller,
            &crate::authz::Level::Workspace(ws.to_string()),
            &rules,
        )?;
    }
    Ok(())
}

async fn patch_template(
    S(state): S<State>,
    Extension(caller): Extension<UserInfo>,
    Path(ws): Path<String>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, ApiError> {
    if let Some(m) = body
        .pointer("/spec/template/spec/manager")
        .and_then(Value::as_str)
    {
        check_manager_change(&state, &caller, &ws, Some(m)).await?;
    }
    let out = Api::<WorkspaceTemplate>::all(state.as_caller(&caller))
        .patch(&ws, &PatchParams::default(), &Patch::Merge(&body))
        .await?;
    Ok(Json(strip(to_value(&out)?)))
}

async fn delete_template(
    S(state): S<State>,
    Extension(caller): Extension<UserInfo>,
    Path(ws): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Api::<WorkspaceTemplate>::all(state.as_caller(&caller))
        .delete(&ws, &DeleteParams::default())
        .await?;
    Ok(Json(
        json!({"kind": "Status", "apiVersion": "v1", "status": "Success", "code": 200}),
    ))
}

async fn list_workspaces(
    S(state): S<State>,
    Extension(caller): Extension<UserInfo>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let visible = state.authz.visible_workspaces(&caller);
    let all = Api::<Workspace>::all(state.client.clone())
        .list(&ListParams::default())
        .await?;
    let items = all
        .items
        .iter()
        .filter(|w| visible.as_ref().is_none_or(|v| v.contains(&w.name_any())))
        .map(|w| to_value(w).map(strip))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(list(q.as_deref(), &[], items)?.1))
}

async fn get_workspace(
    S(state): S<State>,
    Path(ws): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let w = Api::<Workspace>::all(state.client.clone()).get(&ws).await?;
    Ok(Json(strip(to_value(&w)?)))
}

/// The Namespace objects named in `names`.
pub(super) async fn namespace_objects(
    state: &State,
    names: &BTreeSet<String>,
) -> Result<Vec<Value>, ApiError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let all = Api::<Namespace>::all(state.client.clone())
        .list(&ListParams::default())
        .await?;
    all.items
        .iter()
        .filter(|n| names.contains(&n.name_any()))
        .map(|n| to_value(n).map(strip))
        .collect()
}

async fn list_projects(
    S(state): S<State>,
    Extension(caller): Extension<UserInfo>,
    Path(ws): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let in_ws = state
        .authz
        .read()
        .workspace_namespaces
        .get(&ws)
        .cloned()
        .unwrap_or_default();
    let visible = match state.authz.visible_namespaces(&caller) {
        None => in_ws,
        Some(v) => v.intersection(&in_ws).cloned().collect(),
    };
    let items = namespace_objects(&state, &visible).await?;
    Ok(Json(list(q.as_deref(), &[], items)?.1))
}

async fn create_project(
    S(state): S<State>,
    Extension(caller): Extension<UserInfo>,
    Path(ws): Path<String>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, ApiError> {
    if Api::<Workspace>::all(state.client.clone())
        .get_opt(&ws)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found(format!("workspace {ws:?} not found")));
    }
    let mut ns: Namespace =
        serde_json::from_value(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let name = ns.name_any();
    if !names::is_dns_label(&name) {
        return Err(ApiError::bad_request(format!(
            "invalid project name {name:?}"
        )));
    }
    ns.labels_mut()
        .insert(names::WORKSPACE_LABEL.into(), ws.clone());
    ns.annotations_mut()
        .insert(names::CREATOR.into(), caller.name.clone());
    // As the caller: the workspace role that allows creating projects maps to a
    // Kubernetes grant to create namespaces, so the kernel checks this write too.
    let out = Api::<Namespace>::all(state.as_caller(&caller))
        .create(&PostParams::default(), &ns)
        .await?;
    Ok(Json(strip(to_value(&out)?)))
}

async fn get_project(
    S(state): S<State>,
    Path((ws, ns)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let n = Api::<Namespace>::all(state.client.clone()).get(&ns).await?;
    if n.labels().get(names::WORKSPACE_LABEL) != Some(&ws) {
        return Err(ApiError::not_found(format!(
            "project {ns:?} not found in workspace {ws:?}"
        )));
    }
    Ok(Json(strip(to_value(&n)?)))
}

async fn delete_project(
    S(state): S<State>,
    Extension(caller): Extension<UserInfo>,
    Path((ws, ns)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let _found = get_project(S(state.clone()), Path((ws, ns.clone()))).await?;
    Api::<Namespace>::all(state.as_caller(&caller))
        .delete(&ns, &DeleteParams::default())
        .await?;
    Ok(Json(
        json!({"kind": "Status", "apiVersion": "v1", "status": "Success", "code": 200}),
    ))
}

/// The one cluster of this release, shaped as KubeSphere's `cluster.kubesphere.io/v1alpha1` Cluster.
fn host_cluster() -> Value {
    json!({
        "apiVersion": "cluster.kubesphere.io/v1alpha1", "kind": "Cluster",
        "metadata": {"name": "host", "labels": {"cluster-role.kubesphere.io/host": ""}},
        "spec": {"enable": true, "joinFederation": false, "provider": "ferrosphere"},
        "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "Ready"}]},
    })
}

async fn list_clusters(RawQuery(q): RawQuery) -> Result<Json<Value>, ApiError> {
    Ok(Json(list(q.as_deref(), &[], vec![host_cluster()])?.1))
}

async fn get_cluster(Path(c): Path<String>) -> Result<Json<Value>, ApiError> {
    if c == "host" {
        Ok(Json(host_cluster()))
    } else {
        Err(ApiError::not_found(format!("cluster {c:?} not found")))
    }
}

async fn list_namespaces(
    S(state): S<State>,
    Extension(caller): Extension<UserInfo>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let items = match state.authz.visible_namespaces(&caller) {
        None => {
            let all = Api::<Namespace>::all(state.client.clone())
                .list(&ListParams::default())
                .await?;
            all.items
                .iter()
                .map(|n| to_value(n).map(strip))
                .collect::<Result<Vec<_>, _>>()?
        }
        Some(v) => namespace_objects(&state, &v).await?,
    };
    Ok(Json(list(q.as_deref(), &[], items)?.1))
}
