//! The kernel's HTTP API called in-process: object semantics, errors, lists,
//! watches and discovery, checked the way a client would.

mod common;
use common::TestKernel;
use serde_json::{Value, json};

const CM: &str = "/api/v1/namespaces/default/configmaps";

fn cm(name: &str, data: Value) -> String {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
        .to_string()
}

#[tokio::test]
async fn create_get_update_conflict_delete() {
    let k = TestKernel::start().await;
    let (s, created) = k.json("POST", CM, &cm("a", json!({"k": "v"}))).await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["kind"], "ConfigMap");
    assert!(
        created["metadata"]["uid"]
            .as_str()
            .is_some_and(|u| u.len() == 36)
    );
    let rv = created["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_string();

    let (s, got) = k.json("GET", &format!("{CM}/a"), "").await;
    assert_eq!((s, &got), (200, &created));

    let (s, again) = k.json("POST", CM, &cm("a", json!({}))).await;
    assert_eq!(s, 409);
    assert_eq!(again["reason"], "AlreadyExists");
    assert_eq!(again["message"], "configmaps \"a\" already exists");

    let mut upd = created.clone();
    upd["data"]["k"] = json!("v2");
    let (s, updated) = k.json("PUT", &format!("{CM}/a"), &upd.to_string()).await;
    assert_eq!(s, 200, "{updated}");
    assert_ne!(
        updated["metadata"]["resourceVersion"].as_str(),
        Some(rv.as_str())
    );
    // The same stale resourceVersion again is a conflict, and changes nothing.
    upd["data"]["k"] = json!("v3");
    let (s, stale) = k.json("PUT", &format!("{CM}/a"), &upd.to_string()).await;
    assert_eq!(s, 409);
    assert_eq!(stale["reason"], "Conflict");
    let (_, now) = k.json("GET", &format!("{CM}/a"), "").await;
    assert_eq!(now["data"]["k"], "v2");

    let (s, _) = k.json("DELETE", &format!("{CM}/a"), "").await;
    assert_eq!(s, 200);
    let (s, nf) = k.json("GET", &format!("{CM}/a"), "").await;
    assert_eq!(s, 404);
    assert_eq!(nf["message"], "configmaps \"a\" not found");
    assert_eq!(nf["details"], json!({"name": "a", "kind": "configmaps"}));
}

#[tokio::test]
async fn bad_input_changes_nothing() {
    let k = TestKernel::start().await;
    let (s, e) = k.json("POST", CM, "{\"apiVersion\":\"v1\",").await;
    assert_eq!((s, e["reason"].as_str()), (400, Some("BadRequest")));
    let (s, e) = k
        .json(
            "POST",
            CM,
            &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}).to_string(),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        e["message"]
            .as_str()
            .unwrap_or("")
            .contains("cannot be handled as a ConfigMap")
    );
    let (s, e) = k.json("POST", CM, &cm("Bad_Name", json!({}))).await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(e["details"]["causes"][0]["field"], "metadata.name");
    let (s, e) = k.json("POST", &format!("{CM}?fieldValidation=Strict"), &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "u"}, "bogus": 1}).to_string()).await;
    assert_eq!(s, 400);
    assert_eq!(
        e["message"],
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"bogus\""
    );
    let big = "x".repeat(3 * 1024 * 1024 + 10);
    let (s, e) = k.json("POST", CM, &cm("big", json!({"k": big}))).await;
    assert_eq!(
        (s, e["reason"].as_str()),
        (413, Some("RequestEntityTooLarge"))
    );
    let (s, list) = k.json("GET", CM, "").await;
    assert_eq!(s, 200);
    let names: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["metadata"]["name"].as_str())
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| ["x", "Bad_Name", "u", "big"].contains(n)),
        "{names:?}"
    );
}

#[tokio::test]
async fn warn_mode_drops_unknown_fields_with_a_warning() {
    let k = TestKernel::start().await;
    let body =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "w"}, "bogus": true})
            .to_string();
    let (s, h, b) = k
        .call(
            "POST",
            &format!("{CM}?fieldValidation=Warn"),
            Some("application/json"),
            &body,
        )
        .await;
    assert_eq!(s, 201);
    let w = h
        .get("warning")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert_eq!(w, "299 - \"unknown field \\\"bogus\\\"\"");
    let v: Value = serde_json::from_slice(&b).expect("json");
    assert!(v.get("bogus").is_none());
}

