//! The kernel's shared state and its HTTP entry point: health, version,
//! authentication and authorization, then dispatch to discovery, OpenAPI or the
//! resource handlers.

use crate::authz::{Attributes, Authorizer, Decision};
use crate::cache::{Cache, CacheSink, CachedObject};
use crate::registry::{Registry, Resource};
use crate::request::{self, ResourceRequest, Route, RouteError, Verb};
use crate::response::{ApiError, ApiResult, json_value, negotiate};
use crate::{Error, KUBERNETES_VERSION, KernelConfig};
use apimachinery::{StatusError, UserInfo};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, header};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

/// Everything a request handler needs.
pub struct Inner {
    pub config: KernelConfig,
    pub registry: Registry,
    pub store: store::Store,
    pub cache: Arc<Cache>,
    /// RBAC objects, indexed by subject; updated on the store's commit path.
    pub rbac: crate::rbac_authz::SharedIndex,
    authorizer: RwLock<Arc<dyn Authorizer>>,
    /// Signs and verifies ServiceAccount tokens.
    pub signer: crate::tokens::TokenSigner,
    token_authenticators: RwLock<Vec<Arc<dyn crate::tokens::TokenAuthenticator>>>,
    ready: AtomicBool,
    /// Cluster IPs and node ports handed out but maybe not yet stored, so two
    /// concurrent Service creates never get the same one.
    pub(crate) recent_allocations: std::sync::Mutex<HashMap<String, std::time::Instant>>,
    /// One lock per namespace that has ResourceQuotas, held from quota admission to
    /// the durable write of a create.
    quota_locks: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Admission webhook configurations, parsed from the watch cache.
    pub webhooks: crate::webhook::Webhooks,
    /// Watches indexed by a field value (kubelets' `spec.nodeName`).
    pub(crate) fanout: Arc<crate::watch::Fanout>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("data_dir", &self.config.data_dir)
            .finish()
    }
}

impl Inner {
    pub(crate) async fn open(config: KernelConfig) -> Result<Arc<Inner>, Error> {
        let signer = crate::tokens::TokenSigner::load_or_create(&config.data_dir)?;
        let sink = Arc::new(CacheSink::default());
        let db = config.data_dir.join("kernel.db");
        let options = store::Options {
            fsync: config.fsync,
            ..Default::default()
        };
        let (store, snapshot) = store::Store::open(&db, options, sink.clone())?;
        let rbac_index: crate::rbac_authz::SharedIndex = Default::default();
        for kv in &snapshot.items {
            crate::rbac_authz::index_event(&rbac_index, &kv.key, Some(&kv.value));
        }
        let items = snapshot
            .items
            .into_iter()
            .map(|kv| {
                let obj = Arc::new(CachedObject::new(
                    kv.value,
                    kv.mod_revision,
                    kv.create_revision,
                ));
                (kv.key, obj)
            })
            .collect();
        let cache = Arc::new(Cache::new(items, snapshot.revision, config.watch_window));
        let _ = sink.cache.set(cache.clone());
        let _ = sink.rbac.set(rbac_index.clone());
        let inner = Arc::new(Inner {
            config,
            registry: Registry::with_builtins(),
            store,
            fanout: crate::watch::Fanout::new(cache.clone()),
            cache,
            authorizer: RwLock::new(Arc::new(crate::rbac_authz::RbacAuthorizer {
                index: rbac_index.clone(),
            })),
            rbac: rbac_index,
            signer,
            token_authenticators: RwLock::new(Vec::new()),
            ready: AtomicBool::new(false),
            recent_allocations: Default::default(),
            quota_locks: Default::default(),
            webhooks: Default::default(),
        });
        crate::crd::register_all(&inner);
        Ok(inner)
    }

    /// Adds a bearer-token authenticator (tried after ServiceAccount tokens).
    pub fn add_token_authenticator(&self, a: Arc<dyn crate::tokens::TokenAuthenticator>) {
        self.token_authenticators
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(a);
    }

