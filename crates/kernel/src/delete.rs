//! DELETE and DELETECOLLECTION: preconditions, grace periods, finalizers and the
//! propagation policies (Foreground, Background, Orphan) the garbage collector
//! carries out.

use crate::meta;
use crate::registry::Resource;
use crate::response::{ApiError, ApiResult, json_response, json_value, with_warnings};
use crate::select::Filter;
use crate::server::{Ctx, Inner};
use crate::wire;
use apimachinery::StatusError;
use bytes::Bytes;
use serde_json::{Value, json};
use std::sync::Arc;

pub const FOREGROUND: &str = "foregroundDeletion";
pub const ORPHAN: &str = "orphan";
pub const CRD_CLEANUP: &str = "customresourcecleanup.apiextensions.k8s.io";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    Foreground,
    Background,
    Orphan,
}

/// DeleteOptions from the body and the query string.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    pub grace_period: Option<i64>,
    pub propagation: Option<Propagation>,
    pub uid: Option<String>,
    pub resource_version: Option<String>,
    pub dry_run: bool,
}

impl DeleteOptions {
    fn parse(ctx: &Ctx, body: &[u8]) -> Result<Self, StatusError> {
        let mut o = DeleteOptions::default();
        if !body.iter().all(u8::is_ascii_whitespace) {
            let ct = ctx
                .headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/json");
            let v = crate::decode::parse_any(ct, body, "DeleteOptions")?;
            o.grace_period = v.get("gracePeriodSeconds").and_then(Value::as_i64);
            if let Some(p) = v.get("propagationPolicy").and_then(Value::as_str) {
                o.propagation = Some(parse_policy(p)?);
            }
            if let Some(orphan) = v.get("orphanDependents").and_then(Value::as_bool) {
                o.propagation.get_or_insert(if orphan {
                    Propagation::Orphan
                } else {
                    Propagation::Background
                });
            }
            o.uid = v
                .pointer("/preconditions/uid")
                .and_then(Value::as_str)
                .map(String::from);
            o.resource_version = v
                .pointer("/preconditions/resourceVersion")
                .and_then(Value::as_str)
                .map(String::from);
            if let Some(d) = v.get("dryRun").and_then(Value::as_array) {
                o.dry_run = d.iter().any(|x| x == "All");
            }
        }
        if let Some(g) = ctx.q("gracePeriodSeconds") {
            o.grace_period = Some(g.parse().map_err(|_| {
                StatusError::bad_request(format!("invalid gracePeriodSeconds {g:?}"))
            })?);
        }
        if let Some(p) = ctx.q("propagationPolicy") {
            o.propagation = Some(parse_policy(p)?);
        }
        if ctx.q("dryRun") == Some("All") {
            o.dry_run = true;
        }
        Ok(o)
    }
}

fn parse_policy(p: &str) -> Result<Propagation, StatusError> {
    match p {
        "Foreground" => Ok(Propagation::Foreground),
        "Background" => Ok(Propagation::Background),
        "Orphan" => Ok(Propagation::Orphan),
        other => Err(StatusError::bad_request(format!(
            "propagationPolicy: Unsupported value: {other:?}: supported values: \"Foreground\", \"Background\", \"Orphan\""
        ))),
    }
}

/// The policy a kind gets when the client names none: the legacy controllers
/// (ReplicationController, Job) orphan, everything else deletes in the background.
fn default_policy(res: &Resource) -> Propagation {
    match (res.group.as_str(), res.plural.as_str()) {
        ("", "replicationcontrollers") | ("batch", "jobs") => Propagation::Orphan,
        _ => Propagation::Background,
    }
}

pub async fn delete(ctx: &Ctx, body: Bytes) -> ApiResult {
    if ctx.req.subresource.is_some() {
        return Err(ApiError::from(StatusError::method_not_allowed()));
    }
    let opts = DeleteOptions::parse(ctx, &body)?;
    let name = ctx.req.name.clone().unwrap_or_default();
    let warnings = admit_delete(ctx, ctx.namespace(), &name, &opts).await?;
    let out = delete_object(&ctx.inner, &ctx.resource, ctx.namespace(), &name, &opts).await?;
    Ok(with_warnings(
        json_response(200, wire::object(&ctx.resource, &out)),
        &warnings,
    ))
}

