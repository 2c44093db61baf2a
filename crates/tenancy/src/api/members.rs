//! Members at each level (cluster, workspace, project), a user's role templates, and access reviews.

use super::users::{present, users_api};
use super::{ApiError, IAM, State, list, pairs, param};
use crate::authz::{K8sRoleRef, Level, SubjectKey};
use crate::children::{project_role_binding, workspace_role_binding};
use crate::escalation::{check_grant, check_not_self};
use crate::kinds::{Workspace, WorkspaceRoleBinding};
use crate::names;
use apimachinery::UserInfo;
use axum::extract::{Path, RawQuery, State as S};
use axum::routing::get;
use axum::{Extension, Json, Router};
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding, RoleRef};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn routes() -> Router<State> {
    Router::new()
        .route(
            &format!("{IAM}/clustermembers"),
            get(list_cluster_members).post(add_cluster_members),
        )
        .route(
            &format!("{IAM}/clustermembers/{{m}}"),
            get(get_cluster_member).delete(remove_cluster_member),
        )
        .route(
            &format!("{IAM}/workspaces/{{ws}}/workspacemembers"),
            get(list_ws_members).post(add_ws_members),
        )
        .route(
            &format!("{IAM}/workspaces/{{ws}}/workspacemembers/{{m}}"),
            get(get_ws_member)
                .put(update_ws_member)
                .delete(remove_ws_member),
        )
        .route(
            &format!("{IAM}/workspaces/{{ws}}/workspacemembers/{{m}}/namespaces"),
            get(member_namespaces),
        )
        .route(
            &format!("{IAM}/namespaces/{{ns}}/namespacemembers"),
            get(list_ns_members).post(add_ns_members),
        )
        .route(
            &format!("{IAM}/namespaces/{{ns}}/namespacemembers/{{m}}"),
            get(get_ns_member)
                .put(update_ns_member)
                .delete(remove_ns_member),
        )
}

/// One entry of the members POST body the console sends.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub username: String,
    pub role_ref: String,
}

fn ok() -> Json<Value> {
    Json(json!({"kind": "Status", "apiVersion": "v1", "status": "Success", "code": 200}))
}

/// Users (as the users API shows them) named in `members`, each annotated with its role.
async fn member_objects(
    state: &State,
    members: &BTreeMap<String, String>,
    annotation: &str,
) -> Result<Vec<Value>, ApiError> {
    let all = users_api(&state.client)
        .list(&ListParams::default())
        .await?;
    Ok(all
        .items
        .into_iter()
        .filter_map(|u| {
            let role = members.get(&u.name_any())?.clone();
            let mut v = present(state, serde_json::to_value(u).ok()?);
            if let Some(ann) = v
                .pointer_mut("/metadata/annotations")
                .and_then(Value::as_object_mut)
            {
                ann.insert(annotation.into(), Value::String(role));
            }
            Some(v)
        })
        .collect())
}

fn one(mut items: Vec<Value>, m: &str) -> Result<Json<Value>, ApiError> {
    items
        .pop()
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("{m:?} is not a member")))
}

fn user_members<R>(
    it: impl Iterator<Item = (SubjectKey, R)>,
    pick: impl Fn(&R) -> Option<String>,
) -> BTreeMap<String, String> {
    it.filter_map(|(s, r)| match s {
        SubjectKey::User(u) => pick(&r).map(|role| (u, role)),
        SubjectKey::Group(_) => None,
    })
    .collect()
}

// ---- cluster members: ClusterRoleBindings labelled with the user, to cluster-scope roles.

fn cluster_members(state: &State) -> BTreeMap<String, String> {
    let idx = state.authz.read();
    user_members(
        idx.cluster_bindings
            .at_scope("")
            .map(|(s, r)| (s.clone(), r.to_vec())),
        |roles| {
            roles
                .iter()
                .find(|r| {
                    *r == names::CLUSTER_ADMIN
                        || *r == names::CLUSTER_VIEWER
                        || r.starts_with("cluster-")
                })
                .cloned()
        },
    )
}