    /// The user a bearer token stands for: a ServiceAccount token for one of
    /// `audiences` whose account still exists with the same uid, or whatever a
    /// plugged-in authenticator accepts.
    pub fn authenticate_token(&self, token: &str, audiences: &[String]) -> Option<UserInfo> {
        if let Some(claims) = self.signer.verify(token) {
            let now = jiff::Timestamp::now().as_second();
            let sa = crate::tokens::check_claims(&claims, now, audiences)?;
            let res = self.registry.get("", "v1", "serviceaccounts")?;
            let live = self.cache.get(&res.key(&sa.namespace, &sa.name))?;
            if crate::meta::uid(&live.value()) != Some(sa.uid.as_str()) {
                return None;
            }
            let mut user = crate::tokens::sa_user(&sa);
            if let Some(b) = crate::tokens::bound_object(&claims) {
                let plural = if b.claim == "pod" { "pods" } else { "secrets" };
                let res = self.registry.get("", "v1", plural)?;
                let current = self.cache.get(&res.key(&sa.namespace, &b.name));
                if !crate::tokens::bound_object_valid(&b, current.map(|o| o.value()).as_ref()) {
                    return None;
                }
                if b.claim == "pod" {
                    user.extra
                        .insert("authentication.kubernetes.io/pod-name".into(), vec![b.name]);
                    user.extra
                        .insert("authentication.kubernetes.io/pod-uid".into(), vec![b.uid]);
                }
            }
            return Some(user);
        }
        let auths = self
            .token_authenticators
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        auths.iter().find_map(|a| a.authenticate(token))
    }

    /// The quota lock of `namespace`, if it has any ResourceQuota.
    pub(crate) async fn quota_lock(
        &self,
        namespace: &str,
    ) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        let res = self.registry.get("", "v1", "resourcequotas")?;
        let (start, end) = res.range(Some(namespace));
        let (any, _, _) = self.cache.range(&start, &end, None, 1, |_, _| true);
        if any.is_empty() {
            return None;
        }
        let lock = self
            .quota_locks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(namespace.to_string())
            .or_default()
            .clone();
        Some(lock.lock_owned().await)
    }

    /// Replaces the authorizer (RBAC installs itself here).
    pub fn set_authorizer(&self, a: Arc<dyn Authorizer>) {
        *self.authorizer.write().unwrap_or_else(|e| e.into_inner()) = a;
    }

    pub fn authorize(&self, user: &UserInfo, attrs: &Attributes) -> Decision {
        let a = self
            .authorizer
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        a.authorize(user, attrs)
    }

    /// What `user` may do in `namespace`, for SelfSubjectRulesReview.
    pub fn rules_for(&self, user: &UserInfo, namespace: &str) -> (Vec<Value>, Vec<Value>, bool) {
        let a = self
            .authorizer
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        a.rules(user, namespace)
    }

    pub(crate) fn set_ready(&self) {
        self.ready.store(true, Ordering::SeqCst);
    }

    /// Creates the namespaces every cluster has.
    pub(crate) async fn bootstrap(self: &Arc<Self>) -> Result<(), ApiError> {
        let ns = self.resource("", "v1", "namespaces")?;
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            if self.cache.get(&ns.key("", name)).is_none() {
                let obj =
                    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
                match crate::write::create_object(
                    self,
                    &ns,
                    None,
                    obj,
                    &crate::write::WriteOptions::system(),
                )
                .await
                {
                    Ok(_) => {}
                    Err(e) if e.0.code() == 409 => {}
                    Err(e) => return Err(e),
                }
            }
        }
        crate::rbac_authz::bootstrap(self).await?;
        crate::kubernetes_service::reconcile(self).await
    }

    pub fn resource(
        &self,
        group: &str,
        version: &str,
        plural: &str,
    ) -> Result<Arc<Resource>, ApiError> {
        self.registry
            .get(group, version, plural)
            .ok_or_else(|| ApiError::from(not_found_path()))
    }
}

fn not_found_path() -> StatusError {
    StatusError::new(
        404,
        "NotFound",
        "the server could not find the requested resource",
        Some(Default::default()),
    )
}

/// The query string as a map (last value wins, as Go's `Get` takes the first; the
/// difference never matters for well-formed clients).
pub type Query = HashMap<String, String>;