#[tokio::test]
async fn unauthenticated_is_401_but_health_is_open() {
    let k = TestKernel::start().await;
    let (s, _, b) = k.call_as(None, "GET", CM, None, "", None).await;
    assert_eq!(s, 401);
    let v: Value = serde_json::from_slice(&b).expect("json");
    assert_eq!(v["reason"], "Unauthorized");
    for p in ["/healthz", "/livez", "/readyz", "/version"] {
        let (s, _, _) = k.call_as(None, "GET", p, None, "", None).await;
        assert_eq!(s, 200, "{p}");
    }
    let (s, _, _) = k
        .call_as(
            Some(apimachinery::UserInfo::new("alice", vec![])),
            "GET",
            CM,
            None,
            "",
            None,
        )
        .await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn paging_label_and_field_selectors() {
    let k = TestKernel::start().await;
    for i in 0..7 {
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("p{i}"), "labels": {"tier": if i % 2 == 0 { "a" } else { "b" }}}});
        let (s, _) = k.json("POST", CM, &body.to_string()).await;
        assert_eq!(s, 201);
    }
    let mut seen = Vec::new();
    let mut uri = format!("{CM}?limit=3&labelSelector=tier");
    let mut first_rv = None;
    loop {
        let (s, page) = k.json("GET", &uri, "").await;
        assert_eq!(s, 200, "{page}");
        first_rv.get_or_insert_with(|| page["metadata"]["resourceVersion"].clone());
        assert_eq!(
            Some(&page["metadata"]["resourceVersion"]),
            first_rv.as_ref(),
            "every page is at the first page's revision"
        );
        for i in page["items"].as_array().expect("items") {
            assert!(
                i.get("kind").is_none(),
                "list items carry no kind, as kube-apiserver"
            );
            seen.push(
                i["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            );
        }
        match page["metadata"]["continue"].as_str() {
            Some(c) => {
                // A write between pages does not change what the pages show.
                let _ = k.json("POST", CM, &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("late{}", seen.len()), "labels": {"tier": "a"}}}).to_string()).await;
                uri = format!("{CM}?limit=3&labelSelector=tier&continue={c}");
            }
            None => break,
        }
    }
    assert_eq!(seen, vec!["p0", "p1", "p2", "p3", "p4", "p5", "p6"]);
    let (_, l) = k
        .json(
            "GET",
            &format!("{CM}?labelSelector=tier%20in%20(b),tier!%3Dc"),
            "",
        )
        .await;
    assert_eq!(l["items"].as_array().map(Vec::len), Some(3));
    let (_, l) = k
        .json("GET", &format!("{CM}?fieldSelector=metadata.name%3Dp4"), "")
        .await;
    assert_eq!(l["items"][0]["metadata"]["name"], "p4");
    let (s, e) = k
        .json("GET", &format!("{CM}?fieldSelector=spec.bogus%3D1"), "")
        .await;
    assert_eq!(s, 400, "{e}");
    let (s, _) = k
        .json("GET", &format!("{CM}?labelSelector=a%20in%20(("), "")
        .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn table_and_discovery() {
    let k = TestKernel::start().await;
    k.json("POST", CM, &cm("t", json!({"a": "1", "b": "2"})))
        .await;
    let (s, _, b) = k
        .call_as(
            Some(common::admin()),
            "GET",
            CM,
            None,
            "",
            Some("application/json;as=Table;v=v1;g=meta.k8s.io,application/json"),
        )
        .await;
    assert_eq!(s, 200);
    let t: Value = serde_json::from_slice(&b).expect("json");
    assert_eq!(t["kind"], "Table");
    let cols: Vec<&str> = t["columnDefinitions"]
        .as_array()
        .expect("cols")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(cols, vec!["Name", "Data", "Age"]);
    let row = t["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["cells"][0] == "t")
        .expect("row for t");
    assert_eq!(row["cells"][1], 2);
    assert_eq!(row["object"]["kind"], "PartialObjectMetadata");

    let (s, apis) = k.json("GET", "/apis", "").await;
    assert_eq!(s, 200);
    let groups: Vec<&str> = apis["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["name"].as_str())
        .collect();
    // kube-apiserver v1.36's order (golden discovery/apis.json).
    let golden = [
        "apiregistration.k8s.io",
        "apps",
        "events.k8s.io",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "autoscaling",
        "batch",
        "certificates.k8s.io",
        "networking.k8s.io",
        "policy",
        "rbac.authorization.k8s.io",
        "storage.k8s.io",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "scheduling.k8s.io",
        "coordination.k8s.io",
        "node.k8s.io",
        "discovery.k8s.io",
        "resource.k8s.io",
        "flowcontrol.apiserver.k8s.io",
    ];
    assert_eq!(groups, golden);
    let (_, v1) = k.json("GET", "/api/v1", "").await;
    let pods = v1["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["name"] == "pods")
        .expect("pods")
        .clone();
    assert_eq!(pods["shortNames"], json!(["po"]));
    assert_eq!(pods["categories"], json!(["all"]));
    let (s, _, _) = k
        .call_as(
            Some(common::admin()),
            "GET",
            "/api/v1",
            None,
            "",
            Some("application/vnd.kubernetes.protobuf"),
        )
        .await;
    assert_eq!(s, 406);
}

#[tokio::test]
async fn watch_from_resource_version_and_expired() {
    let k = TestKernel::start_with(|c| c.watch_window = 8).await;
    let (_, a) = k.json("POST", CM, &cm("w", json!({"a": "1"}))).await;
    let rv: u64 = a["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("rv");
    k.json("PATCH", &format!("{CM}/w"), r#"{"data":{"a":"2"}}"#)
        .await;
    k.json("DELETE", &format!("{CM}/w"), "").await;
    let (s, _, body) = k
        .call(
            "GET",
            &format!("{CM}?watch=true&resourceVersion={rv}&timeoutSeconds=1"),
            None,
            "",
        )
        .await;
    assert_eq!(s, 200);
    let lines: Vec<Value> = body
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("event json"))
        .collect();
    let types: Vec<&str> = lines.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(types, vec!["MODIFIED", "DELETED"]);
    assert_eq!(lines[0]["object"]["kind"], "ConfigMap");
    for i in 0..20 {
        k.json("POST", CM, &cm(&format!("n{i}"), json!({}))).await;
    }
    let (s, _, body) = k
        .call(
            "GET",
            &format!("{CM}?watch=true&resourceVersion={rv}"),
            None,
            "",
        )
        .await;
    assert_eq!(
        s, 200,
        "kube-apiserver answers an expired watch with 200 and an ERROR event"
    );
    let ev: Value = serde_json::from_slice(body.split(|b| *b == b'\n').next().unwrap_or_default())
        .expect("event");
    assert_eq!(ev["type"], "ERROR");
    assert_eq!(ev["object"]["code"], 410);
    assert_eq!(ev["object"]["reason"], "Expired");
}

#[tokio::test]
async fn openapi_documents_have_no_dangling_references() {
    let k = TestKernel::start().await;
    let (s, v2) = k.json("GET", "/openapi/v2", "").await;
    assert_eq!(s, 200);
    let defs = v2["definitions"].as_object().expect("definitions");
    let mut dangling = Vec::new();
    fn walk(v: &Value, defs: &serde_json::Map<String, Value>, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    let name = r.rsplit('/').next().unwrap_or_default();
                    if !defs.contains_key(name) {
                        out.push(r.clone());
                    }
                }
                m.values().for_each(|x| walk(x, defs, out));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, defs, out)),
            _ => {}
        }
    }
    walk(&v2, defs, &mut dangling);
    assert!(dangling.is_empty(), "{dangling:?}");
    let pb = k
        .call_as(
            Some(common::admin()),
            "GET",
            "/openapi/v2",
            None,
            "",
            Some("application/com.github.proto-openapi.spec.v2@v1.0+protobuf"),
        )
        .await;
    assert_eq!(pb.0, 200);
    assert!(
        pb.1.get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.contains("protobuf"))
    );
    let (s, index) = k.json("GET", "/openapi/v3", "").await;
    assert_eq!(s, 200);
    let apps = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
        .as_str()
        .expect("apps/v1 in the v3 index")
        .to_string();
    let (s, doc) = k.json("GET", &apps, "").await;
    assert_eq!(s, 200);
    assert!(
        doc["components"]["schemas"]
            .as_object()
            .is_some_and(|m| m.contains_key("io.k8s.api.apps.v1.Deployment"))
    );
}

