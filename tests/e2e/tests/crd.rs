//! CustomResourceDefinitions end to end: discovery, pruning, defaulting, validation, printer columns, subresources, versions, deletion.
#![allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure, which is the point

use std::sync::OnceLock;
use std::time::Duration;

use e2e::{
    Cluster, Namespace, at, expect_err_contains, expect_ok, golden_error, golden_json, json_diff,
    kubectl, kubectl_stdin, normalize_object, parse_table, unique_name, wait_for,
};
use http::Method;
use serde_json::{Value, json};

const GOLDEN_CRD: &str = "widgets.golden.example.com";

/// The manifest the golden CRD was applied from (its last-applied annotation).
fn golden_crd_manifest() -> String {
    let crd = golden_json("objects/crd-after-established.json");
    at(
        &crd,
        "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration",
    )
    .as_str()
    .unwrap_or_else(|| panic!("golden CRD lacks its last-applied annotation"))
    .to_owned()
}

fn establish(manifest: &str, name: &str) {
    let out = kubectl_stdin(&["apply", "-f", "-"], manifest);
    assert_eq!(
        expect_ok(&out).trim(),
        format!("customresourcedefinition.apiextensions.k8s.io/{name} created")
    );
    let out = kubectl(&[
        "wait",
        "--for=condition=Established",
        &format!("crd/{name}"),
        "--timeout=60s",
    ]);
    assert_eq!(
        expect_ok(&out).trim(),
        format!("customresourcedefinition.apiextensions.k8s.io/{name} condition met")
    );
}

#[track_caller]
fn assert_same(what: &str, expected: &Value, actual: &Value) {
    let diff = json_diff(expected, actual);
    assert!(
        diff.is_empty(),
        "{what} differs:\n  {}\nactual: {actual:#}",
        diff.join("\n  ")
    );
}

static GOLDEN_ESTABLISHED: OnceLock<()> = OnceLock::new();

/// Creates the golden CRD once per test binary (deleting any copy a previous run left), so
/// that the tests below can share it while running in parallel.
fn golden_crd() {
    GOLDEN_ESTABLISHED.get_or_init(|| {
        expect_ok(&kubectl(&[
            "delete",
            "crd",
            GOLDEN_CRD,
            "--ignore-not-found",
            "--timeout=120s",
        ]));
        establish(&golden_crd_manifest(), GOLDEN_CRD);
    });
}

const W1: &str = "apiVersion: golden.example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {color: red, unknown: dropped}\n";

fn widgets_path(ns: &Namespace) -> String {
    format!(
        "/apis/golden.example.com/v1/namespaces/{}/widgets",
        ns.name()
    )
}

#[test]
fn golden_crd_is_established_as_recorded() {
    golden_crd();
    let crd = kubectl(&["get", "crd", GOLDEN_CRD, "-o", "json"]).json();
    let golden = golden_json("objects/crd-after-established.json");
    assert_same(
        "the established CRD",
        &normalize_object(&golden),
        &normalize_object(&crd),
    );
    let disco = e2e::parse_json(expect_ok(&kubectl(&[
        "get",
        "--raw",
        "/apis/golden.example.com/v1",
    ])));
    assert_same(
        "CRD discovery",
        &golden_json("discovery/apis_golden.example.com_v1-crd.json"),
        &disco,
    );
}