fn parse_query(q: Option<&str>) -> Query {
    let mut out = Query::new();
    if let Some(q) = q {
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            out.entry(decode_component(k))
                .or_insert_with(|| decode_component(v));
        }
    }
    out
}

fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One resource request, parsed and authorized.
pub struct Ctx {
    pub inner: Arc<Inner>,
    pub user: UserInfo,
    pub resource: Arc<Resource>,
    pub req: ResourceRequest,
    pub query: Query,
    pub headers: HeaderMap,
}

impl Ctx {
    pub fn q(&self, k: &str) -> Option<&str> {
        self.query
            .get(k)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    pub fn namespace(&self) -> Option<&str> {
        self.req.namespace.as_deref()
    }
}

pub fn router(inner: Arc<Inner>) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(inner)
}

async fn handle(State(inner): State<Arc<Inner>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    match path.as_str() {
        "/healthz" | "/livez" | "/readyz" => return health(&inner, &path),
        "/version" | "/version/" => return json_value(200, &version_info()),
        _ => {}
    }
    if path.starts_with("/healthz/") || path.starts_with("/livez/") || path.starts_with("/readyz/")
    {
        return health(&inner, &path);
    }
    // A verified client certificate wins; otherwise a bearer token must authenticate.
    let user = match req.extensions().get::<UserInfo>().cloned() {
        Some(u) => u,
        None => {
            let bearer = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty());
            match bearer
                .and_then(|t| inner.authenticate_token(t, &[crate::tokens::ISSUER.to_string()]))
            {
                Some(u) => u,
                None => return ApiError::from(StatusError::unauthorized()).into_response(),
            }
        }
    };
    let user = match impersonate(&inner, user, req.headers()) {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    let yaml = negotiate(
        req.headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok()),
    ) == Ok(crate::response::Wanted::Yaml);
    let watch = req
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "watch=true" || p == "watch=1"));
    let r = match dispatch(inner, user, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    if yaml && !watch {
        crate::response::into_yaml(r).await
    } else {
        r
    }
}

