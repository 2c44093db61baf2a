//! StatefulSets against the in-process kernel: ordered and parallel creation, scale down order, claims, partitioned rolling updates, rollback and replacement of lost pods.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

struct Apis {
    sets: Api<StatefulSet>,
    pods: Api<Pod>,
    claims: Api<PersistentVolumeClaim>,
    revs: Api<ControllerRevision>,
}

fn apis(client: &kube::Client) -> Apis {
    Apis {
        sets: Api::namespaced(client.clone(), "default"),
        pods: Api::namespaced(client.clone(), "default"),
        claims: Api::namespaced(client.clone(), "default"),
        revs: Api::namespaced(client.clone(), "default"),
    }
}

fn statefulset(name: &str, spec: serde_json::Value) -> StatefulSet {
    let mut base = json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": 3,
            "serviceName": name,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "img:1"}]}
            }
        }
    });
    for (k, v) in spec.as_object().unwrap() {
        base["spec"][k] = v.clone();
    }
    serde_json::from_value(base).unwrap()
}

/// Live (not terminating) pods of `app`, by name, sorted.
async fn live_pods(api: &Api<Pod>, app: &str) -> BTreeMap<String, Pod> {
    api.list(&ListParams::default().labels(&format!("app={app}")))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .map(|p| (p.metadata.name.clone().unwrap(), p))
        .collect()
}

fn names(m: &BTreeMap<String, Pod>) -> Vec<String> {
    m.keys().cloned().collect()
}

fn label<'a>(p: &'a Pod, k: &str) -> Option<&'a str> {
    p.metadata.labels.as_ref()?.get(k).map(String::as_str)
}

/// Lets the pod driver make `name` Running and Ready.
async fn unstick(api: &Api<Pod>, name: &str) {
    let patch = json!({"metadata": {"labels": {"stuck": null}}});
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
}

fn ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

async fn wait_status(
    api: &Api<StatefulSet>,
    name: &str,
    what: &str,
    f: impl Fn(&StatefulSet) -> bool,
) -> StatefulSet {
    support::wait_for(30, what, || async {
        let s = api.get(name).await.ok()?;
        f(&s).then_some(s)
    })
    .await
}

