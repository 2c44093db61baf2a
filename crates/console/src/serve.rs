//! The request handler: asset lookup, SPA fallback, caching headers and security headers.

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};

use crate::asset::{Asset, Encoded, find};
use crate::negotiate::{Coding, accepts, none_match};

/// The policy sent with every response. The console loads nothing from elsewhere, runs no inline
/// script and needs no inline `<style>` (its component library's CSS is a static file).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Paths that belong to the APIs the gateway serves: never answered with the console's HTML,
/// so an API typo gives a 404 a client can understand instead of a web page.
pub const RESERVED_PREFIXES: &[&str] = &[
    "/api",
    "/apis",
    "/kapis",
    "/oauth",
    "/.well-known",
    "/healthz",
    "/livez",
    "/readyz",
    "/version",
    "/metrics",
    "/openapi",
];

/// Whether `path` is one of [`RESERVED_PREFIXES`] or below it (`/apis` is reserved, `/apiserver`
/// is not).
pub fn is_reserved(path: &str) -> bool {
    RESERVED_PREFIXES.iter().any(|prefix| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// Extensions of files a build emits: a missing one is a 404, not the SPA's `index.html`
/// (which a browser would otherwise try to run as a script). Client routes may contain dots
/// (CRD names such as `foos.example.com`), so only these count as files.
const FILE_EXTENSIONS: &[&str] = &[
    "js",
    "mjs",
    "css",
    "map",
    "json",
    "png",
    "svg",
    "ico",
    "jpg",
    "jpeg",
    "gif",
    "webp",
    "woff",
    "woff2",
    "ttf",
    "txt",
    "wasm",
    "gz",
    "br",
    "html",
    "xml",
    "webmanifest",
];

const NOT_BUILT: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Ferrosphere</title></head><body>\
<h1>The Ferrosphere web console was not built</h1>\
<p>This <code>sphere</code> binary was compiled without the console's assets. \
The APIs (<code>/api</code>, <code>/apis</code>, <code>/kapis</code>, <code>/oauth</code>) work as usual.</p>\
<p>To build the console, run <code>./scripts/up</code> from the repository, \
or <code>cd console &amp;&amp; npm ci &amp;&amp; npm run build</code> and then rebuild <code>sphere</code>.</p>\
</body></html>\n";

pub(crate) fn router(assets: &'static [Asset]) -> Router {
    Router::new().fallback(move |request: Request| async move { respond(assets, &request) })
}

fn respond<B>(assets: &'static [Asset], request: &http::Request<B>) -> Response {
    let path = request.uri().path();
    let mut response = if is_reserved(path) {
        plain(StatusCode::NOT_FOUND, "404 page not found\n")
    } else if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "405 method not allowed\n");
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        response
    } else if let Some(asset) = resolve(assets, path) {
        let immutable = asset.path.starts_with("/assets/");
        file(asset, request.headers(), immutable)
    } else if find(assets, "/index.html").is_none() {
        not_built()
    } else {
        plain(StatusCode::NOT_FOUND, "404 page not found\n")
    };
    if request.method() == Method::HEAD {
        *response.body_mut() = Body::empty();
    }
    security_headers(response.headers_mut());
    response
}

/// The asset a path names: the file itself, or `index.html` for `/` and client-side routes.
fn resolve(assets: &'static [Asset], path: &str) -> Option<&'static Asset> {
    if let Some(asset) = find(assets, path) {
        return Some(asset);
    }
    if path.starts_with("/assets/") || looks_like_file(path) {
        return None;
    }
    find(assets, "/index.html")
}

fn looks_like_file(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or("");
    last.rsplit_once('.')
        .is_some_and(|(_, ext)| FILE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
}

fn file(asset: &'static Asset, headers: &HeaderMap, immutable: bool) -> Response {
    let accept = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok());
    let (encoded, coding) = choose(asset, accept);
    let compressed = asset.gzip.is_some() || asset.brotli.is_some();

    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|inm| none_match(inm, encoded.etag));
    let mut response = if not_modified {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else {
        let mut response = Response::new(Body::from(encoded.body));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        );
        response.headers_mut().insert(
            header::CONTENT_LENGTH,
            HeaderValue::from(encoded.body.len()),
        );
        match coding {
            Coding::Brotli => {
                response
                    .headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
            }
            Coding::Gzip => {
                response
                    .headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            Coding::Identity => {}
        }
        response
    };
    let h = response.headers_mut();
    h.insert(header::ETAG, HeaderValue::from_static(encoded.etag));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if immutable { IMMUTABLE } else { REVALIDATE }),
    );
    if compressed {
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    response
}

fn choose(asset: &'static Asset, accept: Option<&str>) -> (Encoded, Coding) {
    if let Some(br) = asset.brotli
        && accepts(accept, Coding::Brotli)
    {
        return (br, Coding::Brotli);
    }
    if let Some(gz) = asset.gzip
        && accepts(accept, Coding::Gzip)
    {
        return (gz, Coding::Gzip);
    }
    (asset.identity, Coding::Identity)
}

fn not_built() -> Response {
    let mut response = Response::new(Body::from(NOT_BUILT));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
    response
}

fn security_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
#[path = "serve_tests.rs"]
mod tests;
