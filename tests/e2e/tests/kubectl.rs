//! `kubectl get` in every output format, the server-side Table columns, and `describe`.
#![allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure, which is the point

use e2e::{Namespace, at, expect_ok, golden_json, golden_text, parse_table};

const HELD_POD: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: minimal-pod, labels: {app: demo}}
spec:
  # Never schedulable, so that on a live cluster the pod stays Pending like the golden one.
  nodeSelector: {e2e.example.com/never: "true"}
  containers: [{name: main, image: "busybox:1.36", command: ["sleep", "3600"], ports: [{containerPort: 8080}]}]
"#;

const PAUSED_DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: minimal-deployment}
spec:
  # Paused: a live deployment controller then creates no ReplicaSet, like the golden server.
  paused: true
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.27", ports: [{containerPort: 80}]}]
"#;

/// The column headers kubectl prints for a golden Table (upper-cased names; priority > 0
/// columns only with `-o wide`).
fn golden_columns(file: &str, wide: bool) -> Vec<String> {
    let table = golden_json(&format!("tables/{file}"));
    table["columnDefinitions"]
        .as_array()
        .map(|cols| {
            cols.iter()
                .filter(|c| wide || c["priority"] == 0)
                .filter_map(|c| c["name"].as_str().map(str::to_uppercase))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn get_prints_every_output_format() {
    let ns = Namespace::new("output");
    expect_ok(&ns.create_configmap("demo", &[("key", "value")]));
    expect_ok(&ns.kubectl(&["label", "configmap", "demo", "app=demo"]));

    let out = ns.kubectl(&["get", "configmap", "demo", "-o", "name"]);
    assert_eq!(expect_ok(&out).trim(), "configmap/demo");

    let out = ns.kubectl(&["get", "configmap", "demo", "-o", "json"]);
    let obj = out.json();
    assert_eq!(obj["kind"], "ConfigMap");
    assert_eq!(obj["apiVersion"], "v1");
    assert_eq!(obj["data"]["key"], "value");
    assert_eq!(obj["metadata"]["namespace"], ns.name());

    let out = ns.kubectl(&["get", "configmap", "demo", "-o", "yaml"]);
    let text = expect_ok(&out);
    for line in [
        "kind: ConfigMap",
        "apiVersion: v1",
        "  key: value",
        "  name: demo",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "yaml lacks {line:?}:\n{text}"
        );
    }

    let out = ns.kubectl(&["get", "configmap", "demo", "-o", "jsonpath={.data.key}"]);
    assert_eq!(expect_ok(&out), "value");
    let out = ns.kubectl(&[
        "get",
        "configmaps",
        "-l",
        "app=demo",
        "-o",
        r#"jsonpath={range .items[*]}{.metadata.name}={.data.key}{"\n"}{end}"#,
    ]);
    assert_eq!(expect_ok(&out), "demo=value\n");

    let out = ns.kubectl(&[
        "get",
        "configmap",
        "demo",
        "-o",
        "custom-columns=NAME:.metadata.name,KEY:.data.key,MISSING:.data.nope",
    ]);
    let t = parse_table(expect_ok(&out));
    assert_eq!(t.columns, ["NAME", "KEY", "MISSING"]);
    assert_eq!(t.rows, vec![vec!["demo", "value", "<none>"]]);

    let out = ns.kubectl(&["get", "configmap", "demo", "--show-labels", "-L", "app"]);
    let t = parse_table(expect_ok(&out));
    assert_eq!(t.columns, ["NAME", "DATA", "AGE", "APP", "LABELS"]);
    assert_eq!(t.cell(0, "APP"), Some("demo"));
    assert_eq!(t.cell(0, "LABELS"), Some("app=demo"));

    let out = ns.kubectl(&["get", "configmap", "demo", "--no-headers"]);
    let first = expect_ok(&out)
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>();
    assert_eq!(first, ["demo", "1"]);
}

#[test]
fn get_all_namespaces_adds_the_namespace_column() {
    let ns = Namespace::new("allns");
    expect_ok(&ns.create_configmap("here", &[("a", "b")]));
    let out = e2e::kubectl(&[
        "get",
        "configmaps",
        "-A",
        "--field-selector",
        &format!("metadata.name=here,metadata.namespace={}", ns.name()),
    ]);
    let t = parse_table(expect_ok(&out));
    assert_eq!(t.columns, ["NAMESPACE", "NAME", "DATA", "AGE"]);
    assert_eq!(t.rows.len(), 1, "{out}");
    assert_eq!(t.cell(0, "NAMESPACE"), Some(ns.name()));
    let out = ns.kubectl(&[
        "get",
        "configmap,secret",
        "-o",
        "name",
        "--field-selector",
        "metadata.name=here",
    ]);
    assert_eq!(expect_ok(&out).trim(), "configmap/here");
}

#[test]
fn pod_table_has_the_golden_columns() {
    let ns = Namespace::new("pod-table");
    ns.ensure_default_service_account();
    ns.create(HELD_POD);
    let t = parse_table(expect_ok(&ns.kubectl(&["get", "pods"])));
    assert_eq!(
        t.columns,
        golden_columns("api_v1_namespaces_golden_pods.json", false)
    );
    let row = t.row("minimal-pod").unwrap_or_else(|| panic!("{t:?}"));
    assert_eq!(&row[1..4], ["0/1", "Pending", "0"]);
    let t = parse_table(expect_ok(&ns.kubectl(&["get", "pods", "-o", "wide"])));
    assert_eq!(
        t.columns,
        golden_columns("api_v1_namespaces_golden_pods.json", true)
    );
    assert_eq!(t.cell(0, "IP"), Some("<none>"));
    assert_eq!(t.cell(0, "NODE"), Some("<none>"));
    assert_eq!(t.cell(0, "READINESS GATES"), Some("<none>"));
}

#[test]
fn deployment_table_has_the_golden_columns() {
    let ns = Namespace::new("deploy-table");
    ns.create(PAUSED_DEPLOYMENT);
    let t = parse_table(expect_ok(&ns.kubectl(&["get", "deployments"])));
    let file = "apis_apps_v1_namespaces_golden_deployments.json";
    assert_eq!(t.columns, golden_columns(file, false));
    let row = t
        .row("minimal-deployment")
        .unwrap_or_else(|| panic!("{t:?}"));
    assert_eq!(&row[1..4], ["0/1", "0", "0"]);
    let t = parse_table(expect_ok(&ns.kubectl(&[
        "get",
        "deployments",
        "-o",
        "wide",
    ])));
    assert_eq!(t.columns, golden_columns(file, true));
    assert_eq!(t.cell(0, "CONTAINERS"), Some("web"));
    assert_eq!(t.cell(0, "IMAGES"), Some("nginx:1.27"));
    assert_eq!(t.cell(0, "SELECTOR"), Some("app=web"));
}

#[test]
fn service_table_has_the_golden_columns() {
    let ns = Namespace::new("svc-table");
    ns.create(&golden_text("manifests/service-clusterip.yaml"));
    ns.create(&golden_text("manifests/service-nodeport.yaml"));
    let file = "api_v1_namespaces_golden_services.json";
    let t = parse_table(expect_ok(&ns.kubectl(&["get", "services", "-o", "wide"])));
    assert_eq!(t.columns, golden_columns(file, true));
    let ip = ns.kubectl(&[
        "get",
        "service",
        "minimal-service",
        "-o",
        "jsonpath={.spec.clusterIP}",
    ]);
    let row = t.row("minimal-service").unwrap_or_else(|| panic!("{t:?}"));
    assert_eq!(
        row[1..].to_vec()[..4],
        ["ClusterIP", expect_ok(&ip), "<none>", "80/TCP"]
    );
    assert_eq!(row.last().map(String::as_str), Some("app=web"));
    let node_port = ns.kubectl(&[
        "get",
        "service",
        "nodeport-service",
        "-o",
        "jsonpath={.spec.ports[0].nodePort}",
    ]);
    let port: u16 = expect_ok(&node_port).parse().unwrap_or(0);
    assert!((30000..=32767).contains(&port), "nodePort {port}");
    let row = t.row("nodeport-service").unwrap_or_else(|| panic!("{t:?}"));
    assert_eq!(row[1], "NodePort");
    assert_eq!(row[4], format!("80:{port}/TCP"));
    let t = parse_table(expect_ok(&ns.kubectl(&["get", "services"])));
    assert_eq!(t.columns, golden_columns(file, false));
}

#[test]
fn configmap_and_secret_tables_have_the_golden_columns() {
    let ns = Namespace::new("cm-table");
    ns.create(&golden_text("manifests/configmap.yaml"));
    ns.create(&golden_text("manifests/secret.yaml"));
    let t = parse_table(expect_ok(&ns.kubectl(&[
        "get",
        "configmaps",
        "minimal-configmap",
    ])));
    assert_eq!(
        t.columns,
        golden_columns("api_v1_namespaces_golden_configmaps.json", false)
    );
    assert_eq!(t.cell(0, "DATA"), Some("1"));
    let t = parse_table(expect_ok(&ns.kubectl(&[
        "get",
        "secrets",
        "minimal-secret",
    ])));
    assert_eq!(
        t.columns,
        golden_columns("api_v1_namespaces_golden_secrets.json", false)
    );
    assert_eq!(t.cell(0, "TYPE"), Some("Opaque"));
    assert_eq!(t.cell(0, "DATA"), Some("1"));
}

#[test]
fn describe_deployment_shows_spec_and_template() {
    let ns = Namespace::new("describe-deploy");
    ns.create(PAUSED_DEPLOYMENT);
    let out = ns.kubectl(&["describe", "deployment", "minimal-deployment"]);
    let text = expect_ok(&out);
    let field = |name: &str| {
        text.lines()
            .find_map(|l| {
                l.trim_start()
                    .strip_prefix(&format!("{name}:"))
                    .map(str::trim)
            })
            .unwrap_or_else(|| panic!("describe lacks {name}:\n{text}"))
    };
    assert_eq!(field("Name"), "minimal-deployment");
    assert_eq!(field("Namespace"), ns.name());
    assert_eq!(field("Selector"), "app=web");
    assert!(field("Replicas").starts_with("1 desired"), "{text}");
    assert_eq!(field("StrategyType"), "RollingUpdate");
    assert_eq!(
        field("RollingUpdateStrategy"),
        "25% max unavailable, 25% max surge"
    );
    assert_eq!(field("Image"), "nginx:1.27");
    assert!(text.contains("Pod Template:"), "{text}");
    assert!(text.contains("Events:"), "{text}");
}

#[test]
fn describe_configmap_shows_data() {
    let ns = Namespace::new("describe-cm");
    ns.create(&golden_text("manifests/configmap.yaml"));
    let out = ns.kubectl(&["describe", "configmap", "minimal-configmap"]);
    let text = expect_ok(&out);
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.starts_with("Name:") && l.ends_with("minimal-configmap")),
        "{text}"
    );
    assert!(text.contains("\nData\n====\nkey:\n----\nvalue\n"), "{text}");
    assert!(text.contains("Events:"), "{text}");
    let json = ns
        .kubectl(&["get", "configmap", "minimal-configmap", "-o", "json"])
        .json();
    assert_eq!(at(&json, "/data/key"), "value");
}