fn st(s: &StatefulSet) -> k8s_openapi::api::apps::v1::StatefulSetStatus {
    s.status.clone().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ordered_ready_creates_in_order_and_scales_down_in_reverse() {
    let env = support::start().await;
    let a = apis(&env.client);
    let mut set = statefulset(
        "db",
        json!({"volumeClaimTemplates": [{"metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}),
    );
    set.spec
        .as_mut()
        .unwrap()
        .template
        .metadata
        .as_mut()
        .unwrap()
        .labels
        .as_mut()
        .unwrap()
        .insert("stuck".into(), "1".into());
    a.sets.create(&PostParams::default(), &set).await.unwrap();

    for i in 0..3 {
        let name = format!("db-{i}");
        let pods = support::wait_for(30, &name, || async {
            let p = live_pods(&a.pods, "db").await;
            p.contains_key(&name).then_some(p)
        })
        .await;
        let want: Vec<String> = (0..=i).map(|j| format!("db-{j}")).collect();
        assert_eq!(names(&pods), want, "no pod before its predecessor is ready");
        // The claim exists before the pod and the pod mounts it.
        let claim = a.claims.get(&format!("data-db-{i}")).await.unwrap();
        assert_eq!(label_of_claim(&claim, "app"), Some("db"));
        let vol = pods[&name].spec.as_ref().unwrap().volumes.clone().unwrap();
        let data = vol.iter().find(|v| v.name == "data").unwrap();
        assert_eq!(
            data.persistent_volume_claim.as_ref().unwrap().claim_name,
            format!("data-db-{i}")
        );
        // While it is not ready nothing else appears.
        let s = wait_status(&a.sets, "db", "status counts the new pod", |s| {
            st(s).replicas == i + 1
        })
        .await;
        assert_eq!(st(&s).ready_replicas.unwrap_or(0), i);
        assert_eq!(names(&live_pods(&a.pods, "db").await), want);
        unstick(&a.pods, &name).await;
    }
    let s = wait_status(&a.sets, "db", "all ready", |s| {
        st(s).ready_replicas == Some(3) && st(s).available_replicas == Some(3)
    })
    .await;
    let status = st(&s);
    assert_eq!(status.current_revision, status.update_revision);
    assert_eq!(status.current_replicas, Some(3));
    assert_eq!(status.updated_replicas, Some(3));
    assert_eq!(status.observed_generation, s.metadata.generation);
    let rev = status.update_revision.clone().unwrap();
    let pods = live_pods(&a.pods, "db").await;
    let p1 = &pods["db-1"];
    assert_eq!(label(p1, "controller-revision-hash"), Some(rev.as_str()));
    assert_eq!(
        label(p1, "statefulset.kubernetes.io/pod-name"),
        Some("db-1")
    );
    assert_eq!(label(p1, "apps.kubernetes.io/pod-index"), Some("1"));
    let spec = p1.spec.as_ref().unwrap();
    assert_eq!(spec.hostname.as_deref(), Some("db-1"));
    assert_eq!(spec.subdomain.as_deref(), Some("db"));
    let revs = a.revs.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(revs.len(), 1);
    assert_eq!(
        (revs[0].metadata.name.as_deref(), revs[0].revision),
        (Some(rev.as_str()), 1)
    );

    // Scale down to 1: db-2 goes before db-1.
    let patch = json!({"spec": {"replicas": 1}});
    a.sets
        .patch("db", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    support::wait_for(30, "scaled down to db-0", || async {
        let live = names(&live_pods(&a.pods, "db").await);
        let has = |n: &str| live.iter().any(|x| x == n);
        assert!(
            !has("db-2") || has("db-1"),
            "db-1 removed before db-2: {live:?}"
        );
        (live == ["db-0"]).then_some(())
    })
    .await;
    wait_status(&a.sets, "db", "status after scale down", |s| {
        st(s).replicas == 1
    })
    .await;
    // Retain: the claims stay for a later scale up.
    for i in 0..3 {
        a.claims.get(&format!("data-db-{i}")).await.unwrap();
    }
}

fn label_of_claim<'a>(c: &'a PersistentVolumeClaim, k: &str) -> Option<&'a str> {
    c.metadata.labels.as_ref()?.get(k).map(String::as_str)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_rolling_update_with_partition_and_undo() {
    let env = support::start().await;
    let a = apis(&env.client);
    let mut set = statefulset("web", json!({"podManagementPolicy": "Parallel"}));
    let labels = set
        .spec
        .as_mut()
        .unwrap()
        .template
        .metadata
        .as_mut()
        .unwrap()
        .labels
        .as_mut()
        .unwrap();
    labels.insert("stuck".into(), "1".into());
    a.sets.create(&PostParams::default(), &set).await.unwrap();
    let pods = support::wait_for(30, "three pods at once", || async {
        let p = live_pods(&a.pods, "web").await;
        (p.len() == 3).then_some(p)
    })
    .await;
    assert!(
        pods.values().all(|p| !ready(p)),
        "created without waiting for readiness"
    );
    for n in pods.keys() {
        unstick(&a.pods, n).await;
    }
    wait_status(&a.sets, "web", "all ready", |s| {
        st(s).ready_replicas == Some(3)
    })
    .await;
    // Drop the test label from the template: a plain rolling update to revision 2.
    let patch = json!({"spec": {"template": {"metadata": {"labels": {"stuck": null}}}}});
    a.sets
        .patch("web", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    let s = wait_status(&a.sets, "web", "revision 2 rolled out", |s| {
        let x = st(s);
        x.observed_generation == s.metadata.generation
            && x.updated_replicas == Some(3)
            && x.ready_replicas == Some(3)
            && x.current_revision == x.update_revision
    })
    .await;
    let rev1 = st(&s).update_revision.unwrap();

    // New image with partition 2: only web-2 moves.
    let patch = json!({"spec": {
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}},
        "template": {"spec": {"containers": [{"name": "c", "image": "img:2"}]}}
    }});
    a.sets
        .patch("web", &PatchParams::default(), &Patch::Strategic(&patch))
        .await
        .unwrap();
    let s = wait_status(&a.sets, "web", "partitioned rollout", |s| {
        let x = st(s);
        x.updated_replicas == Some(1)
            && x.ready_replicas == Some(3)
            && x.observed_generation == s.metadata.generation
    })
    .await;
    let status = st(&s);
    let rev2 = status.update_revision.clone().unwrap();
    assert_ne!(rev1, rev2);
    assert_eq!(status.current_revision.as_deref(), Some(rev1.as_str()));
    assert_eq!(status.current_replicas, Some(2));
    let pods = live_pods(&a.pods, "web").await;
    let revs_of: Vec<_> = pods
        .values()
        .map(|p| label(p, "controller-revision-hash").unwrap().to_string())
        .collect();
    assert_eq!(revs_of, [rev1.clone(), rev1.clone(), rev2.clone()]);
    let img = |p: &Pod| {
        p.spec.as_ref().unwrap().containers[0]
            .image
            .clone()
            .unwrap()
    };
    assert_eq!(img(&pods["web-2"]), "img:2");
    assert_eq!(img(&pods["web-0"]), "img:1");

    // Partition 0 finishes it.
    let patch = json!({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}});
    a.sets
        .patch("web", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    wait_status(&a.sets, "web", "rollout complete", |s| {
        let x = st(s);
        x.updated_replicas == Some(3)
            && x.ready_replicas == Some(3)
            && x.current_revision.as_deref() == Some(rev2.as_str())
    })
    .await;
    let mut revs = a.revs.list(&ListParams::default()).await.unwrap().items;
    revs.sort_by_key(|r| r.revision);
    let by_rev: Vec<_> = revs
        .iter()
        .map(|r| (r.metadata.name.clone().unwrap(), r.revision))
        .collect();
    assert_eq!(by_rev[1..], [(rev1.clone(), 2), (rev2.clone(), 3)]);

    // kubectl rollout undo: the previous revision's data as a strategic merge patch.
    let data = revs[1].data.clone().unwrap().0;
    a.sets
        .patch("web", &PatchParams::default(), &Patch::Strategic(&data))
        .await
        .unwrap();
    wait_status(&a.sets, "web", "rolled back", |s| {
        let x = st(s);
        x.current_revision.as_deref() == Some(rev1.as_str())
            && x.updated_replicas == Some(3)
            && x.ready_replicas == Some(3)
    })
    .await;
    let back = a.revs.get(&rev1).await.unwrap();
    assert_eq!(back.revision, 4, "the restored revision is renumbered");
    let pods = live_pods(&a.pods, "web").await;
    assert!(pods.values().all(|p| img(p) == "img:1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_and_deleted_pods_are_replaced() {
    let env = support::start().await;
    let a = apis(&env.client);
    a.sets
        .create(
            &PostParams::default(),
            &statefulset("q", json!({"replicas": 2})),
        )
        .await
        .unwrap();
    wait_status(&a.sets, "q", "ready", |s| st(s).ready_replicas == Some(2)).await;
    let before = live_pods(&a.pods, "q").await;
    let uid = |p: &Pod| p.metadata.uid.clone().unwrap();

    let failed = json!({"status": {"phase": "Failed", "conditions": [{"type": "Ready", "status": "False"}]}});
    a.pods
        .patch_status("q-1", &PatchParams::default(), &Patch::Merge(&failed))
        .await
        .unwrap();
    a.pods
        .delete("q-0", &DeleteParams::default())
        .await
        .unwrap();
    support::wait_for(30, "both replaced and ready", || async {
        let now = live_pods(&a.pods, "q").await;
        (now.len() == 2
            && now.values().all(ready)
            && now.iter().all(|(n, p)| uid(p) != uid(&before[n])))
        .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_follow_the_retention_policy() {
    let env = support::start().await;
    let a = apis(&env.client);
    let set = statefulset(
        "kv",
        json!({"replicas": 2,
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Delete"},
            "volumeClaimTemplates": [{"metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}),
    );
    let created = a.sets.create(&PostParams::default(), &set).await.unwrap();
    wait_status(&a.sets, "kv", "ready", |s| st(s).ready_replicas == Some(2)).await;
    let set_uid = created.metadata.uid.clone().unwrap();
    support::wait_for(30, "claims owned by the set", || async {
        let c = a.claims.get("data-kv-1").await.ok()?;
        c.metadata
            .owner_references
            .as_ref()?
            .iter()
            .any(|r| r.uid == set_uid && r.controller == Some(true))
            .then_some(())
    })
    .await;

    let patch = json!({"spec": {"replicas": 1}});
    a.sets
        .patch("kv", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    // The garbage collector deletes it with its pod; the pvc-protection finalizer
    // (the scheduler crate's controller, not run here) may hold it a while.
    support::wait_for(30, "the scaled-down claim is collected", || async {
        match a.claims.get("data-kv-1").await {
            Err(kube::Error::Api(e)) if e.code == 404 => Some(()),
            Ok(c) if c.metadata.deletion_timestamp.is_some() => Some(()),
            _ => None,
        }
    })
    .await;
    let kept = a.claims.get("data-kv-0").await.unwrap();
    assert!(kept.metadata.deletion_timestamp.is_none());
}