/// Admission webhooks for a client's DELETE of one object (the kernel's own
/// deletes, by the garbage collector and namespace cleanup, skip them).
async fn admit_delete(
    ctx: &Ctx,
    namespace: Option<&str>,
    name: &str,
    opts: &DeleteOptions,
) -> Result<Vec<String>, ApiError> {
    let res = &ctx.resource;
    let Some(cur) = ctx
        .inner
        .cache
        .get(&res.key(namespace.unwrap_or_default(), name))
    else {
        // delete_object reports the 404.
        return Ok(Vec::new());
    };
    let old = wire::object_value(res, &cur.raw);
    let mut options = json!({"kind": "DeleteOptions", "apiVersion": "meta.k8s.io/v1"});
    if let Some(g) = opts.grace_period {
        options["gracePeriodSeconds"] = json!(g);
    }
    if let Some(p) = opts.propagation {
        options["propagationPolicy"] = json!(format!("{p:?}"));
    }
    if opts.dry_run {
        options["dryRun"] = json!(["All"]);
    }
    let req = crate::webhook::Request {
        res,
        operation: crate::webhook::Operation::Delete,
        subresource: "",
        namespace: namespace.unwrap_or_default(),
        name,
        old_object: Some(&old),
        user: &ctx.user,
        dry_run: opts.dry_run,
        options: Some(options),
    };
    let (mut warnings, _) = crate::webhook::mutate(&ctx.inner, &req, None).await?;
    warnings.extend(crate::webhook::validate(&ctx.inner, &req, None).await?);
    Ok(warnings)
}

/// Deletes one object, or starts its graceful/finalized deletion. Returns the
/// object's last state.
pub async fn delete_object(
    inner: &Arc<Inner>,
    res: &Arc<Resource>,
    namespace: Option<&str>,
    name: &str,
    opts: &DeleteOptions,
) -> Result<Bytes, ApiError> {
    let key = res.key(namespace.unwrap_or_default(), name);
    for _ in 0..16 {
        let cur = inner
            .cache
            .get(&key)
            .ok_or_else(|| ApiError::from(StatusError::not_found(&res.plural, &res.group, name)))?;
        let obj = wire::object_value(res, &cur.raw);
        if let Some(u) = &opts.uid
            && Some(u.as_str()) != meta::uid(&obj)
        {
            return Err(ApiError::from(StatusError::conflict(
                &res.plural,
                &res.group,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {u}, UID in object meta: {}",
                    meta::uid(&obj).unwrap_or("")
                ),
            )));
        }
        if let Some(rv) = &opts.resource_version
            && *rv != cur.revision.to_string()
        {
            return Err(ApiError::from(StatusError::conflict(
                &res.plural,
                &res.group,
                name,
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                    cur.revision
                ),
            )));
        }
        let policy = opts.propagation.unwrap_or_else(|| default_policy(res));
        let mut finalizers = meta::finalizers(&obj);
        let mut add = |f: &str| {
            if !finalizers.iter().any(|x| x == f) {
                finalizers.push(f.to_string());
            }
        };
        match policy {
            Propagation::Foreground => add(FOREGROUND),
            Propagation::Orphan => add(ORPHAN),
            Propagation::Background => {}
        }
        if res.group == "apiextensions.k8s.io" && res.plural == "customresourcedefinitions" {
            add(CRD_CLEANUP);
        }
        let is_namespace = res.group.is_empty() && res.plural == "namespaces";
        let spec_finalizers = is_namespace
            && obj
                .pointer("/spec/finalizers")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
        let grace = pod_grace_period(res, &obj, opts.grace_period);
        let already = meta::deletion_timestamp(&obj).is_some();
        if !finalizers.is_empty() || spec_finalizers || grace > 0 {
            if already && finalizers == meta::finalizers(&obj) {
                // Deletion is under way; a repeated DELETE changes nothing.
                return Ok(cur.raw.clone());
            }
            let mut new = obj.clone();
            meta::set_finalizers(&mut new, &finalizers);
            if !already {
                let m = meta::metadata_mut(&mut new);
                let when = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(grace);
                m.insert(
                    "deletionTimestamp".into(),
                    Value::String(meta::timestamp(when)),
                );
                m.insert("deletionGracePeriodSeconds".into(), json!(grace));
            }
            if is_namespace {
                new["status"]["phase"] = Value::String("Terminating".into());
            }
            if opts.dry_run {
                return Ok(Bytes::from(
                    serde_json::to_vec(&wire::storage_value(res, new)).unwrap_or_default(),
                ));
            }
            let stored = wire::storage_value(res, new);
            let w = store::Write {
                key: key.clone(),
                precondition: store::Precondition::ModRevision(cur.revision),
                op: store::Op::Put {
                    encode: Box::new(move |rev| {
                        let mut v = stored;
                        meta::metadata_mut(&mut v)
                            .insert("resourceVersion".into(), Value::String(rev.to_string()));
                        // Exact-size buffers: the cache keeps these bytes for the object's lifetime.
                        serde_json::to_vec(&v)
                            .map(|mut b| {
                                b.shrink_to_fit();
                                b
                            })
                            .map_err(|e| e.to_string())
                    }),
                },
            };
            match inner.store.write(w).await {
                Ok(c) => return Ok(c.value.unwrap_or_default()),
                Err(store::Error::PreconditionFailed {
                    current: Some(_), ..
                }) => continue,
                Err(store::Error::PreconditionFailed { current: None, .. }) => {
                    return Err(ApiError::from(StatusError::not_found(
                        &res.plural,
                        &res.group,
                        name,
                    )));
                }
                Err(e) => return Err(ApiError::from(crate::read::store_error(e))),
            }
        }
        if opts.dry_run {
            return Ok(cur.raw.clone());
        }
        let w = store::Write {
            key: key.clone(),
            precondition: store::Precondition::ModRevision(cur.revision),
            op: store::Op::Delete,
        };
        match inner.store.write(w).await {
            Ok(_) => return Ok(cur.raw.clone()),
            Err(store::Error::PreconditionFailed {
                current: Some(_), ..
            }) => continue,
            Err(store::Error::PreconditionFailed { current: None, .. }) => {
                return Err(ApiError::from(StatusError::not_found(
                    &res.plural,
                    &res.group,
                    name,
                )));
            }
            Err(e) => return Err(ApiError::from(crate::read::store_error(e))),
        }
    }
    Err(ApiError::from(StatusError::conflict(
        &res.plural,
        &res.group,
        name,
        "too many concurrent updates; try again",
    )))
}

