//! A small HTTPS client for the benchmark: mutual TLS from admin.kubeconfig, HTTP/1.1
//! keep-alive connections for request/response loads and HTTP/2 connections for watches.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Where a server is and how to authenticate to it, as read from a kubeconfig.
#[derive(Clone)]
pub struct Endpoint {
    h1: TlsConnector,
    h2: TlsConnector,
    server_name: ServerName<'static>,
    host: String,
    /// The port of the kubeconfig's server URL.
    pub port: u16,
    authority: String,
}

fn decode(doc: &Value, pointer: &str) -> Result<Vec<u8>> {
    let text = doc
        .pointer(pointer)
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("kubeconfig has no {pointer}"))?;
    STANDARD
        .decode(text)
        .with_context(|| format!("kubeconfig {pointer} is not base64"))
}

impl Endpoint {
    /// Reads the first cluster and user of a kubeconfig with inline certificate data (what
    /// `sphere up` writes).
    pub fn from_kubeconfig(path: &Path) -> Result<Endpoint> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let doc: Value =
            serde_saphyr::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let server = doc
            .pointer("/clusters/0/cluster/server")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("kubeconfig has no server"))?;
        let uri: http::Uri = server
            .parse()
            .with_context(|| format!("server {server:?}"))?;
        let host = uri
            .host()
            .ok_or_else(|| anyhow!("server {server:?} has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(443);

        let mut roots = rustls::RootCertStore::empty();
        let ca = decode(&doc, "/clusters/0/cluster/certificate-authority-data")?;
        for cert in rustls_pemfile::certs(&mut ca.as_slice()) {
            roots
                .add(cert.context("CA PEM")?)
                .context("CA certificate")?;
        }
        let cert = decode(&doc, "/users/0/user/client-certificate-data")?;
        let key = decode(&doc, "/users/0/user/client-key-data")?;
        let chain: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut cert.as_slice())
            .collect::<Result<_, _>>()
            .context("client certificate PEM")?;
        let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut key.as_slice())
            .context("client key PEM")?
            .ok_or_else(|| anyhow!("no private key in client-key-data"))?;

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let base = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)?;
        let mut h1 = base.clone();
        h1.alpn_protocols = vec![b"http/1.1".to_vec()];
        let mut h2 = base;
        h2.alpn_protocols = vec![b"h2".to_vec()];

        let server_name =
            ServerName::try_from(host.clone()).map_err(|e| anyhow!("server host {host:?}: {e}"))?;
        let authority = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        Ok(Endpoint {
            h1: TlsConnector::from(Arc::new(h1)),
            h2: TlsConnector::from(Arc::new(h2)),
            server_name,
            host,
            port,
            authority,
        })
    }

    async fn tls(&self, connector: &TlsConnector) -> Result<TlsStream<TcpStream>> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .with_context(|| format!("connecting to {}", self.authority))?;
        tcp.set_nodelay(true)?;
        connector
            .connect(self.server_name.clone(), tcp)
            .await
            .context("TLS handshake")
    }

    /// A new HTTP/1.1 keep-alive connection.
    pub async fn h1(&self) -> Result<H1> {
        let tls = self.tls(&self.h1).await?;
        let (sender, conn) = http1::handshake(TokioIo::new(tls)).await?;
        Ok(H1 {
            sender,
            driver: tokio::spawn(async move {
                // A connection error surfaces on the next request; nothing to do here.
                let _ = conn.await;
            }),
            authority: self.authority.clone(),
        })
    }

    /// A new HTTP/2 connection; clones of it multiplex streams over one TLS session.
    pub async fn h2(&self) -> Result<H2> {
        let tls = self.tls(&self.h2).await?;
        if tls.get_ref().1.alpn_protocol() != Some(b"h2") {
            bail!("server did not negotiate h2");
        }
        let (sender, conn) = http2::handshake(TokioExecutor::new(), TokioIo::new(tls)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(H2 {
            sender,
            authority: self.authority.clone(),
        })
    }
}

fn request(
    method: Method,
    authority: &str,
    path: &str,
    body: Bytes,
) -> Result<Request<Full<Bytes>>> {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::HOST, authority)
        .header(http::header::ACCEPT, "application/json");
    if !body.is_empty() {
        req = req.header(http::header::CONTENT_TYPE, "application/json");
    }
    Ok(req.body(Full::new(body))?)
}

/// One HTTP/1.1 connection, used by one task at a time.
pub struct H1 {
    sender: http1::SendRequest<Full<Bytes>>,
    driver: JoinHandle<()>,
    authority: String,
}

impl H1 {
    /// Sends one request and reads the whole answer.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<(StatusCode, Bytes)> {
        self.sender.ready().await?;
        let resp = self
            .sender
            .send_request(request(method, &self.authority, path, body)?)
            .await?;
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}

impl Drop for H1 {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// One HTTP/2 connection; clone it to open more streams on the same session.
#[derive(Clone)]
pub struct H2 {
    sender: http2::SendRequest<Full<Bytes>>,
    authority: String,
}

impl H2 {
    /// Starts a GET and returns as soon as the response headers arrive, leaving the body
    /// to be streamed.
    pub async fn stream(&mut self, path: &str) -> Result<Response<Incoming>> {
        self.sender.ready().await?;
        Ok(self
            .sender
            .send_request(request(Method::GET, &self.authority, path, Bytes::new())?)
            .await?)
    }
}

/// Fails with the server's message unless `status` is `want`.
pub fn expect_status(what: &str, status: StatusCode, want: StatusCode, body: &[u8]) -> Result<()> {
    if status == want {
        return Ok(());
    }
    let text = String::from_utf8_lossy(body);
    let text = text.get(..300).unwrap_or(&text);
    bail!("{what}: expected {want}, got {status}: {text}")
}
