//! Refusals worded exactly as kube-apiserver words them, request limits, field validation, malformed input, list paging.
#![allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure, which is the point

use e2e::{
    Cluster, Namespace, RawResponse, expect_err_contains, expect_ok, golden_error, json_diff,
};
use http::Method;
use serde_json::{Value, json};

fn raw(method: Method, path: &str, ctype: &str, body: Vec<u8>) -> RawResponse {
    Cluster::shared()
        .raw()
        .request_blocking(
            method.clone(),
            path,
            &[("Content-Type", ctype), ("Accept", "application/json")],
            body,
        )
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

#[track_caller]
fn assert_golden(resp: &RawResponse, file: &str) {
    let (code, golden) = golden_error(file);
    assert_eq!(resp.status, code, "{file}: {}", resp.text());
    let body: Value = resp
        .json()
        .unwrap_or_else(|e| panic!("{file}: body not JSON ({e}): {}", resp.text()));
    let diff = json_diff(&golden, &body);
    assert!(
        diff.is_empty(),
        "{file} differs:\n  {}\nbody: {body:#}",
        diff.join("\n  ")
    );
}

fn configmaps(ns: &Namespace) -> String {
    format!("/api/v1/namespaces/{}/configmaps", ns.name())
}

#[test]
fn not_found_already_exists_and_conflict_bodies() {
    let ns = Namespace::new("err-status");
    let resp = raw(
        Method::GET,
        &format!("{}/missing", configmaps(&ns)),
        "application/json",
        Vec::new(),
    );
    assert_golden(&resp, "errors/404-not-found.txt");

    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "minimal-configmap"}, "data": {"key": "value"}});
    let created = raw(
        Method::POST,
        &configmaps(&ns),
        "application/json",
        cm.to_string().into_bytes(),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    let again = raw(
        Method::POST,
        &configmaps(&ns),
        "application/json",
        cm.to_string().into_bytes(),
    );
    assert_golden(&again, "errors/409-already-exists.txt");

    let mut stale = created.json().unwrap_or_default();
    let mut fresh = stale.clone();
    fresh["data"]["key"] = json!("v2");
    let path = format!("{}/minimal-configmap", configmaps(&ns));
    let ok = raw(
        Method::PUT,
        &path,
        "application/json",
        fresh.to_string().into_bytes(),
    );
    assert_eq!(ok.status, 200, "{}", ok.text());
    stale["data"]["key"] = json!("v3");
    let conflict = raw(
        Method::PUT,
        &path,
        "application/json",
        stale.to_string().into_bytes(),
    );
    assert_golden(&conflict, "errors/409-conflict-stale-rv.txt");

    let out = ns.kubectl_stdin(
        &["create", "-f", "-"],
        &e2e::configmap_manifest("minimal-configmap", &[]),
    );
    expect_err_contains(&out, "configmaps \"minimal-configmap\" already exists");
}

#[test]
fn invalid_name_is_refused_with_the_golden_message() {
    let ns = Namespace::new("err-name");
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}});
    let resp = raw(
        Method::POST,
        &configmaps(&ns),
        "application/json",
        cm.to_string().into_bytes(),
    );
    assert_golden(&resp, "errors/422-invalid-name.txt");
    let out = ns.kubectl_stdin(
        &["create", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n",
    );
    expect_err_contains(
        &out,
        "metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain",
    );
}

#[test]
fn invalid_deployment_lists_every_cause() {
    let ns = Namespace::new("err-deploy");
    let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "bad"},
        "spec": {"selector": {"matchLabels": {"a": "b"}},
                 "template": {"metadata": {"labels": {"a": "c"}},
                              "spec": {"containers": [{"name": "c"}]}}}});
    let resp = raw(
        Method::POST,
        &format!("/apis/apps/v1/namespaces/{}/deployments", ns.name()),
        "application/json",
        d.to_string().into_bytes(),
    );
    assert_golden(&resp, "errors/422-invalid-deployment.txt");
}

fn post_configmap(ns: &Namespace, query: &str, body: &[u8]) -> RawResponse {
    raw(
        Method::POST,
        &format!("{}{query}", configmaps(ns)),
        "application/json",
        body.to_vec(),
    )
}

