//! Discovery as kubectl sees it: api-resources, api-versions, version, cluster-info, raw documents, OpenAPI, explain, content negotiation.
#![allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure, which is the point

use std::collections::BTreeSet;

use e2e::{Cluster, at, expect_ok, golden_json, kubectl, parse_json};
use http::Method;
use serde_json::Value;

/// One row of `kubectl api-resources`, cut at the header's column offsets.
#[derive(Debug, PartialEq)]
struct ApiResourceRow {
    name: String,
    short_names: String,
    api_version: String,
    namespaced: String,
    kind: String,
}

fn api_resources(extra: &[&str]) -> Vec<ApiResourceRow> {
    let mut args = vec!["api-resources"];
    args.extend_from_slice(extra);
    let out = kubectl(&args);
    let text = expect_ok(&out);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let col = |name: &str| {
        header
            .find(name)
            .unwrap_or_else(|| panic!("no {name} column in {header:?}"))
    };
    let offsets = [
        0,
        col("SHORTNAMES"),
        col("APIVERSION"),
        col("NAMESPACED"),
        col("KIND"),
    ];
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cell = |i: usize| {
                let start = offsets[i].min(line.len());
                let end = offsets
                    .get(i + 1)
                    .copied()
                    .unwrap_or(line.len())
                    .min(line.len());
                line.get(start..end).unwrap_or_default().trim().to_owned()
            };
            ApiResourceRow {
                name: cell(0),
                short_names: cell(1),
                api_version: cell(2),
                namespaced: cell(3),
                kind: cell(4),
            }
        })
        .collect()
}

fn find<'a>(rows: &'a [ApiResourceRow], name: &str, api_version: &str) -> &'a ApiResourceRow {
    rows.iter()
        .find(|r| r.name == name && r.api_version == api_version)
        .unwrap_or_else(|| panic!("api-resources lacks {name} ({api_version}): {rows:#?}"))
}

#[test]
fn api_resources_lists_names_shortnames_scope_and_kinds() {
    let rows = api_resources(&[]);
    let expect = [
        ("configmaps", "cm", "v1", "true", "ConfigMap"),
        ("pods", "po", "v1", "true", "Pod"),
        ("services", "svc", "v1", "true", "Service"),
        ("secrets", "", "v1", "true", "Secret"),
        ("namespaces", "ns", "v1", "false", "Namespace"),
        ("nodes", "no", "v1", "false", "Node"),
        ("deployments", "deploy", "apps/v1", "true", "Deployment"),
        ("statefulsets", "sts", "apps/v1", "true", "StatefulSet"),
        ("jobs", "", "batch/v1", "true", "Job"),
        ("cronjobs", "cj", "batch/v1", "true", "CronJob"),
        (
            "customresourcedefinitions",
            "crd,crds",
            "apiextensions.k8s.io/v1",
            "false",
            "CustomResourceDefinition",
        ),
        ("roles", "", "rbac.authorization.k8s.io/v1", "true", "Role"),
    ];
    for (name, short, version, namespaced, kind) in expect {
        let row = find(&rows, name, version);
        assert_eq!(row.short_names, short, "shortnames of {name}");
        assert_eq!(row.namespaced, namespaced, "namespaced of {name}");
        assert_eq!(row.kind, kind, "kind of {name}");
    }
}

