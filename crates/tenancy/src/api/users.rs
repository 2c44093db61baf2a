//! `users` CRUD with `?globalrole=` and `?workspace=` filters; passwords hashed on create and never returned.

use super::{ApiError, IAM, State, list, param};
use crate::authz::{Level, SubjectKey};
use crate::bootstrap::global_role_binding;
use crate::controllers::user_resource;
use crate::escalation::{check_grant, check_not_self};
use crate::names;
use apimachinery::UserInfo;
use axum::extract::{Path, RawQuery, State as S};
use axum::routing::get;
use axum::{Extension, Json, Router};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use serde_json::Value;

pub(super) fn routes() -> Router<State> {
    Router::new()
        .route(&format!("{IAM}/users"), get(list_users).post(create_user))
        .route(
            &format!("{IAM}/users/{{user}}"),
            get(get_user).put(update_user).delete(delete_user),
        )
}

pub(crate) fn users_api(c: &kube::Client) -> Api<DynamicObject> {
    Api::all_with(c.clone(), &user_resource())
}

/// The user as the API shows it: no password, and the current global role annotated.
pub(crate) fn present(state: &State, mut v: Value) -> Value {
    if let Some(spec) = v.get_mut("spec").and_then(Value::as_object_mut) {
        spec.remove("password");
    }
    let name = v
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let role = global_role_of(state, &name);
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        let ann = meta
            .entry("annotations")
            .or_insert_with(|| Value::Object(Default::default()));
        if let (Some(ann), Some(role)) = (ann.as_object_mut(), role) {
            ann.insert(names::GLOBALROLE_ANNOTATION.into(), Value::String(role));
        }
    }
    v
}

fn global_role_of(state: &State, user: &str) -> Option<String> {
    let idx = state.authz.read();
    idx.global_bindings
        .roles(&SubjectKey::User(user.to_string()), "")
        .first()
        .cloned()
}

async fn list_users(S(state): S<State>, RawQuery(q): RawQuery) -> Result<Json<Value>, ApiError> {
    // Reads go through the platform client: the gateway authorized `list users` already,
    // and redaction below must apply whoever asks.
    let all = users_api(&state.client)
        .list(&ListParams::default())
        .await?;
    let items: Vec<Value> = all
        .items
        .into_iter()
        .filter_map(|u| serde_json::to_value(u).ok())
        .collect();
    let (pre, _) = list(q.as_deref(), &["globalrole", "workspace"], Vec::new())?;
    let keep: Option<Vec<String>> = {
        let idx = state.authz.read();
        let by_role = param(&pre, "globalrole").map(|r| {
            idx.global_bindings
                .at_scope("")
                .filter(|(_, roles)| roles.iter().any(|x| x == r))
                .filter_map(|(s, _)| match s {
                    SubjectKey::User(u) => Some(u.clone()),
                    SubjectKey::Group(_) => None,
                })
                .collect::<Vec<_>>()
        });
        let by_ws = param(&pre, "workspace").map(|ws| {
            idx.workspace_bindings
                .at_scope(ws)
                .filter_map(|(s, _)| match s {
                    SubjectKey::User(u) => Some(u.clone()),
                    SubjectKey::Group(_) => None,
                })
                .collect::<Vec<_>>()
        });
        match (by_role, by_ws) {
            (Some(a), Some(b)) => Some(a.into_iter().filter(|u| b.contains(u)).collect()),
            (Some(a), None) | (None, Some(a)) => Some(a),
            (None, None) => None,
        }
    };
    let items = items
        .into_iter()
        .filter(|u| {
            keep.as_ref().is_none_or(|k| {
                u.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| k.iter().any(|x| x == n))
            })
        })
        .map(|u| present(&state, u))
        .collect();
    Ok(Json(
        list(q.as_deref(), &["globalrole", "workspace"], items)?.1,
    ))
}

async fn get_user(S(state): S<State>, Path(user): Path<String>) -> Result<Json<Value>, ApiError> {
    let u = users_api(&state.client).get(&user).await?;
    Ok(Json(present(
        &state,
        serde_json::to_value(u).map_err(|e| ApiError::internal(e.to_string()))?,
    )))
}

