//! Changing objects: JSON / merge / strategic patches, edit, replace, optimistic concurrency, dry runs and diff.
#![allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure, which is the point

use std::os::unix::fs::PermissionsExt;

use e2e::{Namespace, at, expect_err_contains, expect_ok, golden_error, kubectl_env};
use serde_json::{Value, json};

const TWO_CONTAINERS: &str = r#"
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
      containers:
      - {name: web, image: "nginx:1.27"}
      - {name: sidecar, image: "busybox:1.36", command: ["sleep", "3600"]}
"#;

fn get(ns: &Namespace, kind: &str, name: &str) -> Value {
    let out = ns.kubectl(&["get", kind, name, "-o", "json"]);
    expect_ok(&out);
    out.json()
}

fn containers(deploy: &Value) -> Vec<(String, String)> {
    at(deploy, "/spec/template/spec/containers")
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap_or_default().to_owned(),
                        c["image"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn pair(name: &str, image: &str) -> (String, String) {
    (name.to_owned(), image.to_owned())
}

#[test]
fn json_patch_adds_replaces_and_fails_a_test_op() {
    let ns = Namespace::new("jsonpatch");
    expect_ok(&ns.create_configmap("x", &[("key", "value")]));
    let out = ns.kubectl(&[
        "patch",
        "configmap",
        "x",
        "--type",
        "json",
        "-p",
        r#"[{"op":"add","path":"/data/new","value":"v"},{"op":"replace","path":"/data/key","value":"changed"}]"#,
    ]);
    assert_eq!(expect_ok(&out).trim(), "configmap/x patched");
    assert_eq!(
        get(&ns, "configmap", "x")["data"],
        json!({"key": "changed", "new": "v"})
    );
    let out = ns.kubectl(&[
        "patch",
        "configmap",
        "x",
        "--type",
        "json",
        "-p",
        r#"[{"op":"test","path":"/data/key","value":"other"},{"op":"remove","path":"/data/new"}]"#,
    ]);
    assert!(
        !out.success(),
        "a failing test op must reject the patch:\n{out}"
    );
    assert_eq!(
        get(&ns, "configmap", "x")["data"],
        json!({"key": "changed", "new": "v"})
    );
}

#[test]
fn merge_patch_sets_and_deletes_keys() {
    let ns = Namespace::new("mergepatch");
    expect_ok(&ns.create_configmap("x", &[("key", "value"), ("keep", "1")]));
    let out = ns.kubectl(&[
        "patch",
        "configmap",
        "x",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"key":null,"b":"2"}}"#,
    ]);
    expect_ok(&out);
    assert_eq!(
        get(&ns, "configmap", "x")["data"],
        json!({"keep": "1", "b": "2"})
    );
    let out = ns.kubectl(&[
        "patch",
        "configmap",
        "x",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"b":"2"}}"#,
    ]);
    assert_eq!(expect_ok(&out).trim(), "configmap/x patched (no change)");
}

#[test]
fn strategic_patch_merges_containers_by_name() {
    let ns = Namespace::new("smp");
    ns.create(TWO_CONTAINERS);
    let patch =
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.28"}]}}}}"#;
    expect_ok(&ns.kubectl(&[
        "patch",
        "deployment",
        "web",
        "--type",
        "strategic",
        "-p",
        patch,
    ]));
    assert_eq!(
        containers(&get(&ns, "deployment", "web")),
        [pair("web", "nginx:1.28"), pair("sidecar", "busybox:1.36")]
    );
    // The same body as a merge patch replaces the whole list.
    expect_ok(&ns.kubectl(&["patch", "deployment", "web", "--type", "merge", "-p", patch]));
    assert_eq!(
        containers(&get(&ns, "deployment", "web")),
        [pair("web", "nginx:1.28")]
    );
}

#[test]
fn strategic_patch_delete_directive_removes_a_container() {
    let ns = Namespace::new("smp-delete");
    ns.create(TWO_CONTAINERS);
    let patch =
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}"#;
    expect_ok(&ns.kubectl(&["patch", "deployment", "web", "-p", patch]));
    assert_eq!(
        containers(&get(&ns, "deployment", "web")),
        [pair("web", "nginx:1.27")]
    );
}

#[test]
fn strategic_patch_retain_keys_clears_rolling_update() {
    let ns = Namespace::new("smp-retain");
    ns.create(TWO_CONTAINERS);
    let plain = ns.kubectl(&[
        "patch",
        "deployment",
        "web",
        "-p",
        r#"{"spec":{"strategy":{"type":"Recreate"}}}"#,
    ]);
    expect_err_contains(
        &plain,
        "may not be specified when strategy `type` is 'Recreate'",
    );
    let patch = r#"{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}"#;
    expect_ok(&ns.kubectl(&["patch", "deployment", "web", "-p", patch]));
    assert_eq!(
        get(&ns, "deployment", "web")["spec"]["strategy"],
        json!({"type": "Recreate"})
    );
}

#[test]
fn edit_applies_the_editors_change() {
    let ns = Namespace::new("edit");
    expect_ok(&ns.create_configmap("x", &[("key", "value")]));
    let dir = tempfile::tempdir().unwrap();
    let editor = dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nsed -i 's/^  key: value$/  key: edited/' \"$1\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    let editor = editor.to_string_lossy().into_owned();
    let out = kubectl_env(
        &["-n", ns.name(), "edit", "configmap", "x"],
        &[("KUBE_EDITOR", &editor)],
    );
    assert_eq!(expect_ok(&out).trim(), "configmap/x edited");
    assert_eq!(get(&ns, "configmap", "x")["data"]["key"], "edited");
}

