//! A user's role templates at a scope (what the console builds menus from) and access reviews.

use super::{ApiError, IAM, State, list, pairs, param};
use crate::authz::{Level, RequestInfo, Scope};
use crate::kinds::RoleTemplate;
use crate::names;
use apimachinery::UserInfo;
use axum::extract::{Path, RawQuery, State as S};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use serde_json::{Value, json};
use std::collections::BTreeSet;

pub(super) fn routes() -> Router<State> {
    Router::new()
        .route(
            &format!("{IAM}/users/{{user}}/roletemplates"),
            get(role_templates),
        )
        .route(&format!("{IAM}/subjectaccessreviews"), post(access_review))
}

async fn role_templates(
    S(state): S<State>,
    Path(user): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let own = pairs(q.as_deref());
    let scope = param(&own, "scope").unwrap_or("global");
    let level = Level::from_scope(scope, param(&own, "workspace").unwrap_or(""), param(&own, "namespace").unwrap_or(""))
        .ok_or_else(|| ApiError::bad_request("scope must be global|cluster, or workspace with ?workspace=, or namespace with ?namespace="))?;
    let subject = UserInfo::new(user, vec!["system:authenticated".into()]);
    let held: BTreeSet<String> = state
        .authz
        .role_templates_held(&subject, scope, &level)
        .into_iter()
        .collect();
    let api: Api<RoleTemplate> = Api::all(state.client.clone());
    let all = api
        .list(&ListParams::default().labels(&format!("{}={scope}", names::SCOPE_LABEL)))
        .await?;
    let items: Vec<Value> = all
        .items
        .into_iter()
        .filter(|t| held.contains(&t.name_any()))
        .filter_map(|t| serde_json::to_value(t).ok())
        .collect();
    Ok(Json(
        list(q.as_deref(), &["scope", "workspace", "namespace"], items)?.1,
    ))
}

/// `POST subjectaccessreviews`: Kubernetes' SubjectAccessReview shape, answered with
/// KubeSphere's scope rules. A caller may ask about themself; asking about someone else
/// needs a platform-wide grant to create access reviews.
async fn access_review(
    S(state): S<State>,
    Extension(caller): Extension<UserInfo>,
    Json(mut body): Json<Value>,
) -> Result<Json<Value>, ApiError> {
    let spec = body.get("spec").cloned().unwrap_or(Value::Null);
    let subject = spec
        .get("user")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
        .unwrap_or(&caller.name)
        .to_string();
    let user = if subject == caller.name {
        caller.clone()
    } else {
        let req = RequestInfo::parse("POST", &format!("{IAM}/subjectaccessreviews"), "");
        let rules = state.authz.rules_at(&caller, &Level::Global);
        if !rules
            .iter()
            .any(|r| r.allows_resource(&req.verb, &req.api_group, &req.resource, "", ""))
        {
            return Err(ApiError::forbidden(format!(
                "{:?} may only review their own access",
                caller.name
            )));
        }
        let groups = spec
            .get("groups")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|g| g.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        UserInfo::new(subject, groups)
    };
    let info = if let Some(ra) = spec.get("resourceAttributes") {
        let s = |k: &str| {
            ra.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let ws = s("workspace");
        let ns = s("namespace");
        RequestInfo {
            is_resource_request: true,
            path: String::new(),
            verb: s("verb"),
            api_prefix: String::new(),
            api_group: s("group"),
            api_version: s("version"),
            cluster: String::new(),
            scope: if !ns.is_empty() {
                Scope::Namespace
            } else if !ws.is_empty() {
                Scope::Workspace
            } else {
                Scope::Cluster
            },
            workspace: ws,
            namespace: ns,
            resource: s("resource"),
            subresource: s("subresource"),
            name: s("name"),
        }
    } else if let Some(nra) = spec.get("nonResourceAttributes") {
        let s = |k: &str| {
            nra.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        RequestInfo::parse("GET", &s("path"), "").with_verb(s("verb"))
    } else {
        return Err(ApiError::bad_request(
            "spec.resourceAttributes or spec.nonResourceAttributes is required",
        ));
    };
    let d = state.authz.authorize(&user, &info);
    if let Some(obj) = body.as_object_mut() {
        obj.insert("apiVersion".into(), "authorization.k8s.io/v1".into());
        obj.insert("kind".into(), "SubjectAccessReview".into());
        obj.insert(
            "status".into(),
            json!({"allowed": d.allowed, "reason": d.reason}),
        );
    }
    Ok(Json(body))
}