fn health(inner: &Inner, path: &str) -> Response {
    let ok = !path.starts_with("/readyz") || inner.ready.load(Ordering::SeqCst);
    let mut r = if ok {
        "ok".into_response()
    } else {
        (http::StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response()
    };
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

pub fn version_info() -> Value {
    let minor = KUBERNETES_VERSION
        .trim_start_matches("v1.")
        .split('.')
        .next()
        .unwrap_or("36");
    json!({
        "major": "1",
        "minor": minor,
        "emulationMajor": "1",
        "emulationMinor": minor,
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": (minor.parse::<u32>().unwrap_or(36) - 1).to_string(),
        "gitVersion": KUBERNETES_VERSION,
        "gitCommit": option_env!("SPHERE_GIT_COMMIT").unwrap_or("unknown"),
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
        "goVersion": format!("ferrosphere-{}", env!("CARGO_PKG_VERSION")),
        "compiler": "rustc",
        "platform": format!("{}/{}", std::env::consts::OS, if std::env::consts::ARCH == "x86_64" { "amd64" } else { std::env::consts::ARCH }),
    })
}

fn non_resource_check(
    inner: &Inner,
    user: &UserInfo,
    method: &Method,
    path: &str,
) -> ApiResult<()> {
    let attrs = Attributes {
        verb: method.as_str().to_ascii_lowercase(),
        path: Some(path.to_string()),
        ..Default::default()
    };
    match inner.authorize(user, &attrs) {
        Decision::Allow => Ok(()),
        Decision::Deny(reason) => Err(ApiError::from(StatusError::forbidden(
            "",
            "",
            "",
            crate::authz::forbidden_message(user, &attrs, &reason),
        ))),
    }
}

async fn dispatch(inner: Arc<Inner>, user: UserInfo, req: Request) -> ApiResult {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = parse_query(req.uri().query());
    let headers = req.headers().clone();
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if path == "/openapi/v2" || path.starts_with("/openapi/v3") {
        non_resource_check(&inner, &user, &method, &path)?;
        return crate::openapi_routes::serve(&inner, &path, &query, accept);
    }
    let wanted = negotiate(Some(accept))?;
    if !(path.starts_with("/api/")
        || path == "/api"
        || path.starts_with("/apis/")
        || path == "/apis")
    {
        non_resource_check(&inner, &user, &method, &path)?;
        return Err(ApiError::from(not_found_path()));
    }
    let watch = matches!(query.get("watch").map(String::as_str), Some("true" | "1"));
    let route = match request::parse(&method, &path, watch) {
        Ok(r) => r,
        Err(RouteError::NotFound) => return Err(ApiError::from(not_found_path())),
        Err(RouteError::MethodNotAllowed) => {
            return Err(ApiError::from(StatusError::method_not_allowed()));
        }
    };
    let rr = match route {
        Route::Resource(rr) => rr,
        discovery_route => {
            non_resource_check(&inner, &user, &method, &path)?;
            return crate::discovery::serve(&inner, discovery_route, wanted);
        }
    };
    let resource = inner
        .registry
        .get(&rr.group, &rr.version, &rr.resource)
        .ok_or_else(|| ApiError::from(not_found_path()))?;
    if rr.namespace.is_some() && !resource.namespaced {
        return Err(ApiError::from(not_found_path()));
    }
    let attrs = Attributes {
        verb: rr.verb.as_str().into(),
        group: rr.group.clone(),
        version: rr.version.clone(),
        resource: rr.resource.clone(),
        subresource: rr.subresource.clone().unwrap_or_default(),
        namespace: rr.namespace.clone().unwrap_or_default(),
        name: rr.name.clone().unwrap_or_default(),
        path: None,
    };
    if let Decision::Deny(reason) = inner.authorize(&user, &attrs) {
        return Err(ApiError::from(StatusError::forbidden(
            &rr.resource,
            &rr.group,
            rr.name.as_deref().unwrap_or(""),
            crate::authz::forbidden_message(&user, &attrs, &reason),
        )));
    }
    let verb_allowed = match rr.subresource.as_deref() {
        None => resource.allows(rr.verb.as_str()),
        Some(_) => true,
    };
    if !verb_allowed {
        return Err(ApiError::from(StatusError::method_not_allowed()));
    }
    let body = req.into_body();
    let ctx = Ctx {
        inner,
        user,
        resource,
        req: rr,
        query,
        headers,
    };
    if let crate::registry::Source::Virtual(v) = ctx.resource.source {
        let body = read_body(body).await?;
        return crate::virtual_resources::handle(&ctx, v, wanted, body).await;
    }
    match ctx.req.verb {
        Verb::Get => crate::read::get(&ctx, wanted).await,
        Verb::List => crate::read::list(&ctx, wanted).await,
        Verb::Watch => crate::watch::serve(ctx, wanted).await,
        Verb::Create => crate::write::create(&ctx, read_body(body).await?).await,
        Verb::Update => crate::write::update(&ctx, read_body(body).await?).await,
        Verb::Patch => crate::write::patch(&ctx, read_body(body).await?).await,
        Verb::Delete => crate::delete::delete(&ctx, read_body(body).await?).await,
        Verb::DeleteCollection => {
            crate::delete::delete_collection(&ctx, read_body(body).await?).await
        }
    }
}

/// `Impersonate-User`, `-Group`, `-Uid` and `-Extra-*`: the request continues as
/// someone else if the caller may `impersonate` each of those, as kube-apiserver's
/// impersonation filter decides.
fn impersonate(inner: &Inner, user: UserInfo, headers: &HeaderMap) -> Result<UserInfo, ApiError> {
    let get_all = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(String::from)
            .collect()
    };
    let target = headers
        .get("impersonate-user")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let groups = get_all("impersonate-group");
    let uid = headers
        .get("impersonate-uid")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let extras: Vec<(String, Vec<String>)> = headers
        .keys()
        .filter_map(|k| {
            k.as_str()
                .strip_prefix("impersonate-extra-")
                .map(String::from)
        })
        .map(|k| {
            let vals = get_all(&format!("impersonate-extra-{k}"));
            (decode_component(&k), vals)
        })
        .collect();
    let Some(target) = target else {
        if !groups.is_empty() || uid.is_some() || !extras.is_empty() {
            return Err(ApiError::from(StatusError::internal(
                "requested impersonation of groups, uid or extra without impersonating a user",
            )));
        }
        return Ok(user);
    };
    let check =
        |resource: &str, group: &str, name: &str, subresource: &str| -> Result<(), ApiError> {
            let attrs = Attributes {
                verb: "impersonate".into(),
                group: group.into(),
                resource: resource.into(),
                subresource: subresource.into(),
                name: name.into(),
                ..Default::default()
            };
            match inner.authorize(&user, &attrs) {
                Decision::Allow => Ok(()),
                Decision::Deny(reason) => Err(ApiError::from(StatusError::forbidden(
                    resource,
                    group,
                    name,
                    crate::authz::forbidden_message(&user, &attrs, &reason),
                ))),
            }
        };
    match target
        .strip_prefix("system:serviceaccount:")
        .and_then(|r| r.split_once(':'))
    {
        Some((ns, sa)) => {
            let attrs = Attributes {
                verb: "impersonate".into(),
                resource: "serviceaccounts".into(),
                namespace: ns.into(),
                name: sa.into(),
                ..Default::default()
            };
            if let Decision::Deny(reason) = inner.authorize(&user, &attrs) {
                return Err(ApiError::from(StatusError::forbidden(
                    "serviceaccounts",
                    "",
                    sa,
                    crate::authz::forbidden_message(&user, &attrs, &reason),
                )));
            }
        }
        None => check("users", "", &target, "")?,
    }
    for g in &groups {
        check("groups", "", g, "")?;
    }
    if let Some(u) = &uid {
        check("uids", "authentication.k8s.io", u, "")?;
    }
    for (k, vals) in &extras {
        for v in vals {
            check("userextras", "authentication.k8s.io", v, k)?;
        }
    }
    let mut out = UserInfo::new(target.clone(), groups);
    if target != "system:anonymous" && !out.in_group("system:authenticated") {
        if let Some((ns, _)) = target
            .strip_prefix("system:serviceaccount:")
            .and_then(|r| r.split_once(':'))
        {
            out.groups.push("system:serviceaccounts".into());
            out.groups.push(format!("system:serviceaccounts:{ns}"));
        }
        out.groups.push("system:authenticated".into());
    }
    out.uid = uid.unwrap_or_default();
    out.extra = extras.into_iter().collect();
    Ok(out)
}

/// kube-apiserver refuses request bodies over 3 MiB.
pub const MAX_REQUEST_BODY: usize = 3 * 1024 * 1024;

async fn read_body(body: Body) -> ApiResult<bytes::Bytes> {
    match axum::body::to_bytes(body, MAX_REQUEST_BODY).await {
        Ok(b) => Ok(b),
        Err(e) => {
            let too_large = std::error::Error::source(&e)
                .map(|s| s.to_string().contains("length limit"))
                .unwrap_or(false)
                || e.to_string().contains("length limit");
            if too_large {
                Err(ApiError::from(StatusError::too_large(MAX_REQUEST_BODY)))
            } else {
                Err(ApiError::from(StatusError::bad_request(format!(
                    "error reading request body: {e}"
                ))))
            }
        }
    }
}

/// Drops history older than one compaction interval, as kube-apiserver asks etcd
/// to every five minutes, so continue tokens stay valid at least that long.
pub(crate) async fn compactor(inner: Arc<Inner>) {
    let mut previous = inner.store.revision();
    let mut ticker = tokio::time::interval(inner.config.compaction_interval);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let current = inner.store.revision();
        if previous > inner.store.compacted_revision()
            && let Err(e) = inner.store.compact(previous).await
        {
            tracing::warn!(error = %e, "compaction failed");
        }
        previous = current;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding() {
        let q = parse_query(Some("labelSelector=app%3Dweb%2Ctier+in+(a)&limit=5&watch"));
        assert_eq!(q["labelSelector"], "app=web,tier in (a)");
        assert_eq!(q["limit"], "5");
        assert_eq!(q["watch"], "");
        assert_eq!(decode_component("%zz%4"), "%zz%4");
    }
}