/// Pods bound to a node and still running get a grace period for the node to stop
/// them; everything else goes at once.
fn pod_grace_period(res: &Resource, obj: &Value, requested: Option<i64>) -> i64 {
    if !(res.group.is_empty() && res.plural == "pods") {
        return 0;
    }
    let bound = obj
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    let phase = obj
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !bound || phase == "Succeeded" || phase == "Failed" {
        return 0;
    }
    let default = obj
        .pointer("/spec/terminationGracePeriodSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(30);
    requested.unwrap_or(default).max(0)
}

pub async fn delete_collection(ctx: &Ctx, body: Bytes) -> ApiResult {
    let res = ctx.resource.clone();
    let opts = DeleteOptions::parse(ctx, &body)?;
    let filter = Filter::from_ctx(ctx)?;
    let (start, end) = res.range(ctx.namespace());
    let (items, rev, _) = ctx
        .inner
        .cache
        .range(&start, &end, None, 0, |k, o| filter.matches(&res, k, o));
    let mut deleted = Vec::new();
    let mut warnings = Vec::new();
    for (key, _) in items {
        let (ns, name) = crate::select::split_key(&res, &key);
        let ns = if res.namespaced { Some(ns) } else { None };
        warnings.extend(admit_delete(ctx, ns, name, &opts).await?);
        match delete_object(&ctx.inner, &res, ns, name, &opts).await {
            Ok(raw) => deleted.push(
                serde_json::from_slice::<Value>(&wire::list_item(&res, &raw))
                    .unwrap_or(Value::Null),
            ),
            Err(e) if e.0.code() == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(with_warnings(
        json_value(
            200,
            &json!({"kind": format!("{}List", res.kind), "apiVersion": res.api_version(), "metadata": {"resourceVersion": rev.to_string()}, "items": deleted}),
        ),
        &warnings,
    ))
}
