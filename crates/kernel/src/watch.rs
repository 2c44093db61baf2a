//! WATCH: newline-delimited JSON events from the watch cache, with kube-apiserver's
//! start semantics (synthetic ADDED events, resume from a resourceVersion, 410
//! Expired as an in-stream ERROR event), bookmarks, selectors and timeouts.

use crate::cache::{CachedObject, Event, EventKind};
use crate::registry::Resource;
use crate::response::{ApiError, ApiResult, Wanted};
use crate::select::Filter;
use crate::server::Ctx;
use crate::wire;
use apimachinery::StatusError;
use axum::body::Body;
use axum::response::Response;
use bytes::{BufMut, Bytes, BytesMut};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

const BOOKMARK_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

struct Watcher {
    res: Arc<Resource>,
    filter: Filter,
    start: String,
    end: String,
    table: bool,
    sent_columns: bool,
    ctx_query_include: Option<String>,
    inner: Arc<crate::server::Inner>,
    user_ns: Option<String>,
}

impl Watcher {
    fn in_range(&self, key: &str) -> bool {
        key >= self.start.as_str() && key < self.end.as_str()
    }

    fn selected(&self, key: &str, obj: &CachedObject) -> bool {
        self.filter.matches(&self.res, key, obj)
    }

    /// The event a client should see for `ev`, if any.
    fn translate(&self, ev: &Event) -> Option<(EventKind, Arc<CachedObject>)> {
        if !self.in_range(&ev.key) {
            return None;
        }
        let now = self.selected(&ev.key, &ev.object);
        let before = ev
            .previous
            .as_ref()
            .is_some_and(|p| self.selected(&ev.key, p));
        match ev.kind {
            EventKind::Added if now => Some((EventKind::Added, ev.object.clone())),
            EventKind::Modified if now && before => Some((EventKind::Modified, ev.object.clone())),
            EventKind::Modified if now => Some((EventKind::Added, ev.object.clone())),
            EventKind::Modified if before => Some((EventKind::Deleted, ev.object.clone())),
            EventKind::Deleted if before || now => Some((EventKind::Deleted, ev.object.clone())),
            _ => None,
        }
    }

    fn encode(&mut self, kind: &str, obj_bytes: Bytes) -> Bytes {
        let mut out = BytesMut::with_capacity(obj_bytes.len() + 32);
        out.put_slice(b"{\"type\":\"");
        out.put_slice(kind.as_bytes());
        out.put_slice(b"\",\"object\":");
        if self.table && kind != "ERROR" && kind != "BOOKMARK" {
            let v: Value = serde_json::from_slice(&obj_bytes).unwrap_or(Value::Null);
            let rv = v
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let mut t = crate::table::table_for(
                &self.inner,
                &self.res,
                self.ctx_query_include.as_deref(),
                &[v],
                &rv,
                None,
            );
            if self.sent_columns {
                t["columnDefinitions"] = Value::Array(Vec::new());
            }
            self.sent_columns = true;
            out.put_slice(&serde_json::to_vec(&t).unwrap_or_default());
        } else {
            out.put_slice(&obj_bytes);
        }
        out.put_slice(b"}\n");
        let _ = &self.user_ns;
        out.freeze()
    }

    fn object_event(&mut self, kind: EventKind, obj: &CachedObject) -> Bytes {
        let bytes = wire::object(&self.res, &obj.raw);
        self.encode(kind.as_str(), bytes)
    }

    fn bookmark(&mut self, rv: u64, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let obj =
            json!({"kind": self.res.kind, "apiVersion": self.res.api_version(), "metadata": meta});
        self.encode(
            "BOOKMARK",
            Bytes::from(serde_json::to_vec(&obj).unwrap_or_default()),
        )
    }
}

fn error_event(e: &StatusError) -> Bytes {
    let mut out = BytesMut::new();
    out.put_slice(b"{\"type\":\"ERROR\",\"object\":");
    out.put_slice(&e.to_json());
    out.put_slice(b"}\n");
    out.freeze()
}

