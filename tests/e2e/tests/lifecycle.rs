//! Object lifecycle: scale and status subresources, cascading deletion, finalizers, namespace termination, wait, watch, generateName.
#![allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure, which is the point

use std::time::Duration;

use e2e::{Background, Namespace, at, expect_err_contains, expect_ok, kubectl, wait_for};
use serde_json::{Value, json};

const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  paused: true
  replicas: 0
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.27"}]
"#;

const HOLD: &str = "e2e.example.com/hold";

fn get(ns: &Namespace, kind: &str, name: &str) -> Option<Value> {
    let out = ns.kubectl(&["get", kind, name, "-o", "json", "--ignore-not-found"]);
    expect_ok(&out);
    if out.stdout.trim().is_empty() {
        None
    } else {
        Some(out.json())
    }
}

fn gone(ns: &Namespace, kind: &str, name: &str, timeout_s: u64) {
    wait_for(
        &format!("{kind}/{name} to be deleted"),
        Duration::from_secs(timeout_s),
        || get(ns, kind, name).is_none().then_some(()),
    );
}

/// A ReplicaSet owned by Deployment `web`, created by hand since the kernel runs no
/// controllers; its template differs from the deployment's so that a live deployment
/// controller never mistakes it for its own rollout.
/// A ConfigMap `web-own` that the Deployment `web` owns. Not a ReplicaSet: on a cluster
/// with controllers (a real one, or `sphere up`), the Deployment controller would release a
/// ReplicaSet that does not match its selector, and garbage collection would then rightly
/// leave it alone.
fn owned_dependent(ns: &Namespace, finalizer: bool) {
    ns.create(DEPLOYMENT);
    let uid = get(ns, "deployment", "web")
        .map(|d| d["metadata"]["uid"].clone())
        .unwrap_or_default();
    let cm = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "web-own",
            "finalizers": if finalizer { json!([HOLD]) } else { json!([]) },
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                  "uid": uid, "controller": true, "blockOwnerDeletion": true}]
        },
        "data": {"k": "v"}
    });
    ns.create(&cm.to_string());
}

fn release(ns: &Namespace, kind: &str, name: &str) {
    expect_ok(&ns.kubectl(&[
        "patch",
        kind,
        name,
        "--type",
        "merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ]));
}

#[test]
fn scale_deployment_through_the_scale_subresource() {
    let ns = Namespace::new("scale-deploy");
    ns.create(DEPLOYMENT);
    let out = ns.kubectl(&["scale", "deployment", "web", "--replicas=3"]);
    assert_eq!(expect_ok(&out).trim(), "deployment.apps/web scaled");
    let d = get(&ns, "deployment", "web").unwrap_or_default();
    assert_eq!(d["spec"]["replicas"], 3);
    let out = ns.kubectl(&[
        "get",
        "deployment",
        "web",
        "--subresource=scale",
        "-o",
        "json",
    ]);
    let scale = out.json();
    assert_eq!(scale["kind"], "Scale", "{out}");
    assert_eq!(scale["apiVersion"], "autoscaling/v1");
    assert_eq!(scale["spec"]["replicas"], 3);
    assert_eq!(scale["status"]["selector"], "app=web");
    let out = ns.kubectl(&[
        "scale",
        "deployment",
        "web",
        "--current-replicas=5",
        "--replicas=1",
    ]);
    expect_err_contains(&out, "Expected replicas to be 5, was 3");
}

#[test]
fn scale_statefulset_through_the_scale_subresource() {
    let ns = Namespace::new("scale-sts");
    ns.create(&e2e::golden_text("manifests/statefulset.yaml"));
    let out = ns.kubectl(&[
        "scale",
        "statefulset",
        "minimal-statefulset",
        "--replicas=0",
    ]);
    assert_eq!(
        expect_ok(&out).trim(),
        "statefulset.apps/minimal-statefulset scaled"
    );
    let out = ns.kubectl(&[
        "get",
        "statefulset",
        "minimal-statefulset",
        "--subresource=scale",
        "-o",
        "json",
    ]);
    let scale = out.json();
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["spec"]["replicas"], 0);
    assert_eq!(scale["status"]["selector"], "app=db");
}

#[test]
fn status_subresource_reads_and_ignores_spec_changes() {
    let ns = Namespace::new("status-sub");
    ns.create(DEPLOYMENT);
    let out = ns.kubectl(&[
        "get",
        "deployment",
        "web",
        "--subresource=status",
        "-o",
        "json",
    ]);
    let d = out.json();
    assert_eq!(d["kind"], "Deployment", "{out}");
    assert_eq!(d["metadata"]["name"], "web");
    let out = ns.kubectl(&[
        "patch",
        "deployment",
        "web",
        "--subresource=status",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"replicas":7},"status":{"observedGeneration":1}}"#,
    ]);
    expect_ok(&out);
    let d = get(&ns, "deployment", "web").unwrap_or_default();
    assert_eq!(
        d["spec"]["replicas"], 0,
        "a status patch must not change spec"
    );
}

