//! Tests of the console router over hand-made asset tables (built and not built).

use super::*;
use axum::body::to_bytes;
use tower::ServiceExt;

static BUILT: &[Asset] = &[
    Asset {
        path: "/assets/index-abc123.js",
        content_type: "text/javascript; charset=utf-8",
        identity: Encoded {
            body: b"console.log(1)",
            etag: "\"js1-e\"",
        },
        gzip: Some(Encoded {
            body: b"GZ",
            etag: "\"js1-e-gz\"",
        }),
        brotli: Some(Encoded {
            body: b"BR",
            etag: "\"js1-e-br\"",
        }),
    },
    Asset {
        path: "/favicon.svg",
        content_type: "image/svg+xml",
        identity: Encoded {
            body: b"<svg/>",
            etag: "\"svg-6\"",
        },
        gzip: None,
        brotli: None,
    },
    Asset {
        path: "/index.html",
        content_type: "text/html; charset=utf-8",
        identity: Encoded {
            body: b"<!doctype html><div id=root></div>",
            etag: "\"idx-22\"",
        },
        gzip: Some(Encoded {
            body: b"IDXGZ",
            etag: "\"idx-22-gz\"",
        }),
        brotli: None,
    },
];

async fn get(
    table: &'static [Asset],
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut request = http::Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = crate::router_for(table)
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, headers, body.to_vec())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_index_is_revalidated() {
    let (status, h, body) = get(BUILT, Method::GET, "/assets/index-abc123.js", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, b"console.log(1)");
    assert_eq!(
        header(&h, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(header(&h, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(header(&h, "etag"), "\"js1-e\"");

    let (status, h, body) = get(BUILT, Method::GET, "/", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.starts_with(b"<!doctype html>"));
    assert_eq!(header(&h, "cache-control"), "no-cache");
    assert_eq!(header(&h, "etag"), "\"idx-22\"");

    // Files outside /assets/ are not content-hashed, so they are revalidated too.
    let (_, h, _) = get(BUILT, Method::GET, "/favicon.svg", &[]).await;
    assert_eq!(header(&h, "cache-control"), "no-cache");
}

#[tokio::test]
async fn client_routes_fall_back_to_index_but_missing_files_do_not() {
    for path in [
        "/workspaces/demo/projects",
        "/login",
        "/cluster/crds/foos.example.com",
        "/apiserver",
    ] {
        let (status, h, body) = get(BUILT, Method::GET, path, &[]).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(
            header(&h, "content-type"),
            "text/html; charset=utf-8",
            "{path}"
        );
        assert!(body.starts_with(b"<!doctype html>"), "{path}");
    }
    for path in [
        "/assets/gone-123.js",
        "/assets/x",
        "/robots.txt",
        "/old/main.css",
    ] {
        let (status, _, _) = get(BUILT, Method::GET, path, &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn api_prefixes_are_never_answered_with_html() {
    for path in [
        "/api",
        "/api/v1/pods",
        "/apis/apps/v1",
        "/kapis/iam.kubesphere.io/v1beta1/users",
        "/oauth/token",
        "/.well-known/openid-configuration",
        "/healthz",
        "/livez",
        "/readyz/ping",
        "/version",
        "/metrics",
        "/openapi/v3",
    ] {
        for table in [BUILT, &[][..]] {
            let (status, h, body) = get(table, Method::GET, path, &[]).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(
                header(&h, "content-type"),
                "text/plain; charset=utf-8",
                "{path}"
            );
            assert!(
                !String::from_utf8(body).unwrap().contains("<html"),
                "{path}"
            );
        }
        let (status, _, _) = get(BUILT, Method::POST, path, &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "POST {path}");
    }
    assert!(is_reserved("/apis"));
    assert!(!is_reserved("/apisx"));
    assert!(!is_reserved("/"));
}

#[tokio::test]
async fn strong_etags_give_304_per_encoding() {
    let (status, h, body) = get(BUILT, Method::GET, "/", &[("if-none-match", "\"idx-22\"")]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(header(&h, "etag"), "\"idx-22\"");
    assert_eq!(header(&h, "cache-control"), "no-cache");

    // A tag of the gzip representation does not validate the identity one.
    let (status, _, _) = get(
        BUILT,
        Method::GET,
        "/",
        &[("if-none-match", "\"idx-22-gz\"")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let (status, h, _) = get(
        BUILT,
        Method::GET,
        "/",
        &[
            ("if-none-match", "\"other\", W/\"idx-22-gz\""),
            ("accept-encoding", "gzip"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert_eq!(header(&h, "etag"), "\"idx-22-gz\"");
}

#[tokio::test]
async fn precompressed_variants_follow_accept_encoding() {
    let js = "/assets/index-abc123.js";
    let (_, h, body) = get(
        BUILT,
        Method::GET,
        js,
        &[("accept-encoding", "gzip, deflate, br")],
    )
    .await;
    assert_eq!(body, b"BR");
    assert_eq!(header(&h, "content-encoding"), "br");
    assert_eq!(header(&h, "vary"), "Accept-Encoding");
    assert_eq!(header(&h, "content-length"), "2");

    let (_, h, body) = get(
        BUILT,
        Method::GET,
        js,
        &[("accept-encoding", "gzip, br;q=0")],
    )
    .await;
    assert_eq!(body, b"GZ");
    assert_eq!(header(&h, "content-encoding"), "gzip");
    assert_eq!(header(&h, "etag"), "\"js1-e-gz\"");

    let (_, h, body) = get(BUILT, Method::GET, js, &[]).await;
    assert_eq!(body, b"console.log(1)");
    assert_eq!(header(&h, "content-encoding"), "");

    let (_, h, _) = get(
        BUILT,
        Method::GET,
        "/favicon.svg",
        &[("accept-encoding", "br")],
    )
    .await;
    assert_eq!(header(&h, "vary"), "");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    for (table, path) in [
        (BUILT, "/"),
        (BUILT, "/assets/index-abc123.js"),
        (BUILT, "/apis"),
        (&[][..], "/"),
    ] {
        let (_, h, _) = get(table, Method::GET, path, &[]).await;
        let csp = header(&h, "content-security-policy");
        assert!(csp.contains("default-src 'self'"), "{path}");
        assert!(csp.contains("script-src 'self';"), "{path}");
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert!(!csp.contains("unsafe-eval"), "{path}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert!(csp.contains("base-uri 'none'"), "{path}");
        assert!(csp.contains("form-action 'self'"), "{path}");
        assert!(csp.contains("connect-src 'self'"), "{path}");
        assert!(csp.contains("img-src 'self' data:"), "{path}");
        assert_eq!(header(&h, "x-content-type-options"), "nosniff");
        assert_eq!(header(&h, "referrer-policy"), "no-referrer");
    }
}

#[tokio::test]
async fn head_has_headers_without_body_and_writes_are_refused() {
    let (status, h, body) = get(BUILT, Method::HEAD, "/", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.is_empty());
    assert_eq!(header(&h, "etag"), "\"idx-22\"");

    let (status, h, _) = get(BUILT, Method::POST, "/workspaces", &[]).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&h, "allow"), "GET, HEAD");
}

#[tokio::test]
async fn without_a_build_every_page_says_how_to_build_the_console() {
    for path in ["/", "/workspaces", "/index.html"] {
        let (status, h, body) = get(&[], Method::GET, path, &[]).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(header(&h, "content-type"), "text/html; charset=utf-8");
        assert_eq!(header(&h, "cache-control"), "no-cache");
        let text = String::from_utf8(body).unwrap();
        assert!(text.contains("console was not built"), "{text}");
        assert!(
            text.contains("cd console &amp;&amp; npm ci &amp;&amp; npm run build"),
            "{text}"
        );
        assert!(text.contains("./scripts/up"), "{text}");
    }
}

#[test]
fn the_embedded_table_is_sorted_for_binary_search() {
    let table = crate::assets();
    assert!(table.windows(2).all(|w| w[0].path < w[1].path));
    assert_eq!(crate::is_built(), find(table, "/index.html").is_some());
}

/// The console this binary embeds (or the page saying it was not built) is what `/` serves, and
/// every script and stylesheet its index.html names is in the table, cached as immutable.
#[tokio::test]
async fn the_embedded_console_is_complete() {
    let (status, h, body) = get(crate::assets(), Method::GET, "/", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let html = String::from_utf8(body).unwrap();
    if !crate::is_built() {
        assert!(html.contains("console was not built"), "{html}");
        return;
    }
    assert!(html.contains("<div id=\"root\">"), "{html}");
    assert_eq!(header(&h, "cache-control"), "no-cache");
    let referenced: Vec<&str> = html
        .split('"')
        .filter(|s| s.starts_with("/assets/"))
        .collect();
    assert!(referenced.iter().any(|p| p.ends_with(".js")), "{html}");
    for path in referenced {
        let (status, h, _) = get(crate::assets(), Method::GET, path, &[]).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(
            header(&h, "cache-control"),
            "public, max-age=31536000, immutable"
        );
    }
}