async fn list_cluster_members(
    S(state): S<State>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let mut members = cluster_members(&state);
    let own = pairs(q.as_deref());
    if let Some(role) = param(&own, "clusterrole") {
        members.retain(|_, r| r == role);
    }
    let items = member_objects(&state, &members, "iam.kubesphere.io/clusterrole").await?;
    Ok(Json(list(q.as_deref(), &["clusterrole"], items)?.1))
}

async fn get_cluster_member(
    S(state): S<State>,
    Path(m): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let members: BTreeMap<String, String> = cluster_members(&state)
        .into_iter()
        .filter(|(u, _)| *u == m)
        .collect();
    one(
        member_objects(&state, &members, "iam.kubesphere.io/clusterrole").await?,
        &m,
    )
}

async fn add_cluster_members(
    S(state): S<State>,
    Extension(caller): Extension<UserInfo>,
    Json(members): Json<Vec<Member>>,
) -> Result<Json<Value>, ApiError> {
    // As the caller: Kubernetes' own escalation check on ClusterRoleBindings applies too.
    let api: Api<ClusterRoleBinding> = Api::all(state.as_caller(&caller));
    for m in &members {
        check_not_self(&state.authz, &caller, &m.username)?;
        let rules = state
            .authz
            .read()
            .cluster_roles
            .get(&m.role_ref)
            .map(|r| r.to_vec());
        let rules = rules.ok_or_else(|| {
            ApiError::bad_request(format!("cluster role {:?} does not exist", m.role_ref))
        })?;
        check_grant(&state.authz, &caller, &Level::Cluster, &rules)?;
        remove_labelled_crbs(&api, &m.username).await?;
        let crb = ClusterRoleBinding {
            metadata: ObjectMeta {
                name: Some(names::binding(&m.username, &m.role_ref)),
                labels: Some(BTreeMap::from([
                    (names::USER_REF_LABEL.to_string(), m.username.clone()),
                    (names::ROLE_REF_LABEL.to_string(), m.role_ref.clone()),
                ])),
                ..Default::default()
            },
            role_ref: RoleRef {
                api_group: Some(names::RBAC_GROUP.into()),
                kind: "ClusterRole".into(),
                name: m.role_ref.clone(),
            },
            subjects: Some(vec![crate::bootstrap::user_subject(&m.username)]),
        };
        api.create(&PostParams::default(), &crb).await?;
    }
    Ok(ok())
}

async fn remove_labelled_crbs(api: &Api<ClusterRoleBinding>, user: &str) -> Result<(), ApiError> {
    let sel = format!(
        "{}={user},!{}",
        names::USER_REF_LABEL,
        names::MANAGED_BY_LABEL
    );
    for b in api.list(&ListParams::default().labels(&sel)).await?.items {
        api.delete(&b.name_any(), &DeleteParams::default()).await?;
    }
    Ok(())
}

async fn remove_cluster_member(
    S(state): S<State>,
    Extension(caller): Extension<UserInfo>,
    Path(m): Path<String>,
) -> Result<Json<Value>, ApiError> {
    check_not_self(&state.authz, &caller, &m)?;
    remove_labelled_crbs(&Api::all(state.as_caller(&caller)), &m).await?;
    Ok(ok())
}

// ---- workspace members: WorkspaceRoleBindings.

fn ws_members(state: &State, ws: &str) -> BTreeMap<String, String> {
    let idx = state.authz.read();
    user_members(
        idx.workspace_bindings
            .at_scope(ws)
            .map(|(s, r)| (s.clone(), r.to_vec())),
        |r| r.first().cloned(),
    )
}

async fn list_ws_members(
    S(state): S<State>,
    Path(ws): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let mut members = ws_members(&state, &ws);
    if let Some(role) = param(&pairs(q.as_deref()), "workspacerole") {
        members.retain(|_, r| r == role);
    }
    let items = member_objects(&state, &members, "iam.kubesphere.io/workspacerole").await?;
    Ok(Json(list(q.as_deref(), &["workspacerole"], items)?.1))
}