#[test]
fn api_resources_covers_every_golden_core_and_apps_resource() {
    let rows = api_resources(&[]);
    for (file, version) in [
        ("discovery/api_v1.json", "v1"),
        ("discovery/apis_apps_v1.json", "apps/v1"),
        ("discovery/apis_batch_v1.json", "batch/v1"),
        (
            "discovery/apis_rbac.authorization.k8s.io_v1.json",
            "rbac.authorization.k8s.io/v1",
        ),
    ] {
        let golden = golden_json(file);
        let resources = golden["resources"].as_array().cloned().unwrap_or_default();
        for r in resources
            .iter()
            .filter(|r| !r["name"].as_str().unwrap_or("/").contains('/'))
        {
            let name = r["name"].as_str().unwrap_or_default();
            let row = find(&rows, name, version);
            let short = r["shortNames"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            assert_eq!(row.short_names, short, "{name}");
            assert_eq!(row.namespaced, r["namespaced"].to_string(), "{name}");
            assert_eq!(row.kind, r["kind"].as_str().unwrap_or_default(), "{name}");
        }
    }
}

#[test]
fn api_resources_filters_by_scope_and_group() {
    let cluster_scoped = api_resources(&["--namespaced=false"]);
    assert!(cluster_scoped.iter().any(|r| r.name == "namespaces"));
    assert!(cluster_scoped.iter().all(|r| r.name != "configmaps"));
    let out = kubectl(&["api-resources", "--api-group=apps", "-o", "name"]);
    let names: BTreeSet<&str> = expect_ok(&out).lines().collect();
    for want in [
        "deployments.apps",
        "statefulsets.apps",
        "replicasets.apps",
        "daemonsets.apps",
        "controllerrevisions.apps",
    ] {
        assert!(names.contains(want), "{want} missing from {names:?}");
    }
    assert!(!names.contains("pods"), "{names:?}");
}

#[test]
fn api_versions_lists_every_golden_group_version() {
    let out = kubectl(&["api-versions"]);
    let versions: BTreeSet<&str> = expect_ok(&out).lines().collect();
    assert!(versions.contains("v1"));
    let apis = golden_json("discovery/apis.json");
    for group in apis["groups"].as_array().cloned().unwrap_or_default() {
        for v in group["versions"].as_array().cloned().unwrap_or_default() {
            let gv = v["groupVersion"].as_str().unwrap_or_default().to_owned();
            assert!(
                versions.contains(gv.as_str()),
                "api-versions lacks {gv}: {versions:?}"
            );
        }
    }
}

#[test]
fn version_reports_a_kubernetes_server() {
    let out = kubectl(&["version", "-o", "json"]);
    let v = out.json();
    assert!(out.success(), "{out}");
    assert_eq!(at(&v, "/serverVersion/major"), "1");
    let minor: u32 = at(&v, "/serverVersion/minor")
        .as_str()
        .and_then(|m| m.trim_end_matches('+').parse().ok())
        .unwrap_or_else(|| panic!("minor not a number: {v}"));
    assert!(minor >= 32, "server minor {minor}");
    let git = at(&v, "/serverVersion/gitVersion")
        .as_str()
        .unwrap_or_default();
    assert!(git.starts_with(&format!("v1.{minor}.")), "gitVersion {git}");
    let golden = golden_json("discovery/version.json");
    let raw = parse_json(expect_ok(&kubectl(&["get", "--raw", "/version"])));
    for key in golden
        .as_object()
        .map(|o| o.keys().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        assert!(raw.get(key).is_some(), "/version lacks {key}: {raw}");
    }
}

#[test]
fn cluster_info_names_the_control_plane() {
    let out = kubectl(&["cluster-info"]);
    let text = expect_ok(&out);
    assert!(
        text.contains("Kubernetes control plane") && text.contains("is running at https://"),
        "{out}"
    );
}

#[test]
fn raw_discovery_documents_have_their_kinds() {
    let get = |path: &str| parse_json(expect_ok(&kubectl(&["get", "--raw", path])));
    let api = get("/api");
    assert_eq!(api["kind"], "APIVersions");
    assert_eq!(api["versions"], serde_json::json!(["v1"]));
    let v1 = get("/api/v1");
    assert_eq!(v1["kind"], "APIResourceList");
    assert_eq!(v1["groupVersion"], "v1");
    let apis = get("/apis");
    assert_eq!(apis["kind"], "APIGroupList");
    let apps = apis["groups"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["name"] == "apps"))
        .cloned()
        .unwrap_or_else(|| panic!("no apps group in /apis: {apis}"));
    assert_eq!(apps["preferredVersion"]["groupVersion"], "apps/v1");
    let apps_v1 = get("/apis/apps/v1");
    let golden = golden_json("discovery/apis_apps_v1.json");
    assert_eq!(
        apps_v1["resources"], golden["resources"],
        "/apis/apps/v1 differs from golden"
    );
}

