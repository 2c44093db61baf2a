//! The HTTP API: KubeSphere's resources.kubesphere.io/v1alpha3 list and get paths, and
//! namespaced lists across a workspace's projects, answered from the caches.

use crate::filter::FilterRegistry;
use crate::query::{ListResult, Query, QueryError};
use crate::store::{Cached, Store, WORKSPACE_LABEL};
use crate::visibility::{Scope, Visibility};
use crate::watch::Readiness;
use apimachinery::{StatusError, UserInfo};
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use kube::api::{Api, ApiResource, DynamicObject};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;

const V1ALPHA3: &str = "/kapis/resources.kubesphere.io/v1alpha3";
const TENANT: &str = "/kapis/tenant.kubesphere.io/v1beta1";

/// Everything the handlers need.
pub struct ResourcesState {
    /// The caches.
    pub store: Arc<Store>,
    /// Whether the initial discovery is done.
    pub readiness: Arc<Readiness>,
    /// Where each caller may look.
    pub visibility: Arc<dyn Visibility>,
    /// Filters added by other crates.
    pub filters: Arc<FilterRegistry>,
    /// The platform's client: single-object GETs are read live through it *as the
    /// caller* (full object, Kubernetes RBAC decides); `None` serves them from the cache.
    pub client: Option<kube::Client>,
}

impl ResourcesState {
    /// State over empty caches, fed once [`crate::run_controllers`] runs; `client` is the
    /// platform's own client (single GETs and revisions impersonate the caller with it).
    pub fn new(
        client: kube::Client,
        visibility: Arc<dyn Visibility>,
        filters: Arc<FilterRegistry>,
    ) -> Arc<Self> {
        Arc::new(ResourcesState {
            store: Arc::new(Store::new()),
            readiness: Arc::new(Readiness::default()),
            visibility,
            filters,
            client: Some(client),
        })
    }
}

/// An error rendered as a Kubernetes `Status`, as KubeSphere v4 answers on /kapis.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The Status to send.
    #[error("{0}")]
    Status(#[from] StatusError),
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        ApiError::Status(StatusError::bad_request(e.to_string()))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let ApiError::Status(status) = self;
        let code = http::StatusCode::from_u16(status.code())
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        (
            code,
            [(http::header::CONTENT_TYPE, "application/json")],
            status.to_json(),
        )
            .into_response()
    }
}

/// The routes, with full paths, to be merged into the gateway's router.
pub fn router(state: Arc<ResourcesState>) -> Router {
    Router::new()
        .route(&format!("{V1ALPHA3}/{{resources}}"), get(list_cluster))
        .route(
            &format!("{V1ALPHA3}/{{resources}}/{{name}}"),
            get(get_cluster),
        )
        .route(
            &format!("{V1ALPHA3}/namespaces/{{namespace}}/{{resources}}"),
            get(list_namespaced),
        )
        .route(
            &format!("{V1ALPHA3}/namespaces/{{namespace}}/{{resources}}/{{name}}"),
            get(get_namespaced),
        )
        .route(
            &format!("{V1ALPHA3}/workspaces/{{workspace}}/{{resources}}"),
            get(list_workspace),
        )
        .route(
            &format!("{TENANT}/workspaces/{{workspace}}/namespaces/{{namespace}}/{{resources}}"),
            get(list_workspace_namespace),
        )
        .with_state(state.clone())
        .merge(crate::workloads::router(state))
}

type Handled<T> = Result<T, ApiError>;

async fn list_cluster(
    State(s): State<Arc<ResourcesState>>,
    Extension(user): Extension<UserInfo>,
    Path(resources): Path<String>,
    RawQuery(raw): RawQuery,
) -> Handled<Json<ListResult>> {
    list(&s, &user, &resources, None, None, raw)
}

