//! Jobs and Service endpoints against an in-process kernel.

#![allow(clippy::unwrap_used)]

mod support;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

fn job(name: &str, outcome: &str, extra: serde_json::Value) -> Job {
    let mut v = json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "template": {
                "metadata": {"labels": {"outcome": outcome}},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}
            }
        }
    });
    if let (Some(spec), serde_json::Value::Object(extra)) = (v["spec"].as_object_mut(), extra) {
        spec.extend(extra);
    }
    serde_json::from_value(v).unwrap()
}

fn condition(j: &Job, type_: &str) -> Option<(String, String)> {
    let c = j
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_ && c.status == "True")?;
    Some((
        c.reason.clone().unwrap_or_default(),
        c.message.clone().unwrap_or_default(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_complete_fail_with_backoff_and_index() {
    let env = support::start().await;
    let api: Api<Job> = Api::namespaced(env.client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(env.client.clone(), "default");

    api.create(
        &PostParams::default(),
        &job("ok", "succeed", json!({"completions": 3, "parallelism": 2})),
    )
    .await
    .unwrap();
    api.create(
        &PostParams::default(),
        &job(
            "idx",
            "succeed",
            json!({"completions": 3, "parallelism": 3, "completionMode": "Indexed"}),
        ),
    )
    .await
    .unwrap();
    // Measured from the Job's creation: its backoff runs while the other Jobs are checked.
    let started = tokio::time::Instant::now();
    api.create(
        &PostParams::default(),
        &job("bad", "fail", json!({"backoffLimit": 1})),
    )
    .await
    .unwrap();

    let ok = support::wait_for(30, "job ok complete", || async {
        let j = api.get("ok").await.ok()?;
        condition(&j, "Complete").map(|_| j)
    })
    .await;
    let st = ok.status.clone().unwrap();
    assert_eq!(st.succeeded, Some(3));
    assert!(st.completion_time.is_some() && st.start_time.is_some());
    assert_eq!(condition(&ok, "Complete").unwrap().0, "CompletionsReached");
    let owned = pods
        .list(&ListParams::default().labels("batch.kubernetes.io/job-name=ok"))
        .await
        .unwrap()
        .items;
    assert_eq!(owned.len(), 3, "no extra pods were created");
    assert!(
        owned
            .iter()
            .all(|p| p.metadata.finalizers.as_ref().is_none_or(|f| f.is_empty())),
        "tracking finalizers removed"
    );

    let idx = support::wait_for(30, "indexed job complete", || async {
        let j = api.get("idx").await.ok()?;
        condition(&j, "Complete").map(|_| j)
    })
    .await;
    assert_eq!(
        idx.status.unwrap().completed_indexes.as_deref(),
        Some("0-2")
    );
    let mut indexes: Vec<String> = pods
        .list(&ListParams::default().labels("batch.kubernetes.io/job-name=idx"))
        .await
        .unwrap()
        .items
        .iter()
        .map(|p| {
            p.metadata.annotations.as_ref().unwrap()["batch.kubernetes.io/job-completion-index"]
                .clone()
        })
        .collect();
    indexes.sort();
    assert_eq!(indexes, ["0", "1", "2"]);

    // backoffLimit 1: the first failure waits 10 s, the second fails the Job.
    let bad = support::wait_for(40, "job bad failed", || async {
        let j = api.get("bad").await.ok()?;
        condition(&j, "Failed").map(|_| j)
    })
    .await;
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(8),
        "the retry waited for backoff"
    );
    assert_eq!(condition(&bad, "Failed").unwrap().0, "BackoffLimitExceeded");
    assert_eq!(bad.status.unwrap().failed, Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_follow_readiness() {
    let env = support::start().await;
    let ns = "default";
    let svcs: Api<Service> = Api::namespaced(env.client.clone(), ns);
    let pods: Api<Pod> = Api::namespaced(env.client.clone(), ns);
    let svc: Service = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "ep"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}
    }))
    .unwrap();
    svcs.create(&PostParams::default(), &svc).await.unwrap();
    for n in ["a", "b"] {
        let p: Pod = serde_json::from_value(json!({
            "metadata": {"name": n, "labels": {"app": "ep"}},
            "spec": {"containers": [{"name": "c", "image": "nginx", "ports": [{"name": "http", "containerPort": 8080}]}]}
        }))
        .unwrap();
        pods.create(&PostParams::default(), &p).await.unwrap();
    }
    let eps: Api<Endpoints> = Api::namespaced(env.client.clone(), ns);
    let slices: Api<EndpointSlice> = Api::namespaced(env.client.clone(), ns);
    support::wait_for(30, "two ready addresses", || async {
        let e = eps.get("web").await.ok()?;
        let s = &e.subsets?[0];
        (s.addresses.as_ref()?.len() == 2 && s.ports.as_ref()?[0].port == 8080).then_some(())
    })
    .await;

    // b turns unready: Endpoints move it to notReadyAddresses, the slice says ready=false.
    let patch = json!({"status": {"conditions": [{"type": "Ready", "status": "False"}]}});
    pods.patch_status("b", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    support::wait_for(30, "b not ready", || async {
        let e = eps.get("web").await.ok()?;
        let s = &e.subsets?[0];
        let nr = s.not_ready_addresses.as_ref()?;
        (s.addresses.as_ref()?.len() == 1
            && nr.len() == 1
            && nr[0].target_ref.as_ref()?.name.as_deref() == Some("b"))
        .then_some(())
    })
    .await;
    // The slice is written right after the Endpoints; give it its own wait.
    let list = support::wait_for(30, "slice shows b not ready", || async {
        let list = slices
            .list(&ListParams::default().labels(
                "kubernetes.io/service-name=web,endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io",
            ))
            .await
            .ok()?
            .items;
        let b_ready = list.first()?.endpoints.as_ref()?.iter().find(|e| e.target_ref.as_ref().and_then(|r| r.name.as_deref()) == Some("b"))?.conditions.as_ref()?.ready;
        (b_ready == Some(false)).then_some(list)
    })
    .await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].ports.as_ref().unwrap()[0].port, Some(8080));
    assert_eq!(
        list[0].metadata.owner_references.as_ref().unwrap()[0].kind,
        "Service"
    );
}
