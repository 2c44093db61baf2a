//! Deployments against an in-process kernel: rollout, rolling-update bounds, undo, pause, deadline.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

fn deployment(name: &str, replicas: i32, extra: serde_json::Value) -> Deployment {
    let mut v = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}
            }
        }
    });
    merge(&mut v, extra);
    serde_json::from_value(v).unwrap()
}

fn merge(a: &mut serde_json::Value, b: serde_json::Value) {
    match (a, b) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (a, b) => *a = b,
    }
}

async fn rollout_done(api: &Api<Deployment>, name: &str) -> Option<Deployment> {
    // kubectl rollout status's conditions.
    let d = api.get(name).await.ok()?;
    let s = d.status.clone()?;
    let want = d.spec.as_ref()?.replicas?;
    let done = s.observed_generation >= d.metadata.generation
        && s.updated_replicas == Some(want)
        && s.replicas == Some(want)
        && s.available_replicas == Some(want);
    done.then_some(d)
}

fn progressing_reason(d: &Deployment) -> Option<String> {
    d.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Progressing")?
        .reason
        .clone()
}

async fn owned_rs(client: &kube::Client, ns: &str, app: &str) -> Vec<ReplicaSet> {
    let api: Api<ReplicaSet> = Api::namespaced(client.clone(), ns);
    api.list(&ListParams::default().labels(&format!("app={app}")))
        .await
        .unwrap()
        .items
}

fn rev(rs: &ReplicaSet) -> String {
    rs.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("deployment.kubernetes.io/revision"))
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_update_undo_and_pause() {
    let env = support::start().await;
    let ns = "default";
    let api: Api<Deployment> = Api::namespaced(env.client.clone(), ns);
    let pods: Api<Pod> = Api::namespaced(env.client.clone(), ns);
    let d = deployment(
        "web",
        4,
        json!({"spec": {"strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}}}}),
    );
    api.create(&PostParams::default(), &d).await.unwrap();
    let d = support::wait_for(30, "first rollout", || rollout_done(&api, "web")).await;
    assert_eq!(
        progressing_reason(&d).as_deref(),
        Some("NewReplicaSetAvailable")
    );
    assert_eq!(
        d.metadata.annotations.as_ref().unwrap()["deployment.kubernetes.io/revision"],
        "1"
    );
    let rss = owned_rs(&env.client, ns, "web").await;
    assert_eq!(rss.len(), 1);
    let hash = rss[0].metadata.labels.as_ref().unwrap()["pod-template-hash"].clone();
    assert_eq!(
        rss[0].metadata.name.as_deref(),
        Some(format!("web-{hash}").as_str())
    );
    let first_rs = rss[0].metadata.name.clone().unwrap();

    // Rolling update: watch the pods while it runs; never more than 4+1 pods, never
    // fewer than 4-1 ready.
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:2"}]}}}});
    api.patch("web", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let mut max_pods = 0;
    let mut min_ready = usize::MAX;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let list = pods
            .list(&ListParams::default().labels("app=web"))
            .await
            .unwrap()
            .items;
        let live: Vec<_> = list
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .collect();
        let ready = live
            .iter()
            .filter(|p| {
                p.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
            })
            .count();
        max_pods = max_pods.max(live.len());
        min_ready = min_ready.min(ready);
        let d = api.get("web").await.unwrap();
        if rollout_done(&api, "web").await.is_some()
            && d.metadata.annotations.as_ref().unwrap()["deployment.kubernetes.io/revision"] == "2"
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "rolling update did not finish: {:?}",
            d.status
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(max_pods <= 5, "maxSurge exceeded: {max_pods} pods");
    assert!(min_ready >= 3, "maxUnavailable exceeded: {min_ready} ready");
    let rss = owned_rs(&env.client, ns, "web").await;
    assert_eq!(rss.len(), 2);
    let old = rss
        .iter()
        .find(|r| r.metadata.name.as_deref() == Some(&first_rs))
        .unwrap();
    assert_eq!(old.spec.as_ref().unwrap().replicas, Some(0));

    // kubectl rollout undo: copy revision 1's template (without the hash label) back.
    let mut template = old.spec.clone().unwrap().template.unwrap();
    template
        .metadata
        .as_mut()
        .unwrap()
        .labels
        .as_mut()
        .unwrap()
        .remove("pod-template-hash");
    let patch = json!({"spec": {"template": template}});
    api.patch("web", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    support::wait_for(60, "undo", || async {
        let rss = owned_rs(&env.client, ns, "web").await;
        let back = rss
            .iter()
            .find(|r| r.metadata.name.as_deref() == Some(&first_rs))?;
        (rev(back) == "3" && back.spec.as_ref()?.replicas == Some(4)).then_some(())?;
        rollout_done(&api, "web").await.map(|_| ())
    })
    .await;
    assert_eq!(
        owned_rs(&env.client, ns, "web").await.len(),
        2,
        "undo reuses the old ReplicaSet"
    );

    // Pause: a template change makes no new ReplicaSet until resumed.
    api.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(&json!({"spec": {"paused": true}})),
    )
    .await
    .unwrap();
    let patch = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "now"}}}}});
    api.patch("web", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    support::wait_for(30, "paused condition", || async {
        let d = api.get("web").await.ok()?;
        (progressing_reason(&d).as_deref() == Some("DeploymentPaused")
            && d.status.as_ref()?.observed_generation == d.metadata.generation)
            .then_some(())
    })
    .await;
    assert_eq!(owned_rs(&env.client, ns, "web").await.len(), 2);
    api.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(&json!({"spec": {"paused": false}})),
    )
    .await
    .unwrap();
    support::wait_for(60, "restart after resume", || async {
        let rss = owned_rs(&env.client, ns, "web").await;
        (rss.len() == 3).then_some(())?;
        let d = rollout_done(&api, "web").await?;
        (d.metadata
            .annotations
            .as_ref()?
            .get("deployment.kubernetes.io/revision")?
            == "4")
            .then_some(())
    })
    .await;

    // Events were recorded for the scaling.
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(env.client.clone(), ns);
    let evs = events.list(&ListParams::default()).await.unwrap().items;
    assert!(
        evs.iter()
            .any(|e| e.reason.as_deref() == Some("ScalingReplicaSet")
                && e.source.as_ref().and_then(|s| s.component.as_deref())
                    == Some("deployment-controller"))
    );
    assert!(
        evs.iter()
            .any(|e| e.reason.as_deref() == Some("SuccessfulCreate"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_hits_progress_deadline() {
    let env = support::start().await;
    let api: Api<Deployment> = Api::namespaced(env.client.clone(), "default");
    let d = deployment(
        "stuck",
        2,
        json!({"spec": {
            "progressDeadlineSeconds": 2,
            "template": {"metadata": {"labels": {"app": "stuck", "stuck": "yes"}}}
        }}),
    );
    api.create(&PostParams::default(), &d).await.unwrap();
    let d = support::wait_for(30, "deadline", || async {
        let d = api.get("stuck").await.ok()?;
        (progressing_reason(&d).as_deref() == Some("ProgressDeadlineExceeded")).then_some(d)
    })
    .await;
    let conds: BTreeMap<_, _> = d
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .map(|c| (c.type_.clone(), c))
        .collect();
    assert_eq!(conds["Progressing"].status, "False");
    assert!(
        conds["Progressing"]
            .message
            .as_deref()
            .unwrap()
            .ends_with("has timed out progressing.")
    );
    assert_eq!(
        conds["Available"].reason.as_deref(),
        Some("MinimumReplicasUnavailable")
    );
}