async fn get_ws_member(
    S(state): S<State>,
    Path((ws, m)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let members: BTreeMap<String, String> = ws_members(&state, &ws)
        .into_iter()
        .filter(|(u, _)| *u == m)
        .collect();
    one(
        member_objects(&state, &members, "iam.kubesphere.io/workspacerole").await?,
        &m,
    )
}

/// Makes `m` hold `role` in `ws` after the escalation checks. The write uses the platform
/// client: WorkspaceRoleBindings are cluster-scoped, and Kubernetes RBAC cannot say
/// "may bind roles of workspace ws only"; the scope authorizer and `check_grant` decided.
async fn bind_ws_member(
    state: &State,
    caller: &UserInfo,
    ws: &str,
    m: &Member,
) -> Result<(), ApiError> {
    check_not_self(&state.authz, caller, &m.username)?;
    let role = if m.role_ref.starts_with(&format!("{ws}-")) {
        m.role_ref.clone()
    } else {
        names::workspace_role(ws, &m.role_ref)
    };
    let cached = {
        let idx = state.authz.read();
        match idx.workspace_roles.get(&role) {
            Some((rws, def)) if rws == ws => Some(idx.effective_rules(def)),
            _ => None,
        }
    };
    let rules = match cached {
        Some(r) => r,
        None => {
            // The watch may not have delivered a role created just now: read it.
            let r = Api::<crate::kinds::WorkspaceRole>::all(state.client.clone())
                .get_opt(&role)
                .await?;
            match r {
                Some(r)
                    if r.labels().get(names::WORKSPACE_LABEL).map(String::as_str) == Some(ws) =>
                {
                    state.authz.read().rules_of_role_object(
                        &r.spec.rules,
                        r.spec.aggregation_role_templates.as_ref(),
                    )
                }
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "workspace role {role:?} does not exist in workspace {ws:?}"
                    )));
                }
            }
        }
    };
    check_grant(
        &state.authz,
        caller,
        &Level::Workspace(ws.to_string()),
        &rules,
    )?;
    let api: Api<WorkspaceRoleBinding> = Api::all(state.client.clone());
    unbind_ws_member(&api, ws, &m.username).await?;
    let owner = Api::<Workspace>::all(state.client.clone())
        .get_opt(ws)
        .await?;
    let b = workspace_role_binding(
        ws,
        &m.username,
        &role,
        owner.as_ref().and_then(crate::children::owner),
        None,
    );
    api.create(&PostParams::default(), &b).await?;
    Ok(())
}

async fn unbind_ws_member(
    api: &Api<WorkspaceRoleBinding>,
    ws: &str,
    user: &str,
) -> Result<(), ApiError> {
    let sel = format!(
        "{}={user},{}={ws}",
        names::USER_REF_LABEL,
        names::WORKSPACE_LABEL
    );
    for b in api.list(&ListParams::default().labels(&sel)).await?.items {
        api.delete(&b.name_any(), &DeleteParams::default()).await?;
    }
    Ok(())
}

async fn add_ws_members(
    S(state): S<State>,
    Extension(caller): Extension<UserInfo>,
    Path(ws): Path<String>,
    Json(members): Json<Vec<Member>>,
) -> Result<Json<Value>, ApiError> {
    for m in &members {
        bind_ws_member(&state, &caller, &ws, m).await?;
    }
    Ok(ok())
}

async fn update_ws_member(
    S(state): S<State>,
    Extension(caller): Extension<UserInfo>,
    Path((ws, m)): Path<(String, String)>,
    Json(member): Json<Member>,
) -> Result<Json<Value>, ApiError> {
    if member.username != m {
        return Err(ApiError::bad_request(
            "username in the body does not match the path",
        ));
    }
    bind_ws_member(&state, &caller, &ws, &member).await?;
    Ok(Json(
        json!({"username": member.username, "roleRef": member.role_ref}),
    ))
}

