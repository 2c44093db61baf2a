//! Create, update and patch: the write pipeline every object goes through
//! (decode, metadata, defaulting, admission, validation, durable write), plus the
//! `status`, `scale`, `finalize` and `binding` subresources.

use crate::decode::{self, FieldValidation};
use crate::meta;
use crate::registry::{Resource, Source};
use crate::response::{ApiError, ApiResult, json_response, json_value, with_warnings};
use crate::server::{Ctx, Inner};
use crate::wire;
use apimachinery::{ErrorList, FieldError, Path, StatusError, UserInfo};
use bytes::Bytes;
use http::header;
use serde_json::{Value, json};
use std::sync::Arc;

/// How a write was asked for.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    pub dry_run: bool,
    pub validation: FieldValidation,
    /// Who asks: role and binding writes are checked against what they hold.
    pub user: UserInfo,
    /// The field manager the write is recorded under in managedFields.
    pub manager: String,
    /// The object's managedFields were computed by server-side apply already.
    pub applied: bool,
    /// The request's Create/Update/PatchOptions for admission webhooks; `None`
    /// for the kernel's own writes, which webhooks do not see.
    pub admission_options: Option<Value>,
}

impl WriteOptions {
    /// The kernel writing on its own behalf (bootstrap, garbage collector, ...).
    pub fn system() -> Self {
        WriteOptions {
            dry_run: false,
            validation: FieldValidation::Ignore,
            user: UserInfo::system(),
            manager: "sphere-kernel".into(),
            applied: false,
            admission_options: None,
        }
    }

    pub fn from_ctx(ctx: &Ctx) -> Result<Self, StatusError> {
        let dry_run = match ctx.q("dryRun") {
            None => false,
            Some("All") => true,
            Some(other) => {
                return Err(StatusError::bad_request(format!(
                    "dryRun: Unsupported value: {other:?}: supported values: \"All\""
                )));
            }
        };
        // managedFields are not tracked yet (server-side apply is the next step), but a
        // malformed fieldManager is refused as kube-apiserver refuses it.
        if let Some(fm) = ctx.q("fieldManager")
            && (fm.len() > 128 || fm.chars().any(|c| c.is_control()))
        {
            return Err(StatusError::bad_request(
                "fieldManager: Invalid value: must be at most 128 characters and printable",
            ));
        }
        Ok(WriteOptions {
            dry_run,
            validation: FieldValidation::parse(ctx.q("fieldValidation"))?,
            user: ctx.user.clone(),
            manager: crate::fieldmanager::manager_name(
                ctx.q("fieldManager"),
                ctx.headers
                    .get(http::header::USER_AGENT)
                    .and_then(|v| v.to_str().ok()),
            ),
            applied: false,
            admission_options: Some(crate::webhook::options_for(ctx, dry_run)),
        })
    }
}

/// Mutating webhooks, validation, then validating webhooks, as kube-apiserver
/// orders them; without webhooks (the kernel's own writes) only validation.
async fn admit_and_validate(
    inner: &Arc<Inner>,
    res: &Arc<Resource>,
    req: Option<crate::webhook::Request<'_>>,
    obj: &mut Value,
    warnings: &mut Vec<String>,
) -> Result<(), ApiError> {
    let old = req.as_ref().and_then(|r| r.old_object);
    let Some(req) = req else {
        return Ok(validate(res, obj, old)?);
    };
    let (w, changed) = crate::webhook::mutate(inner, &req, Some(obj)).await?;
    warnings.extend(w);
    if changed && let Source::Builtin(info) = &res.source {
        builtin::apply_defaults(info, obj);
    }
    if changed || old.is_none() {
        validate(res, obj, old)?;
    }
    warnings.extend(crate::webhook::validate(inner, &req, Some(obj)).await?);
    Ok(())
}

/// etcd's default request limit, which bounds a stored object.
pub const MAX_OBJECT_BYTES: usize = 1_572_864;

pub(crate) fn content_type(ctx: &Ctx) -> String {
    ctx.headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_string()
}

/// Decodes a full object from a request body for this resource.
fn decode_object(
    res: &Resource,
    ct: &str,
    body: &[u8],
    mode: FieldValidation,
) -> Result<(Value, Vec<String>), StatusError> {
    let mut obj = decode::parse_body(res, ct, body)?;
    decode::check_type_meta(res, &mut obj)?;
    normalize(res, &mut obj, mode)
}

/// Drops nulls and unknown fields (returning warnings) and, for custom
/// resources, prunes and defaults against the schema.
fn normalize(
    res: &Resource,
    obj: &mut Value,
    mode: FieldValidation,
) -> Result<(Value, Vec<String>), StatusError> {
    let unknown = match &res.source {
        Source::Builtin(_) | Source::Virtual(_) => {
            meta::drop_nulls(obj);
            decode::check_builtin(res, obj)?
        }
        Source::Custom(c) => match &c.schema {
            Some(s) => {
                let removed = s.prune(obj);
                s.apply_defaults(obj);
                removed
            }
            None => Vec::new(),
        },
    };
    let warnings = decode::unknown_fields(res, &unknown, mode)?;
    Ok((std::mem::take(obj), warnings))
}

