//! `kube::Client`s for platform code: one wired in-process to the embedded kernel's
//! router, and per-caller clients that act through Kubernetes impersonation.
//!
//! The platform never forwards a user's request with its own privileges: handlers
//! take the caller's `UserInfo` and call [`as_user`], so the kernel (or a real
//! cluster's RBAC) makes the final decision about what the caller may do.

use apimachinery::UserInfo;
use futures::future::BoxFuture;
use http::{HeaderName, HeaderValue, Request, Response};
use kube::client::Body;
use std::task::{Context, Poll};
use tower::{BoxError, Service, ServiceExt};

/// A client that sends every request straight into `router` (no TCP, no TLS) as
/// `identity`, the way the HTTPS front would after verifying a client certificate.
pub fn in_process(router: axum::Router, identity: UserInfo) -> kube::Client {
    let svc = InProcess {
        router,
        identity,
        user_agent: None,
    };
    kube::Client::new(svc, "default")
}

/// Like [`in_process`], but every request carries `user_agent` (unless it sets its
/// own). The API server names the field manager of a write after the User-Agent's
/// first segment when the request gives no `fieldManager`, so built-in components
/// appear in `managedFields` as `kube-controller-manager` or `kube-scheduler`, as on a
/// cluster, rather than `unknown`.
pub fn in_process_with_agent(
    router: axum::Router,
    identity: UserInfo,
    user_agent: &str,
) -> kube::Client {
    let svc = InProcess {
        router,
        identity,
        user_agent: HeaderValue::from_str(user_agent).ok(),
    };
    kube::Client::new(svc, "default")
}

#[derive(Clone)]
struct InProcess {
    router: axum::Router,
    identity: UserInfo,
    user_agent: Option<HeaderValue>,
}

impl Service<Request<Body>> for InProcess {
    type Response = Response<axum::body::Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let router = self.router.clone();
        let identity = self.identity.clone();
        let user_agent = self.user_agent.clone();
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            if let Some(ua) = user_agent {
                parts.headers.entry(http::header::USER_AGENT).or_insert(ua);
            }
            // The kernel reads the path from the URI; kube builds absolute URIs only
            // when it has a cluster URL, so keep just path and query.
            if let Some(pq) = parts.uri.path_and_query().cloned() {
                parts.uri = pq.as_str().parse().map_err(BoxError::from)?;
            }
            parts.extensions.insert(identity);
            let req = Request::from_parts(parts, axum::body::Body::new(body));
            match router.oneshot(req).await {
                Ok(r) => Ok(r),
                Err(never) => match never {},
            }
        })
    }
}

/// A client that performs every request of `base` as `user`: the request carries
/// `Impersonate-User`, `Impersonate-Group`, `Impersonate-Uid` and
/// `Impersonate-Extra-*` headers, so `base`'s identity needs the `impersonate` verb
/// and nothing else of the user's.
pub fn as_user(base: &kube::Client, user: &UserInfo) -> kube::Client {
    let svc = Impersonate {
        base: base.clone(),
        headers: impersonation_headers(user),
    };
    kube::Client::new(svc, base.default_namespace().to_string())
}

/// The headers that make a request act as `user`. Values that cannot be sent in a
/// header (control characters) are left out rather than failing the request later.
pub fn impersonation_headers(user: &UserInfo) -> Vec<(HeaderName, HeaderValue)> {
    let mut out = Vec::new();
    let mut push = |name: HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            out.push((name, v));
        }
    };
    push(HeaderName::from_static("impersonate-user"), &user.name);
    for g in &user.groups {
        // The kernel adds system:authenticated itself; sending it is harmless but noisy.
        if g != "system:authenticated" {
            push(HeaderName::from_static("impersonate-group"), g);
        }
    }
    if !user.uid.is_empty() {
        push(HeaderName::from_static("impersonate-uid"), &user.uid);
    }
    for (k, vals) in &user.extra {
        // Header names are case-insensitive, so extra keys are percent-encoded as
        // Kubernetes does for anything outside the token characters.
        let name = format!("impersonate-extra-{}", encode_extra_key(k));
        if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
            for v in vals {
                push(name.clone(), v);
            }
        }
    }
    out
}

