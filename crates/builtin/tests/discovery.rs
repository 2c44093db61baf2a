//! Checks the registry against kube-apiserver v1.36's aggregated discovery documents.
#![allow(clippy::unwrap_used)]

use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!(
        "{}/../../testdata/kube-apiserver-golden/discovery/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn registry_matches_golden_discovery() {
    let core = load("api_aggregated_v2.json");
    let apis = load("apis_aggregated_v2.json");
    let mut checked = 0;
    for info in builtin::resources() {
        let doc = if info.group.is_empty() { &core } else { &apis };
        let group = doc["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["metadata"]["name"].as_str().unwrap_or("") == info.group)
            .unwrap_or_else(|| panic!("group {} not in discovery", info.group));
        let version = group["versions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["version"] == info.version)
            .unwrap_or_else(|| panic!("{}/{} not in discovery", info.group, info.version));
        let res = version["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource"] == info.plural)
            .unwrap_or_else(|| panic!("{} not in discovery", info.plural));
        let what = format!("{}/{} {}", info.group, info.version, info.plural);
        assert_eq!(res["responseKind"]["kind"], info.kind, "{what}");
        assert_eq!(res["singularResource"], info.singular, "{what}");
        let scope = if info.namespaced {
            "Namespaced"
        } else {
            "Cluster"
        };
        assert_eq!(res["scope"], scope, "{what}");
        assert_eq!(strings(res.get("shortNames")), info.short_names, "{what}");
        assert_eq!(strings(res.get("categories")), info.categories, "{what}");
        assert_eq!(strings(res.get("verbs")), info.verbs, "{what}");
        let subs: Vec<String> = res
            .get("subresources")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|s| s["subresource"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(subs.iter().any(|s| s == "status"), info.status, "{what}");
        assert_eq!(
            subs.iter().any(|s| s == "scale"),
            info.scale.is_some(),
            "{what}"
        );
        checked += 1;
    }
    assert_eq!(checked, 49);
}

#[test]
fn lookups_agree() {
    for info in builtin::resources() {
        let by_plural = builtin::lookup(info.group, info.version, info.plural).unwrap();
        assert!(std::ptr::eq(by_plural, info));
        let by_kind = builtin::lookup_kind(info.group, info.version, info.kind).unwrap();
        assert!(std::ptr::eq(by_kind, info));
    }
    assert!(builtin::lookup("apps", "v1", "pods").is_none());
    assert_eq!(
        builtin::lookup("", "v1", "pods").unwrap().api_version(),
        "v1"
    );
    assert_eq!(
        builtin::lookup("apps", "v1", "deployments")
            .unwrap()
            .api_version(),
        "apps/v1"
    );
}
