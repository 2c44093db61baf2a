//! The HTTPS client that posts AdmissionReviews: one HTTP/1.1 connection per call
//! over rustls, the server certificate verified against the webhook's caBundle.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;

/// Where one call goes: the URL kube-apiserver would name in errors, the socket
/// address to dial, and the name the certificate must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `https://host:port/path?timeout=10s`, as posted and as errors show it.
    pub url: String,
    /// `host:port` to connect to.
    pub dial: String,
    /// The TLS server name (DNS name or IP address) to verify.
    pub server_name: String,
}

/// Responses bigger than this are refused rather than buffered.
const MAX_RESPONSE_BYTES: usize = 3 * 1024 * 1024;

/// Why a call did not produce a response body. Rendered the way Go's HTTP client
/// words the same failures, since users compare them with kube-apiserver's.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The URL is not an absolute `https://` URL.
    #[error("{0}")]
    BadUrl(String),
    /// No CA bundle to verify the server with.
    #[error(
        "x509: certificate signed by unknown authority (clientConfig.caBundle is empty and this server has no system trust roots; set caBundle to the PEM CA of the webhook's serving certificate)"
    )]
    NoCaBundle,
    /// The CA bundle holds no usable certificate.
    #[error("invalid clientConfig.caBundle: {0}")]
    BadCaBundle(String),
    /// TCP connect failed.
    #[error("Post {url:?}: dial tcp {dial}: {source}")]
    Dial {
        url: String,
        dial: String,
        #[source]
        source: std::io::Error,
    },
    /// The TLS handshake failed (certificate not trusted, wrong name, ...).
    #[error("Post {url:?}: tls: {source}")]
    Tls {
        url: String,
        #[source]
        source: std::io::Error,
    },
    /// The HTTP exchange failed.
    #[error("Post {url:?}: {reason}")]
    Http { url: String, reason: String },
    /// The webhook answered with a non-2xx status.
    #[error(
        "the server responded with the status code {code} but did not return more information (post {url})"
    )]
    Status { url: String, code: u16 },
    /// The call took longer than the webhook's timeoutSeconds.
    #[error("Post {url:?}: context deadline exceeded")]
    Timeout { url: String },
}

/// Builds the target for a `clientConfig.url`, adding kube-apiserver's `timeout`
/// query parameter.
pub fn url_target(url: &str, timeout: Duration) -> Result<Target, CallError> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| CallError::BadUrl(format!("invalid webhook URL {url:?}: {e}")))?;
    if uri.scheme_str() != Some("https") {
        return Err(CallError::BadUrl(format!(
            "webhook URL {url:?} must use the https scheme"
        )));
    }
    let host = uri
        .host()
        .ok_or_else(|| CallError::BadUrl(format!("webhook URL {url:?} has no host")))?;
    let port = uri.port_u16().unwrap_or(443);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let dial = if bare.contains(':') {
        format!("[{bare}]:{port}")
    } else {
        format!("{bare}:{port}")
    };
    Ok(Target {
        url: with_timeout(url, timeout),
        dial,
        server_name: bare.to_string(),
    })
}

/// `url` with `timeout=<n>s` appended to its query, as kube-apiserver posts it.
pub fn with_timeout(url: &str, timeout: Duration) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}timeout={}s", timeout.as_secs())
}

fn tls_config(ca_pem: Option<&[u8]>) -> Result<rustls::ClientConfig, CallError> {
    let pem = ca_pem.ok_or(CallError::NoCaBundle)?;
    let mut roots = rustls::RootCertStore::empty();
    let mut reader = std::io::BufReader::new(pem);
    for cert in rustls_pemfile::certs(&mut reader) {
        let cert = cert.map_err(|e| CallError::BadCaBundle(e.to_string()))?;
        roots
            .add(cert)
            .map_err(|e| CallError::BadCaBundle(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(CallError::BadCaBundle(
            "no PEM certificates found".to_string(),
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| CallError::BadCaBundle(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(cfg)
}

/// POSTs `body` to `target` and returns the response body, all within `timeout`.
pub async fn post(
    target: &Target,
    ca_pem: Option<&[u8]>,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<Bytes, CallError> {
    let cfg = tls_config(ca_pem)?;
    match tokio::time::timeout(timeout, exchange(target, cfg, body)).await {
        Ok(r) => r,
        Err(_) => Err(CallError::Timeout {
            url: target.url.clone(),
        }),
    }
}

async fn exchange(
    target: &Target,
    cfg: rustls::ClientConfig,
    body: Vec<u8>,
) -> Result<Bytes, CallError> {
    let url = target.url.clone();
    let http_err = |reason: String| CallError::Http {
        url: url.clone(),
        reason,
    };
    let server_name = rustls::pki_types::ServerName::try_from(target.server_name.clone())
        .map_err(|e| CallError::BadUrl(format!("invalid host {:?}: {e}", target.server_name)))?;
    let tcp = tokio::net::TcpStream::connect(&target.dial)
        .await
        .map_err(|source| CallError::Dial {
            url: url.clone(),
            dial: target.dial.clone(),
            source,
        })?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(cfg))
        .connect(server_name, tcp)
        .await
        .map_err(|source| CallError::Tls {
            url: url.clone(),
            source,
        })?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .map_err(|e| http_err(e.to_string()))?;
    let driver = tokio::spawn(async move {
        // The connection ends with the exchange; its error, if any, surfaces
        // through `send_request` already.
        let _ = conn.await;
    });
    let uri: http::Uri = url.parse().map_err(|e| http_err(format!("{e}")))?;
    let host = uri
        .authority()
        .map(|a| a.as_str().to_string())
        .unwrap_or_default();
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let req = http::Request::post(path)
        .header(http::header::HOST, host)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::ACCEPT, "application/json, */*")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| http_err(e.to_string()))?;
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| http_err(e.to_string()))?;
    let code = resp.status().as_u16();
    let collected = Limited::new(resp.into_body(), MAX_RESPONSE_BYTES)
        .collect()
        .await
        .map_err(|e| http_err(e.to_string()))?
        .to_bytes();
    driver.abort();
    if !(200..300).contains(&code) {
        return Err(CallError::Status { url, code });
    }
    Ok(collected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t =
            url_target("https://127.0.0.1:8443/validate", Duration::from_secs(10)).expect("valid");
        assert_eq!(t.url, "https://127.0.0.1:8443/validate?timeout=10s");
        assert_eq!(t.dial, "127.0.0.1:8443");
        assert_eq!(t.server_name, "127.0.0.1");
        let t =
            url_target("https://hooks.example.com/x?a=b", Duration::from_secs(5)).expect("valid");
        assert_eq!(t.url, "https://hooks.example.com/x?a=b&timeout=5s");
        assert_eq!(t.dial, "hooks.example.com:443");
        assert!(url_target("http://x/", Duration::from_secs(1)).is_err());
        assert!(url_target("not a url", Duration::from_secs(1)).is_err());
    }

    #[test]
    fn no_ca_bundle_fails_closed() {
        let e = tls_config(None).expect_err("no roots");
        assert!(e.to_string().contains("caBundle"));
        assert!(matches!(
            tls_config(Some(b"garbage")),
            Err(CallError::BadCaBundle(_))
        ));
    }
}
