//! ResourceQuota scopes, scope selectors and extended resources, in admission and
//! in the usage the quota controller reports.

mod common;

use common::TestKernel;
use serde_json::{Value, json};

const PODS: &str = "/api/v1/namespaces/default/pods";
const QUOTAS: &str = "/api/v1/namespaces/default/resourcequotas";

async fn ready(k: &TestKernel) {
    // Pods need the namespace's default ServiceAccount, which a kernel controller creates.
    for _ in 0..100 {
        let (s, _) = k
            .json(
                "GET",
                "/api/v1/namespaces/default/serviceaccounts/default",
                "",
            )
            .await;
        if s == 200 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the default ServiceAccount never appeared");
}

async fn quota(k: &TestKernel, name: &str, spec: Value) {
    let q = json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": name}, "spec": spec});
    let (s, b) = k.json("POST", QUOTAS, &q.to_string()).await;
    assert_eq!(s, 201, "{b}");
}

/// A pod; `resources` goes on its one container, `spec` is merged into its spec.
fn pod(name: &str, resources: Value, spec: Value) -> String {
    let mut p = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "nginx", "resources": resources}]}});
    if let (Some(s), Value::Object(extra)) = (p["spec"].as_object_mut(), spec) {
        s.extend(extra);
    }
    p.to_string()
}

async fn create(k: &TestKernel, body: &str) -> (u16, String) {
    let (s, v) = k.json("POST", PODS, body).await;
    (s, v["message"].as_str().unwrap_or("").to_string())
}

/// Waits for the quota controller to report `used`.
async fn wait_used(k: &TestKernel, name: &str, want: Value) {
    let mut last = Value::Null;
    for _ in 0..100 {
        let (_, q) = k.json("GET", &format!("{QUOTAS}/{name}"), "").await;
        last = q["status"]["used"].clone();
        if last == want {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("quota {name} used {last}, want {want}");
}

#[tokio::test]
async fn scopes_pick_the_pods_a_quota_tracks() {
    let k = TestKernel::start().await;
    ready(&k).await;
    quota(
        &k,
        "best-effort",
        json!({"hard": {"pods": "1"}, "scopes": ["BestEffort"]}),
    )
    .await;
    quota(
        &k,
        "terminating",
        json!({"hard": {"pods": "1", "requests.cpu": "1"}, "scopes": ["Terminating", "NotBestEffort"]}),
    )
    .await;
    quota(
        &k,
        "long-running",
        json!({"hard": {"count/configmaps": "0"}, "scopes": ["NotTerminating"]}),
    )
    .await;
    let cpu = json!({"requests": {"cpu": "100m"}, "limits": {"cpu": "100m"}});
    let deadline = json!({"activeDeadlineSeconds": 60});

    assert_eq!(create(&k, &pod("be1", json!({}), json!({}))).await.0, 201);
    let (s, m) = create(&k, &pod("be2", json!({}), json!({}))).await;
    assert_eq!(s, 403, "{m}");
    assert_eq!(
        m,
        "pods \"be2\" is forbidden: exceeded quota: best-effort, requested: pods=1, used: pods=1, limited: pods=1"
    );
    assert_eq!(
        create(&k, &pod("job1", cpu.clone(), deadline.clone()))
            .await
            .0,
        201
    );
    let (s, m) = create(&k, &pod("job2", cpu.clone(), deadline.clone())).await;
    assert_eq!(s, 403, "{m}");
    assert!(m.contains("exceeded quota: terminating"), "{m}");
    // Burstable and without a deadline: no quota's scopes match.
    assert_eq!(create(&k, &pod("web", cpu.clone(), json!({}))).await.0, 201);
    // Scoped quotas never track objects other than pods.
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "free"}});
    let (s, _) = k
        .json(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            &cm.to_string(),
        )
        .await;
    assert_eq!(s, 201);

    wait_used(&k, "best-effort", json!({"pods": "1"})).await;
    wait_used(
        &k,
        "terminating",
        json!({"pods": "1", "requests.cpu": "100m"}),
    )
    .await;
    wait_used(&k, "long-running", json!({"count/configmaps": "0"})).await;
}