fn name_validator(res: &Resource) -> apimachinery::meta_validation::NameValidator {
    use apimachinery::validation::names;
    match res.builtin().map(|i| i.name_rule) {
        Some(builtin::NameRule::Label) => names::dns_label,
        Some(builtin::NameRule::Dns1035Label) => names::dns1035_label,
        Some(builtin::NameRule::PathSegment) => names::path_segment,
        _ => names::dns_subdomain,
    }
}

/// Validation of a new or updated object: metadata rules, then the kind's own.
fn validate(res: &Resource, obj: &Value, old: Option<&Value>) -> Result<(), StatusError> {
    let mut errs = ErrorList::new();
    let null = Value::Null;
    let meta_v = obj.get("metadata").unwrap_or(&null);
    let path = Path::new("metadata");
    errs.extend(apimachinery::meta_validation::validate_object_meta(
        meta_v,
        res.namespaced,
        name_validator(res),
        &path,
    ));
    if let Some(old) = old {
        let old_meta = old.get("metadata").unwrap_or(&null);
        errs.extend(apimachinery::meta_validation::validate_object_meta_update(
            meta_v, old_meta, &path,
        ));
    }
    match &res.source {
        Source::Virtual(_) => {}
        Source::Builtin(info) => {
            errs.extend(builtin::validate(info, obj, old));
            if info.plural == "customresourcedefinitions" {
                errs.extend(crate::crd::validate_schemas(obj));
            }
        }
        Source::Custom(c) => {
            if let Some(s) = &c.schema {
                match old {
                    Some(old) => errs.extend(s.validate_update(obj, old)),
                    None => errs.extend(s.validate(obj)),
                }
            }
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        let name = meta::name(obj).unwrap_or("");
        Err(StatusError::invalid(&res.kind, &res.group, name, &errs))
    }
}

/// The serialized stored form, refusing objects etcd would refuse.
pub(crate) fn encode_checked(res: &Resource, obj: &Value) -> Result<Vec<u8>, StatusError> {
    let bytes = match obj.as_object() {
        // Built-in objects are stored without type meta: serialize around it rather
        // than copying the object to remove it.
        Some(map) if !res.is_custom() => serde_json::to_vec(&WithoutTypeMeta(map)),
        _ => serde_json::to_vec(&wire::storage_value(res, obj.clone())),
    }
    .map_err(StatusError::internal)?;
    if bytes.len() > MAX_OBJECT_BYTES {
        return Err(StatusError::new(
            413,
            "RequestEntityTooLarge",
            format!(
                "Request entity too large: the object is {} bytes, the limit is {MAX_OBJECT_BYTES}",
                bytes.len()
            ),
            None,
        ));
    }
    Ok(bytes)
}

/// A built-in object's fields as stored: all but `kind` and `apiVersion`.
struct WithoutTypeMeta<'a>(&'a serde_json::Map<String, Value>);

impl serde::Serialize for WithoutTypeMeta<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let fields = self
            .0
            .iter()
            .filter(|(k, _)| k.as_str() != "kind" && k.as_str() != "apiVersion");
        let mut m = s.serialize_map(None)?;
        for (k, v) in fields {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// A `store::Op::Put` that stamps the write's revision into the object.
pub(crate) fn put_op(res: &Resource, obj: Value) -> store::Op {
    let stored = wire::storage_value(res, obj);
    store::Op::Put {
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
    }
}

pub(crate) fn store_err(res: &Resource, name: &str, e: store::Error, creating: bool) -> ApiError {
    match e {
        store::Error::PreconditionFailed {
            current: Some(_), ..
        } if creating => ApiError::from(StatusError::already_exists(&res.plural, &res.group, name)),
        store::Error::PreconditionFailed { current: None, .. } => {
            ApiError::from(StatusError::not_found(&res.plural, &res.group, name))
        }
        store::Error::PreconditionFailed { .. } => {
            ApiError::from(StatusError::stale(&res.plural, &res.group, name))
        }
        other => ApiError::from(crate::read::store_error(other)),
    }
}

/// The result of a write: the stored bytes and any warnings for the client.
pub struct Written {
    pub raw: Bytes,
    pub warnings: Vec<String>,
}

pub async fn create(ctx: &Ctx, body: Bytes) -> ApiResult {
    let res = ctx.resource.clone();
    match ctx.req.subresource.as_deref() {
        None => {}
        Some("token") if res.plural == "serviceaccounts" && res.group.is_empty() => {
            return crate::virtual_resources::token_request(ctx, body).await;
        }
        Some("binding") if res.plural == "pods" && res.group.is_empty() => {
            return crate::binding::bind_pod(ctx, body).await;
        }
        Some(_) => return Err(ApiError::from(StatusError::method_not_allowed())),
    }
    let opts = WriteOptions::from_ctx(ctx)?;
    let (mut obj, warnings) = decode_object(&res, &content_type(ctx), &body, opts.validation)?;
    if res.namespaced {
        let url_ns = ctx.namespace().unwrap_or_default();
        match meta::namespace(&obj) {
            Some(ns) if ns != url_ns => {
                return Err(ApiError::from(StatusError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                )));
            }
            _ => {
                meta::metadata_mut(&mut obj)
                    .insert("namespace".into(), Value::String(url_ns.to_string()));
            }
        }
    }
    let mut written = create_object(&ctx.inner, &res, ctx.namespace(), obj, &opts).await?;
    let mut all = warnings;
    all.append(&mut written.warnings);
    Ok(with_warnings(
        json_response(201, wire::object(&res, &written.raw)),
        &all,
    ))
}

