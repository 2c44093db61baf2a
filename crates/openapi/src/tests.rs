//! Document-level tests: the shapes kubectl and client libraries expect from both versions.

use std::collections::HashSet;
use std::time::Instant;

use serde_json::{Map, Value, json};

use crate::definitions::refs_of;
use crate::{BUILTIN_KINDS, ResourceEntry, crd_definition, document_v2, document_v3};

fn entries() -> Vec<ResourceEntry> {
    let cluster_scoped = [
        "Namespace",
        "Node",
        "PersistentVolume",
        "IngressClass",
        "StorageClass",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "TokenReview",
        "SelfSubjectReview",
        "SubjectAccessReview",
        "SelfSubjectAccessReview",
        "SelfSubjectRulesReview",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "APIService",
        "CertificateSigningRequest",
        "FlowSchema",
        "PriorityLevelConfiguration",
        "RuntimeClass",
        "DeviceClass",
        "ResourceSlice",
        "PriorityClass",
    ];
    let crud = [
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    ];
    BUILTIN_KINDS
        .iter()
        .filter(|k| {
            k.definition.starts_with("io.k8s.api")
                && !["Scale", "Eviction", "TokenRequest", "Binding"].contains(&k.kind)
        })
        .map(|k| ResourceEntry {
            group: k.group.to_owned(),
            version: k.version.to_owned(),
            kind: k.kind.to_owned(),
            plural: format!("{}s", k.kind.to_lowercase()),
            namespaced: !cluster_scoped.contains(&k.kind),
            verbs: if k.listable {
                crud.iter().map(|v| (*v).to_owned()).collect()
            } else {
                vec!["create".to_owned()]
            },
            subresources: match k.kind {
                "Pod" => vec!["status".into(), "eviction".into(), "binding".into()],
                "ServiceAccount" => vec!["token".into()],
                "Deployment" | "ReplicaSet" | "StatefulSet" => {
                    vec!["status".into(), "scale".into()]
                }
                _ if k.listable => vec!["status".into()],
                _ => vec![],
            },
            definition: k.definition.to_owned(),
        })
        .collect()
}

fn widget() -> (ResourceEntry, Map<String, Value>) {
    let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}});
    let (name, def) = crd_definition("golden.example.com", "v1", "Widget", &schema);
    let entry = ResourceEntry {
        group: "golden.example.com".into(),
        version: "v1".into(),
        kind: "Widget".into(),
        plural: "widgets".into(),
        namespaced: true,
        verbs: [
            "get",
            "list",
            "watch",
            "create",
            "update",
            "patch",
            "delete",
            "deletecollection",
        ]
        .map(String::from)
        .to_vec(),
        subresources: vec!["status".into()],
        definition: name.clone(),
    };
    let mut extra = Map::new();
    extra.insert(name, def);
    (entry, extra)
}

fn operations(doc: &Value) -> Vec<(&str, &str, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if method != "parameters" {
                out.push((path.as_str(), method.as_str(), op));
            }
        }
    }
    out
}

fn assert_refs_resolve(doc: &Value, table: &Map<String, Value>, prefix: &str) {
    let mut refs = Vec::new();
    let mut raw = Vec::new();
    collect_raw_refs(doc, &mut raw);
    for r in &raw {
        assert!(r.starts_with(prefix), "reference {r} does not use {prefix}");
    }
    refs_of(doc, &mut refs);
    for r in refs {
        assert!(table.contains_key(&r), "dangling reference to {r}");
    }
}

fn collect_raw_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, v) in o {
                match (k.as_str(), v) {
                    ("$ref", Value::String(s)) => out.push(s.clone()),
                    _ => collect_raw_refs(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_raw_refs(v, out)),
        _ => {}
    }
}