/// kubectl's imperative generators send protobuf bodies (`application/vnd.kubernetes.protobuf`)
/// for built-in kinds, which kube-apiserver decodes like JSON.
#[test]
fn imperative_create_commands_work() {
    let name = e2e::unique_name("e2e-imperative");
    let out = e2e::kubectl(&["create", "namespace", &name]);
    assert_eq!(expect_ok(&out).trim(), format!("namespace/{name} created"));
    let in_ns = |args: &[&str]| {
        let mut all = vec!["-n", name.as_str()];
        all.extend_from_slice(args);
        e2e::kubectl(&all)
    };
    let cases: [(&[&str], &str); 5] = [
        (
            &["create", "configmap", "cm", "--from-literal=key=value"],
            "configmap/cm created",
        ),
        (
            &[
                "create",
                "secret",
                "generic",
                "sec",
                "--from-literal=password=s3cret",
            ],
            "secret/sec created",
        ),
        (
            &["create", "serviceaccount", "robot"],
            "serviceaccount/robot created",
        ),
        (
            &[
                "create",
                "deployment",
                "web",
                "--image=nginx:1.27",
                "--replicas=0",
            ],
            "deployment.apps/web created",
        ),
        (
            &["create", "service", "clusterip", "svc", "--tcp=80:8080"],
            "service/svc created",
        ),
    ];
    for (args, want) in cases {
        let out = in_ns(args);
        assert_eq!(expect_ok(&out).trim(), want);
    }
    let cm = in_ns(&["get", "configmap", "cm", "-o", "json"]).json();
    assert_eq!(cm["data"]["key"], "value");
    let sec = in_ns(&["get", "secret", "sec", "-o", "json"]).json();
    assert_eq!(sec["data"]["password"], "czNjcmV0");
    assert_eq!(sec["type"], "Opaque");
    let deploy = in_ns(&["get", "deployment", "web", "-o", "json"]).json();
    assert_eq!(deploy["spec"]["selector"]["matchLabels"]["app"], "web");
    assert_eq!(
        deploy["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );
    let svc = in_ns(&["get", "service", "svc", "-o", "json"]).json();
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 8080);
    let _ = e2e::kubectl(&["delete", "namespace", &name, "--wait=false"]);
}
