//! A workspace's user groups and their members (`workspaces/{ws}/groups`, `workspaces/{ws}/groupbindings`), as KubeSphere serves them.

use super::{ApiError, IAM, State, list};
use crate::authz::{Level, SubjectKey};
use crate::escalation::{check_grant, check_not_self};
use crate::kinds::{Group, GroupBinding, Workspace, WorkspaceRoleBinding};
use crate::names;
use apimachinery::UserInfo;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as S};
use axum::routing::{delete, get};
use axum::{Extension, Json, Router};
use futures::future::BoxFuture;
use http::HeaderMap;
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde::Deserialize;
use serde_json::{Value, json};

/// The label naming a group's parent group (KubeSphere's group tree).
pub const GROUP_PARENT_LABEL: &str = "iam.kubesphere.io/group-parent";

pub(super) fn routes() -> Router<State> {
    Router::new()
        .route(
            &format!("{IAM}/workspaces/{{ws}}/groups"),
            get(list_groups).post(create_group),
        )
        .route(
            &format!("{IAM}/workspaces/{{ws}}/groups/{{g}}"),
            get(get_group)
                .put(update_group)
                .patch(patch_group)
                .delete(delete_group),
        )
        .route(
            &format!("{IAM}/workspaces/{{ws}}/groupbindings"),
            get(list_group_bindings).post(create_group_bindings),
        )
        .route(
            &format!("{IAM}/workspaces/{{ws}}/groupbindings/{{b}}"),
            delete(delete_group_binding),
        )
}

fn to_value<T: serde::Serialize>(v: T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::internal(e.to_string()))
}

fn ws_selector(ws: &str) -> ListParams {
    ListParams::default().labels(&format!("{}={ws}", names::WORKSPACE_LABEL))
}

fn in_workspace<K: kube::Resource>(o: &K, ws: &str) -> bool {
    o.labels().get(names::WORKSPACE_LABEL).map(String::as_str) == Some(ws)
}

fn known_workspace(state: &State, ws: &str) -> Result<(), ApiError> {
    if state.authz.read().workspaces.contains(ws) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("workspace {ws:?} not found")))
    }
}

/// Group and GroupBinding objects are cluster-scoped, so Kubernetes RBAC cannot limit a
/// workspace manager to their own workspace: the scope authorizer and the checks here
/// decide, and the platform client writes (as for WorkspaceRoles).
fn groups(state: &State) -> Api<Group> {
    Api::all(state.client.clone())
}

fn group_bindings(state: &State) -> Api<GroupBinding> {
    Api::all(state.client.clone())
}

/// The group `g` of `ws`, or 404 (a group of another workspace is not found here).
async fn group_in(state: &State, ws: &str, g: &str) -> Result<Group, ApiError> {
    match groups(state).get_opt(g).await? {
        Some(grp) if in_workspace(&grp, ws) => Ok(grp),
        _ => Err(ApiError::not_found(format!(
            "group {g:?} not found in workspace {ws:?}"
        ))),
    }
}

async fn list_groups(
    S(state): S<State>,
    Path(ws): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let items = groups(&state).list(&ws_selector(&ws)).await?;
    let items = items
        .items
        .into_iter()
        .filter_map(|g| serde_json::to_value(g).ok())
        .collect();
    Ok(Json(list(q.as_deref(), &[], items)?.1))
}

async fn get_group(
    S(state): S<State>,
    Path((ws, g)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(to_value(group_in(&state, &ws, &g).await?)?))
}

/// Checks and completes a Group body for `ws`: the workspace label, a parent (if any)
/// in the same workspace, and KubeSphere's rule that `generateName` (the display name)
/// is unique within the workspace.
async fn prepare_group(
    state: &State,
    ws: &str,
    body: &mut Value,
    name: Option<&str>,
) -> Result<Group, ApiError> {
    if let Some(o) = body.as_object_mut() {
        o.insert("apiVersion".into(), "iam.kubesphere.io/v1beta1".into());
        o.insert("kind".into(), "Group".into());
        o.entry("spec").or_insert_with(|| json!({}));
    }
    let mut grp: Group =
        serde_json::from_value(body.clone()).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if let Some(n) = name {
        grp.metadata.name = Some(n.to_string());
    }
    grp.labels_mut()
        .insert(names::WORKSPACE_LABEL.into(), ws.to_string());
    if let Some(parent) = grp.labels().get(GROUP_PARENT_LABEL).cloned() {
        group_in(state, ws, &parent).await?;
    }
    Ok(grp)
}

