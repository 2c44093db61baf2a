//! A raw HTTPS client authenticated as the kubeconfig's user, for what kubectl cannot send
//! (custom Accept headers, oversized bodies, concurrent writers).

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderMap, Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::error::{Error, Result};

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Response body.
    pub body: Bytes,
}

impl RawResponse {
    /// The body parsed as JSON.
    pub fn json(&self) -> Result<Value> {
        Ok(serde_json::from_slice(&self.body)?)
    }

    /// The body as (lossy) UTF-8 text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// An HTTPS client for one cluster, configured from a kubeconfig's current context.
#[derive(Clone)]
pub struct RawClient {
    connector: TlsConnector,
    roots: Arc<rustls::RootCertStore>,
    server_name: ServerName<'static>,
    host: String,
    port: u16,
    token: Option<String>,
}

fn field<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn decode(v: &Value, pointer: &str) -> Result<Option<Vec<u8>>> {
    field(v, pointer)
        .map(|s| {
            STANDARD
                .decode(s)
                .map_err(|e| Error::Kubeconfig(format!("{pointer} is not base64: {e}")))
        })
        .transpose()
}

fn tls_builder(
    roots: &Arc<rustls::RootCertStore>,
) -> Result<rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_root_certificates(Arc::clone(roots)))
}

/// Percent-encodes a query parameter value (continue tokens are opaque and may hold `=`, `+`, `/`).
pub fn query_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl RawClient {
    /// Reads the current context of `kubeconfig` (flattened by kubectl, so file references
    /// and inline data are handled alike).
    pub fn from_kubeconfig(kubeconfig: &Path) -> Result<RawClient> {
        let bin = std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".into());
        let out = Command::new(bin)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args([
                "config",
                "view",
                "--raw",
                "--minify",
                "--flatten",
                "-o",
                "json",
            ])
            .output()
            .map_err(|e| Error::io("running kubectl config view", e))?;
        if !out.status.success() {
            return Err(Error::Kubeconfig(
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ));
        }
        let config: Value = serde_json::from_slice(&out.stdout)?;
        let server = field(&config, "/clusters/0/cluster/server")
            .ok_or_else(|| Error::Kubeconfig("no cluster server".into()))?;
        let uri: Uri = server
            .parse()
            .map_err(|e| Error::Kubeconfig(format!("server {server:?}: {e}")))?;
        let host = uri
            .host()
            .ok_or_else(|| Error::Kubeconfig(format!("server {server:?} has no host")))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(443);

        let mut roots = rustls::RootCertStore::empty();
        let ca = decode(&config, "/clusters/0/cluster/certificate-authority-data")?
            .ok_or_else(|| Error::Kubeconfig("no certificate-authority-data".into()))?;
        for cert in rustls_pemfile::certs(&mut ca.as_slice()) {
            let cert = cert.map_err(|e| Error::Tls(format!("CA PEM: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| Error::Tls(format!("CA certificate: {e}")))?;
        }
        let roots = Arc::new(roots);
        let builder = tls_builder(&roots)?;
        let cert = decode(&config, "/users/0/user/client-certificate-data")?;
        let key = decode(&config, "/users/0/user/client-key-data")?;
        let tls = match (cert, key) {
            (Some(cert), Some(key)) => {
                let chain: Vec<CertificateDer<'static>> =
                    rustls_pemfile::certs(&mut cert.as_slice())
                        .collect::<std::result::Result<_, _>>()
                        .map_err(|e| Error::Tls(format!("client certificate PEM: {e}")))?;
                let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut key.as_slice())
                    .map_err(|e| Error::Tls(format!("client key PEM: {e}")))?
                    .ok_or_else(|| Error::Tls("no private key in client-key-data".into()))?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| Error::Tls(e.to_string()))?
            }
            _ => builder.with_no_client_auth(),
        };
        let server_name = ServerName::try_from(host.clone())
            .map_err(|e| Error::Kubeconfig(format!("server host {host:?}: {e}")))?;
        Ok(RawClient {
            connector: TlsConnector::from(Arc::new(tls)),
            roots,
            server_name,
            host,
            port,
            token: field(&config, "/users/0/user/token").map(str::to_owned),
        })
    }

    /// A client for `url` (`https://host:port`) trusting the CA in `ca_file` (PEM),
    /// with no credentials.
    pub fn for_server(url: &str, ca_file: &Path) -> Result<RawClient> {
        let uri: Uri = url
            .parse()
            .map_err(|e| Error::Kubeconfig(format!("server {url:?}: {e}")))?;
        let host = uri
            .host()
            .ok_or_else(|| Error::Kubeconfig(format!("server {url:?} has no host")))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(443);
        let pem = std::fs::read(ca_file)
            .map_err(|e| Error::io(format!("reading {}", ca_file.display()), e))?;
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
            let cert = cert.map_err(|e| Error::Tls(format!("CA PEM: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| Error::Tls(format!("CA certificate: {e}")))?;
        }
        let roots = Arc::new(roots);
        let tls = tls_builder(&roots)?.with_no_client_auth();
        let server_name = ServerName::try_from(host.clone())
            .map_err(|e| Error::Kubeconfig(format!("server host {host:?}: {e}")))?;
        Ok(RawClient {
            connector: TlsConnector::from(Arc::new(tls)),
            roots,
            server_name,
            host,
            port,
            token: None,
        })
    }

    /// The same server with a bearer token and no client certificate.
    pub fn with_token(&self, token: &str) -> RawClient {
        RawClient {
            token: Some(token.to_owned()),
            ..self.anonymous()
        }
    }

    /// The server's URL.
    pub fn url(&self) -> String {
        if self.host.contains(':') {
            format!("https://[{}]:{}", self.host, self.port)
        } else {
            format!("https://{}:{}", self.host, self.port)
        }
    }

    /// `method path` with a JSON body (or none) and a JSON content type.
    pub fn json(&self, method: Method, path: &str, body: Option<&Value>) -> Result<RawResponse> {
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        self.request_blocking(method, path, &[("content-type", "application/json")], bytes)
    }

    /// `POST path` with a form-encoded body, as OAuth clients send.
    pub fn form(&self, path: &str, fields: &[(&str, &str)]) -> Result<RawResponse> {
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}={}", query_escape(k), query_escape(v)))
            .collect();
        self.request_blocking(
            Method::POST,
            path,
            &[("content-type", "application/x-www-form-urlencoded")],
            body.join("&").into_bytes(),
        )
    }

    /// The same server without any credentials: no client certificate, no token.
    pub fn anonymous(&self) -> RawClient {
        let connector = tls_builder(&self.roots)
            .map(|b| TlsConnector::from(Arc::new(b.with_no_client_auth())))
            .unwrap_or_else(|_| self.connector.clone());
        RawClient {
            connector,
            roots: Arc::clone(&self.roots),
            server_name: self.server_name.clone(),
            host: self.host.clone(),
            port: self.port,
            token: None,
        }
    }

    /// Sends one request on a fresh connection and reads the whole answer.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<RawResponse> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| Error::io(format!("connecting to {}:{}", self.host, self.port), e))?;
        let tls = self
            .connector
            .connect(self.server_name.clone(), tcp)
            .await
            .map_err(|e| Error::Tls(format!("handshake: {e}")))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| Error::Http(format!("handshake: {e}")))?;
        let driver = tokio::spawn(conn);
        let authority = if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        };
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::HOST, authority);
        if let Some(token) = &self.token {
            req = req.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| Error::Http(format!("building request: {e}")))?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| Error::Http(format!("sending {path}: {e}")))?;
        let (parts, body) = resp.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| Error::Http(format!("reading {path}: {e}")))?
            .to_bytes();
        driver.abort();
        Ok(RawResponse {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        })
    }

    /// [`RawClient::request`] on a private runtime, for synchronous tests.
    pub fn request_blocking(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<RawResponse> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("building a tokio runtime", e))?;
        rt.block_on(self.request(method, path, headers, body))
    }

    /// `GET path` with default headers.
    pub fn get(&self, path: &str) -> Result<RawResponse> {
        self.request_blocking(Method::GET, path, &[], Vec::new())
    }
}
