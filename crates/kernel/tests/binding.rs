//! Binding pods to nodes through `pods/{name}/binding` and `bindings`, as the
//! scheduler does: the pod gets its node and `PodScheduled=True`, once.

#![allow(clippy::unwrap_used)]

mod common;

use common::TestKernel;
use serde_json::{Value, json};

const POD: &str = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},
    "spec":{"containers":[{"name":"c","image":"nginx"}]}}"#;

fn binding(pod: &str, node: &str, uid: Option<&str>) -> String {
    json!({
        "apiVersion": "v1", "kind": "Binding",
        "metadata": {"name": pod, "uid": uid, "annotations": {"example.com/placed-by": "test"}},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    })
    .to_string()
}

/// A kernel with the `default` ServiceAccount the pods' admission looks up (the
/// controller that creates it does not run in a bare kernel).
async fn kernel() -> TestKernel {
    let k = TestKernel::start().await;
    let (s, body) = k
        .json(
            "POST",
            "/api/v1/namespaces/default/serviceaccounts",
            r#"{"metadata":{"name":"default"}}"#,
        )
        .await;
    assert_eq!(s, 201, "{body}");
    k
}

fn scheduled(pod: &Value) -> Vec<&Value> {
    pod["status"]["conditions"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|c| c["type"] == "PodScheduled")
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn binding_assigns_the_node_once_and_marks_the_pod_scheduled() {
    let k = kernel().await;
    let pods = "/api/v1/namespaces/default/pods";
    let (s, created) = k.json("POST", pods, POD).await;
    assert_eq!(s, 201, "{created}");
    let uid = created["metadata"]["uid"].as_str().unwrap().to_string();

    // A binding for another incarnation of the pod is refused and changes nothing.
    let (s, body) = k
        .json(
            "POST",
            &format!("{pods}/web/binding"),
            &binding("web", "n1", Some("not-the-uid")),
        )
        .await;
    assert_eq!(s, 409, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("UID in precondition: not-the-uid"),
        "{body}"
    );
    let (_, pod) = k.json("GET", &format!("{pods}/web"), "").await;
    assert_eq!(pod["spec"].get("nodeName"), None);
    assert_eq!(
        pod["metadata"]["resourceVersion"], created["metadata"]["resourceVersion"],
        "a refused binding writes nothing"
    );

    let (s, body) = k
        .json(
            "POST",
            &format!("{pods}/web/binding"),
            &binding("web", "n1", Some(&uid)),
        )
        .await;
    assert_eq!((s, &body["status"]), (201, &json!("Success")), "{body}");
    let (_, pod) = k.json("GET", &format!("{pods}/web"), "").await;
    assert_eq!(pod["spec"]["nodeName"], "n1");
    assert_eq!(
        pod["metadata"]["annotations"]["example.com/placed-by"],
        "test"
    );
    let conds = scheduled(&pod);
    assert_eq!(conds.len(), 1, "{pod}");
    assert_eq!(conds[0]["status"], "True");
    assert!(conds[0]["lastTransitionTime"].is_string(), "{pod}");
    assert!(
        pod["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["subresource"] != "binding"),
        "kube-apiserver records no managedFields entry for a binding: {pod}"
    );

    // The second binding is refused: a pod moves to a node once.
    let (s, body) = k
        .json(
            "POST",
            &format!("{pods}/web/binding"),
            &binding("web", "n2", None),
        )
        .await;
    assert_eq!(s, 409, "{body}");
    assert_eq!(
        body["message"],
        "Operation cannot be fulfilled on pods/binding \"web\": pod web is already assigned to node \"n1\""
    );

    // The `bindings` resource does the same for a pod named in the body.
    let (s, _) = k
        .json(
            "POST",
            pods,
            &POD.replace(r#""name":"web""#, r#""name":"api""#),
        )
        .await;
    assert_eq!(s, 201);
    let (s, body) = k
        .json(
            "POST",
            "/api/v1/namespaces/default/bindings",
            &binding("api", "n3", None),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let (_, pod) = k.json("GET", &format!("{pods}/api"), "").await;
    assert_eq!(pod["spec"]["nodeName"], "n3");

    // Binding a pod that does not exist is a 404 naming the pod.
    let (s, body) = k
        .json(
            "POST",
            &format!("{pods}/ghost/binding"),
            &binding("ghost", "n1", None),
        )
        .await;
    assert_eq!(s, 404, "{body}");
    assert_eq!(body["message"], "pods \"ghost\" not found");
}

#[tokio::test]
async fn a_binding_without_a_target_is_invalid() {
    let k = kernel().await;
    let pods = "/api/v1/namespaces/default/pods";
    assert_eq!(k.json("POST", pods, POD).await.0, 201);
    let (s, body) = k
        .json(
            "POST",
            &format!("{pods}/web/binding"),
            r#"{"apiVersion":"v1","kind":"Binding","metadata":{"name":"web"},"target":{}}"#,
        )
        .await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["details"]["causes"][0]["field"], "target.name");
}