/// Creates `obj` (already decoded and normalized) under `res`.
pub async fn create_object(
    inner: &Arc<Inner>,
    res: &Arc<Resource>,
    namespace: Option<&str>,
    mut obj: Value,
    opts: &WriteOptions,
) -> Result<Written, ApiError> {
    if !obj.get("apiVersion").is_some_and(Value::is_string) {
        decode::check_type_meta(res, &mut obj)?;
    }
    // Server-owned metadata is never taken from the client.
    {
        let m = meta::metadata_mut(&mut obj);
        for k in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "selfLink",
        ] {
            m.remove(k);
        }
        if m.get("name")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
            && let Some(prefix) = m
                .get("generateName")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        {
            let mut prefix = prefix.to_string();
            prefix.truncate(63 - 5);
            m.insert(
                "name".into(),
                Value::String(format!("{prefix}{}", meta::random_suffix())),
            );
        }
        m.insert(
            "uid".into(),
            Value::String(uuid::Uuid::new_v4().to_string()),
        );
        m.insert("creationTimestamp".into(), Value::String(meta::now()));
        if !res.namespaced {
            m.remove("namespace");
        }
    }
    let name = meta::name(&obj).unwrap_or("").to_string();
    if name.is_empty() && meta::str_field(&obj, "generateName").is_none() {
        let errs = ErrorList(vec![FieldError::required(
            Path::new("metadata").child("name"),
            "name or generateName is required",
        )]);
        return Err(ApiError::from(StatusError::invalid(
            &res.kind, &res.group, "", &errs,
        )));
    }
    if let Some(ns) = namespace.filter(|_| res.namespaced) {
        crate::admission::namespace_lifecycle(inner, ns)?;
    }
    let mut warnings = Vec::new();
    match &res.source {
        Source::Builtin(info) => {
            builtin::apply_defaults(info, &mut obj);
            warnings.extend(crate::admission::admit_create(inner, res, info, &mut obj).await?);
            builtin::prepare_for_create(info, &mut obj);
        }
        Source::Virtual(_) => {}
        Source::Custom(c) => {
            meta::metadata_mut(&mut obj).insert("generation".into(), json!(1));
            if c.status
                && let Some(m) = obj.as_object_mut()
            {
                m.remove("status");
            }
        }
    }
    let hooks = opts
        .admission_options
        .as_ref()
        .map(|o| crate::webhook::write_request(res, namespace, &name, None, None, opts, o));
    match hooks {
        Some(req) => admit_and_validate(inner, res, Some(req), &mut obj, &mut warnings).await?,
        None => validate(res, &obj, None)?,
    }
    if res.group == "rbac.authorization.k8s.io" {
        crate::rbac_authz::check_write(inner, &res.plural, &opts.user, &obj, None)?;
    }
    if !opts.applied {
        crate::fieldmanager::track_update(res, None, &mut obj, &opts.manager, "");
    }
    let bytes = encode_checked(res, &obj)?;
    // Quota admission and the write happen under the namespace's quota lock, so
    // concurrent creates cannot together go past a quota.
    let _quota_guard = match namespace.filter(|_| res.namespaced) {
        Some(ns) => {
            let guard = inner.quota_lock(ns).await;
            crate::quota::admit(inner, res, ns, &obj)?;
            guard
        }
        None => None,
    };
    if opts.dry_run {
        return Ok(Written {
            raw: Bytes::from(bytes),
            warnings,
        });
    }
    let key = res.key(namespace.unwrap_or_default(), &name);
    let w = store::Write {
        key,
        precondition: store::Precondition::MustNotExist,
        op: put_op(res, obj),
    };
    let committed = inner
        .store
        .write(w)
        .await
        .map_err(|e| store_err(res, &name, e, true))?;
    Ok(Written {
        raw: committed.value.unwrap_or_default(),
        warnings,
    })
}