#[test]
fn truncated_json_is_a_bad_request() {
    let ns = Namespace::new("err-badjson");
    let resp = post_configmap(&ns, "", br#"{"apiVersion":"v1","#);
    assert_golden(&resp, "errors/400-bad-json.txt");
}

#[test]
fn kind_mismatch_is_a_bad_request() {
    let ns = Namespace::new("err-kind");
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}});
    let resp = post_configmap(&ns, "", secret.to_string().as_bytes());
    assert_golden(&resp, "errors/400-kind-mismatch.txt");
}

#[test]
fn strict_field_validation_refuses_unknown_fields() {
    let ns = Namespace::new("err-strict");
    let bogus = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "strict"}, "bogus": 1});
    let resp = post_configmap(&ns, "?fieldValidation=Strict", bogus.to_string().as_bytes());
    assert_golden(&resp, "errors/400-strict-unknown-field.txt");
}

#[test]
fn warn_field_validation_creates_and_warns() {
    let ns = Namespace::new("err-warn");
    let bogus =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "warn"}, "bogus": 1});
    let resp = post_configmap(&ns, "?fieldValidation=Warn", bogus.to_string().as_bytes());
    assert_eq!(resp.status, 201, "{}", resp.text());
    assert_eq!(
        resp.header("warning"),
        Some(r#"299 - "unknown field \"bogus\"""#)
    );
}

#[test]
fn put_on_a_collection_is_method_not_allowed() {
    let ns = Namespace::new("err-method");
    let resp = raw(
        Method::PUT,
        &configmaps(&ns),
        "application/json",
        b"{}".to_vec(),
    );
    assert_golden(&resp, "errors/405-method-not-allowed.txt");
}

#[test]
fn unknown_patch_content_type_is_unsupported() {
    let ns = Namespace::new("err-mediatype");
    ns.create_configmap("p", &[]);
    let resp = raw(
        Method::PATCH,
        &format!("{}/p", configmaps(&ns)),
        "text/plain",
        b"{}".to_vec(),
    );
    assert_golden(&resp, "errors/415-unsupported-patch.txt");
}

#[test]
fn configmap_over_one_mebibyte_is_invalid() {
    let ns = Namespace::new("err-big");
    let big = "x".repeat(1024 * 1024 + 16);
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}, "data": {"big": big}});
    let resp = raw(
        Method::POST,
        &configmaps(&ns),
        "application/json",
        cm.to_string().into_bytes(),
    );
    assert_golden(&resp, "errors/422-configmap-too-long.txt");
    let yaml =
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: big}}\ndata: {{big: {big}}}\n");
    let out = ns.kubectl_stdin(&["create", "-f", "-"], &yaml);
    expect_err_contains(&out, "Too long: may not be more than 1048576 bytes");
}

#[test]
fn body_over_three_mebibytes_is_refused_with_413() {
    let ns = Namespace::new("err-413");
    let huge = "x".repeat(3 * 1024 * 1024 + 1024);
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "huge"}, "data": {"huge": huge}});
    let resp = raw(
        Method::POST,
        &configmaps(&ns),
        "application/json",
        cm.to_string().into_bytes(),
    );
    assert_golden(&resp, "errors/413-too-large.txt");
}

#[test]
fn unauthenticated_requests_are_refused() {
    let raw = Cluster::shared().raw().anonymous();
    let resp = raw
        .request_blocking(Method::GET, "/api/v1/namespaces", &[], Vec::new())
        .unwrap_or_else(|e| panic!("{e}"));
    // Ferrosphere refuses anonymous requests (401); a cluster that allows anonymous
    // authentication answers 403 for the anonymous user instead.
    if resp.status == 403 {
        assert_golden(&resp, "errors/403-anonymous.txt");
    } else {
        assert_golden(&resp, "errors/401-unauthorized.txt");
    }
}

#[test]
fn kubectl_field_validation_strict_warn_and_ignore() {
    let ns = Namespace::new("validate");
    let yaml = |name: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\nbogus: 1\n")
    };
    let out = ns.kubectl_stdin(&["create", "-f", "-", "--validate=strict"], &yaml("strict"));
    expect_err_contains(&out, "strict decoding error: unknown field \"bogus\"");
    let out = ns.kubectl_stdin(&["create", "-f", "-", "--validate=warn"], &yaml("warn"));
    expect_ok(&out);
    assert!(
        out.stderr.contains("Warning: unknown field \"bogus\""),
        "{out}"
    );
    let out = ns.kubectl_stdin(&["create", "-f", "-", "--validate=false"], &yaml("ignore"));
    expect_ok(&out);
    assert!(!out.stderr.contains("bogus"), "{out}");
}

