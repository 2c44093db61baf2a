//! kube-rs against the kernel in-process: typed CRUD and patches through
//! `kube::Api`, and a kube-runtime reflector that stays correct across a relist
//! forced by an expired watch (410), as it must against a real kube-apiserver.

mod common;
use common::TestKernel;
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::{reflector, watcher};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

fn cm(name: &str, value: &str) -> ConfigMap {
    ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        data: Some(BTreeMap::from([("v".to_string(), value.to_string())])),
        ..Default::default()
    }
}

#[tokio::test]
async fn typed_crud_and_patches() {
    let k = TestKernel::start().await;
    let api: Api<ConfigMap> = Api::namespaced(k.client(), "default");
    let created = api
        .create(&PostParams::default(), &cm("a", "1"))
        .await
        .expect("create");
    assert!(created.metadata.uid.is_some());
    let err = api
        .create(&PostParams::default(), &cm("a", "1"))
        .await
        .expect_err("duplicate");
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 409),
        "{err}"
    );

    let merged = api
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"data": {"w": "2"}})),
        )
        .await
        .expect("merge patch");
    assert_eq!(
        merged
            .data
            .as_ref()
            .and_then(|d| d.get("w"))
            .map(String::as_str),
        Some("2")
    );
    let strategic = api
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Strategic(serde_json::json!({"data": {"v": null}})),
        )
        .await
        .expect("strategic patch");
    assert!(
        strategic
            .data
            .as_ref()
            .is_some_and(|d| !d.contains_key("v"))
    );
    let ops: json_patch::Patch =
        serde_json::from_value(serde_json::json!([{"op": "add", "path": "/data/x", "value": "3"}]))
            .expect("patch");
    let jp = api
        .patch("a", &PatchParams::default(), &Patch::<()>::Json(ops))
        .await
        .expect("json patch");
    assert_eq!(
        jp.data
            .as_ref()
            .and_then(|d| d.get("x"))
            .map(String::as_str),
        Some("3")
    );

    let list = api
        .list(&ListParams::default().limit(1))
        .await
        .expect("list");
    assert!(
        list.metadata
            .resource_version
            .is_some_and(|rv| !rv.is_empty())
    );
    api.delete("a", &DeleteParams::default())
        .await
        .expect("delete");
    let gone = api.get_opt("a").await.expect("get_opt");
    assert!(gone.is_none());
}

#[tokio::test]
async fn reflector_survives_a_relist_forced_by_an_expired_watch() {
    let k = TestKernel::start_with(|c| c.watch_window = 16).await;
    let client = k.client();
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    for i in 0..5 {
        api.create(&PostParams::default(), &cm(&format!("r{i}"), "0"))
            .await
            .expect("create");
    }
    let (reader, writer) = reflector::store::<ConfigMap>();
    let stream = reflector(writer, watcher(api.clone(), watcher::Config::default()));
    let mut stream = std::pin::pin!(stream);
    let mut inits = 0;
    // Poll until the initial list is in the store.
    while reader
        .state()
        .iter()
        .filter(|c| {
            c.metadata
                .name
                .as_deref()
                .is_some_and(|n| n.starts_with('r'))
        })
        .count()
        < 5
    {
        match tokio::time::timeout(Duration::from_secs(10), stream.next()).await {
            Ok(Some(Ok(watcher::Event::Init))) => inits += 1,
            Ok(Some(_)) => {}
            other => panic!("watch ended before the initial list: {other:?}"),
        }
    }
    // While the reflector is not being polled, far more changes happen than the
    // kernel's watch window and broadcast buffer hold: its watch falls behind and
    // is cut, and resuming from its last resourceVersion gets 410 Expired.
    for round in 0..300 {
        for i in 0..5 {
            api.patch(
                &format!("r{i}"),
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({"data": {"v": round.to_string()}})),
            )
            .await
            .expect("patch");
        }
    }
    api.delete("r0", &DeleteParams::default())
        .await
        .expect("delete r0");
    api.create(&PostParams::default(), &cm("late", "x"))
        .await
        .expect("create late");

    let want: BTreeSet<String> = ["r1", "r2", "r3", "r4", "late"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let have: BTreeSet<String> = reader
            .state()
            .iter()
            .filter_map(|c| c.metadata.name.clone())
            .filter(|n| n.starts_with('r') || n == "late")
            .collect();
        let fresh = reader
            .state()
            .iter()
            .filter(|c| c.metadata.name.as_deref() == Some("r1"))
            .all(|c| c.data.as_ref().and_then(|d| d.get("v")).map(String::as_str) == Some("299"));
        if have == want && fresh && inits >= 2 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "reflector did not converge: {have:?} (inits {inits})"
        );
        match tokio::time::timeout(Duration::from_secs(5), stream.next()).await {
            Ok(Some(Ok(watcher::Event::Init))) => inits += 1,
            Ok(Some(_)) | Err(_) => {}
            Ok(None) => panic!("reflector stream ended"),
        }
    }
    assert!(inits >= 2, "the expired watch forced a relist");
}

#[tokio::test]
async fn server_side_apply_with_conflicts_force_and_managed_fields() {
    use k8s_openapi::api::apps::v1::Deployment;
    let k = TestKernel::start().await;
    let api: Api<Deployment> = Api::namespaced(k.client(), "default");
    let deploy = |replicas: i32, image: &str| {
        serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": image}]}}
            }
        })
    };
    // Apply creates the object and records the manager's fields.
    let created = api
        .patch(
            "web",
            &PatchParams::apply("ci"),
            &Patch::Apply(deploy(1, "nginx:1")),
        )
        .await
        .expect("apply creates");
    let managers = created.metadata.managed_fields.clone().unwrap_or_default();
    assert_eq!(managers.len(), 1);
    assert_eq!(managers[0].manager.as_deref(), Some("ci"));
    assert_eq!(managers[0].operation.as_deref(), Some("Apply"));
    // Re-applying the same configuration changes nothing.
    let again = api
        .patch(
            "web",
            &PatchParams::apply("ci"),
            &Patch::Apply(deploy(1, "nginx:1")),
        )
        .await
        .expect("re-apply");
    assert_eq!(
        again.metadata.resource_version,
        created.metadata.resource_version
    );
    // Another manager changing a field ci owns conflicts...
    let err = api
        .patch(
            "web",
            &PatchParams::apply("other"),
            &Patch::Apply(deploy(3, "nginx:1")),
        )
        .await
        .expect_err("conflict");
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 409);
            assert!(s.message.contains("conflict with \"ci\""), "{}", s.message);
            assert!(s.message.contains(".spec.replicas"), "{}", s.message);
        }
        other => panic!("{other}"),
    }
    // ...unless it forces, taking the field over.
    let forced = api
        .patch(
            "web",
            &PatchParams::apply("other").force(),
            &Patch::Apply(deploy(3, "nginx:1")),
        )
        .await
        .expect("forced apply");
    assert_eq!(forced.spec.as_ref().and_then(|s| s.replicas), Some(3));
    // A plain update is recorded as an Update operation of its manager.
    let updated = api
        .patch(
            "web",
            &PatchParams {
                field_manager: Some("scaler".into()),
                ..Default::default()
            },
            &Patch::Merge(serde_json::json!({"spec": {"replicas": 5}})),
        )
        .await
        .expect("merge patch");
    let ops: Vec<(String, String)> = updated
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            (
                m.manager.unwrap_or_default(),
                m.operation.unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        ops.contains(&("scaler".to_string(), "Update".to_string())),
        "{ops:?}"
    );
    assert!(
        ops.contains(&("ci".to_string(), "Apply".to_string())),
        "{ops:?}"
    );
}