pub async fn update(ctx: &Ctx, body: Bytes) -> ApiResult {
    let res = ctx.resource.clone();
    let opts = WriteOptions::from_ctx(ctx)?;
    let name = ctx.req.name.clone().unwrap_or_default();
    let sub = ctx.req.subresource.clone();
    match sub.as_deref() {
        None | Some("status") => {}
        Some("scale") if res.has_scale() => return update_scale(ctx, &body, &opts).await,
        Some("finalize") if res.plural == "namespaces" && res.group.is_empty() => {}
        Some(_) => return Err(ApiError::from(StatusError::method_not_allowed())),
    }
    let (obj, warnings) = decode_object(&res, &content_type(ctx), &body, opts.validation)?;
    if meta::name(&obj).is_some_and(|n| n != name) {
        return Err(ApiError::from(StatusError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            meta::name(&obj).unwrap_or("")
        ))));
    }
    if res.namespaced && meta::namespace(&obj).is_some_and(|n| Some(n) != ctx.namespace()) {
        return Err(ApiError::from(StatusError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        )));
    }
    let precondition = meta::resource_version(&obj).map(String::from);
    let new = obj;
    let written = guaranteed_update(
        &ctx.inner,
        &res,
        ctx.namespace(),
        &name,
        precondition.as_deref(),
        sub.as_deref(),
        &opts,
        |_cur| Ok(new.clone()),
    )
    .await?;
    let mut all = warnings;
    all.extend(written.warnings);
    Ok(with_warnings(
        json_response(200, wire::object(&res, &written.raw)),
        &all,
    ))
}

/// Reads the current object, computes the new one with `f`, and writes it if the
/// object did not change in between, retrying on conflicts unless the client
/// pinned a resourceVersion (then a conflict is the client's to resolve).
#[allow(clippy::too_many_arguments)]
pub async fn guaranteed_update(
    inner: &Arc<Inner>,
    res: &Arc<Resource>,
    namespace: Option<&str>,
    name: &str,
    precondition_rv: Option<&str>,
    subresource: Option<&str>,
    opts: &WriteOptions,
    f: impl Fn(&Value) -> Result<Value, ApiError>,
) -> Result<Written, ApiError> {
    let key = res.key(namespace.unwrap_or_default(), name);
    for _attempt in 0..16 {
        let cur = inner
            .cache
            .get(&key)
            .ok_or_else(|| ApiError::from(StatusError::not_found(&res.plural, &res.group, name)))?;
        if let Some(rv) = precondition_rv
            && rv != cur.revision.to_string()
        {
            return Err(ApiError::from(StatusError::stale(
                &res.plural,
                &res.group,
                name,
            )));
        }
        let old = wire::object_value(res, &cur.raw);
        let proposed = f(&old)?;
        let mut warnings = Vec::new();
        let mut new = prepare_update(inner, res, &old, proposed, subresource, &mut warnings)?;
        // Binding a pod is a create of pods/binding in kube-apiserver, with a Binding
        // as the object; it is not offered to webhooks here.
        if let Some(o) = opts
            .admission_options
            .as_ref()
            .filter(|_| subresource != Some("binding"))
        {
            let req = crate::webhook::write_request(
                res,
                namespace,
                name,
                subresource,
                Some(&old),
                opts,
                o,
            );
            admit_and_validate(inner, res, Some(req), &mut new, &mut warnings).await?;
        }
        if res.group == "rbac.authorization.k8s.io" {
            crate::rbac_authz::check_write(inner, &res.plural, &opts.user, &new, Some(&old))?;
        }
        if !opts.applied && !same_but_rv(&new, &old) {
            crate::fieldmanager::track_update(
                res,
                Some(&old),
                &mut new,
                &opts.manager,
                subresource.unwrap_or(""),
            );
        }
        let spec_finalizers_left = res.group.is_empty()
            && res.plural == "namespaces"
            && new
                .pointer("/spec/finalizers")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
        if meta::finalizers(&new).is_empty()
            && meta::deletion_timestamp(&new).is_some()
            && !spec_finalizers_left
        {
            // The last finalizer is gone from an object being deleted: delete it now.
            if opts.dry_run {
                return Ok(Written {
                    raw: Bytes::from(encode_checked(res, &new)?),
                    warnings,
                });
            }
            let w = store::Write {
                key: key.clone(),
                precondition: store::Precondition::ModRevision(cur.revision),
                op: store::Op::Delete,
            };
            match inner.store.write(w).await {
                Ok(_) => {
                    return Ok(Written {
                        raw: Bytes::from(encode_checked(res, &new)?),
                        warnings,
                    });
                }
                Err(store::Error::PreconditionFailed { .. }) if precondition_rv.is_none() => {
                    continue;
                }
                Err(e) => return Err(store_err(res, name, e, false)),
            }
        }
        if same_but_rv(&new, &old) {
            return Ok(Written {
                raw: cur.raw.clone(),
                warnings,
            });
        }
        let bytes = encode_checked(res, &new)?;
        if opts.dry_run {
            return Ok(Written {
                raw: Bytes::from(bytes),
                warnings,
            });
        }
        let w = store::Write {
            key: key.clone(),
            precondition: store::Precondition::ModRevision(cur.revision),
            op: put_op(res, new),
        };
        match inner.store.write(w).await {
            Ok(c) => {
                return Ok(Written {
                    raw: c.value.unwrap_or_default(),
                    warnings,
                });
            }
            Err(store::Error::PreconditionFailed {
                current: Some(_), ..
            }) if precondition_rv.is_none() => continue,
            Err(e) => return Err(store_err(res, name, e, false)),
        }
    }
    Err(ApiError::from(StatusError::conflict(
        &res.plural,
        &res.group,
        name,
        "too many concurrent updates; try again",
    )))
}

