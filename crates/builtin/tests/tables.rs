//! Table columns and cells compared with kube-apiserver v1.36's recorded `as=Table` answers.
#![allow(clippy::unwrap_used)]

use serde_json::Value;

fn load(dir: &str, name: &str) -> Value {
    let path = format!(
        "{}/../../testdata/kube-apiserver-golden/{dir}/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// (table file, group, plural, golden objects whose rows it holds)
const CASES: &[(&str, &str, &str, &[&str])] = &[
    ("api_v1_namespaces.json", "", "namespaces", &["namespace"]),
    (
        "api_v1_namespaces_golden_configmaps.json",
        "",
        "configmaps",
        &["configmap"],
    ),
    (
        "api_v1_namespaces_golden_persistentvolumeclaims.json",
        "",
        "persistentvolumeclaims",
        &["pvc"],
    ),
    ("api_v1_namespaces_golden_pods.json", "", "pods", &["pod"]),
    (
        "api_v1_namespaces_golden_secrets.json",
        "",
        "secrets",
        &["secret"],
    ),
    (
        "api_v1_namespaces_golden_services.json",
        "",
        "services",
        &["service-clusterip", "service-nodeport"],
    ),
    (
        "apis_apps_v1_namespaces_golden_deployments.json",
        "apps",
        "deployments",
        &["deployment"],
    ),
    (
        "apis_apps_v1_namespaces_golden_statefulsets.json",
        "apps",
        "statefulsets",
        &["statefulset"],
    ),
    (
        "apis_batch_v1_namespaces_golden_cronjobs.json",
        "batch",
        "cronjobs",
        &["cronjob"],
    ),
    (
        "apis_batch_v1_namespaces_golden_jobs.json",
        "batch",
        "jobs",
        &["job"],
    ),
    (
        "apis_networking.k8s.io_v1_namespaces_golden_ingresses.json",
        "networking.k8s.io",
        "ingresses",
        &["ingress"],
    ),
];

#[test]
fn columns_match_golden_tables() {
    for (file, group, plural, _) in CASES {
        let table = load("tables", file);
        let info = builtin::lookup(group, "v1", plural).unwrap();
        let got: Vec<Value> = builtin::columns(info).iter().map(|c| c.to_json()).collect();
        assert_eq!(&Value::Array(got), &table["columnDefinitions"], "{file}");
    }
}

#[test]
fn cells_match_golden_tables() {
    let mut compared = 0;
    for (file, group, plural, objects) in CASES {
        let table = load("tables", file);
        let info = builtin::lookup(group, "v1", plural).unwrap();
        let columns = builtin::columns(info);
        for name in *objects {
            let obj = load("objects", &format!("{name}.json"));
            let obj_name = obj["metadata"]["name"].as_str().unwrap();
            let golden_row = table["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["object"]["metadata"]["name"] == obj_name)
                .unwrap_or_else(|| panic!("{file}: no row for {obj_name}"));
            // Anchor "now" so that the Age cell must come out as recorded.
            let age_col = columns.iter().position(|c| c.name == "Age").unwrap();
            let age_text = golden_row["cells"][age_col].as_str().unwrap();
            let age: i64 = age_text.trim_end_matches('s').parse().unwrap();
            let created: jiff::Timestamp = obj["metadata"]["creationTimestamp"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            let now = created + jiff::SignedDuration::from_secs(age);
            let cells = builtin::row(info, &obj, now);
            assert_eq!(
                Value::Array(cells),
                golden_row["cells"],
                "{file} {obj_name}"
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 12);
}

#[test]
fn default_table_for_kinds_without_printer() {
    let info = builtin::lookup("rbac.authorization.k8s.io", "v1", "roles").unwrap();
    let cols = builtin::columns(info);
    assert_eq!(
        cols.iter().map(|c| c.name).collect::<Vec<_>>(),
        ["Name", "Created At"]
    );
    assert_eq!(cols[1].type_, "date");
    let role = load("objects", "role.json");
    let cells = builtin::row(info, &role, jiff::Timestamp::now());
    assert_eq!(cells[0], role["metadata"]["name"]);
    assert_eq!(cells[1], role["metadata"]["creationTimestamp"]);
}

#[test]
fn every_builtin_row_has_one_cell_per_column() {
    let objects = [
        "pod",
        "deployment",
        "hpa",
        "pdb",
        "networkpolicy",
        "rolebinding",
        "resourcequota",
        "limitrange",
        "serviceaccount",
        "daemonset",
    ];
    for name in objects {
        let obj = load("objects", &format!("{name}.json"));
        let api_version = obj["apiVersion"].as_str().unwrap();
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let info = builtin::lookup_kind(group, version, obj["kind"].as_str().unwrap()).unwrap();
        let cells = builtin::row(info, &obj, jiff::Timestamp::now());
        assert_eq!(cells.len(), builtin::columns(info).len(), "{name}");
    }
    let hpa = load("objects", "hpa.json");
    let info = builtin::lookup("autoscaling", "v2", "horizontalpodautoscalers").unwrap();
    let cells = builtin::row(info, &hpa, jiff::Timestamp::now());
    assert_eq!(cells[1], "Deployment/minimal-deployment");
    assert_eq!(cells[2], "cpu: <unknown>/80%");
    assert_eq!(cells[3], "1");
}