#[test]
fn cascade_background_deletes_dependents() {
    let ns = Namespace::new("cascade-bg");
    owned_dependent(&ns, false);
    let out = ns.kubectl(&["delete", "deployment", "web", "--cascade=background"]);
    assert_eq!(expect_ok(&out).trim(), "deployment.apps \"web\" deleted");
    assert!(get(&ns, "deployment", "web").is_none());
    gone(&ns, "configmap", "web-own", 60);
}

#[test]
fn cascade_foreground_waits_for_dependents() {
    let ns = Namespace::new("cascade-fg");
    owned_dependent(&ns, true);
    expect_ok(&ns.kubectl(&[
        "delete",
        "deployment",
        "web",
        "--cascade=foreground",
        "--wait=false",
    ]));
    // The owner stays, marked for deletion, while a blocking dependent exists.
    let owner = wait_for(
        "the foreground deletion to reach the dependent",
        Duration::from_secs(60),
        || {
            let rs = get(&ns, "configmap", "web-own")?;
            rs["metadata"].get("deletionTimestamp")?;
            get(&ns, "deployment", "web")
        },
    );
    assert!(
        owner["metadata"].get("deletionTimestamp").is_some(),
        "{owner}"
    );
    assert_eq!(
        owner["metadata"]["finalizers"],
        json!(["foregroundDeletion"])
    );
    release(&ns, "configmap", "web-own");
    gone(&ns, "configmap", "web-own", 60);
    gone(&ns, "deployment", "web", 60);
}

#[test]
fn cascade_orphan_keeps_dependents_without_owner() {
    let ns = Namespace::new("cascade-orphan");
    owned_dependent(&ns, false);
    expect_ok(&ns.kubectl(&["delete", "deployment", "web", "--cascade=orphan"]));
    assert!(get(&ns, "deployment", "web").is_none());
    let rs = wait_for(
        "the owner reference to be removed",
        Duration::from_secs(60),
        || {
            let rs = get(&ns, "configmap", "web-own")?;
            let refs = rs["metadata"]["ownerReferences"]
                .as_array()
                .map_or(0, Vec::len);
            (refs == 0).then_some(rs)
        },
    );
    assert!(rs["metadata"].get("deletionTimestamp").is_none(), "{rs}");
}