#[test]
fn v2_document_has_the_swagger_shape_kubectl_reads() {
    let (widget, extra) = widget();
    let mut all = entries();
    all.push(widget);
    let doc = document_v2(&all, &extra, "v1.36.2");
    assert_eq!(doc["swagger"], "2.0");
    assert_eq!(
        doc["info"],
        json!({"title": "Kubernetes", "version": "v1.36.2"})
    );
    let defs = doc["definitions"].as_object().unwrap();
    assert_refs_resolve(&doc, defs, "#/definitions/");
    assert!(defs.contains_key("com.example.golden.v1.WidgetList"));
    let mut ids = HashSet::new();
    for (path, method, op) in operations(&doc) {
        let id = op["operationId"].as_str().unwrap();
        assert!(
            ids.insert(id.to_owned()),
            "duplicate operationId {id} at {path}"
        );
        for p in op["parameters"].as_array().unwrap() {
            assert!(
                p["in"] == "body" || p["type"].is_string(),
                "{path} {method}: {p}"
            );
        }
        if path.ends_with('/') {
            continue;
        }
        assert!(op["x-kubernetes-action"].is_string(), "{path} {method}");
        assert!(
            op["x-kubernetes-group-version-kind"]["kind"].is_string(),
            "{path} {method}"
        );
        assert!(
            op["responses"]["200"]["schema"]["$ref"].is_string(),
            "{path} {method}"
        );
    }
    let pods = &doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"];
    assert_eq!(pods["patch"]["operationId"], "patchCoreV1NamespacedPod");
    assert!(
        pods["patch"]["consumes"]
            .as_array()
            .unwrap()
            .contains(&json!("application/strategic-merge-patch+json"))
    );
    let widget_patch =
        &doc["paths"]["/apis/golden.example.com/v1/namespaces/{namespace}/widgets/{name}"]["patch"];
    assert!(
        !widget_patch["consumes"]
            .as_array()
            .unwrap()
            .contains(&json!("application/strategic-merge-patch+json"))
    );
    let names: Vec<&str> = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]["get"]
        ["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for wanted in [
        "labelSelector",
        "fieldSelector",
        "limit",
        "continue",
        "resourceVersion",
        "resourceVersionMatch",
        "watch",
        "allowWatchBookmarks",
        "timeoutSeconds",
    ] {
        assert!(names.contains(&wanted), "list lacks {wanted}");
    }
    let scale =
        &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["put"];
    assert_eq!(
        scale["x-kubernetes-group-version-kind"],
        json!({"group": "autoscaling", "kind": "Scale", "version": "v1"})
    );
}

#[test]
fn v3_documents_have_the_openapi_shape_and_only_reachable_schemas() {
    let all = entries();
    let doc = document_v3("apps", "v1", &all, &Map::new());
    assert_eq!(doc["openapi"], "3.0.0");
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    assert_refs_resolve(&doc, schemas, "#/components/schemas/");
    assert_eq!(
        schemas["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"][0]["kind"],
        "Deployment"
    );
    assert!(schemas.contains_key("io.k8s.api.apps.v1.DeploymentList"));
    assert!(schemas.contains_key("io.k8s.api.core.v1.PodSpec"));
    assert!(
        !schemas.contains_key("io.k8s.api.batch.v1.Job"),
        "schemas of other group versions leak in"
    );
    assert!(
        doc["paths"]
            .as_object()
            .unwrap()
            .keys()
            .all(|p| p.starts_with("/apis/apps/v1/"))
    );
    for (path, method, op) in operations(&doc) {
        if method == "patch" {
            let has_field_validation = op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "fieldValidation" && p["schema"]["type"] == "string");
            assert!(has_field_validation, "{path} patch lacks fieldValidation");
            assert!(op["requestBody"]["content"]["application/strategic-merge-patch+json"]["schema"]["$ref"].is_string());
        }
        if !path.ends_with('/') {
            assert!(
                op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].is_string(),
                "{path} {method}"
            );
        }
    }

    let (widget, extra) = widget();
    let doc = document_v3("golden.example.com", "v1", &[widget], &extra);
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    assert_refs_resolve(&doc, schemas, "#/components/schemas/");
    assert_eq!(
        schemas["com.example.golden.v1.Widget"]["properties"]["metadata"]["allOf"][0]["$ref"],
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    );
    assert!(schemas.contains_key("com.example.golden.v1.WidgetList"));
    assert!(!schemas.contains_key("io.k8s.api.core.v1.Pod"));
}

#[test]
fn generating_every_document_is_fast() {
    let all = entries();
    let start = Instant::now();
    let generated = crate::definitions_v2().len() + crate::definitions_v3().len();
    let generation = start.elapsed();
    let start = Instant::now();
    let v2 = document_v2(&all, &Map::new(), "v1.36.2");
    let mut group_versions: Vec<(&str, &str)> = all
        .iter()
        .map(|e| (e.group.as_str(), e.version.as_str()))
        .collect();
    group_versions.sort();
    group_versions.dedup();
    let v3: Vec<Value> = group_versions
        .iter()
        .map(|(g, v)| document_v3(g, v, &all, &Map::new()))
        .collect();
    let documents = start.elapsed();
    let bytes = serde_json::to_vec(&v2).unwrap().len()
        + v3.iter()
            .map(|d| serde_json::to_vec(d).unwrap().len())
            .sum::<usize>();
    println!(
        "schema generation ({generated} definitions, both versions): {generation:?}; v2 + {} v3 documents ({} KiB): {documents:?}",
        v3.len(),
        bytes / 1024,
    );
}
