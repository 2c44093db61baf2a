//! Leader election with two candidates on one kernel, and event aggregation.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use controllers::events::{EventType, Recorder};
use controllers::leader::LeaderElector;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Event, ObjectReference};
use kube::api::{Api, ListParams};

async fn kernel() -> (kernel::Kernel, kube::Client, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = kernel::KernelConfig::new(dir.path());
    cfg.fsync = false;
    let k = kernel::Kernel::start(cfg).await.unwrap();
    let c = kubeclient::in_process(k.router(), support::admin());
    (k, c, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_one_candidate_runs_and_the_other_takes_over_on_release() {
    let (_k, client, _d) = kernel().await;
    let running = Arc::new(AtomicUsize::new(0));
    let max_running = Arc::new(AtomicUsize::new(0));
    let runs = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for id in ["a", "b"] {
        let (client, running, max_running, runs) = (
            client.clone(),
            running.clone(),
            max_running.clone(),
            runs.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut e = LeaderElector::new(client, "kube-system", "controllers", id);
            e.run_while_leader(|| {
                let (running, max_running, runs) =
                    (running.clone(), max_running.clone(), runs.clone());
                async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    max_running.fetch_max(now, Ordering::SeqCst);
                    runs.fetch_add(1, Ordering::SeqCst);
                    // Hold leadership across several renewals, then finish and release.
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                }
            })
            .await;
        }));
    }
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(30), t)
            .await
            .unwrap()
            .unwrap();
    }
    assert_eq!(runs.load(Ordering::SeqCst), 2, "each candidate led once");
    assert_eq!(
        max_running.load(Ordering::SeqCst),
        1,
        "never two leaders at once"
    );
    let lease = Api::<Lease>::namespaced(client, "kube-system")
        .get("controllers")
        .await
        .unwrap();
    let spec = lease.spec.unwrap();
    assert_eq!(spec.lease_transitions, Some(1));
    assert_eq!(spec.holder_identity, None, "released by the last leader");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_that_cannot_renew_loses_its_work() {
    let (_k, client, _d) = kernel().await;
    let stopped = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(AtomicUsize::new(0));
    let (s1, s2) = (started.clone(), stopped.clone());
    let c = client.clone();
    let leader = tokio::spawn(async move {
        let mut e = LeaderElector::new(c, "default", "steal-me", "a");
        e.run_while_leader(|| {
            let (s1, s2) = (s1.clone(), s2.clone());
            async move {
                struct OnDrop(Arc<AtomicUsize>);
                impl Drop for OnDrop {
                    fn drop(&mut self) {
                        self.0.fetch_add(1, Ordering::SeqCst);
                    }
                }
                let _guard = OnDrop(s2);
                s1.fetch_add(1, Ordering::SeqCst);
                std::future::pending::<()>().await;
            }
        })
        .await;
    });
    support::wait_for(10, "leader started", || async {
        (started.load(Ordering::SeqCst) == 1).then_some(())
    })
    .await;
    // Another writer takes the lease over (as a rival would after expiry).
    let api: Api<Lease> = Api::namespaced(client, "default");
    let mut lease = api.get("steal-me").await.unwrap();
    lease.spec.as_mut().unwrap().holder_identity = Some("rival".into());
    api.replace("steal-me", &Default::default(), &lease)
        .await
        .unwrap();
    support::wait_for(10, "work cancelled", || async {
        (stopped.load(Ordering::SeqCst) == 1).then_some(())
    })
    .await;
    leader.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_events_are_aggregated() {
    let (_k, client, _d) = kernel().await;
    let rec = Recorder::new(client.clone(), "test-controller");
    let obj = ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("Pod".into()),
        name: Some("p1".into()),
        namespace: Some("default".into()),
        uid: Some("u1".into()),
        ..Default::default()
    };
    let first = rec
        .try_record(&obj, EventType::Warning, "BackOff", "restarting")
        .await
        .unwrap();
    let second = rec
        .try_record(&obj, EventType::Warning, "BackOff", "restarting")
        .await
        .unwrap();
    rec.try_record(&obj, EventType::Normal, "Pulled", "pulled")
        .await
        .unwrap();
    assert_eq!(first.metadata.name, second.metadata.name);
    assert!(first.metadata.name.as_deref().unwrap().starts_with("p1."));
    let list = Api::<Event>::namespaced(client, "default")
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    assert_eq!(list.len(), 2);
    let backoff = list
        .iter()
        .find(|e| e.reason.as_deref() == Some("BackOff"))
        .unwrap();
    assert_eq!(backoff.count, Some(2));
    assert_eq!(backoff.type_.as_deref(), Some("Warning"));
    assert_eq!(
        backoff.source.as_ref().unwrap().component.as_deref(),
        Some("test-controller")
    );
    assert_eq!(
        backoff.reporting_component.as_deref(),
        Some("test-controller")
    );
    assert!(backoff.last_timestamp >= backoff.first_timestamp);
    assert_eq!(backoff.involved_object.name.as_deref(), Some("p1"));
}