fn encode_extra_key(k: &str) -> String {
    let mut s = String::with_capacity(k.len());
    for b in k.bytes() {
        let keep = b.is_ascii_lowercase()
            || b.is_ascii_digit()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'#'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'^'
                    | b'`'
                    | b'|'
            );
        if keep {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

#[derive(Clone)]
struct Impersonate {
    base: kube::Client,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl Service<Request<Body>> for Impersonate {
    type Response = Response<Body>;
    type Error = kube::Error;
    type Future = BoxFuture<'static, Result<Response<Body>, kube::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), kube::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: Request<Body>) -> Self::Future {
        let h = req.headers_mut();
        // A caller-supplied impersonation header must never survive: the identity
        // comes from the platform's authentication only.
        let stale: Vec<HeaderName> = h
            .keys()
            .filter(|k| k.as_str().starts_with("impersonate-"))
            .cloned()
            .collect();
        for k in stale {
            h.remove(k);
        }
        for (k, v) in &self.headers {
            h.append(k.clone(), v.clone());
        }
        let base = self.base.clone();
        Box::pin(async move { base.send(req).await })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use axum::extract::Request as AxRequest;
    use std::collections::BTreeMap;

    fn echo_router() -> axum::Router {
        // Echoes the identity the kernel would see and the impersonation headers.
        axum::Router::new().fallback(|req: AxRequest| async move {
            let who = req
                .extensions()
                .get::<UserInfo>()
                .map(|u| u.name.clone())
                .unwrap_or_default();
            let imp: Vec<String> = req
                .headers()
                .iter()
                .filter(|(k, _)| k.as_str().starts_with("impersonate-"))
                .map(|(k, v)| format!("{}={}", k, v.to_str().unwrap()))
                .collect();
            axum::Json(serde_json::json!({
                "kind": "Status", "apiVersion": "v1", "status": "Success",
                "message": who, "details": {"causes": imp.iter().map(|m| serde_json::json!({"message": m})).collect::<Vec<_>>()},
                "path": req.uri().to_string(),
            }))
        })
    }

    async fn call(client: &kube::Client) -> serde_json::Value {
        let req = Request::get("/api/v1/namespaces").body(Vec::new()).unwrap();
        client.request::<serde_json::Value>(req).await.unwrap()
    }

    fn user(name: &str, groups: &[&str]) -> UserInfo {
        UserInfo {
            name: name.into(),
            uid: String::new(),
            groups: groups.iter().map(|s| s.to_string()).collect(),
            extra: BTreeMap::new(),
        }
    }

    #[tokio::test]
    async fn in_process_client_carries_its_identity() {
        let c = in_process(
            echo_router(),
            user("system:ferrosphere", &["system:masters"]),
        );
        let v = call(&c).await;
        assert_eq!(v["message"], "system:ferrosphere");
        assert_eq!(v["path"], "/api/v1/namespaces");
        assert!(v["details"]["causes"].as_array().unwrap().is_empty());
    }

    #[tokio::test]
    async fn as_user_adds_impersonation_headers() {
        let base = in_process(
            echo_router(),
            user("system:ferrosphere", &["system:masters"]),
        );
        let mut u = user("alice", &["ws-a", "system:authenticated"]);
        u.uid = "u-1".into();
        u.extra
            .insert("iam.kubesphere.io/Scope".into(), vec!["x".into()]);
        let v = call(&as_user(&base, &u)).await;
        let causes: Vec<String> = v["details"]["causes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["message"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(v["message"], "system:ferrosphere");
        assert!(
            causes.contains(&"impersonate-user=alice".to_string()),
            "{causes:?}"
        );
        assert!(causes.contains(&"impersonate-group=ws-a".to_string()));
        assert!(!causes.iter().any(|c| c.contains("system:authenticated")));
        assert!(causes.contains(&"impersonate-uid=u-1".to_string()));
        assert!(
            causes
                .iter()
                .any(|c| c.eq_ignore_ascii_case("impersonate-extra-iam.kubesphere.io%2F%53cope=x")),
            "{causes:?}"
        );
    }
}