#[test]
fn custom_resource_is_pruned_defaulted_and_printed() {
    golden_crd();
    let ns = Namespace::new("widgets");
    let out = ns.kubectl_stdin(&["create", "-f", "-", "--validate=false", "-o", "json"], W1);
    expect_ok(&out);
    assert_same(
        "the pruned and defaulted widget",
        &normalize_object(&golden_json(
            "objects/custom-resource-pruned-defaulted.json",
        )),
        &normalize_object(&out.json()),
    );
    let out = ns.kubectl(&["get", "wdg", "w1", "-o", "name"]);
    assert_eq!(expect_ok(&out).trim(), "widget.golden.example.com/w1");
    let t = parse_table(expect_ok(&ns.kubectl(&["get", "widgets"])));
    assert_eq!(t.columns, ["NAME", "COLOR"]);
    assert_eq!(t.rows, vec![vec!["w1", "red"]]);

    let table = Cluster::shared()
        .raw()
        .request_blocking(
            Method::GET,
            &widgets_path(&ns),
            &[("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")],
            Vec::new(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(table.status, 200, "{}", table.text());
    let table = table.json().unwrap_or_default();
    let golden_table = golden_json("tables/custom-resource-printer-columns.json");
    assert_eq!(table["kind"], "Table");
    assert_eq!(
        table["columnDefinitions"],
        golden_table["columnDefinitions"]
    );
    assert_eq!(table["rows"][0]["cells"], golden_table["rows"][0]["cells"]);
}

#[test]
fn custom_resource_schema_violations_are_refused() {
    golden_crd();
    let ns = Namespace::new("widgets-invalid");
    let w2 = json!({"apiVersion": "golden.example.com/v1", "kind": "Widget",
                    "metadata": {"name": "w2"}, "spec": {"color": "green"}});
    let resp = Cluster::shared()
        .raw()
        .request_blocking(
            Method::POST,
            &widgets_path(&ns),
            &[("Content-Type", "application/json")],
            w2.to_string().into_bytes(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let (code, golden_422) = golden_error("errors/422-custom-resource-schema.txt");
    assert_eq!(resp.status, code, "{}", resp.text());
    assert_same(
        "the schema rejection",
        &golden_422,
        &resp.json().unwrap_or_default(),
    );
    let out = ns.kubectl_stdin(&["create", "-f", "-"], &w2.to_string());
    expect_err_contains(
        &out,
        r#"spec.color: Unsupported value: "green": supported values: "red", "blue""#,
    );
    let out = ns.kubectl_stdin(&["create", "-f", "-", "--validate=strict"], W1);
    expect_err_contains(&out, r#"unknown field "spec.unknown""#);
}

#[test]
fn custom_resource_refuses_strategic_merge_patch() {
    golden_crd();
    let ns = Namespace::new("widgets-smp");
    expect_ok(&ns.kubectl_stdin(&["create", "-f", "-", "--validate=false"], W1));
    let out = ns.kubectl(&[
        "patch",
        "widget",
        "w1",
        "--type",
        "strategic",
        "-p",
        r#"{"spec":{"color":"blue"}}"#,
    ]);
    let (_, golden_415) = golden_error("errors/415-smp-on-custom-resource.txt");
    expect_err_contains(&out, golden_415["message"].as_str().unwrap_or_default());
    let resp = Cluster::shared()
        .raw()
        .request_blocking(
            Method::PATCH,
            &format!("{}/w1", widgets_path(&ns)),
            &[("Content-Type", "application/strategic-merge-patch+json")],
            br#"{"spec":{"color":"blue"}}"#.to_vec(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_same(
        "the 415 for a strategic patch",
        &golden_415,
        &resp.json().unwrap_or_default(),
    );
    expect_ok(&ns.kubectl(&[
        "patch",
        "widget",
        "w1",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"color":"blue"}}"#,
    ]));
    let w = ns.kubectl(&["get", "widget", "w1", "-o", "json"]).json();
    assert_eq!(w["spec"]["color"], "blue");
    assert_eq!(
        w["metadata"]["generation"], 2,
        "a spec change bumps generation"
    );
}

#[test]
fn custom_resource_status_endpoint_never_changes_spec() {
    golden_crd();
    let ns = Namespace::new("widgets-status");
    expect_ok(&ns.kubectl_stdin(&["create", "-f", "-", "--validate=false"], W1));
    let out = ns.kubectl(&[
        "patch",
        "widget",
        "w1",
        "--subresource=status",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"color":"blue"}}"#,
    ]);
    expect_ok(&out);
    let view = ns
        .kubectl(&["get", "widget", "w1", "--subresource=status", "-o", "json"])
        .json();
    assert_eq!(view["spec"]["color"], "red", "{view}");
    assert_eq!(view["metadata"]["generation"], 1);
}

#[test]
fn deleting_a_crd_deletes_its_custom_resources() {
    let group = format!("{}.example.com", unique_name("e2e-del"));
    let name = format!("widgets.{group}");
    let manifest = golden_crd_manifest()
        .replace("widgets.golden.example.com", &name)
        .replace("\"golden.example.com\"", &format!("\"{group}\""));
    establish(&manifest, &name);
    let guard = CrdGuard(name.clone());
    let ns = Namespace::new("widgets-del");
    expect_ok(&ns.kubectl_stdin(
        &["create", "-f", "-", "--validate=false"],
        &W1.replace("golden.example.com", &group),
    ));
    let out = kubectl(&["delete", "crd", &name, "--timeout=120s"]);
    assert_eq!(
        expect_ok(&out).trim(),
        format!("customresourcedefinition.apiextensions.k8s.io \"{name}\" deleted")
    );
    let list_path = format!("/apis/{group}/v1/namespaces/{}/widgets", ns.name());
    expect_err_contains(&kubectl(&["get", "--raw", &list_path]), "NotFound");
    // Recreating the CRD must not bring the old custom resources back.
    establish(&manifest, &name);
    let out = ns.kubectl(&["get", &format!("widgets.{group}"), "-o", "name"]);
    assert!(expect_ok(&out).trim().is_empty(), "{out}");
    drop(guard);
}

fn gadget_crd(group: &str) -> String {
    let schema = || {
        let spec = json!({"type": "object", "properties": {
            "size": {"type": "integer", "default": 1},
            "mode": {"type": "string"},
            "replicas": {"type": "integer"}}});
        json!({"openAPIV3Schema": {"type": "object", "properties": {
            "spec": spec,
            "status": {"type": "object", "properties": {
                "phase": {"type": "string"}, "replicas": {"type": "integer"}}}}}})
    };
    let version = |name: &str, storage: bool| {
        json!({"name": name, "served": true, "storage": storage, "schema": schema(),
               "subresources": {"status": {}, "scale": {
                   "specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}},
               "additionalPrinterColumns": [
                   {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                   {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]})
    };
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": format!("gadgets.{group}")},
           "spec": {"group": group, "scope": "Namespaced",
                    "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "listKind": "GadgetList"},
                    "versions": [version("v1", true), version("v2", false)]}})
    .to_string()
}

#[test]
fn crd_with_two_versions_status_scale_and_defaults() {
    let group = format!("{}.example.com", unique_name("e2e"));
    let crd = format!("gadgets.{group}");
    establish(&gadget_crd(&group), &crd);
    let cleanup = CrdGuard(crd.clone());

    let versions = kubectl(&["api-versions"]);
    let versions = expect_ok(&versions);
    for v in ["v1", "v2"] {
        assert!(
            versions.lines().any(|l| l == format!("{group}/{v}")),
            "{group}/{v} not served"
        );
    }
    let apis = e2e::parse_json(expect_ok(&kubectl(&[
        "get",
        "--raw",
        &format!("/apis/{group}"),
    ])));
    assert_eq!(
        apis["preferredVersion"]["version"], "v2",
        "kube version priority prefers v2: {apis}"
    );
    let crd_obj = kubectl(&["get", "crd", &crd, "-o", "json"]).json();
    assert_eq!(crd_obj["status"]["storedVersions"], json!(["v1"]));

    let ns = Namespace::new("gadgets");
    ns.create(&format!("apiVersion: {group}/v1\nkind: Gadget\nmetadata: {{name: g1}}\nspec: {{mode: fast, replicas: 1}}\n"));
    let v1 = ns
        .kubectl(&["get", &format!("gadgets.v1.{group}"), "g1", "-o", "json"])
        .json();
    assert_eq!(v1["apiVersion"], format!("{group}/v1"));
    assert_eq!(
        v1["spec"],
        json!({"mode": "fast", "replicas": 1, "size": 1}),
        "default applied"
    );
    let v2 = ns
        .kubectl(&["get", &format!("gadgets.v2.{group}"), "g1", "-o", "json"])
        .json();
    assert_eq!(v2["apiVersion"], format!("{group}/v2"));
    assert_eq!(v2["metadata"]["uid"], v1["metadata"]["uid"]);

    let t = parse_table(expect_ok(&ns.kubectl(&["get", "gadgets"])));
    assert_eq!(t.columns, ["NAME", "SIZE", "AGE"]);
    assert_eq!(t.cell(0, "SIZE"), Some("1"));

    let out = ns.kubectl(&[
        "patch",
        "gadget",
        "g1",
        "--subresource=status",
        "--type",
        "merge",
        "-p",
        r#"{"status":{"phase":"Ready"}}"#,
    ]);
    expect_ok(&out);
    let g = ns.kubectl(&["get", "gadget", "g1", "-o", "json"]).json();
    assert_eq!(g["status"]["phase"], "Ready");
    let generation = g["metadata"]["generation"].clone();
    expect_ok(&ns.kubectl(&[
        "patch",
        "gadget",
        "g1",
        "--type",
        "merge",
        "-p",
        r#"{"status":{"phase":"Ignored"}}"#,
    ]));
    let g = ns.kubectl(&["get", "gadget", "g1", "-o", "json"]).json();
    assert_eq!(
        g["status"]["phase"], "Ready",
        "the main endpoint must ignore status"
    );
    assert_eq!(
        g["metadata"]["generation"], generation,
        "status changes do not bump generation"
    );

    let out = ns.kubectl(&["scale", "gadget", "g1", "--replicas=4"]);
    assert_eq!(expect_ok(&out).trim(), format!("gadget.{group}/g1 scaled"));
    let scale = ns
        .kubectl(&["get", "gadget", "g1", "--subresource=scale", "-o", "json"])
        .json();
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["spec"]["replicas"], 4);

    drop(cleanup);
    wait_for("the gadget CRD to be gone", Duration::from_secs(60), || {
        let out = kubectl(&["get", "crd", &crd, "--ignore-not-found", "-o", "name"]);
        (out.success() && out.stdout.trim().is_empty()).then_some(())
    });
}

/// Deletes a CRD when dropped, so a failing test does not leave it behind.
struct CrdGuard(String);

impl Drop for CrdGuard {
    fn drop(&mut self) {
        let _ = kubectl(&[
            "delete",
            "crd",
            &self.0,
            "--ignore-not-found",
            "--wait=false",
        ]);
    }
}
