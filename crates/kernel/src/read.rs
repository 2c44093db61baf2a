//! GET and LIST: single objects, paged and selected lists, Table and metadata-only
//! representations, and the `scale` subresource view.

use crate::registry::Resource;
use crate::response::{ApiError, ApiResult, Wanted, json_response, json_value};
use crate::select::Filter;
use crate::server::Ctx;
use crate::wire;
use apimachinery::StatusError;
use base64::Engine;
use bytes::{BufMut, Bytes, BytesMut};
use serde_json::{Value, json};
use std::sync::Arc;

pub async fn get(ctx: &Ctx, wanted: Wanted) -> ApiResult {
    let res = &ctx.resource;
    let name = ctx.req.name.as_deref().unwrap_or_default();
    let key = res.key(ctx.namespace().unwrap_or_default(), name);
    let obj = ctx
        .inner
        .cache
        .get(&key)
        .ok_or_else(|| ApiError::from(StatusError::not_found(&res.plural, &res.group, name)))?;
    match ctx.req.subresource.as_deref() {
        None | Some("status") => {}
        Some("scale") if res.has_scale() => {
            return Ok(json_value(
                200,
                &crate::write::scale_view(res, &wire::object_value(res, &obj.raw))?,
            ));
        }
        Some(_) => {
            return Err(ApiError::from(StatusError::not_found(
                &res.plural,
                &res.group,
                name,
            )));
        }
    }
    match wanted {
        Wanted::Table => {
            let v = wire::object_value(res, &obj.raw);
            let t = crate::table::table(ctx, &[v], &obj.revision.to_string(), None);
            Ok(json_value(200, &t))
        }
        Wanted::Metadata => Ok(json_value(
            200,
            &partial_metadata(&wire::object_value(res, &obj.raw)),
        )),
        _ => Ok(json_response(200, wire::object(res, &obj.raw))),
    }
}

/// What a continue token holds: the revision the list was taken at and the last
/// key returned. Opaque to clients.
#[derive(serde::Serialize, serde::Deserialize)]
struct ContinueToken {
    v: String,
    rv: u64,
    start: String,
}

fn encode_continue(rv: u64, last_key: &str) -> String {
    let t = ContinueToken {
        v: "meta.k8s.io/v1".into(),
        rv,
        start: last_key.to_string(),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(&t).unwrap_or_default())
}

fn decode_continue(s: &str) -> Result<ContinueToken, StatusError> {
    let bad = || {
        StatusError::bad_request(
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        )
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| bad())?;
    let t: ContinueToken = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if t.v != "meta.k8s.io/v1" {
        return Err(bad());
    }
    Ok(t)
}

/// A selected page of objects: `(key, raw)` pairs, the list's revision, and the
/// continue token if more follow.
pub struct Page {
    pub items: Vec<(String, Bytes)>,
    pub revision: u64,
    pub next: Option<String>,
}

fn parse_limit(ctx: &Ctx) -> Result<usize, StatusError> {
    match ctx.q("limit") {
        None => Ok(0),
        Some(l) => l
            .parse::<i64>()
            .map(|n| n.max(0) as usize)
            .map_err(|_| StatusError::bad_request(format!("invalid value for limit: {l:?}"))),
    }
}