async fn create_group(
    S(state): S<State>,
    Path(ws): Path<String>,
    Json(mut body): Json<Value>,
) -> Result<Json<Value>, ApiError> {
    known_workspace(&state, &ws)?;
    let mut grp = prepare_group(&state, &ws, &mut body, None).await?;
    match (&grp.metadata.name, &grp.metadata.generate_name) {
        (Some(n), _) if names::is_dns_label(n) => {}
        (None, Some(gn)) if !gn.is_empty() => {
            let existing = groups(&state).list(&ws_selector(&ws)).await?;
            if existing
                .items
                .iter()
                .any(|g| g.metadata.generate_name.as_deref() == Some(gn.as_str()))
            {
                return Err(ApiError::new(
                    409,
                    "AlreadyExists",
                    format!("a group named {gn:?} already exists in workspace {ws:?}"),
                ));
            }
        }
        _ => {
            return Err(ApiError::bad_request(
                "a group needs metadata.generateName (its display name) or a valid metadata.name",
            ));
        }
    }
    // Groups go with their workspace (garbage collection through the owner reference).
    let workspace = Api::<Workspace>::all(state.client.clone())
        .get_opt(&ws)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("workspace {ws:?} not found")))?;
    grp.metadata.owner_references = crate::children::project_owner(&workspace).map(|o| vec![o]);
    let created = groups(&state).create(&PostParams::default(), &grp).await?;
    Ok(Json(to_value(created)?))
}

async fn update_group(
    S(state): S<State>,
    Path((ws, g)): Path<(String, String)>,
    Json(mut body): Json<Value>,
) -> Result<Json<Value>, ApiError> {
    let current = group_in(&state, &ws, &g).await?;
    let mut grp = prepare_group(&state, &ws, &mut body, Some(&g)).await?;
    if grp.metadata.resource_version.is_none() {
        grp.metadata.resource_version = current.metadata.resource_version;
    }
    grp.metadata.owner_references = current.metadata.owner_references;
    let out = groups(&state)
        .replace(&g, &PostParams::default(), &grp)
        .await?;
    Ok(Json(to_value(out)?))
}

async fn patch_group(
    S(state): S<State>,
    Path((ws, g)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let ct = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
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
    let patch: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the patch is not JSON: {e}")))?;
    let current = group_in(&state, &ws, &g).await?;
    let mut doc = to_value(&current)?;
    json_patch::merge(&mut doc, &patch);
    let mut grp = prepare_group(&state, &ws, &mut doc, Some(&g)).await?;
    grp.metadata.resource_version = current.metadata.resource_version;
    grp.metadata.owner_references = current.metadata.owner_references;
    grp.metadata.managed_fields = None;
    let out = groups(&state)
        .replace(&g, &PostParams::default(), &grp)
        .await?;
    Ok(Json(to_value(out)?))
}

/// Deletes a group with what hangs off it, as KubeSphere's group controller does: its
/// child groups, its memberships and the role bindings made for it.
fn remove_group<'a>(
    state: &'a State,
    ws: &'a str,
    g: &'a str,
) -> BoxFuture<'a, Result<(), ApiError>> {
    Box::pin(async move {
        let children = groups(state)
            .list(&ListParams::default().labels(&format!("{GROUP_PARENT_LABEL}={g}")))
            .await?;
        for child in children.items.iter().filter(|c| in_workspace(*c, ws)) {
            remove_group(state, ws, &child.name_any()).await?;
        }
        let sel = format!("{}={g}", names::GROUP_REF_LABEL);
        crate::controllers::delete_labelled::<GroupBinding>(&state.client, &sel).await?;
        crate::controllers::delete_labelled::<WorkspaceRoleBinding>(&state.client, &sel).await?;
        crate::controllers::delete_labelled::<RoleBinding>(&state.client, &sel).await?;
        match groups(state).delete(g, &DeleteParams::default()).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(e.into()),
        }
    })
}

async fn delete_group(
    S(state): S<State>,
    Path((ws, g)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    group_in(&state, &ws, &g).await?;
    remove_group(&state, &ws, &g).await?;
    Ok(Json(
        json!({"kind": "Status", "apiVersion": "v1", "status": "Success", "code": 200}),
    ))
}

async fn list_group_bindings(
    S(state): S<State>,
    Path(ws): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let items = group_bindings(&state).list(&ws_selector(&ws)).await?;
    let items = items
        .items
        .into_iter()
        .filter_map(|b| serde_json::to_value(b).ok())
        .collect();
    Ok(Json(list(q.as_deref(), &[], items)?.1))
}

/// One entry of KubeSphere's `POST workspaces/{ws}/groupbindings` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupMember {
    user_name: String,
    group_name: String,
}

