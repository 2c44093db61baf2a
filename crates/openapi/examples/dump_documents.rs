//! Writes `/openapi/v2` and every `/openapi/v3/<group-version>` document for the built-in kinds
//! into a directory, for inspection or for serving to kubectl from a small test server.

use std::path::PathBuf;

use openapi::{BUILTIN_KINDS, ResourceEntry};
use serde_json::Map;

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "openapi-documents".to_owned()),
    );
    std::fs::create_dir_all(dir.join("v3"))?;
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
    let entries: Vec<ResourceEntry> = BUILTIN_KINDS
        .iter()
        .filter(|k| k.listable)
        .map(|k| ResourceEntry {
            group: k.group.to_owned(),
            version: k.version.to_owned(),
            kind: k.kind.to_owned(),
            plural: plural(k.kind),
            // Good enough for a dump: the kernel passes the real scope from its registry.
            namespaced: !matches!(
                k.kind,
                "Namespace"
                    | "Node"
                    | "PersistentVolume"
                    | "IngressClass"
                    | "StorageClass"
                    | "ClusterRole"
                    | "ClusterRoleBinding"
                    | "CustomResourceDefinition"
                    | "ValidatingWebhookConfiguration"
                    | "MutatingWebhookConfiguration"
                    | "APIService"
                    | "CertificateSigningRequest"
                    | "FlowSchema"
                    | "PriorityLevelConfiguration"
                    | "RuntimeClass"
                    | "DeviceClass"
                    | "ResourceSlice"
                    | "PriorityClass"
            ),
            verbs: crud.iter().map(|v| (*v).to_owned()).collect(),
            subresources: vec!["status".to_owned()],
            definition: k.definition.to_owned(),
        })
        .collect();
    let v2 = openapi::document_v2(&entries, &Map::new(), "v1.36.2");
    std::fs::write(dir.join("v2.json"), serde_json::to_vec(&v2)?)?;
    let mut group_versions: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.group.as_str(), e.version.as_str()))
        .collect();
    group_versions.sort();
    group_versions.dedup();
    for (group, version) in group_versions {
        let doc = openapi::document_v3(group, version, &entries, &Map::new());
        let name = if group.is_empty() {
            format!("api__{version}.json")
        } else {
            format!("apis__{group}__{version}.json")
        };
        std::fs::write(dir.join("v3").join(name), serde_json::to_vec(&doc)?)?;
    }
    Ok(())
}

fn plural(kind: &str) -> String {
    let lower = kind.to_lowercase();
    if lower.ends_with('s') {
        format!("{lower}es")
    } else if let Some(stem) = lower.strip_suffix('y') {
        format!("{stem}ies")
    } else {
        format!("{lower}s")
    }
}
