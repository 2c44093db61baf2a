//! Building HTTP responses: JSON bodies, `Status` errors, warnings, and what the
//! client's `Accept` header asks for.

use apimachinery::StatusError;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

/// An API error rendered as a Kubernetes `Status`.
#[derive(Debug)]
pub struct ApiError(pub StatusError);

impl From<StatusError> for ApiError {
    fn from(e: StatusError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.0.code(), self.0.to_json())
    }
}

pub type ApiResult<T = Response> = Result<T, ApiError>;

pub fn json_response(code: u16, body: impl Into<Body>) -> Response {
    let mut r = Response::new(body.into());
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

pub fn json_value(code: u16, v: &serde_json::Value) -> Response {
    json_response(code, serde_json::to_vec(v).unwrap_or_default())
}

/// Adds `Warning: 299 - "<text>"` headers, as kube-apiserver does for field
/// validation warnings and deprecations.
pub fn with_warnings(mut r: Response, warnings: &[String]) -> Response {
    for w in warnings {
        let text = format!("299 - {}", quote_warning(w));
        if let Ok(v) = HeaderValue::from_str(&text) {
            r.headers_mut().append("warning", v);
        }
    }
    r
}

fn quote_warning(s: &str) -> String {
    let escaped: String = s
        .chars()
        .filter(|c| !c.is_control())
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            c => vec![c],
        })
        .collect();
    format!("\"{escaped}\"")
}

/// What representation the client accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    Json,
    /// `application/yaml`: the JSON answer rendered as YAML.
    Yaml,
    /// `application/json;as=Table;g=meta.k8s.io;v=v1`
    Table,
    /// `application/json;as=PartialObjectMetadata[List];g=meta.k8s.io;v=v1`
    Metadata,
    /// `application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`
    AggregatedDiscovery,
}

/// Picks the first acceptable media type from `Accept`, in the client's order.
/// Protobuf alone is refused with 406 rather than answered with JSON the client
/// would misread.
pub fn negotiate(accept: Option<&str>) -> Result<Wanted, StatusError> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Ok(Wanted::Json);
    };
    for part in accept.split(',') {
        let mut params = part.split(';').map(str::trim);
        let media = params.next().unwrap_or_default().to_ascii_lowercase();
        let mut as_ = "";
        let mut g = "";
        let mut v = "";
        for p in params {
            if let Some((k, val)) = p.split_once('=') {
                match k.trim() {
                    "as" => as_ = val.trim(),
                    "g" => g = val.trim(),
                    "v" => v = val.trim(),
                    _ => {}
                }
            }
        }
        match media.as_str() {
            "application/yaml" if as_.is_empty() => return Ok(Wanted::Yaml),
            "application/json" | "application/*" | "*/*" => match (as_, g, v) {
                ("", _, _) => return Ok(Wanted::Json),
                ("Table", "meta.k8s.io", "v1") => return Ok(Wanted::Table),
                ("PartialObjectMetadata" | "PartialObjectMetadataList", "meta.k8s.io", "v1") => {
                    return Ok(Wanted::Metadata);
                }
                ("APIGroupDiscoveryList", "apidiscovery.k8s.io", "v2") => {
                    return Ok(Wanted::AggregatedDiscovery);
                }
                _ => continue,
            },
            _ => continue,
        }
    }
    Err(StatusError::not_acceptable(
        "only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io, application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io",
    ))
}

/// Re-renders a JSON response as YAML for clients that asked for it.
pub async fn into_yaml(r: Response) -> Response {
    let is_json = r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        == Some("application/json");
    if !is_json {
        return r;
    }
    let (mut parts, body) = r.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let yaml = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| serde_saphyr::to_string(&v).ok());
    match yaml {
        Some(y) => {
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/yaml"),
            );
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(y))
        }
        None => Response::from_parts(parts, Body::from(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_headers_kubectl_sends() {
        assert_eq!(negotiate(None).ok(), Some(Wanted::Json));
        let kubectl_get = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(negotiate(Some(kubectl_get)).ok(), Some(Wanted::Table));
        let disco = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(
            negotiate(Some(disco)).ok(),
            Some(Wanted::AggregatedDiscovery)
        );
        assert_eq!(
            negotiate(Some(
                "application/vnd.kubernetes.protobuf, application/json"
            ))
            .ok(),
            Some(Wanted::Json)
        );
        assert_eq!(
            negotiate(Some("application/vnd.kubernetes.protobuf")).map_err(|e| e.code()),
            Err(406)
        );
        assert_eq!(
            negotiate(Some("application/json;as=Table;v=v1beta1;g=meta.k8s.io"))
                .map_err(|e| e.code()),
            Err(406)
        );
    }

    #[test]
    fn warnings_are_quoted() {
        assert_eq!(
            quote_warning("unknown field \"bogus\""),
            "\"unknown field \\\"bogus\\\"\""
        );
    }
}
