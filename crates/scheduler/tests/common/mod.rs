//! Shared setup for the scheduler's integration tests: an in-process kernel and helpers.
#![allow(dead_code, clippy::unwrap_used)]

use apimachinery::UserInfo;
use k8s_openapi::api::core::v1::{Event, Pod, ServiceAccount};
use kube::api::{Api, ListParams, PostParams};
use serde_json::{Value, json};
use std::time::Duration;

pub struct Env {
    pub dir: tempfile::TempDir,
    pub kernel: kernel::Kernel,
    pub client: kube::Client,
}

pub async fn kernel() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = kernel::KernelConfig::new(dir.path().join("kernel"));
    cfg.fsync = false;
    let kernel = kernel::Kernel::start(cfg).await.unwrap();
    let admin = UserInfo::new("admin", vec!["system:masters".into()]);
    let client = kubeclient::in_process(kernel.router(), admin);
    // The ServiceAccount controller is not part of this crate; pods need the
    // `default` account to pass admission.
    let sa: ServiceAccount =
        serde_json::from_value(json!({"metadata": {"name": "default"}})).unwrap();
    match Api::<ServiceAccount>::namespaced(client.clone(), "default")
        .create(&PostParams::default(), &sa)
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 409 => {}
        Err(e) => panic!("creating default ServiceAccount: {e}"),
    }
    Env {
        dir,
        kernel,
        client,
    }
}

pub fn pod(name: &str, extra: Value) -> Pod {
    let mut p = json!({"metadata": {"name": name, "labels": {"app": name}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
    merge(&mut p, extra);
    serde_json::from_value(p).unwrap()
}

pub fn merge(a: &mut Value, b: Value) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(Value::Null), v);
            }
        }
        (a, b) => *a = b,
    }
}

pub async fn create(client: &kube::Client, p: Pod) {
    Api::<Pod>::namespaced(client.clone(), "default")
        .create(&PostParams::default(), &p)
        .await
        .unwrap();
}

/// Polls (real time) until `f` holds for the pod, for at most 10 s.
pub async fn wait_pod(
    client: &kube::Client,
    name: &str,
    what: &str,
    f: impl Fn(&Pod) -> bool,
) -> Pod {
    let api: Api<Pod> = Api::namespaced(client.clone(), "default");
    for _ in 0..400 {
        if let Some(p) = api.get_opt(name).await.unwrap()
            && f(&p)
        {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let p = api.get_opt(name).await.unwrap();
    panic!("pod {name}: {what} never happened; last seen {p:#?}");
}

pub fn node_of(p: &Pod) -> Option<String> {
    p.spec.as_ref().and_then(|s| s.node_name.clone())
}

pub async fn scheduled(client: &kube::Client, name: &str) -> String {
    let p = wait_pod(client, name, "scheduled", |p| node_of(p).is_some()).await;
    node_of(&p).unwrap()
}

pub fn scheduled_condition(p: &Pod) -> Option<(String, String, String)> {
    p.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "PodScheduled")
        .map(|c| {
            (
                c.status.clone(),
                c.reason.clone().unwrap_or_default(),
                c.message.clone().unwrap_or_default(),
            )
        })
}

pub async fn events_for(client: &kube::Client, pod: &str) -> Vec<Event> {
    let lp = ListParams::default().fields(&format!("involvedObject.name={pod}"));
    Api::<Event>::namespaced(client.clone(), "default")
        .list(&lp)
        .await
        .unwrap()
        .items
}

/// Waits for an event with `reason` and exactly `message` about `pod`: the first attempt
/// may run before the scheduler's node cache has synced and say "no nodes available".
pub async fn wait_event_message(
    client: &kube::Client,
    pod: &str,
    reason: &str,
    message: &str,
) -> Event {
    for _ in 0..400 {
        if let Some(e) = events_for(client, pod)
            .await
            .into_iter()
            .find(|e| e.reason.as_deref() == Some(reason) && e.message.as_deref() == Some(message))
        {
            return e;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "no {reason} event saying {message:?} for {pod}: {:#?}",
        events_for(client, pod).await
    );
}

pub async fn wait_event(client: &kube::Client, pod: &str, reason: &str) -> Event {
    for _ in 0..400 {
        if let Some(e) = events_for(client, pod)
            .await
            .into_iter()
            .find(|e| e.reason.as_deref() == Some(reason))
        {
            return e;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "no {reason} event for {pod}: {:#?}",
        events_for(client, pod).await
    );
}