#[tokio::test]
async fn resource_quota_refuses_creates_past_hard_and_reports_usage() {
    let k = TestKernel::start().await;
    let quota = json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q"}, "spec": {"hard": {"count/configmaps": "2"}}});
    let (s, b) = k
        .json(
            "POST",
            "/api/v1/namespaces/default/resourcequotas",
            &quota.to_string(),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    for n in ["q1", "q2"] {
        let (s, b) = k.json("POST", CM, &cm(n, json!({}))).await;
        assert_eq!(s, 201, "{b}");
    }
    let (s, e) = k.json("POST", CM, &cm("q3", json!({}))).await;
    assert_eq!(s, 403, "{e}");
    assert_eq!(
        e["message"],
        "configmaps \"q3\" is forbidden: exceeded quota: q, requested: count/configmaps=1, used: count/configmaps=2, limited: count/configmaps=2"
    );
    let (s, _) = k.json("GET", &format!("{CM}/q3"), "").await;
    assert_eq!(s, 404, "the refused object was not stored");
    // The quota controller reports usage in status.
    let mut used = Value::Null;
    for _ in 0..50 {
        let (_, q) = k
            .json("GET", "/api/v1/namespaces/default/resourcequotas/q", "")
            .await;
        used = q["status"]["used"]["count/configmaps"].clone();
        if used == "2" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(used, "2");
    // Deleting one frees room for another.
    k.json("DELETE", &format!("{CM}/q1"), "").await;
    let (s, _) = k.json("POST", CM, &cm("q3", json!({}))).await;
    assert_eq!(s, 201);
}

#[tokio::test]
async fn resource_quota_counts_pod_compute_requests() {
    let k = TestKernel::start().await;
    // Pods need the namespace's default ServiceAccount, which the kernel creates.
    for _ in 0..50 {
        let (s, _) = k
            .json(
                "GET",
                "/api/v1/namespaces/default/serviceaccounts/default",
                "",
            )
            .await;
        if s == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let quota = json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "compute"}, "spec": {"hard": {"requests.cpu": "1", "pods": "5"}}});
    let (s, _) = k
        .json(
            "POST",
            "/api/v1/namespaces/default/resourcequotas",
            &quota.to_string(),
        )
        .await;
    assert_eq!(s, 201);
    let pod = |name: &str, cpu: Option<&str>| {
        let mut c = json!({"name": "c", "image": "nginx"});
        if let Some(cpu) = cpu {
            c["resources"] = json!({"requests": {"cpu": cpu}});
        }
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [c]}}).to_string()
    };
    let pods = "/api/v1/namespaces/default/pods";
    let (s, b) = k.json("POST", pods, &pod("p1", Some("600m"))).await;
    assert_eq!(s, 201, "{b}");
    let (s, e) = k.json("POST", pods, &pod("p2", Some("600m"))).await;
    assert_eq!(s, 403, "{e}");
    assert!(e["message"].as_str().unwrap_or("").contains("exceeded quota: compute, requested: requests.cpu=600m, used: requests.cpu=600m, limited: requests.cpu=1"), "{e}");
    let (s, e) = k.json("POST", pods, &pod("p3", None)).await;
    assert_eq!(s, 403, "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap_or("")
            .contains("must specify requests.cpu"),
        "{e}"
    );
    let (s, _) = k.json("POST", pods, &pod("p4", Some("400m"))).await;
    assert_eq!(s, 201, "exactly up to the limit is allowed");
}