/// Checks that `caller` may give `user` the global role `role`, then makes it the user's
/// only GlobalRoleBinding (as the caller: Kubernetes RBAC checks the write too).
pub(crate) async fn set_global_role(
    state: &State,
    caller: &UserInfo,
    user: &str,
    role: &str,
) -> Result<(), ApiError> {
    check_not_self(&state.authz, caller, user)?;
    let rules = global_role_rules(state, role).await?;
    check_grant(&state.authz, caller, &Level::Global, &rules)?;
    let api: Api<crate::kinds::GlobalRoleBinding> = Api::all(state.as_caller(caller));
    let existing = api
        .list(&ListParams::default().labels(&format!("{}={user}", names::USER_REF_LABEL)))
        .await?;
    let wanted = global_role_binding(user, role);
    let wanted_name = wanted.metadata.name.clone().unwrap_or_default();
    for b in existing.items {
        let n = b.metadata.name.clone().unwrap_or_default();
        if n != wanted_name {
            api.delete(&n, &DeleteParams::default()).await?;
        }
    }
    crate::bootstrap::apply(&api, &wanted)
        .await
        .map_err(|e| match e {
            crate::bootstrap::Error::Apply { source, .. } => ApiError::from(source),
            other => ApiError::internal(other.to_string()),
        })?;
    Ok(())
}

/// A global role's effective rules, from the index or, if the watch has not delivered
/// the role yet, from the API.
pub(crate) async fn global_role_rules(
    state: &State,
    role: &str,
) -> Result<Vec<rbac::PolicyRule>, ApiError> {
    {
        let idx = state.authz.read();
        if let Some(def) = idx.global_roles.get(role) {
            return Ok(idx.effective_rules(def));
        }
    }
    let r = Api::<crate::kinds::GlobalRole>::all(state.client.clone())
        .get_opt(role)
        .await?
        .ok_or_else(|| ApiError::bad_request(format!("global role {role:?} does not exist")))?;
    let idx = state.authz.read();
    Ok(idx.rules_of_role_object(&r.spec.rules, r.spec.aggregation_role_templates.as_ref()))
}

fn annotation(v: &Value, key: &str) -> Option<String> {
    v.pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

async fn create_user(
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
            "invalid user name {name:?}: use lower-case letters, digits and '-'"
        )));
    }
    let role = annotation(&body, names::GLOBALROLE_ANNOTATION);
    if let Some(role) = &role {
        // Refuse before anything is written, so a refused grant leaves no user behind.
        check_not_self(&state.authz, &caller, &name)?;
        let rules = global_role_rules(&state, role).await?;
        check_grant(&state.authz, &caller, &Level::Global, &rules)?;
    }
    if let Some(pw) = body
        .pointer("/spec/password")
        .and_then(Value::as_str)
        .map(str::to_string)
    {
        identity::password::check_policy(&name, &pw)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let hashed =
            identity::password::hash(&pw).map_err(|e| ApiError::internal(e.to_string()))?;
        if let Some(spec) = body.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("password".into(), Value::String(hashed));
        }
    }
    if let Some(obj) = body.as_object_mut() {
        obj.insert("apiVersion".into(), "iam.kubesphere.io/v1beta1".into());
        obj.insert("kind".into(), "User".into());
    }
    let obj: DynamicObject =
        serde_json::from_value(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let created = users_api(&state.as_caller(&caller))
        .create(&PostParams::default(), &obj)
        .await?;
    if let Some(role) = role {
        set_global_role(&state, &caller, &name, &role).await?;
    }
    Ok(Json(present(
        &state,
        serde_json::to_value(created).map_err(|e| ApiError::internal(e.to_string()))?,
    )))
}

