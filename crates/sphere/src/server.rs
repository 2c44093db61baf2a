//! The HTTPS server: TLS accept, HTTP/1.1 and HTTP/2 on one port, the client
//! certificate's identity put into each request, and a graceful shutdown that waits
//! for ordinary requests but cuts long-running ones (watches, logs, exec).

use crate::longrunning::is_long_running;
use crate::tls::TlsSetup;
use apimachinery::UserInfo;
use axum::Router;
use axum::extract::ConnectInfo;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Go's `http.DefaultMaxHeaderBytes`, which kube-apiserver keeps.
pub const MAX_HEADER_BYTES: usize = 1 << 20;
/// kube-apiserver's default `--http2-max-streams-per-connection`.
pub const HTTP2_MAX_STREAMS: u32 = 1000;

/// How long shutdown lets finished connections flush before cutting the rest.
const FLUSH_WINDOW: Duration = Duration::from_millis(250);

/// Tunables of the server; the defaults are what `sphere` runs with.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// How long shutdown waits for ordinary in-flight requests.
    pub grace: Duration,
    /// A client that has not finished the TLS handshake by then is dropped.
    pub handshake_timeout: Duration,
    /// A client that has not sent complete HTTP/1 headers by then is dropped.
    pub header_read_timeout: Duration,
    /// HTTP/2 PING interval, so dead peers of idle watches are noticed.
    pub h2_keepalive_interval: Duration,
    /// How long an HTTP/2 PING may stay unanswered.
    pub h2_keepalive_timeout: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            grace: Duration::from_secs(5),
            handshake_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(30),
            h2_keepalive_interval: Duration::from_secs(30),
            h2_keepalive_timeout: Duration::from_secs(20),
        }
    }
}

/// How the server stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Connections still open when the server stopped waiting (long-running
    /// requests, idle keep-alives, or ordinary requests past the grace period).
    pub cut_connections: usize,
    /// True when ordinary requests were still running at the end of the grace period.
    pub grace_expired: bool,
}

/// Serves `router` over TLS on `listener` until `shutdown` completes, then stops
/// accepting, lets ordinary requests finish within `opts.grace`, and cuts the rest.
pub async fn serve(
    listener: TcpListener,
    tls: TlsSetup,
    router: Router,
    shutdown: impl Future<Output = ()>,
    opts: ServerOptions,
) -> ShutdownReport {
    let builder = Arc::new(http_builder(&opts));
    let acceptor = TlsAcceptor::from(Arc::clone(&tls.config));
    let inflight = InFlight::default();
    let cancel = CancellationToken::new();
    let mut conns = JoinSet::new();
    let mut shutdown = pin!(shutdown);

    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let conn = Connection {
                        acceptor: acceptor.clone(),
                        tls: tls.clone(),
                        builder: Arc::clone(&builder),
                        router: router.clone(),
                        inflight: inflight.clone(),
                        cancel: cancel.clone(),
                        handshake_timeout: opts.handshake_timeout,
                    };
                    conns.spawn(conn.run(tcp, peer));
                }
                Err(err) => {
                    // Usually EMFILE: back off instead of spinning on a full fd table.
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }

    drop(listener);
    cancel.cancel();
    let deadline = tokio::time::sleep(opts.grace);
    let mut deadline = pin!(deadline);
    let mut idle = pin!(inflight.wait_idle());
    let grace_expired = loop {
        tokio::select! {
            () = &mut deadline => break true,
            () = &mut idle => break false,
            joined = conns.join_next() => if joined.is_none() { break false },
        }
    };
    if !grace_expired {
        // The last ordinary response may still sit in a connection's write buffer when
        // its body is dropped; give connections a moment to flush and close on their
        // own. Only long-running ones are still open after that.
        let flush = tokio::time::sleep(FLUSH_WINDOW);
        let mut flush = pin!(flush);
        loop {
            tokio::select! {
                () = &mut deadline => break,
                () = &mut flush => break,
                joined = conns.join_next() => if joined.is_none() { break },
            }
        }
    }
    let cut_connections = conns.len();
    conns.shutdown().await;
    ShutdownReport {
        cut_connections,
        grace_expired,
    }
}