/// Whether two objects are equal apart from `metadata.resourceVersion` and
/// `metadata.managedFields`: a write that changes nothing else is a no-op. Compares in
/// place; every update passes here, so no copies.
fn same_but_rv(a: &Value, b: &Value) -> bool {
    const IGNORED: [&str; 2] = ["resourceVersion", "managedFields"];
    fn same_meta(a: &serde_json::Map<String, Value>, b: &serde_json::Map<String, Value>) -> bool {
        let relevant = |m: &serde_json::Map<String, Value>| {
            m.keys().filter(|k| !IGNORED.contains(&k.as_str())).count()
        };
        relevant(a) == relevant(b)
            && a.iter()
                .filter(|(k, _)| !IGNORED.contains(&k.as_str()))
                .all(|(k, v)| b.get(k) == Some(v))
    }
    match (a.as_object(), b.as_object()) {
        (Some(a), Some(b)) => {
            a.len() == b.len()
                && a.iter().all(|(k, v)| match (k.as_str(), b.get(k)) {
                    ("metadata", Some(w)) => match (v.as_object(), w.as_object()) {
                        (Some(x), Some(y)) => same_meta(x, y),
                        _ => v == w,
                    },
                    (_, Some(w)) => v == w,
                    (_, None) => false,
                })
        }
        _ => a == b,
    }
}

/// Merges what a client sent with what must not change, per subresource.
fn prepare_update(
    inner: &Arc<Inner>,
    res: &Arc<Resource>,
    old: &Value,
    mut new: Value,
    subresource: Option<&str>,
    warnings: &mut Vec<String>,
) -> Result<Value, ApiError> {
    let _ = warnings;
    let no_meta = serde_json::Map::new();
    let old_meta = meta::metadata(old).unwrap_or(&no_meta);
    match subresource {
        Some("status") => {
            // Only status changes through /status; metadata stays as it was.
            let status = new.as_object_mut().and_then(|m| m.remove("status"));
            let mut base: serde_json::Map<String, Value> = old
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(k, _)| k.as_str() != "status")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if let Some(s) = status {
                base.insert("status".into(), s);
            }
            new = Value::Object(base);
        }
        Some("finalize") => {
            let fins = new.pointer("/spec/finalizers").cloned();
            new = old.clone();
            match fins {
                Some(f) => new["spec"]["finalizers"] = f,
                None => {
                    if let Some(spec) = new.get_mut("spec").and_then(Value::as_object_mut) {
                        spec.remove("finalizers");
                    }
                }
            }
        }
        _ => {
            if res.has_status() {
                match old.get("status") {
                    Some(s) => new["status"] = s.clone(),
                    None => {
                        if let Some(m) = new.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
            }
        }
    }
    {
        let uid_sent = meta::uid(&new).map(String::from);
        if let Some(u) = uid_sent
            && Some(u.as_str()) != old_meta.get("uid").and_then(Value::as_str)
        {
            return Err(ApiError::from(StatusError::conflict(
                &res.plural,
                &res.group,
                meta::name(old).unwrap_or(""),
                &format!(
                    "Precondition failed: UID in precondition: {u}, UID in object meta: {}",
                    old_meta.get("uid").and_then(Value::as_str).unwrap_or("")
                ),
            )));
        }
        let m = meta::metadata_mut(&mut new);
        for k in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "name",
            "namespace",
        ] {
            match old_meta.get(k) {
                Some(v) => {
                    m.insert(k.into(), v.clone());
                }
                None => {
                    m.remove(k);
                }
            }
        }
        m.remove("selfLink");
        // Finalizers can only be removed once deletion has started.
        if old_meta.contains_key("deletionTimestamp") {
            let old_f: Vec<String> = meta::finalizers(old);
            let new_f: Vec<String> = m
                .get("finalizers")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            if new_f.iter().any(|f| !old_f.contains(f)) {
                let errs = ErrorList(vec![FieldError::forbidden(
                    Path::new("metadata").child("finalizers"),
                    "no new finalizers can be added if the object is being deleted",
                )]);
                return Err(ApiError::from(StatusError::invalid(
                    &res.kind,
                    &res.group,
                    meta::name(old).unwrap_or(""),
                    &errs,
                )));
            }
        }
    }
    match &res.source {
        Source::Virtual(_) => {}
        Source::Builtin(info) => {
            builtin::apply_defaults(info, &mut new);
            if subresource.is_none() {
                builtin::prepare_for_update(info, &mut new, old);
            }
            crate::admission::admit_update(inner, res, info, &mut new, old)?;
        }
        Source::Custom(_) => {
            if subresource.is_none() && !meta::spec_equal(old, &new) {
                let g = old_meta
                    .get("generation")
                    .and_then(Value::as_i64)
                    .unwrap_or(0)
                    + 1;
                meta::metadata_mut(&mut new).insert("generation".into(), json!(g));
            }
        }
    }
    if subresource != Some("binding") {
        validate(res, &new, Some(old))?;
    }
    Ok(new)
}

