//! Test support: an in-process kernel with the tenancy controllers running.
#![allow(dead_code)]

use apimachinery::UserInfo;
use std::future::Future;
use std::time::Duration;
use tenancy::Authorizer;
use tokio_util::sync::CancellationToken;

pub struct Env {
    pub _dir: tempfile::TempDir,
    pub kernel: kernel::Kernel,
    pub admin: kube::Client,
    pub authz: Authorizer,
    pub cancel: CancellationToken,
}

pub async fn start() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = kernel::KernelConfig::new(dir.path());
    cfg.fsync = false;
    let kernel = kernel::Kernel::start(cfg).await.unwrap();
    let admin = kubeclient::in_process(
        kernel.router(),
        UserInfo::new(
            "system:ferrosphere",
            vec!["system:masters".into(), "system:authenticated".into()],
        ),
    );
    // The users API needs identity's User kind; the lead installs it at start too.
    let crds: kube::Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        kube::Api::all(admin.clone());
    for crd in identity::kinds::crds() {
        tenancy::bootstrap::apply(&crds, &crd).await.unwrap();
    }
    let authz = Authorizer::new();
    let cancel = CancellationToken::new();
    tokio::spawn({
        let (c, a, k) = (admin.clone(), authz.clone(), cancel.clone());
        async move {
            if let Err(e) = tenancy::run_controllers(c, a, k).await {
                panic!("controllers failed: {e}");
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(60), authz.wait_synced())
        .await
        .expect("index synced");
    Env {
        _dir: dir,
        kernel,
        admin,
        authz,
        cancel,
    }
}

pub fn user(name: &str) -> UserInfo {
    UserInfo::new(name, vec!["system:authenticated".into()])
}

/// Polls `f` until it returns Some, for up to 30 seconds.
pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    for _ in 0..600 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}