fn http_builder(opts: &ServerOptions) -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(opts.header_read_timeout)
        .max_buf_size(MAX_HEADER_BYTES)
        .max_headers(1000);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(opts.h2_keepalive_interval)
        .keep_alive_timeout(opts.h2_keepalive_timeout)
        .max_concurrent_streams(HTTP2_MAX_STREAMS)
        .max_header_list_size(MAX_HEADER_BYTES as u32);
    builder
}

/// Everything one accepted connection needs.
struct Connection {
    acceptor: TlsAcceptor,
    tls: TlsSetup,
    builder: Arc<Builder<TokioExecutor>>,
    router: Router,
    inflight: InFlight,
    cancel: CancellationToken,
    handshake_timeout: Duration,
}

impl Connection {
    async fn run(self, tcp: TcpStream, peer: SocketAddr) {
        // Nagle would delay the small frames of watch events.
        let _ = tcp.set_nodelay(true);
        let stream =
            match tokio::time::timeout(self.handshake_timeout, self.acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(err)) => {
                    tracing::debug!(%peer, %err, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
        let identity = self
            .tls
            .authenticator
            .authenticate(stream.get_ref().1.peer_certificates());
        let service = request_service(self.router, identity, peer, self.inflight);
        let conn = self
            .builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service);
        let mut conn = pin!(conn);
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(%peer, %err, "connection ended with an error");
                }
                return;
            }
            () = self.cancel.cancelled() => {}
        }
        conn.as_mut().graceful_shutdown();
        if let Err(err) = conn.await {
            tracing::debug!(%peer, %err, "connection ended with an error during shutdown");
        }
    }
}

/// The per-connection hyper service: adds the connection's identity and peer address
/// to each request and hands it to the router.
fn request_service(
    router: Router,
    identity: Option<UserInfo>,
    peer: SocketAddr,
    inflight: InFlight,
) -> impl hyper::service::Service<
    http::Request<Incoming>,
    Response = http::Response<TrackedBody>,
    Error = Infallible,
    Future: Send + 'static,
> + Clone {
    service_fn(move |mut req: http::Request<Incoming>| {
        let router = router.clone();
        let identity = identity.clone();
        let inflight = inflight.clone();
        async move {
            let guard = (!is_long_running(&req)).then(|| inflight.enter());
            let extensions = req.extensions_mut();
            extensions.insert(ConnectInfo(peer));
            if let Some(user) = identity {
                extensions.insert(user);
            }
            let response = match router.oneshot(req).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            Ok(response.map(|inner| TrackedBody {
                inner,
                _guard: guard,
            }))
        }
    })
}

/// Counts ordinary requests in flight, so shutdown knows when they are done.
#[derive(Clone)]
struct InFlight(Arc<watch::Sender<usize>>);

impl Default for InFlight {
    fn default() -> Self {
        InFlight(Arc::new(watch::Sender::new(0)))
    }
}

impl InFlight {
    fn enter(&self) -> InFlightGuard {
        self.0.send_modify(|n| *n += 1);
        InFlightGuard(Arc::clone(&self.0))
    }

    async fn wait_idle(&self) {
        let mut rx = self.0.subscribe();
        // The sender lives in `self`, so the channel cannot close while we wait.
        let _ = rx.wait_for(|n| *n == 0).await;
    }
}

struct InFlightGuard(Arc<watch::Sender<usize>>);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// A response body that keeps its request counted until the body is finished or
/// dropped: a large list is still "in flight" while it streams.
pub struct TrackedBody {
    inner: axum::body::Body,
    _guard: Option<InFlightGuard>,
}

impl Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn inflight_counts_and_waits() {
        let inflight = InFlight::default();
        inflight.wait_idle().await;
        let guard = inflight.enter();
        let waiter = tokio::spawn({
            let inflight = inflight.clone();
            async move { inflight.wait_idle().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(guard);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap();
    }
}
