//! In-process tests of graceful shutdown: ordinary requests in flight finish, watches
//! are cut, the listener closes, and the grace period bounds the wait.

// Tests fail loudly on purpose.
#![allow(clippy::unwrap_used)]

mod common;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use bytes::Bytes;
use common::https_request;
use sphere::server::{ServerOptions, ShutdownReport, serve};
use sphere::{pki, tls};
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

/// A response body that never ends, like an idle watch.
struct Endless;

impl http_body::Body for Endless {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        Poll::Pending
    }
}

fn router(slow: Duration) -> Router {
    Router::new()
        .route(
            "/slow",
            get(move || async move {
                tokio::time::sleep(slow).await;
                "done"
            }),
        )
        .route("/api/v1/pods", get(|| async { Body::new(Endless) }))
}

struct Harness {
    port: u16,
    ca_pem: String,
    stop: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<ShutdownReport>,
    _dir: tempfile::TempDir,
}

async fn start(slow: Duration, grace: Duration) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki::ensure(dir.path(), IpAddr::from([127, 0, 0, 1])).unwrap();
    let tls = tls::server_tls(&pki).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = oneshot::channel::<()>();
    let opts = ServerOptions {
        grace,
        ..ServerOptions::default()
    };
    let server = tokio::spawn(serve(
        listener,
        tls,
        router(slow),
        async {
            let _ = stopped.await;
        },
        opts,
    ));
    Harness {
        port,
        ca_pem: pki.ca.cert_pem().to_owned(),
        stop,
        server,
        _dir: dir,
    }
}

/// Opens a watch and returns a task that resolves when the server closes it.
async fn open_watch(port: u16, ca_pem: &str) -> tokio::task::JoinHandle<()> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let mut stream = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(
            rustls::pki_types::ServerName::try_from("localhost").unwrap(),
            tcp,
        )
        .await
        .unwrap();
    stream
        .write_all(b"GET /api/v1/pods?watch=true HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "watch closed before its headers");
        head.extend_from_slice(&buf[..n]);
    }
    assert!(head.starts_with(b"HTTP/1.1 200"));
    tokio::spawn(async move { while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {} })
}

#[tokio::test]
async fn inflight_requests_finish_and_watches_are_cut() {
    let h = start(Duration::from_millis(800), Duration::from_secs(5)).await;
    let watch = open_watch(h.port, &h.ca_pem).await;
    let port = h.port;
    let ca = h.ca_pem.clone();
    let slow = tokio::spawn(async move {
        https_request(
            port,
            &ca,
            None,
            &[b"http/1.1"],
            "GET /slow HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    h.stop.send(()).unwrap();
    let report = tokio::time::timeout(Duration::from_secs(10), h.server)
        .await
        .unwrap()
        .unwrap();
    let took = started.elapsed();

    let (_, code, body) = slow.await.unwrap();
    assert_eq!((code, body.as_str()), (200, "done"));
    assert!(
        took < Duration::from_secs(3),
        "took {took:?}: the watch was waited for"
    );
    assert!(!report.grace_expired);
    assert_eq!(report.cut_connections, 1, "{report:?}");
    tokio::time::timeout(Duration::from_secs(5), watch)
        .await
        .expect("watch connection still open after shutdown")
        .unwrap();
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err(),
        "listener still accepting"
    );
}

#[tokio::test]
async fn the_grace_period_bounds_the_wait() {
    let h = start(Duration::from_secs(30), Duration::from_millis(300)).await;
    let port = h.port;
    let ca = h.ca_pem.clone();
    let slow = tokio::spawn(async move {
        https_request(
            port,
            &ca,
            None,
            &[b"http/1.1"],
            "GET /slow HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    h.stop.send(()).unwrap();
    let report = tokio::time::timeout(Duration::from_secs(10), h.server)
        .await
        .unwrap()
        .unwrap();
    assert!(report.grace_expired);
    assert_eq!(report.cut_connections, 1);
    assert!(started.elapsed() < Duration::from_secs(2));
    slow.abort();
}