/// Reads one page as the request's `limit`, `continue`, `resourceVersion` and
/// `resourceVersionMatch` ask, with kube-apiserver's rules for combining them.
pub fn select_page(ctx: &Ctx, filter: &Filter) -> Result<Page, StatusError> {
    let res = &ctx.resource;
    let limit = parse_limit(ctx)?;
    let rv = ctx.q("resourceVersion");
    let rv_match = ctx.q("resourceVersionMatch");
    let cont = ctx.q("continue");
    if rv_match.is_some() && rv.is_none() {
        return Err(StatusError::bad_request(
            "resourceVersionMatch is forbidden unless resourceVersion is provided",
        ));
    }
    if cont.is_some() && rv.is_some_and(|r| r != "0") {
        return Err(StatusError::bad_request(
            "specifying resource version is not allowed when using continue",
        ));
    }
    let (start, end) = res.range(ctx.namespace());
    let cache = &ctx.inner.cache;
    let inner = &ctx.inner;

    let requested: Option<u64> = match rv {
        None | Some("0") => None,
        Some(s) => Some(s.parse::<u64>().map_err(|_| {
            StatusError::bad_request(format!(
                "invalid resource version {s:?}: strconv.ParseUint: parsing {s:?}: invalid syntax"
            ))
        })?),
    };

    // Where to read from: the cache (current state) or the store at a revision.
    let (at, after): (Option<u64>, Option<String>) = if let Some(c) = cont {
        let t = decode_continue(c)?;
        if t.rv < inner.store.compacted_revision() {
            return Err(StatusError::expired(
                "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
            ));
        }
        (Some(t.rv), Some(t.start))
    } else {
        match (rv_match, requested) {
            (Some("Exact"), Some(n)) => (Some(n), None),
            (Some("Exact"), None) => {
                return Err(StatusError::bad_request(
                    "resourceVersionMatch \"Exact\" is forbidden for resourceVersion \"0\"",
                ));
            }
            (Some("NotOlderThan") | None, Some(n)) => {
                if n > cache.revision() {
                    return Err(too_large_rv());
                }
                (None, None)
            }
            (Some("NotOlderThan") | None, None) => (None, None),
            (Some(other), _) => {
                return Err(StatusError::bad_request(format!(
                    "resourceVersionMatch: Unsupported value: {other:?}: supported values: \"Exact\", \"NotOlderThan\""
                )));
            }
        }
    };

    let from_cache = match at {
        None => true,
        Some(r) => r == cache.revision(),
    };
    if from_cache {
        let (items, revision, more) = cache.range(&start, &end, after.as_deref(), limit, |k, o| {
            filter.matches(res, k, o)
        });
        let next = if more {
            items.last().map(|(k, _)| encode_continue(revision, k))
        } else {
            None
        };
        return Ok(Page {
            items: items.into_iter().map(|(k, o)| (k, o.raw.clone())).collect(),
            revision,
            next,
        });
    }
    let at = at.unwrap_or_default();
    if at > inner.store.revision() {
        return Err(too_large_rv());
    }
    // Historical read from the store, filling the page past non-matching objects.
    let mut items = Vec::new();
    let mut cursor = after;
    let chunk = if limit == 0 { 0 } else { limit.max(100) };
    loop {
        let (batch, more) = inner
            .store
            .range(&start, &end, cursor.as_deref(), at, chunk)
            .map_err(store_error)?;
        let n = batch.len();
        for kv in batch {
            cursor = Some(kv.key.clone());
            let obj = crate::cache::CachedObject::new(
                kv.value.clone(),
                kv.mod_revision,
                kv.create_revision,
            );
            if filter.matches(res, &kv.key, &obj) {
                if limit > 0 && items.len() == limit {
                    let last = items
                        .last()
                        .map(|(k, _): &(String, Bytes)| k.clone())
                        .unwrap_or_default();
                    return Ok(Page {
                        items,
                        revision: at,
                        next: Some(encode_continue(at, &last)),
                    });
                }
                items.push((kv.key, kv.value));
            }
        }
        if !more || n == 0 {
            return Ok(Page {
                items,
                revision: at,
                next: None,
            });
        }
    }
}

fn too_large_rv() -> StatusError {
    let mut e = StatusError::timeout("Too large resource version");
    e.status.details = Some(apimachinery::StatusDetails {
        retry_after_seconds: Some(1),
        ..Default::default()
    });
    e
}

pub fn store_error(e: store::Error) -> StatusError {
    match e {
        store::Error::Compacted {
            requested,
            compacted,
        } => StatusError::expired(format!(
            "too old resource version: {requested} ({compacted})"
        )),
        other => StatusError::internal(other),
    }
}

pub async fn list(ctx: &Ctx, wanted: Wanted) -> ApiResult {
    let res = ctx.resource.clone();
    let filter = Filter::from_ctx(ctx)?;
    let page = select_page(ctx, &filter)?;
    match wanted {
        Wanted::Table => {
            let values: Vec<Value> = page
                .items
                .iter()
                .map(|(_, raw)| wire::object_value(&res, raw))
                .collect();
            let t = crate::table::table(
                ctx,
                &values,
                &page.revision.to_string(),
                page.next.as_deref(),
            );
            Ok(json_value(200, &t))
        }
        Wanted::Metadata => {
            let items: Vec<Value> = page
                .items
                .iter()
                .map(|(_, raw)| partial_metadata(&wire::object_value(&res, raw)))
                .collect();
            let mut meta = json!({"resourceVersion": page.revision.to_string()});
            if let Some(n) = &page.next {
                meta["continue"] = Value::String(n.clone());
            }
            Ok(json_value(
                200,
                &json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "items": items}),
            ))
        }
        _ => Ok(json_response(200, list_body(&res, &page))),
    }
}

/// `{"kind":"XList","apiVersion":..,"metadata":{..},"items":[..]}` written by
/// concatenating the stored objects, so a large list costs a copy, not a parse.
fn list_body(res: &Arc<Resource>, page: &Page) -> Bytes {
    let total: usize = page.items.iter().map(|(_, r)| r.len() + 1).sum();
    let mut out = BytesMut::with_capacity(total + 256);
    let mut meta = json!({"resourceVersion": page.revision.to_string()});
    if let Some(n) = &page.next {
        meta["continue"] = Value::String(n.clone());
    }
    let head = json!({"kind": format!("{}List", res.kind), "apiVersion": res.api_version(), "metadata": meta});
    let head = serde_json::to_vec(&head).unwrap_or_default();
    out.put_slice(&head[..head.len() - 1]);
    out.put_slice(b",\"items\":[");
    for (i, (_, raw)) in page.items.iter().enumerate() {
        if i > 0 {
            out.put_u8(b',');
        }
        out.put_slice(&wire::list_item(res, raw));
    }
    out.put_slice(b"]}");
    out.freeze()
}

pub fn partial_metadata(obj: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}
