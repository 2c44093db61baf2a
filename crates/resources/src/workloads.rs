//! KubeSphere's legacy resources.kubesphere.io/v1alpha2 workload endpoints: one revision
//! of a deployment, statefulset or daemonset, and the counts of abnormal workloads.

use crate::http::{ApiError, ResourcesState, cache_for};
use crate::query::Query;
use crate::visibility::Scope;
use apimachinery::{StatusError, UserInfo};
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;

const V1ALPHA2: &str = "/kapis/resources.kubesphere.io/v1alpha2";

/// Workload kinds counted by `abnormalworkloads`, with the status that counts as abnormal.
const ABNORMAL: [(&str, &str); 5] = [
    ("deployments", "updating"),
    ("statefulsets", "updating"),
    ("daemonsets", "updating"),
    ("jobs", "failed"),
    // KubeSphere asks for "pending|lost", which its PVC filter reads as "both at once".
    ("persistentvolumeclaims", "pending|lost"),
];

/// The v1alpha2 routes, with full paths.
pub fn router(state: Arc<ResourcesState>) -> Router {
    Router::new()
        .route(
            &format!(
                "{V1ALPHA2}/namespaces/{{namespace}}/{{workload}}/{{name}}/revisions/{{revision}}"
            ),
            get(revision),
        )
        .route(
            &format!("{V1ALPHA2}/abnormalworkloads"),
            get(abnormal_cluster),
        )
        .route(
            &format!("{V1ALPHA2}/namespaces/{{namespace}}/abnormalworkloads"),
            get(abnormal_namespace),
        )
        .with_state(state)
}

async fn abnormal_cluster(
    State(s): State<Arc<ResourcesState>>,
    Extension(user): Extension<UserInfo>,
) -> Result<Json<Value>, ApiError> {
    abnormal(&s, &user, None)
}

async fn abnormal_namespace(
    State(s): State<Arc<ResourcesState>>,
    Extension(user): Extension<UserInfo>,
    Path(namespace): Path<String>,
) -> Result<Json<Value>, ApiError> {
    abnormal(&s, &user, Some(&namespace))
}

/// `{"namespace": ns, "data": {"deployments": n, ...}}`, counted over what the caller sees.
fn abnormal(
    s: &ResourcesState,
    user: &UserInfo,
    namespace: Option<&str>,
) -> Result<Json<Value>, ApiError> {
    let mut data = Map::new();
    for (plural, status) in ABNORMAL {
        let Ok(cached) = cache_for(s, plural) else {
            // A kind the cluster does not serve has no abnormal objects.
            if !s.readiness.is_discovered() {
                cache_for(s, plural)?;
            }
            data.insert(plural.into(), json!(0));
            continue;
        };
        let mut query = Query::default();
        query.set_filter("status", status);
        let scope = s.visibility.namespaces(user, plural, &cached.kind.group);
        let mut set = scope.namespaces();
        if let Some(ns) = namespace {
            let only: BTreeSet<String> = [ns.to_string()].into();
            set = Some(match (&scope, set) {
                (Scope::All, _) | (_, None) => only,
                (_, Some(visible)) => visible.intersection(&only).cloned().collect(),
            });
        }
        let index = cached.index.read().unwrap_or_else(|e| e.into_inner());
        let total = index
            .list(&query, set.as_ref(), &s.filters, s.store.as_ref())
            .total_items;
        data.insert(plural.into(), json!(total));
    }
    Ok(Json(
        json!({"namespace": namespace.unwrap_or(""), "data": data}),
    ))
}

fn resource(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: format!("{group}/{version}"),
        kind: kind.into(),
        plural: plural.into(),
    }
}

/// The ReplicaSet (deployments) or ControllerRevision (statefulsets, daemonsets) of one
/// revision, read live as the caller: the workload's template labels select the
/// candidates, as in KubeSphere's revision getter.
async fn revision(
    State(s): State<Arc<ResourcesState>>,
    Extension(user): Extension<UserInfo>,
    Path((namespace, workload, name, revision)): Path<(String, String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (kind, children) = match workload.as_str() {
        "deployments" => (
            "Deployment",
            resource("apps", "v1", "ReplicaSet", "replicasets"),
        ),
        "statefulsets" => (
            "StatefulSet",
            resource("apps", "v1", "ControllerRevision", "controllerrevisions"),
        ),
        "daemonsets" => (
            "DaemonSet",
            resource("apps", "v1", "ControllerRevision", "controllerrevisions"),
        ),
        _ => {
            return Err(StatusError::new(
                404,
                "NotFound",
                format!("revisions are served for deployments, statefulsets and daemonsets, not {workload:?}"),
                None,
            )
            .into());
        }
    };
    let number = if workload == "deployments" {
        None
    } else {
        Some(revision.parse::<i64>().map_err(|_| {
            StatusError::bad_request(format!("revision {revision:?} is not an integer"))
        })?)
    };
    let Some(client) = &s.client else {
        return Err(StatusError::service_unavailable("revisions need a Kubernetes client").into());
    };
    let caller = kubeclient::as_user(client, &user);
    let workloads: Api<DynamicObject> = Api::namespaced_with(
        caller.clone(),
        &namespace,
        &resource("apps", "v1", kind, &workload),
    );
    let owner = workloads.get(&name).await.map_err(kube_error)?;
    let template_labels = owner
        .data
        .pointer("/spec/template/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let selector = template_labels
        .iter()
        .filter_map(|(k, v)| Some(format!("{k}={}", v.as_str()?)))
        .collect::<Vec<_>>()
        .join(",");
    let candidates: Api<DynamicObject> = Api::namespaced_with(caller, &namespace, &children);
    let list = candidates
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(kube_error)?;
    let found = list.items.into_iter().find(|c| match number {
        None => c
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("deployment.kubernetes.io/revision"))
            .is_some_and(|r| *r == revision),
        Some(n) => c.data.get("revision").and_then(Value::as_i64) == Some(n),
    });
    match found {
        Some(object) => {
            let mut value = serde_json::to_value(object).unwrap_or(Value::Null);
            if let Some(map) = value.as_object_mut() {
                map.entry("apiVersion")
                    .or_insert_with(|| json!(children.api_version));
                map.entry("kind").or_insert_with(|| json!(children.kind));
            }
            Ok(Json(value))
        }
        None => Err(StatusError::new(
            404,
            "NotFound",
            format!("revision not found {name}#{revision}"),
            None,
        )
        .into()),
    }
}

fn kube_error(e: kube::Error) -> ApiError {
    match e {
        kube::Error::Api(status) => {
            StatusError::new(status.code, &status.reason, status.message.clone(), None).into()
        }
        other => StatusError::internal(other).into(),
    }
}