pub async fn patch(ctx: &Ctx, body: Bytes) -> ApiResult {
    let res = ctx.resource.clone();
    let opts = WriteOptions::from_ctx(ctx)?;
    let name = ctx.req.name.clone().unwrap_or_default();
    let ct = content_type(ctx);
    let media = ct.split(';').next().unwrap_or("").trim().to_string();
    let kind = match media.as_str() {
        "application/json-patch+json" => PatchKind::Json,
        "application/merge-patch+json" => PatchKind::Merge,
        "application/strategic-merge-patch+json" if res.is_custom() => {
            return Err(ApiError::from(StatusError::unsupported_media_type(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
            )));
        }
        "application/strategic-merge-patch+json" => PatchKind::Strategic,
        "application/apply-patch+yaml" => return server_side_apply(ctx, opts, &body).await,
        _ => {
            let mut e = StatusError::unsupported_media_type("415: Unsupported Media Type");
            e.status.details = Some(Default::default());
            return Err(ApiError::from(e));
        }
    };
    let patch_body = body.clone();
    let sub = ctx.req.subresource.clone();
    if sub.as_deref() == Some("scale") && res.has_scale() {
        return patch_scale(ctx, kind, &patch_body, &opts).await;
    }
    match sub.as_deref() {
        None | Some("status") => {}
        Some(_) => return Err(ApiError::from(StatusError::method_not_allowed())),
    }
    let parsed_patch: Option<Value> = match kind {
        PatchKind::Json => None,
        _ => Some(serde_json::from_slice(&patch_body).map_err(|e| {
            ApiError::from(StatusError::bad_request(format!(
                "error decoding patch: {e}"
            )))
        })?),
    };
    let precondition = parsed_patch
        .as_ref()
        .and_then(|p| p.pointer("/metadata/resourceVersion"))
        .and_then(Value::as_str)
        .map(String::from);
    let warn_cell = std::sync::Mutex::new(Vec::<String>::new());
    let validation = opts.validation;
    let written = guaranteed_update(
        &ctx.inner,
        &res,
        ctx.namespace(),
        &name,
        precondition.as_deref(),
        sub.as_deref(),
        &opts,
        |cur| {
            let mut patched = apply_patch(&res, kind, cur, &patch_body, parsed_patch.as_ref())?;
            decode::check_type_meta(&res, &mut patched)?;
            let (v, w) = normalize(&res, &mut patched, validation)?;
            *warn_cell.lock().unwrap_or_else(|e| e.into_inner()) = w;
            Ok(v)
        },
    )
    .await?;
    let mut all = warn_cell.into_inner().unwrap_or_else(|e| e.into_inner());
    all.extend(written.warnings);
    Ok(with_warnings(
        json_response(200, wire::object(&res, &written.raw)),
        &all,
    ))
}