async fn remove_ws_member(
    S(state): S<State>,
    Extension(caller): Extension<UserInfo>,
    Path((ws, m)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    check_not_self(&state.authz, &caller, &m)?;
    // Platform client for the same reason as in bind_ws_member.
    unbind_ws_member(&Api::all(state.client.clone()), &ws, &m).await?;
    Ok(ok())
}

async fn member_namespaces(
    S(state): S<State>,
    Path((ws, m)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let member = UserInfo::new(m, vec!["system:authenticated".into()]);
    let in_ws: BTreeSet<String> = state
        .authz
        .read()
        .workspace_namespaces
        .get(&ws)
        .cloned()
        .unwrap_or_default();
    let visible = match state.authz.visible_namespaces(&member) {
        None => in_ws,
        Some(v) => v.intersection(&in_ws).cloned().collect(),
    };
    let items = super::tenant::namespace_objects(&state, &visible).await?;
    Ok(Json(list(q.as_deref(), &[], items)?.1))
}

// ---- project members: RoleBindings to the project's Roles.

fn ns_members(state: &State, ns: &str) -> BTreeMap<String, String> {
    let idx = state.authz.read();
    user_members(
        idx.role_bindings
            .at_scope(ns)
            .map(|(s, r)| (s.clone(), r.to_vec())),
        |roles| {
            roles.iter().find_map(|r| match r {
                K8sRoleRef::Role(n) => Some(n.clone()),
                K8sRoleRef::ClusterRole(_) => None,
            })
        },
    )
}

async fn list_ns_members(
    S(state): S<State>,
    Path(ns): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let mut members = ns_members(&state, &ns);
    if let Some(role) = param(&pairs(q.as_deref()), "role") {
        members.retain(|_, r| r == role);
    }
    let items = member_objects(&state, &members, "iam.kubesphere.io/role").await?;
    Ok(Json(list(q.as_deref(), &["role"], items)?.1))
}

async fn get_ns_member(
    S(state): S<State>,
    Path((ns, m)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let members: BTreeMap<String, String> = ns_members(&state, &ns)
        .into_iter()
        .filter(|(u, _)| *u == m)
        .collect();
    one(
        member_objects(&state, &members, "iam.kubesphere.io/role").await?,
        &m,
    )
}

async fn bind_ns_member(
    state: &State,
    caller: &UserInfo,
    ns: &str,
    m: &Member,
) -> Result<(), ApiError> {
    check_not_self(&state.authz, caller, &m.username)?;
    let rules = state
        .authz
        .read()
        .roles
        .get(&(ns.to_string(), m.role_ref.clone()))
        .map(|r| r.to_vec());
    let rules = rules.ok_or_else(|| {
        ApiError::bad_request(format!(
            "role {:?} does not exist in namespace {ns:?}",
            m.role_ref
        ))
    })?;
    check_grant(
        &state.authz,
        caller,
        &Level::Namespace(ns.to_string()),
        &rules,
    )?;
    // As the caller: RoleBindings are namespaced, so Kubernetes RBAC (and its own
    // escalation check) can and does judge this write.
    let api: Api<RoleBinding> = Api::namespaced(state.as_caller(caller), ns);
    unbind_ns_member(&api, &m.username).await?;
    api.create(
        &PostParams::default(),
        &project_role_binding(ns, &m.username, &m.role_ref, None),
    )
    .await?;
    Ok(())
}

async fn unbind_ns_member(api: &Api<RoleBinding>, user: &str) -> Result<(), ApiError> {
    let sel = format!(
        "{}={user},!{}",
        names::USER_REF_LABEL,
        names::MANAGED_BY_LABEL
    );
    for b in api.list(&ListParams::default().labels(&sel)).await?.items {
        api.delete(&b.name_any(), &DeleteParams::default()).await?;
    }
    Ok(())
}

async fn add_ns_members(
    S(state): S<State>,
    Extension(caller): Extension<UserInfo>,
    Path(ns): Path<String>,
    Json(members): Json<Vec<Member>>,
) -> Result<Json<Value>, ApiError> {
    for m in &members {
        bind_ns_member(&state, &caller, &ns, m).await?;
    }
    Ok(ok())
}

async fn update_ns_member(
    S(state): S<State>,
    Extension(caller): Extension<UserInfo>,
    Path((ns, m)): Path<(String, String)>,
    Json(member): Json<Member>,
) -> Result<Json<Value>, ApiError> {
    if member.username != m {
        return Err(ApiError::bad_request(
            "username in the body does not match the path",
        ));
    }
    bind_ns_member(&state, &caller, &ns, &member).await?;
    Ok(Json(
        json!({"username": member.username, "roleRef": member.role_ref}),
    ))
}

async fn remove_ns_member(
    S(state): S<State>,
    Extension(caller): Extension<UserInfo>,
    Path((ns, m)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    check_not_self(&state.authz, &caller, &m)?;
    unbind_ns_member(&Api::namespaced(state.as_caller(&caller), &ns), &m).await?;
    Ok(ok())
}