#[test]
fn replace_and_stale_resource_version_conflict() {
    let ns = Namespace::new("replace");
    expect_ok(&ns.create_configmap("minimal-configmap", &[("key", "value")]));
    let mut obj = get(&ns, "configmap", "minimal-configmap");
    let stale = obj.clone();
    obj["data"]["key"] = json!("replaced");
    let out = ns.kubectl_stdin(&["replace", "-f", "-"], &obj.to_string());
    assert_eq!(
        expect_ok(&out).trim(),
        "configmap/minimal-configmap replaced"
    );
    let now = get(&ns, "configmap", "minimal-configmap");
    assert_eq!(now["data"]["key"], "replaced");
    assert_ne!(
        now["metadata"]["resourceVersion"],
        stale["metadata"]["resourceVersion"]
    );

    let out = ns.kubectl_stdin(&["replace", "-f", "-"], &stale.to_string());
    let (_, golden) = golden_error("errors/409-conflict-stale-rv.txt");
    expect_err_contains(&out, golden["message"].as_str().unwrap_or_default());
    assert!(out.stderr.contains("Conflict"), "{out}");
    assert_eq!(
        get(&ns, "configmap", "minimal-configmap")["data"]["key"],
        "replaced"
    );
}

#[test]
fn server_dry_run_changes_nothing() {
    let ns = Namespace::new("dryrun-server");
    let out = ns.kubectl_stdin(
        &["create", "-f", "-", "--dry-run=server"],
        &e2e::configmap_manifest("ghost", &[("a", "b")]),
    );
    assert_eq!(
        expect_ok(&out).trim(),
        "configmap/ghost created (server dry run)"
    );
    expect_err_contains(&ns.kubectl(&["get", "configmap", "ghost"]), "NotFound");

    // The server fills defaults on a dry run exactly as on a real create.
    let out = ns.kubectl_stdin(
        &["create", "-f", "-", "--dry-run=server", "-o", "json"],
        &e2e::golden_text("manifests/deployment.yaml"),
    );
    let obj = out.json();
    assert_eq!(obj["spec"]["replicas"], 1, "{out}");
    assert_eq!(obj["spec"]["strategy"]["type"], "RollingUpdate");
    expect_err_contains(
        &ns.kubectl(&["get", "deployment", "minimal-deployment"]),
        "NotFound",
    );

    expect_ok(&ns.create_configmap("real", &[("a", "b")]));
    let before = get(&ns, "configmap", "real");
    let out = ns.kubectl(&[
        "patch",
        "configmap",
        "real",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"a":"z"}}"#,
        "--dry-run=server",
    ]);
    // kubectl patch adds no "(server dry run)" suffix, unlike create and delete.
    assert!(
        expect_ok(&out).starts_with("configmap/real patched"),
        "{out}"
    );
    let out = ns.kubectl(&["delete", "configmap", "real", "--dry-run=server"]);
    assert_eq!(
        expect_ok(&out).trim(),
        "configmap \"real\" deleted (server dry run)"
    );
    let after = get(&ns, "configmap", "real");
    assert_eq!(after["data"], json!({"a": "b"}));
    assert_eq!(
        after["metadata"]["resourceVersion"],
        before["metadata"]["resourceVersion"]
    );
}

#[test]
fn client_dry_run_prints_without_sending() {
    let ns = Namespace::new("dryrun-client");
    let out = ns.kubectl(&[
        "create",
        "configmap",
        "ghost",
        "--from-literal=a=b",
        "--dry-run=client",
        "-o",
        "json",
    ]);
    let obj = out.json();
    assert_eq!(obj["kind"], "ConfigMap");
    assert_eq!(obj["data"], json!({"a": "b"}));
    assert!(
        obj["metadata"].get("uid").is_none(),
        "client dry run must not reach the server: {obj}"
    );
    expect_err_contains(&ns.kubectl(&["get", "configmap", "ghost"]), "NotFound");
}

#[test]
fn diff_exits_one_on_change_and_zero_when_same() {
    let ns = Namespace::new("diff");
    let manifest = |value: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: d, namespace: {}}}\ndata: {{key: {value}}}\n",
            ns.name()
        )
    };
    expect_ok(&ns.kubectl_stdin(&["apply", "-f", "-"], &manifest("value")));
    let same = ns.kubectl_stdin(&["diff", "-f", "-"], &manifest("value"));
    assert_eq!(same.code, Some(0), "{same}");
    assert!(same.stdout.trim().is_empty(), "{same}");
    let changed = ns.kubectl_stdin(&["diff", "-f", "-"], &manifest("changed"));
    assert_eq!(changed.code, Some(1), "{changed}");
    assert!(
        changed.stdout.lines().any(|l| l == "-  key: value"),
        "{changed}"
    );
    assert!(
        changed.stdout.lines().any(|l| l == "+  key: changed"),
        "{changed}"
    );
    assert_eq!(
        get(&ns, "configmap", "d")["data"]["key"],
        "value",
        "diff must not change anything"
    );
}