#[test]
fn aggregated_discovery_v2_lists_the_golden_groups() {
    let raw = Cluster::shared().raw();
    let accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
    let resp = raw
        .request_blocking(Method::GET, "/apis", &[("Accept", accept)], Vec::new())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status, 200, "{}", resp.text());
    let ctype = resp.header("content-type").unwrap_or_default();
    assert!(
        ctype.contains("apidiscovery.k8s.io") && ctype.contains("v=v2"),
        "{ctype}"
    );
    let body = resp.json().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(body["kind"], "APIGroupDiscoveryList");
    let names = |v: &Value| -> BTreeSet<String> {
        v["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|i| i["metadata"]["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let golden = names(&golden_json("discovery/apis_aggregated_v2.json"));
    let got = names(&body);
    assert!(
        golden.is_subset(&got),
        "missing groups: {:?}",
        golden.difference(&got)
    );
}

#[test]
fn openapi_v2_and_v3_describe_the_builtin_types() {
    let v2 = parse_json(expect_ok(&kubectl(&["get", "--raw", "/openapi/v2"])));
    assert_eq!(v2["swagger"], "2.0");
    assert!(v2["definitions"].get("io.k8s.api.core.v1.Pod").is_some());
    assert!(
        v2["definitions"]
            .get("io.k8s.api.apps.v1.Deployment")
            .is_some()
    );
    let index = parse_json(expect_ok(&kubectl(&["get", "--raw", "/openapi/v3"])));
    for path in ["api/v1", "apis/apps/v1", "apis/batch/v1"] {
        let url = index["paths"][path]["serverRelativeURL"].as_str();
        assert!(
            url.is_some_and(|u| u.starts_with(&format!("/openapi/v3/{path}?hash="))),
            "{path}"
        );
    }
    let apps = parse_json(expect_ok(&kubectl(&[
        "get",
        "--raw",
        "/openapi/v3/apis/apps/v1",
    ])));
    assert!(
        apps["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3."))
    );
    assert!(
        apps["components"]["schemas"]
            .get("io.k8s.api.apps.v1.Deployment")
            .is_some()
    );
}

#[test]
fn health_endpoints_answer_ok() {
    for path in ["/healthz", "/livez", "/readyz"] {
        let out = kubectl(&["get", "--raw", path]);
        assert_eq!(expect_ok(&out).trim(), "ok", "{path}");
    }
}

#[test]
fn protobuf_accept_gets_protobuf_json_or_406() {
    let raw = Cluster::shared().raw();
    let resp = raw
        .request_blocking(
            Method::GET,
            "/api/v1/namespaces",
            &[("Accept", "application/vnd.kubernetes.protobuf")],
            Vec::new(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let ctype = resp.header("content-type").unwrap_or_default().to_owned();
    match resp.status {
        406 => {
            let status = resp
                .json()
                .unwrap_or_else(|e| panic!("406 body not JSON: {e}"));
            assert_eq!(status["kind"], "Status");
            assert_eq!(status["reason"], "NotAcceptable");
        }
        200 if ctype.starts_with("application/json") => {
            assert_eq!(resp.json().unwrap_or_default()["kind"], "NamespaceList");
        }
        200 if ctype.starts_with("application/vnd.kubernetes.protobuf") => {
            assert!(
                resp.body.starts_with(b"k8s\0"),
                "protobuf without the k8s magic"
            );
        }
        other => panic!("unexpected answer {other} ({ctype}): {}", resp.text()),
    }
    // A client that also accepts JSON must always be served.
    let resp = raw
        .request_blocking(
            Method::GET,
            "/api/v1/namespaces",
            &[(
                "Accept",
                "application/vnd.kubernetes.protobuf, application/json",
            )],
            Vec::new(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status, 200, "{}", resp.text());
}

#[test]
fn yaml_accept_gets_yaml() {
    let raw = Cluster::shared().raw();
    let resp = raw
        .request_blocking(
            Method::GET,
            "/api/v1/namespaces/default",
            &[("Accept", "application/yaml")],
            Vec::new(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert!(
        resp.header("content-type")
            .unwrap_or_default()
            .starts_with("application/yaml")
    );
    let text = resp.text();
    assert!(
        text.contains("kind: Namespace") && text.contains("name: default"),
        "{text}"
    );
}

#[test]
fn explain_describes_fields() {
    let out = kubectl(&["explain", "pods.spec.containers"]);
    let text = expect_ok(&out);
    assert!(text.contains("KIND:") && text.contains("Pod"), "{text}");
    assert!(
        text.contains("FIELD:") && text.contains("containers"),
        "{text}"
    );
    for field in ["image", "imagePullPolicy", "ports", "resources"] {
        assert!(text.contains(field), "explain lacks {field}");
    }
    let out = kubectl(&["explain", "deployment", "--recursive"]);
    let text = expect_ok(&out);
    assert!(
        text.contains("Deployment") && text.contains("apps"),
        "{text}"
    );
    for field in ["replicas", "selector", "template", "containers", "strategy"] {
        assert!(text.contains(field), "explain --recursive lacks {field}");
    }
}
