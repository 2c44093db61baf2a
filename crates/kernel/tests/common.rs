//! Shared set-up for in-process kernel tests: a kernel in a temp dir, its router
//! called directly (no TCP), and a kube::Client wired to it.

#![allow(dead_code)]

use apimachinery::UserInfo;
use axum::body::Body;
use http::Request;
use kernel::{Kernel, KernelConfig};
use serde_json::Value;
use tower::ServiceExt;

pub struct TestKernel {
    pub kernel: Kernel,
    pub dir: tempfile::TempDir,
}

pub fn admin() -> UserInfo {
    UserInfo::new(
        "admin",
        vec!["system:masters".into(), "system:authenticated".into()],
    )
}

impl TestKernel {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(f: impl FnOnce(&mut KernelConfig)) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cfg = KernelConfig::new(dir.path());
        cfg.fsync = false;
        f(&mut cfg);
        let kernel = Kernel::start(cfg).await.expect("kernel starts");
        TestKernel { kernel, dir }
    }

    /// A kube client that talks to the router in-process as `user`.
    pub fn client_as(&self, user: UserInfo) -> kube::Client {
        let router = self.kernel.router();
        let svc = tower::ServiceBuilder::new()
            .map_request(move |mut r: Request<kube::client::Body>| {
                r.extensions_mut().insert(user.clone());
                r
            })
            .service(router);
        kube::Client::new(svc, "default")
    }

    pub fn client(&self) -> kube::Client {
        self.client_as(admin())
    }

    /// One raw request as admin; returns (status, headers, body).
    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        content_type: Option<&str>,
        body: &str,
    ) -> (u16, http::HeaderMap, Vec<u8>) {
        self.call_as(Some(admin()), method, uri, content_type, body, None)
            .await
    }

    pub async fn call_as(
        &self,
        user: Option<UserInfo>,
        method: &str,
        uri: &str,
        content_type: Option<&str>,
        body: &str,
        accept: Option<&str>,
    ) -> (u16, http::HeaderMap, Vec<u8>) {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(ct) = content_type {
            b = b.header("content-type", ct);
        }
        if let Some(a) = accept {
            b = b.header("accept", a);
        }
        let mut req = b.body(Body::from(body.to_string())).expect("request");
        if let Some(u) = user {
            req.extensions_mut().insert(u);
        }
        let resp = self
            .kernel
            .router()
            .oneshot(req)
            .await
            .expect("router answers");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("body");
        (status, headers, bytes.to_vec())
    }

    pub async fn json(&self, method: &str, uri: &str, body: &str) -> (u16, Value) {
        let ct = match method {
            "PATCH" => Some("application/merge-patch+json"),
            _ => Some("application/json"),
        };
        let (s, _, b) = self.call(method, uri, ct, body).await;
        (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
    }
}
