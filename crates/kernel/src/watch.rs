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

mod fanout;
pub(crate) use fanout::Fanout;

const BOOKMARK_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

struct Watcher {
    res: Arc<Resource>,
    filter: Arc<Filter>,
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
        Self::kind_for(ev, now, before)
    }

    /// The event a client sees given whether the new and the old object are selected.
    fn kind_for(ev: &Event, now: bool, before: bool) -> Option<(EventKind, Arc<CachedObject>)> {
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
    let filter = Arc::new(Filter::parse(
        &res,
        ctx.q("labelSelector"),
        filter_fields.as_deref(),
    )?);
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
    // Subscribed before the snapshot or backlog is taken, so nothing falls in between.
    let indexed = Fanout::index_term(&res, &filter).map(|term| {
        ctx.inner
            .fanout
            .subscribe(&res, term, &start, &end, filter.clone())
    });
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

    let mut source = match indexed {
        Some(sub) => {
            drop(receiver);
            Source::Indexed(sub, ctx.inner.fanout.clone())
        }
        None => Source::All(receiver),
    };
    tokio::spawn(async move {
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
                        let Some(rv) = source.progress(&mut w, &tx, &mut last_rv).await else {
                            return;
                        };
                        let _ = tx.send(Ok(w.bookmark(rv, false))).await;
                    }
                    return;
                }
                _ = bookmark_tick.tick(), if bookmarks => {
                    let Some(rv) = source.progress(&mut w, &tx, &mut last_rv).await else {
                        return;
                    };
                    if tx.send(Ok(w.bookmark(rv, false))).await.is_err() {
                        return;
                    }
                }
                _ = tx.closed() => return,
                // None: too slow to keep up, or shutting down: end the stream; the
                // client resumes from the last resourceVersion it saw.
                next = source.next() => match next {
                    Some(item) => {
                        if !forward(&mut w, &tx, &mut last_rv, item).await {
                            return;
                        }
                    }
                    None => return,
                }
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    Ok(stream_response(Body::from_stream(stream)))
}

/// One event for a watch, and (for indexed watches) the selection already decided.
struct Item {
    event: Arc<Event>,
    selection: Option<(bool, bool)>,
}

/// Where a watch's events come from.
enum Source {
    /// Every event of the cache, filtered by the watch itself.
    All(broadcast::Receiver<Arc<Event>>),
    /// Only the events the indexed fan-out selected for this watch.
    Indexed(fanout::Subscription, Arc<Fanout>),
}

impl Source {
    async fn next(&mut self) -> Option<Item> {
        match self {
            Source::All(r) => r.recv().await.ok().map(|event| Item {
                event,
                selection: None,
            }),
            Source::Indexed(sub, _) => sub.rx.recv().await.map(|d| Item {
                event: d.event,
                selection: Some((d.now, d.before)),
            }),
        }
    }

    /// The revision a bookmark may carry now. An indexed watch sees only its own
    /// events, so it drains what the fan-out queued up to its dispatched revision
    /// first; `None` when the client went away meanwhile.
    async fn progress(
        &mut self,
        w: &mut Watcher,
        tx: &mpsc::Sender<Result<Bytes, std::io::Error>>,
        last_rv: &mut u64,
    ) -> Option<u64> {
        match self {
            Source::All(_) => Some(*last_rv),
            Source::Indexed(sub, fan) => {
                let dispatched = fan.dispatched();
                while let Ok(d) = sub.rx.try_recv() {
                    let item = Item {
                        event: d.event,
                        selection: Some((d.now, d.before)),
                    };
                    if !forward(w, tx, last_rv, item).await {
                        return None;
                    }
                }
                *last_rv = (*last_rv).max(dispatched);
                Some(*last_rv)
            }
        }
    }
}

/// Sends one event to the client unless it was already covered; false once the
/// client is gone.
async fn forward(
    w: &mut Watcher,
    tx: &mpsc::Sender<Result<Bytes, std::io::Error>>,
    last_rv: &mut u64,
    item: Item,
) -> bool {
    let ev = item.event;
    if ev.revision <= *last_rv {
        return true;
    }
    *last_rv = ev.revision;
    let out = match item.selection {
        None => w.translate(&ev),
        Some((now, before)) => Watcher::kind_for(&ev, now, before),
    };
    if let Some((k, o)) = out {
        let chunk = w.object_event(k, &o);
        return tx.send(Ok(chunk)).await.is_ok();
    }
    true
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