/// `PATCH` with `application/apply-patch+yaml`: server-side apply, creating the
/// object if it does not exist.
async fn server_side_apply(ctx: &Ctx, mut opts: WriteOptions, body: &[u8]) -> ApiResult {
    let res = ctx.resource.clone();
    let name = ctx.req.name.clone().unwrap_or_default();
    let Some(manager) = ctx.q("fieldManager").map(String::from) else {
        let errs = ErrorList(vec![FieldError::required(
            Path::new("fieldManager"),
            "is required for apply patch",
        )]);
        return Err(ApiError::from(StatusError::invalid(
            "PatchOptions",
            "meta.k8s.io",
            "",
            &errs,
        )));
    };
    let force = match ctx.q("force") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::from(StatusError::bad_request(format!(
                "invalid force value {other:?}"
            ))));
        }
    };
    let mut config = decode::parse_body(&res, "application/apply-patch+yaml", body)?;
    decode::check_type_meta(&res, &mut config)?;
    let (mut config, warnings) = normalize(&res, &mut config, opts.validation)?;
    match meta::name(&config) {
        Some(n) if n != name => {
            return Err(ApiError::from(StatusError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            ))));
        }
        _ => {
            meta::metadata_mut(&mut config).insert("name".into(), Value::String(name.clone()));
        }
    }
    if res.namespaced {
        meta::metadata_mut(&mut config).insert(
            "namespace".into(),
            Value::String(ctx.namespace().unwrap_or_default().to_string()),
        );
    }
    opts.applied = true;
    let sub = ctx.req.subresource.clone().unwrap_or_default();
    let key = res.key(ctx.namespace().unwrap_or_default(), &name);
    if ctx.inner.cache.get(&key).is_none() && sub.is_empty() {
        let obj = crate::fieldmanager::apply_config(&res, None, &config, &manager, force, "")?;
        let mut written = create_object(&ctx.inner, &res, ctx.namespace(), obj, &opts).await?;
        let mut all = warnings;
        all.append(&mut written.warnings);
        return Ok(with_warnings(
            json_response(201, wire::object(&res, &written.raw)),
            &all,
        ));
    }
    let subresource = if sub.is_empty() {
        None
    } else {
        Some(sub.as_str())
    };
    let written = guaranteed_update(
        &ctx.inner,
        &res,
        ctx.namespace(),
        &name,
        None,
        subresource,
        &opts,
        |cur| crate::fieldmanager::apply_config(&res, Some(cur), &config, &manager, force, &sub),
    )
    .await?;
    let mut all = warnings;
    all.extend(written.warnings);
    Ok(with_warnings(
        json_response(200, wire::object(&res, &written.raw)),
        &all,
    ))
}

#[derive(Debug, Clone, Copy)]
pub enum PatchKind {
    Json,
    Merge,
    Strategic,
}

fn apply_patch(
    res: &Resource,
    kind: PatchKind,
    cur: &Value,
    raw: &[u8],
    parsed: Option<&Value>,
) -> Result<Value, ApiError> {
    let r = match kind {
        PatchKind::Json => patch::json_patch(cur, raw),
        PatchKind::Merge => Ok(patch::merge_patch(cur, parsed.unwrap_or(&Value::Null))),
        PatchKind::Strategic => {
            let def = openapi::definition_name(&res.group, &res.version, &res.kind).unwrap_or("");
            patch::strategic_merge_patch(cur, parsed.unwrap_or(&Value::Null), def)
        }
    };
    r.map_err(|e| ApiError::from(patch_error(e)))
}

fn patch_error(e: patch::PatchError) -> StatusError {
    let code = e.http_status();
    let reason = match code {
        400 => "BadRequest",
        413 => "RequestEntityTooLarge",
        415 => "UnsupportedMediaType",
        500 => "InternalError",
        _ => "Invalid",
    };
    StatusError::new(code, reason, e.to_string(), None)
}

/// The `autoscaling/v1 Scale` view of an object with a scale subresource.
pub fn scale_view(res: &Resource, obj: &Value) -> Result<Value, ApiError> {
    let (spec_path, status_path, selector) = scale_paths(res, obj);
    let get = |p: &str| -> Option<&Value> { obj.pointer(&json_pointer(p)) };
    let m = meta::metadata(obj).cloned().unwrap_or_default();
    let mut meta_out = serde_json::Map::new();
    for k in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(v) = m.get(k) {
            meta_out.insert(k.into(), v.clone());
        }
    }
    let mut status = json!({"replicas": get(&status_path).and_then(Value::as_i64).unwrap_or(0)});
    if let Some(s) = selector {
        status["selector"] = Value::String(s);
    }
    Ok(json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": meta_out,
        "spec": {"replicas": get(&spec_path).and_then(Value::as_i64).unwrap_or(0)},
        "status": status,
    }))
}

fn scale_paths(res: &Resource, obj: &Value) -> (String, String, Option<String>) {
    match &res.source {
        Source::Virtual(_) => (".spec.replicas".into(), ".status.replicas".into(), None),
        Source::Builtin(info) => {
            let s = info.scale.unwrap_or(builtin::ScaleInfo {
                spec_replicas: ".spec.replicas",
                status_replicas: ".status.replicas",
                label_selector: None,
            });
            (
                s.spec_replicas.to_string(),
                s.status_replicas.to_string(),
                builtin::scale_selector(info, obj),
            )
        }
        Source::Custom(c) => {
            let s = c.scale.clone().unwrap_or(crate::registry::CustomScale {
                spec_replicas: ".spec.replicas".into(),
                status_replicas: ".status.replicas".into(),
                label_selector: None,
            });
            let sel = s
                .label_selector
                .as_deref()
                .and_then(|p| obj.pointer(&json_pointer(p)))
                .and_then(Value::as_str)
                .map(String::from);
            (s.spec_replicas, s.status_replicas, sel)
        }
    }
}

/// `.spec.replicas` → `/spec/replicas`.
fn json_pointer(path: &str) -> String {
    path.trim_start_matches('.')
        .split('.')
        .fold(String::new(), |mut acc, p| {
            acc.push('/');
            acc.push_str(&p.replace('~', "~0").replace('/', "~1"));
            acc
        })
}

