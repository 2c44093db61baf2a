//! A small JSON-over-HTTPS client for provider endpoints (hyper + rustls, timeouts, size limit).

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use crate::error::{IdpError, Result};

/// Provider documents are small; a larger answer is a misbehaving or hostile server.
const MAX_BODY: usize = 1 << 20;

/// HTTP client bound to one provider's TLS settings.
#[derive(Clone)]
pub(crate) struct HttpClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

/// A response whose body parsed as JSON (or `Value::Null` when it did not).
pub(crate) struct JsonResponse {
    pub status: StatusCode,
    pub body: Value,
}

impl HttpClient {
    pub(crate) fn new(tls: rustls::ClientConfig, timeout: Duration) -> Self {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        HttpClient {
            client: Client::builder(TokioExecutor::new()).build(connector),
            timeout,
        }
    }

    /// GET a JSON document, optionally with a bearer token.
    pub(crate) async fn get_json(&self, url: &str, bearer: Option<&str>) -> Result<JsonResponse> {
        let mut req = Request::builder()
            .method(Method::GET)
            .uri(url)
            .header(header::ACCEPT, "application/json");
        if let Some(token) = bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let req = req
            .body(Full::new(Bytes::new()))
            .map_err(|e| IdpError::Config(format!("bad URL {url:?}: {e}")))?;
        self.send(url, req).await
    }

    /// POST a form (`application/x-www-form-urlencoded`) and read a JSON answer.
    pub(crate) async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> Result<JsonResponse> {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let req = Request::builder()
            .method(Method::POST)
            .uri(url)
            .header(header::ACCEPT, "application/json")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| IdpError::Config(format!("bad URL {url:?}: {e}")))?;
        self.send(url, req).await
    }

    async fn send(&self, url: &str, req: Request<Full<Bytes>>) -> Result<JsonResponse> {
        let exchange = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| IdpError::Unavailable(format!("{url}: {e}")))?;
            let status = resp.status();
            let body = Limited::new(resp.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|e| IdpError::Unavailable(format!("{url}: reading the answer: {e}")))?
                .to_bytes();
            Ok::<_, IdpError>((status, body))
        };
        let (status, body) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| IdpError::Unavailable(format!("{url}: timed out")))??;
        let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
        Ok(JsonResponse { status, body })
    }
}