#[test]
fn finalizer_holds_the_object_until_removed() {
    let ns = Namespace::new("finalizer");
    ns.create(&format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: held, finalizers: [{HOLD}]}}\n"
    ));
    let out = ns.kubectl(&["delete", "configmap", "held", "--wait=false"]);
    assert_eq!(expect_ok(&out).trim(), "configmap \"held\" deleted");
    let obj =
        get(&ns, "configmap", "held").unwrap_or_else(|| panic!("deleted despite its finalizer"));
    assert!(obj["metadata"]["deletionTimestamp"].is_string(), "{obj}");
    assert_eq!(obj["metadata"]["finalizers"], json!([HOLD]));
    // Spec changes are still allowed; adding a new finalizer is not.
    let out = ns.kubectl(&[
        "patch",
        "configmap",
        "held",
        "--type",
        "json",
        "-p",
        r#"[{"op":"add","path":"/metadata/finalizers/-","value":"e2e.example.com/late"}]"#,
    ]);
    expect_err_contains(&out, "Forbidden");
    release(&ns, "configmap", "held");
    gone(&ns, "configmap", "held", 30);
}

#[test]
fn namespace_deletion_removes_objects_then_the_namespace() {
    let name = e2e::unique_name("e2e-nsdel");
    e2e::create_namespace(&name);
    let in_ns = |args: &[&str]| {
        let mut all = vec!["-n", name.as_str()];
        all.extend_from_slice(args);
        kubectl(&all)
    };
    expect_ok(&e2e::kubectl_stdin(
        &["-n", &name, "create", "-f", "-"],
        &e2e::configmap_manifest("plain", &[]),
    ));
    let held = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: held, finalizers: [{HOLD}]}}\n"
    );
    expect_ok(&e2e::kubectl_stdin(
        &["-n", &name, "create", "-f", "-"],
        &held,
    ));
    expect_ok(&kubectl(&["delete", "namespace", &name, "--wait=false"]));
    let ns_obj = wait_for(
        "the plain object to be removed",
        Duration::from_secs(60),
        || {
            let out = in_ns(&[
                "get",
                "configmap",
                "plain",
                "--ignore-not-found",
                "-o",
                "name",
            ]);
            if !out.stdout.trim().is_empty() {
                return None;
            }
            Some(kubectl(&["get", "namespace", &name, "-o", "json"]).json())
        },
    );
    assert_eq!(ns_obj["status"]["phase"], "Terminating", "{ns_obj}");
    let held_obj = in_ns(&["get", "configmap", "held", "-o", "json"]).json();
    assert!(held_obj["metadata"]["deletionTimestamp"].is_string());
    expect_ok(&in_ns(&[
        "patch",
        "configmap",
        "held",
        "--type",
        "merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ]));
    wait_for("the namespace to be gone", Duration::from_secs(90), || {
        let out = kubectl(&[
            "get",
            "namespace",
            &name,
            "--ignore-not-found",
            "-o",
            "name",
        ]);
        (out.success() && out.stdout.trim().is_empty()).then_some(())
    });
}

#[test]
fn terminating_namespace_refuses_new_objects_and_finishes() {
    let name = e2e::unique_name("e2e-nsterm");
    e2e::create_namespace(&name);
    let held = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: held, finalizers: [{HOLD}]}}\n"
    );
    expect_ok(&e2e::kubectl_stdin(
        &["-n", &name, "create", "-f", "-"],
        &held,
    ));
    expect_ok(&kubectl(&["delete", "namespace", &name, "--wait=false"]));
    wait_for(
        "the namespace to be Terminating",
        Duration::from_secs(30),
        || {
            let ns = kubectl(&["get", "namespace", &name, "-o", "json"]).json();
            (ns["status"]["phase"] == "Terminating").then_some(())
        },
    );
    let out = e2e::kubectl_stdin(
        &["-n", &name, "create", "-f", "-"],
        &e2e::configmap_manifest("late", &[]),
    );
    expect_err_contains(&out, "because it is being terminated");
    expect_ok(&kubectl(&[
        "-n",
        &name,
        "patch",
        "configmap",
        "held",
        "--type",
        "merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ]));
    wait_for("the namespace to be gone", Duration::from_secs(90), || {
        let out = kubectl(&[
            "get",
            "namespace",
            &name,
            "--ignore-not-found",
            "-o",
            "name",
        ]);
        (out.success() && out.stdout.trim().is_empty()).then_some(())
    });
    let out = kubectl(&["-n", &name, "get", "configmaps", "-o", "name"]);
    assert!(expect_ok(&out).trim().is_empty(), "{out}");
}

fn in_thread(args: Vec<String>) -> std::thread::JoinHandle<e2e::Output> {
    std::thread::spawn(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        kubectl(&refs)
    })
}

#[test]
fn wait_for_delete_and_jsonpath() {
    let ns = Namespace::new("wait");
    ns.create(&format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: held, finalizers: [{HOLD}]}}\ndata: {{ready: \"no\"}}\n"));
    let n = ns.name().to_owned();
    let jsonpath = in_thread(
        [
            "-n",
            &n,
            "wait",
            "configmap/held",
            "--for=jsonpath={.data.ready}=yes",
            "--timeout=60s",
        ]
        .map(String::from)
        .to_vec(),
    );
    std::thread::sleep(Duration::from_millis(500));
    expect_ok(&ns.kubectl(&[
        "patch",
        "configmap",
        "held",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"ready":"yes"}}"#,
    ]));
    let out = jsonpath.join().unwrap();
    assert_eq!(expect_ok(&out).trim(), "configmap/held condition met");

    expect_ok(&ns.kubectl(&["delete", "configmap", "held", "--wait=false"]));
    let deleted = in_thread(
        [
            "-n",
            &n,
            "wait",
            "configmap/held",
            "--for=delete",
            "--timeout=60s",
        ]
        .map(String::from)
        .to_vec(),
    );
    std::thread::sleep(Duration::from_millis(500));
    release(&ns, "configmap", "held");
    let out = deleted.join().unwrap();
    assert_eq!(expect_ok(&out).trim(), "configmap/held condition met");
    let out = ns.kubectl(&["wait", "configmap/nothing", "--for=delete", "--timeout=5s"]);
    assert!(
        out.success(),
        "waiting for the deletion of a missing object succeeds:\n{out}"
    );
}