async fn update_user(
    S(state): S<State>,
    Extension(caller): Extension<UserInfo>,
    Path(user): Path<String>,
    Json(mut body): Json<Value>,
) -> Result<Json<Value>, ApiError> {
    let current = users_api(&state.client).get(&user).await?;
    let current = serde_json::to_value(current).map_err(|e| ApiError::internal(e.to_string()))?;
    // The password changes only through users/{u}/password; keep the stored hash.
    if let Some(spec) = body.get_mut("spec").and_then(Value::as_object_mut) {
        spec.remove("password");
        if let Some(pw) = current.pointer("/spec/password") {
            spec.insert("password".into(), pw.clone());
        }
    }
    if let Some(obj) = body.as_object_mut() {
        obj.insert("apiVersion".into(), "iam.kubesphere.io/v1beta1".into());
        obj.insert("kind".into(), "User".into());
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("name".into(), Value::String(user.clone()));
            if let Some(rv) = current.pointer("/metadata/resourceVersion") {
                meta.entry("resourceVersion").or_insert(rv.clone());
            }
        }
    }
    // Checked before anything is written, so a refused state leaves the user as it was.
    let state_change = wanted_state(&body, &current)?;
    if state_change.is_some() && caller.name == user {
        return Err(ApiError::forbidden(
            "you cannot change the state of your own user",
        ));
    }
    let wanted_role = annotation(&body, names::GLOBALROLE_ANNOTATION);
    let current_role = global_role_of(&state, &user);
    let role_change = wanted_role.is_some() && wanted_role != current_role;
    if role_change && let Some(role) = &wanted_role {
        set_global_role(&state, &caller, &user, role).await?;
    }
    if caller.name == user {
        // Self-service changes the profile only: labels, annotations (role, forced
        // password change) and group membership stay as they are.
        if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
            for key in ["labels", "annotations"] {
                match current.pointer(&format!("/metadata/{key}")) {
                    Some(v) => meta.insert(key.into(), v.clone()),
                    None => meta.remove(key),
                };
            }
        }
        if let Some(spec) = body.get_mut("spec").and_then(Value::as_object_mut) {
            match current.pointer("/spec/groups") {
                Some(v) => spec.insert("groups".into(), v.clone()),
                None => spec.remove("groups"),
            };
        }
    }
    let obj: DynamicObject =
        serde_json::from_value(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let api = if caller.name == user {
        // Kubernetes RBAC cannot say "a user may update their own User object", so the
        // scope authorizer's self-service rule decided and the platform client writes;
        // the global role annotation was checked above like anyone else's.
        users_api(&state.client)
    } else {
        users_api(&state.as_caller(&caller))
    };
    let mut updated = api.replace(&user, &PostParams::default(), &obj).await?;
    if let Some(new_state) = state_change {
        updated = set_state(&state, &caller, &user, new_state, &current).await?;
    }
    Ok(Json(present(
        &state,
        serde_json::to_value(updated).map_err(|e| ApiError::internal(e.to_string()))?,
    )))
}

/// The `status.state` an update asks for when it differs from the stored one. The
/// User's status is a subresource, so a plain update would drop it silently.
fn wanted_state(body: &Value, current: &Value) -> Result<Option<&'static str>, ApiError> {
    let Some(wanted) = body.pointer("/status/state").and_then(Value::as_str) else {
        return Ok(None);
    };
    let now = current
        .pointer("/status/state")
        .and_then(Value::as_str)
        .unwrap_or(USER_ACTIVE);
    if wanted == now {
        return Ok(None);
    }
    match wanted {
        USER_ACTIVE => Ok(Some(USER_ACTIVE)),
        USER_DISABLED => Ok(Some(USER_DISABLED)),
        other => Err(ApiError::bad_request(format!(
            "status.state {other:?} cannot be set: use {USER_ACTIVE:?} or {USER_DISABLED:?}"
        ))),
    }
}

const USER_ACTIVE: &str = "Active";
const USER_DISABLED: &str = "Disabled";

/// Writes `state` through the status subresource as the caller, so Kubernetes RBAC
/// (update on `users/status`, which only user managers hold) checks it too.
/// Re-activating a locked-out user also forgets the failed attempts that locked it.
async fn set_state(
    state: &State,
    caller: &UserInfo,
    user: &str,
    wanted: &str,
    current: &Value,
) -> Result<DynamicObject, ApiError> {
    let api = users_api(&state.as_caller(caller));
    let now = jiff::Timestamp::now();
    let reason = if wanted == USER_DISABLED {
        format!("disabled by {}", caller.name)
    } else {
        format!("enabled by {}", caller.name)
    };
    let patch = serde_json::json!({"status": {
        "state": wanted,
        "reason": reason,
        "lastTransitionTime": now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
    }});
    let was_locked =
        current.pointer("/status/state").and_then(Value::as_str) == Some("AuthLimitExceeded");
    if was_locked && wanted == USER_ACTIVE {
        let clear = serde_json::json!({"metadata": {"annotations": {
            identity::kinds::ANNOTATION_LOGIN_ATTEMPTS: null,
        }}});
        api.patch(user, &PatchParams::default(), &Patch::Merge(&clear))
            .await?;
    }
    Ok(api
        .patch_status(user, &PatchParams::default(), &Patch::Merge(&patch))
        .await?)
}

async fn delete_user(
    S(state): S<State>,
    Extension(caller): Extension<UserInfo>,
    Path(user): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if caller.name == user {
        return Err(ApiError::forbidden("you cannot delete your own user"));
    }
    users_api(&state.as_caller(&caller))
        .delete(&user, &DeleteParams::default())
        .await?;
    // The bindings go now rather than when the user watch catches up.
    crate::controllers::remove_user_bindings(&state.client, &user).await?;
    Ok(Json(
        serde_json::json!({"kind": "Status", "apiVersion": "v1", "status": "Success", "code": 200}),
    ))
}