#[tokio::test]
async fn scope_selector_on_priority_classes() {
    let k = TestKernel::start().await;
    ready(&k).await;
    for (name, value) in [("high", 1000), ("low", 10)] {
        let pc = json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name}, "value": value});
        let (s, b) = k
            .json(
                "POST",
                "/apis/scheduling.k8s.io/v1/priorityclasses",
                &pc.to_string(),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
    let selector = |op: &str, values: Value| {
        let mut e = json!({"scopeName": "PriorityClass", "operator": op});
        if !values.is_null() {
            e["values"] = values;
        }
        json!({"matchExpressions": [e]})
    };
    quota(
        &k,
        "high",
        json!({"hard": {"pods": "1"}, "scopeSelector": selector("In", json!(["high"]))}),
    )
    .await;
    quota(
        &k,
        "not-high",
        json!({"hard": {"pods": "2"}, "scopeSelector": selector("NotIn", json!(["high"]))}),
    )
    .await;
    quota(
        &k,
        "any-class",
        json!({"hard": {"pods": "2"}, "scopeSelector": selector("Exists", Value::Null)}),
    )
    .await;
    quota(
        &k,
        "no-class",
        json!({"hard": {"pods": "1"}, "scopeSelector": selector("DoesNotExist", Value::Null)}),
    )
    .await;
    let class = |c: &str| json!({"priorityClassName": c});

    assert_eq!(
        create(&k, &pod("h1", json!({}), class("high"))).await.0,
        201
    );
    let (s, m) = create(&k, &pod("h2", json!({}), class("high"))).await;
    assert_eq!(s, 403, "{m}");
    assert!(m.contains("exceeded quota: high"), "{m}");
    // "low" counts against not-high and any-class (2 each), "high" only
    // against any-class: one more low pod fills any-class.
    assert_eq!(create(&k, &pod("l1", json!({}), class("low"))).await.0, 201);
    let (s, m) = create(&k, &pod("l2", json!({}), class("low"))).await;
    assert_eq!(s, 403, "{m}");
    assert!(m.contains("exceeded quota: any-class"), "{m}");
    // A pod without a class: not-high and no-class.
    assert_eq!(create(&k, &pod("n1", json!({}), json!({}))).await.0, 201);
    let (s, m) = create(&k, &pod("n2", json!({}), json!({}))).await;
    assert_eq!(s, 403, "{m}");
    assert!(m.contains("exceeded quota: no-class"), "{m}");

    wait_used(&k, "high", json!({"pods": "1"})).await;
    wait_used(&k, "not-high", json!({"pods": "2"})).await;
    wait_used(&k, "any-class", json!({"pods": "2"})).await;
    wait_used(&k, "no-class", json!({"pods": "1"})).await;
}

#[tokio::test]
async fn extended_resources_are_quota_d_by_their_requests() {
    let k = TestKernel::start().await;
    ready(&k).await;
    quota(&k, "gpu", json!({"hard": {"requests.nvidia.com/gpu": "2"}})).await;
    let gpus =
        |n: &str| json!({"requests": {"nvidia.com/gpu": n}, "limits": {"nvidia.com/gpu": n}});
    assert_eq!(create(&k, &pod("g1", gpus("1"), json!({}))).await.0, 201);
    let (s, m) = create(&k, &pod("g2", gpus("2"), json!({}))).await;
    assert_eq!(s, 403, "{m}");
    assert_eq!(
        m,
        "pods \"g2\" is forbidden: exceeded quota: gpu, requested: requests.nvidia.com/gpu=2, used: requests.nvidia.com/gpu=1, limited: requests.nvidia.com/gpu=2"
    );
    assert_eq!(create(&k, &pod("g3", gpus("1"), json!({}))).await.0, 201);
    // Pods without GPUs are not limited by a GPU-only quota.
    assert_eq!(create(&k, &pod("plain", json!({}), json!({}))).await.0, 201);
    wait_used(&k, "gpu", json!({"requests.nvidia.com/gpu": "2"})).await;
}