#[test]
fn get_watch_prints_each_change() {
    let ns = Namespace::new("getw");
    let watcher = Background::start(&[
        "-n",
        ns.name(),
        "get",
        "configmaps",
        "-w",
        "-o",
        "name",
        "--field-selector",
        "metadata.name=w1",
    ]);
    std::thread::sleep(Duration::from_secs(1));
    let count = |lines: &[String]| {
        lines
            .iter()
            .filter(|l| l.as_str() == "configmap/w1")
            .count()
    };
    expect_ok(&ns.create_configmap("w1", &[("a", "1")]));
    let lines = watcher.wait_lines(1, Duration::from_secs(30));
    assert_eq!(count(&lines), 1, "{lines:?}");
    expect_ok(&ns.kubectl(&[
        "patch",
        "configmap",
        "w1",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"a":"2"}}"#,
    ]));
    let lines = watcher.wait_lines(2, Duration::from_secs(30));
    assert_eq!(count(&lines), 2, "{lines:?}");
    expect_ok(&ns.kubectl(&["delete", "configmap", "w1"]));
    let lines = watcher.wait_lines(3, Duration::from_secs(30));
    assert_eq!(count(&lines), 3, "{lines:?}");
}

#[test]
fn generate_name_creates_distinct_names() {
    let ns = Namespace::new("genname");
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: gen-}\n";
    let mut names = Vec::new();
    for _ in 0..2 {
        let out = ns.kubectl_stdin(&["create", "-f", "-", "-o", "name"], yaml);
        let name = expect_ok(&out)
            .trim()
            .trim_start_matches("configmap/")
            .to_owned();
        assert!(
            name.starts_with("gen-") && name.len() == "gen-".len() + 5,
            "{name}"
        );
        let obj = get(&ns, "configmap", &name).unwrap_or_default();
        assert_eq!(at(&obj, "/metadata/generateName"), "gen-");
        names.push(name);
    }
    assert_ne!(names[0], names[1]);
}