/// Refuses to add a member to `group` unless the caller holds, at each level, every
/// permission the group's role bindings grant there: joining a group is a grant.
fn check_group_grant(
    state: &State,
    caller: &UserInfo,
    ws: &str,
    group: &str,
) -> Result<(), ApiError> {
    let key = SubjectKey::Group(group.to_string());
    let mut grants: Vec<(Level, Vec<rbac::PolicyRule>)> = Vec::new();
    {
        let idx = state.authz.read();
        let mut global = Vec::new();
        for role in idx.global_bindings.roles(&key, "") {
            if let Some(def) = idx.global_roles.get(role) {
                global.extend(idx.effective_rules(def));
            }
        }
        grants.push((Level::Global, global));
        let mut in_ws = Vec::new();
        for role in idx.workspace_bindings.roles(&key, ws) {
            if let Some((_, def)) = idx.workspace_roles.get(role) {
                in_ws.extend(idx.effective_rules(def));
            }
        }
        grants.push((Level::Workspace(ws.to_string()), in_ws));
        for ns in idx.workspace_namespaces.get(ws).into_iter().flatten() {
            let mut rules = Vec::new();
            for r in idx.role_bindings.roles(&key, ns) {
                if let Some(rs) = idx.k8s_ref_rules(ns, r) {
                    rules.extend(rs.iter().cloned());
                }
            }
            grants.push((Level::Namespace(ns.clone()), rules));
        }
    }
    for (level, rules) in grants.iter().filter(|(_, r)| !r.is_empty()) {
        check_grant(&state.authz, caller, level, rules)?;
    }
    Ok(())
}

async fn create_group_bindings(
    S(state): S<State>,
    Extension(caller): Extension<UserInfo>,
    Path(ws): Path<String>,
    Json(members): Json<Vec<GroupMember>>,
) -> Result<Json<Value>, ApiError> {
    known_workspace(&state, &ws)?;
    // Everything is checked before anything is written.
    let mut owners = Vec::with_capacity(members.len());
    for m in &members {
        if !names::is_dns_label(&m.user_name) {
            return Err(ApiError::bad_request(format!(
                "invalid user name {:?}",
                m.user_name
            )));
        }
        check_not_self(&state.authz, &caller, &m.user_name)?;
        let group = group_in(&state, &ws, &m.group_name).await?;
        // A membership goes with its group.
        owners.push(crate::children::owner(&group).map(|mut o| {
            o.controller = Some(false);
            o
        }));
        super::users::users_api(&state.client)
            .get_opt(&m.user_name)
            .await?
            .ok_or_else(|| {
                ApiError::bad_request(format!("user {:?} does not exist", m.user_name))
            })?;
        check_group_grant(&state, &caller, &ws, &m.group_name)?;
    }
    let mut out = Vec::with_capacity(members.len());
    for (m, owner) in members.iter().zip(owners) {
        let mut b: GroupBinding = serde_json::from_value(json!({
            "apiVersion": "iam.kubesphere.io/v1beta1", "kind": "GroupBinding",
            "metadata": {
                "generateName": format!("{}-{}-", m.group_name, m.user_name),
                "labels": {
                    names::USER_REF_LABEL: &m.user_name,
                    names::GROUP_REF_LABEL: &m.group_name,
                    names::WORKSPACE_LABEL: &ws,
                },
            },
            "groupRef": {"apiGroup": names::IAM_GROUP, "kind": "Group", "name": &m.group_name},
            "users": [&m.user_name],
        }))
        .map_err(|e| ApiError::internal(e.to_string()))?;
        b.metadata.owner_references = owner.map(|o| vec![o]);
        let created = group_bindings(&state)
            .create(&PostParams::default(), &b)
            .await?;
        out.push(to_value(created)?);
    }
    Ok(Json(Value::Array(out)))
}

async fn delete_group_binding(
    S(state): S<State>,
    Path((ws, b)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    match group_bindings(&state).get_opt(&b).await? {
        Some(gb) if in_workspace(&gb, &ws) => {}
        _ => {
            return Err(ApiError::not_found(format!(
                "groupbinding {b:?} not found in workspace {ws:?}"
            )));
        }
    }
    group_bindings(&state)
        .delete(&b, &DeleteParams::default())
        .await?;
    Ok(Json(
        json!({"kind": "Status", "apiVersion": "v1", "status": "Success", "code": 200}),
    ))
}