#[test]
fn malformed_yaml_and_json_are_reported() {
    let ns = Namespace::new("malformed");
    let out = ns.kubectl_stdin(
        &["create", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n",
    );
    expect_err_contains(&out, "error converting YAML to JSON");
    let out = ns.kubectl_stdin(
        &["create", "-f", "-"],
        "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\",",
    );
    assert!(!out.success(), "{out}");
}

#[test]
fn unknown_kind_is_reported_by_name() {
    // kubectl finds out through discovery and the OpenAPI v2 document (which it
    // only downloads as protobuf) that the kind does not exist.
    let ns = Namespace::new("nosuchkind");
    let out = ns.kubectl_stdin(
        &["create", "-f", "-"],
        "apiVersion: v1\nkind: NoSuchKind\nmetadata: {name: x}\n",
    );
    expect_err_contains(&out, "no matches for kind \"NoSuchKind\" in version \"v1\"");
}

#[test]
fn chunked_list_reads_every_page() {
    let ns = Namespace::new("paging");
    for i in 0..7 {
        let name = format!("page-{i}");
        expect_ok(&ns.create_configmap(&name, &[]));
        expect_ok(&ns.kubectl(&["label", "configmap", &name, "page=yes"]));
    }
    let out = ns.kubectl(&[
        "get",
        "configmaps",
        "-l",
        "page=yes",
        "--chunk-size=2",
        "-o",
        "name",
        "-v=6",
    ]);
    let mut names: Vec<&str> = expect_ok(&out).lines().collect();
    names.sort_unstable();
    let want: Vec<String> = (0..7).map(|i| format!("configmap/page-{i}")).collect();
    assert_eq!(names, want);
    // Distinct URLs, since a client-go version may log a request and its response apart.
    let requests: std::collections::BTreeSet<&str> = out
        .stderr
        .lines()
        .filter_map(|l| l.find("https://").map(|i| &l[i..]))
        .map(|u| u.split([' ', '"']).next().unwrap_or(u))
        .filter(|u| u.contains("limit=2"))
        .collect();
    assert_eq!(requests.len(), 4, "7 items in pages of 2: {requests:#?}");
    assert_eq!(
        requests.iter().filter(|l| l.contains("continue=")).count(),
        3,
        "{requests:#?}"
    );
}

#[test]
fn raw_list_with_limit_returns_a_continue_token() {
    let ns = Namespace::new("continue");
    for name in ["c1", "c2", "c3"] {
        expect_ok(&ns.create_configmap(name, &[]));
    }
    let base = format!("/api/v1/namespaces/{}/configmaps", ns.name());
    let mut seen = Vec::new();
    let mut token = String::new();
    for page in 0.. {
        assert!(page < 10, "paging never ended");
        let path = if token.is_empty() {
            format!("{base}?limit=1")
        } else {
            format!("{base}?limit=1&continue={}", e2e::query_escape(&token))
        };
        let out = e2e::kubectl(&["get", "--raw", &path]);
        let list = e2e::parse_json(expect_ok(&out));
        assert_eq!(list["kind"], "ConfigMapList");
        assert!(
            list["metadata"]["resourceVersion"]
                .as_str()
                .is_some_and(|rv| !rv.is_empty())
        );
        let items = list["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(items.len(), 1, "{list}");
        seen.extend(
            items
                .iter()
                .filter_map(|i| i["metadata"]["name"].as_str().map(str::to_owned)),
        );
        match list["metadata"]["continue"].as_str() {
            Some(t) if !t.is_empty() => {
                token = t.to_owned();
            }
            _ => break,
        }
    }
    for name in ["c1", "c2", "c3"] {
        assert!(
            seen.iter().any(|s| s == name),
            "{name} never listed: {seen:?}"
        );
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        seen.len(),
        "an item was listed twice: {seen:?}"
    );
}