pub async fn serve(ctx: Ctx, wanted: Wanted) -> ApiResult {
    let res = ctx.resource.clone();
    let mut filter_fields = ctx.q("fieldSelector").map(String::from);
    if let Some(name) = &ctx.req.name {
        // GET .../name?watch=true watches one object.
        let f = format!("metadata.name={name}");
        filter_fields = Some(match filter_fields {
            Some(existing) => format!("{existing},{f}"),
            None => f,
        });
    }
    let filter = Filter::parse(&res, ctx.q("labelSelector"), filter_fields.as_deref())?;
    let bookmarks = matches!(ctx.q("allowWatchBookmarks"), Some("true" | "1"));
    let send_initial = ctx.q("sendInitialEvents").map(|s| s == "true" || s == "1");
    let timeout = match ctx.q("timeoutSeconds") {
        Some(t) => Duration::from_secs(t.parse::<u64>().map_err(|_| {
            ApiError::from(StatusError::bad_request(format!(
                "invalid timeoutSeconds {t:?}"
            )))
        })?),
        None => DEFAULT_TIMEOUT,
    };
    if send_initial.is_some() {
        if ctx.q("resourceVersionMatch") != Some("NotOlderThan") {
            return Err(ApiError::from(StatusError::invalid(
                "ListOptions",
                "meta.k8s.io",
                "",
                &apimachinery::ErrorList(vec![apimachinery::FieldError::forbidden(
                    apimachinery::Path::new("resourceVersionMatch"),
                    "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                )]),
            )));
        }
        if !bookmarks && send_initial == Some(true) {
            return Err(ApiError::from(StatusError::invalid(
                "ListOptions",
                "meta.k8s.io",
                "",
                &apimachinery::ErrorList(vec![apimachinery::FieldError::forbidden(
                    apimachinery::Path::new("allowWatchBookmarks"),
                    "sendInitialEvents requires setting allowWatchBookmarks to true",
                )]),
            )));
        }
    }
    let rv: Option<u64> = match ctx.q("resourceVersion") {
        None => None,
        Some(s) => Some(s.parse::<u64>().map_err(|_| {
            ApiError::from(StatusError::bad_request(format!(
                "invalid resource version {s:?}"
            )))
        })?),
    };
    let (start, end) = res.range(ctx.namespace());
    let mut w = Watcher {
        res: res.clone(),
        filter,
        start: start.clone(),
        end: end.clone(),
        table: wanted == Wanted::Table,
        sent_columns: false,
        ctx_query_include: ctx.q("includeObject").map(String::from),
        inner: ctx.inner.clone(),
        user_ns: ctx.namespace().map(String::from),
    };
    let cache = ctx.inner.cache.clone();
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(256);

    // Decide where the stream starts, before any byte is sent.
    let synthetic =
        send_initial == Some(true) || (send_initial.is_none() && matches!(rv, None | Some(0)));
    let mut initial: Vec<Bytes> = Vec::new();
    let mut last_rv;
    let receiver: broadcast::Receiver<Arc<Event>>;
    if synthetic {
        let (items, rev, r) = cache.snapshot_and_watch(&start, &end);
        for (k, o) in items {
            if w.selected(&k, &o) {
                initial.push(w.object_event(EventKind::Added, &o));
            }
        }
        last_rv = rev;
        if send_initial == Some(true) {
            initial.push(w.bookmark(rev, true));
        }
        receiver = r;
    } else {
        let from = rv.unwrap_or(0);
        match cache.watch_from(from) {
            Ok((backlog, r)) => {
                last_rv = from;
                for ev in backlog {
                    last_rv = ev.revision;
                    if let Some((k, o)) = w.translate(&ev) {
                        initial.push(w.object_event(k, &o));
                    }
                }
                receiver = r;
            }
            Err(too_old) => {
                let e = StatusError::expired(format!(
                    "too old resource version: {} ({})",
                    too_old.requested, too_old.oldest
                ));
                let body = Body::from(error_event(&e));
                return Ok(stream_response(body));
            }
        }
    }

    tokio::spawn(async move {
        let mut receiver = receiver;
        for chunk in initial {
            if tx.send(Ok(chunk)).await.is_err() {
                return;
            }
        }
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut bookmark_tick = tokio::time::interval_at(
            tokio::time::Instant::now() + BOOKMARK_INTERVAL,
            BOOKMARK_INTERVAL,
        );
        loop {
            tokio::select! {
                _ = &mut deadline => {
                    if bookmarks {
                        let _ = tx.send(Ok(w.bookmark(last_rv, false))).await;
                    }
                    return;
                }
                _ = bookmark_tick.tick(), if bookmarks => {
                    if tx.send(Ok(w.bookmark(last_rv, false))).await.is_err() {
                        return;
                    }
                }
                _ = tx.closed() => return,
                ev = receiver.recv() => match ev {
                    Ok(ev) => {
                        if ev.revision <= last_rv {
                            continue;
                        }
                        last_rv = ev.revision;
                        if let Some((k, o)) = w.translate(&ev) {
                            let chunk = w.object_event(k, &o);
                            if tx.send(Ok(chunk)).await.is_err() {
                                return;
                            }
                        }
                    }
                    // Too slow to keep up, or shutting down: end the stream; the
                    // client resumes from the last resourceVersion it saw.
                    Err(_) => return,
                }
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    Ok(stream_response(Body::from_stream(stream)))
}

fn stream_response(body: Body) -> Response {
    let mut r = Response::new(body);
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-cache, private"),
    );
    r
}