async fn write_replicas(
    ctx: &Ctx,
    opts: &WriteOptions,
    replicas: i64,
    precondition: Option<String>,
) -> ApiResult {
    let res = ctx.resource.clone();
    let name = ctx.req.name.clone().unwrap_or_default();
    if replicas < 0 {
        let errs = ErrorList(vec![FieldError::invalid(
            Path::new("spec").child("replicas"),
            replicas,
            "must be greater than or equal to 0",
        )]);
        return Err(ApiError::from(StatusError::invalid(
            "Scale",
            "autoscaling",
            &name,
            &errs,
        )));
    }
    let written = guaranteed_update(
        &ctx.inner,
        &res,
        ctx.namespace(),
        &name,
        precondition.as_deref(),
        None,
        opts,
        |cur| {
            let (spec_path, _, _) = scale_paths(&res, cur);
            let mut v = cur.clone();
            set_pointer(&mut v, &json_pointer(&spec_path), json!(replicas));
            Ok(v)
        },
    )
    .await?;
    let obj = wire::object_value(&res, &written.raw);
    Ok(json_value(200, &scale_view(&res, &obj)?))
}

fn set_pointer(v: &mut Value, pointer: &str, new: Value) {
    let mut cur = v;
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    for (i, p) in parts.iter().enumerate() {
        if !cur.is_object() {
            *cur = json!({});
        }
        let m = cur.as_object_mut().expect("made an object");
        if i == parts.len() - 1 {
            m.insert(p.to_string(), new);
            return;
        }
        cur = m.entry(p.to_string()).or_insert_with(|| json!({}));
    }
}

async fn update_scale(ctx: &Ctx, body: &[u8], opts: &WriteOptions) -> ApiResult {
    let scale = decode::parse_any(&content_type(ctx), body, "Scale")?;
    let replicas = scale
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let rv = scale
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(String::from);
    write_replicas(ctx, opts, replicas, rv).await
}

async fn patch_scale(ctx: &Ctx, kind: PatchKind, body: &[u8], opts: &WriteOptions) -> ApiResult {
    let res = ctx.resource.clone();
    let name = ctx.req.name.clone().unwrap_or_default();
    let key = res.key(ctx.namespace().unwrap_or_default(), &name);
    let cur =
        ctx.inner.cache.get(&key).ok_or_else(|| {
            ApiError::from(StatusError::not_found(&res.plural, &res.group, &name))
        })?;
    let view = scale_view(&res, &wire::object_value(&res, &cur.raw))?;
    let parsed: Option<Value> = match kind {
        PatchKind::Json => None,
        _ => Some(serde_json::from_slice(body).map_err(|e| {
            ApiError::from(StatusError::bad_request(format!(
                "error decoding patch: {e}"
            )))
        })?),
    };
    let patched = match kind {
        PatchKind::Json => patch::json_patch(&view, body),
        PatchKind::Merge => Ok(patch::merge_patch(
            &view,
            parsed.as_ref().unwrap_or(&Value::Null),
        )),
        PatchKind::Strategic => patch::strategic_merge_patch(
            &view,
            parsed.as_ref().unwrap_or(&Value::Null),
            "io.k8s.api.autoscaling.v1.Scale",
        ),
    }
    .map_err(|e| ApiError::from(patch_error(e)))?;
    let replicas = patched
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let rv = parsed
        .as_ref()
        .and_then(|p| p.pointer("/metadata/resourceVersion"))
        .and_then(Value::as_str)
        .map(String::from);
    write_replicas(ctx, opts, replicas, rv).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_but_rv_ignores_only_resource_version_and_managed_fields() {
        let a = json!({"metadata": {"name": "x", "resourceVersion": "1", "managedFields": []}, "spec": {"a": 1}});
        let b = json!({"metadata": {"name": "x", "resourceVersion": "2"}, "spec": {"a": 1}});
        assert!(same_but_rv(&a, &b));
        assert!(same_but_rv(&b, &a));
        let c = json!({"metadata": {"name": "x", "labels": {}}, "spec": {"a": 1}});
        assert!(!same_but_rv(&a, &c));
        assert!(!same_but_rv(&c, &a));
        let d = json!({"metadata": {"name": "x"}, "spec": {"a": 2}});
        assert!(!same_but_rv(&a, &d));
        let e = json!({"metadata": {"name": "x"}, "spec": {"a": 1}, "status": {}});
        assert!(!same_but_rv(&a, &e));
        assert!(!same_but_rv(&e, &a));
    }

    #[test]
    fn pointers() {
        assert_eq!(json_pointer(".spec.replicas"), "/spec/replicas");
        let mut v = json!({});
        set_pointer(&mut v, "/spec/replicas", json!(3));
        assert_eq!(v, json!({"spec": {"replicas": 3}}));
    }
}