async fn list_namespaced(
    State(s): State<Arc<ResourcesState>>,
    Extension(user): Extension<UserInfo>,
    Path((namespace, resources)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Handled<Json<ListResult>> {
    list(&s, &user, &resources, None, Some(&namespace), raw)
}

async fn list_workspace(
    State(s): State<Arc<ResourcesState>>,
    Extension(user): Extension<UserInfo>,
    Path((workspace, resources)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Handled<Json<ListResult>> {
    list(&s, &user, &resources, Some(&workspace), None, raw)
}

async fn list_workspace_namespace(
    State(s): State<Arc<ResourcesState>>,
    Extension(user): Extension<UserInfo>,
    Path((workspace, namespace, resources)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> Handled<Json<ListResult>> {
    list(
        &s,
        &user,
        &resources,
        Some(&workspace),
        Some(&namespace),
        raw,
    )
}

async fn get_cluster(
    State(s): State<Arc<ResourcesState>>,
    Extension(user): Extension<UserInfo>,
    Path((resources, name)): Path<(String, String)>,
) -> Handled<Json<Value>> {
    get_one(&s, &user, &resources, None, &name).await
}

async fn get_namespaced(
    State(s): State<Arc<ResourcesState>>,
    Extension(user): Extension<UserInfo>,
    Path((namespace, resources, name)): Path<(String, String, String)>,
) -> Handled<Json<Value>> {
    get_one(&s, &user, &resources, Some(&namespace), &name).await
}

/// The cache of a resource, or why it cannot answer yet.
pub(crate) fn cache_for(s: &ResourcesState, resources: &str) -> Handled<Arc<Cached>> {
    if !s.readiness.is_discovered() {
        return Err(StatusError::service_unavailable(
            "the resource caches are still loading; retry shortly",
        )
        .into());
    }
    let cached = s.store.resource(resources).ok_or_else(|| {
        StatusError::new(
            404,
            "NotFound",
            format!("the server could not find the requested resource {resources:?}"),
            None,
        )
    })?;
    if !cached.is_synced() {
        return Err(StatusError::service_unavailable(format!(
            "the cache of {resources} has not finished its first sync; retry shortly"
        ))
        .into());
    }
    Ok(cached)
}

fn not_namespaced(resources: &str) -> ApiError {
    StatusError::new(
        404,
        "NotFound",
        format!("{resources} is not a namespaced resource"),
        None,
    )
    .into()
}

fn list(
    s: &ResourcesState,
    user: &UserInfo,
    resources: &str,
    workspace: Option<&str>,
    namespace: Option<&str>,
    raw: Option<String>,
) -> Handled<Json<ListResult>> {
    let cached = cache_for(s, resources)?;
    let mut query = Query::parse(raw.as_deref().unwrap_or(""))?;
    let kind = &cached.kind;
    if !kind.namespaced && namespace.is_some() {
        return Err(not_namespaced(resources));
    }
    if let (false, Some(ws)) = (kind.namespaced, workspace) {
        // Cluster-scoped kinds belong to a workspace by label, as KubeSphere v4's dynamic
        // resource API selects them (`workspaceroles`, `workspacerolebindings`, ...).
        let mut selector = query
            .label_selector
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_default();
        if !selector.is_empty() {
            selector.push(',');
        }
        selector.push_str(&format!("{WORKSPACE_LABEL}={ws}"));
        let parsed =
            apimachinery::labels::parse(&selector).map_err(|source| QueryError::LabelSelector {
                value: selector.clone(),
                source,
            })?;
        query.label_selector = Some(parsed);
    }
    let scope = s.visibility.namespaces(user, &kind.plural, &kind.group);
    let namespaces: Option<BTreeSet<String>> = if !kind.namespaced {
        match scope {
            Scope::All => None,
            Scope::Namespaces(_) | Scope::None => return Ok(Json(ListResult::default())),
        }
    } else {
        let mut set = scope.namespaces();
        if let Some(ws) = workspace {
            let projects = s.store.workspace_namespaces(ws);
            set = Some(match set {
                None => projects,
                Some(visible) => visible.intersection(&projects).cloned().collect(),
            });
        }
        if let Some(ns) = namespace {
            let only: BTreeSet<String> = [ns.to_string()].into();
            set = Some(match set {
                None => only,
                Some(visible) => visible.intersection(&only).cloned().collect(),
            });
        }
        set
    };
    let index = cached.index.read().unwrap_or_else(|e| e.into_inner());
    let result = index.list(&query, namespaces.as_ref(), &s.filters, s.store.as_ref());
    Ok(Json(result))
}

async fn get_one(
    s: &ResourcesState,
    user: &UserInfo,
    resources: &str,
    namespace: Option<&str>,
    name: &str,
) -> Handled<Json<Value>> {
    let cached = cache_for(s, resources)?;
    let kind = cached.kind.clone();
    if !kind.namespaced && namespace.is_some() {
        return Err(not_namespaced(resources));
    }
    let not_found = || ApiError::from(StatusError::not_found(&kind.plural, &kind.group, name));
    if let Some(client) = &s.client {
        let caller = kubeclient::as_user(client, user);
        let ar = ApiResource {
            group: kind.group.clone(),
            version: kind.version.clone(),
            api_version: if kind.group.is_empty() {
                kind.version.clone()
            } else {
                format!("{}/{}", kind.group, kind.version)
            },
            kind: kind.kind.clone(),
            plural: kind.plural.clone(),
        };
        let api: Api<DynamicObject> = match namespace {
            Some(ns) => Api::namespaced_with(caller, ns, &ar),
            None => Api::all_with(caller, &ar),
        };
        return match api.get(name).await {
            Ok(object) => {
                let mut value = serde_json::to_value(object).unwrap_or(Value::Null);
                crate::projection::redact(&kind.plural, &mut value);
                Ok(Json(value))
            }
            Err(kube::Error::Api(status)) => {
                Err(
                    StatusError::new(status.code, &status.reason, status.message.clone(), None)
                        .into(),
                )
            }
            Err(e) => Err(StatusError::internal(e).into()),
        };
    }
    let scope = s.visibility.namespaces(user, &kind.plural, &kind.group);
    let visible = match (&scope, namespace) {
        (Scope::All, _) => true,
        (Scope::Namespaces(set), Some(ns)) => set.contains(ns),
        _ => false,
    };
    if !visible {
        return Err(not_found());
    }
    let index = cached.index.read().unwrap_or_else(|e| e.into_inner());
    index
        .get(namespace.unwrap_or(""), name)
        .map(Json)
        .ok_or_else(not_found)
}
