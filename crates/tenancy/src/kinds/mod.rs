//! KubeSphere's tenancy kinds (`iam.kubesphere.io/v1beta1`, `tenant.kubesphere.io/v1beta1`) and their CRDs.

mod iam;
mod tenant;

pub use iam::*;
pub use tenant::*;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

/// Every CRD this crate owns, in a stable order.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![
        GlobalRole::crd(),
        GlobalRoleBinding::crd(),
        WorkspaceRole::crd(),
        WorkspaceRoleBinding::crd(),
        Group::crd(),
        GroupBinding::crd(),
        RoleTemplate::crd(),
        Workspace::crd(),
        WorkspaceTemplate::crd(),
    ]
}

/// The CRDs as one multi-document YAML stream, the form committed under `crds/`.
pub fn crds_yaml() -> Result<String, serde_saphyr::SerializeError> {
    let mut out = String::new();
    for crd in crds() {
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(&crd)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_crds_match_the_rust_types() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/crds/tenancy.yaml");
        let generated = crds_yaml().unwrap();
        if std::env::var_os("UPDATE_CRDS").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "{path} is out of date; regenerate it with UPDATE_CRDS=1 cargo test -p tenancy committed_crds"
        );
    }

    #[test]
    fn kinds_are_cluster_scoped_like_kubesphere() {
        for crd in crds() {
            assert_eq!(crd.spec.scope, "Cluster", "{:?}", crd.metadata.name);
            let v = &crd.spec.versions[0];
            assert_eq!(v.name, "v1beta1");
            assert!(v.schema.is_some());
        }
    }

    #[test]
    fn roles_carry_rules_at_the_top_level() {
        let role: GlobalRole = serde_json::from_value(serde_json::json!({
            "apiVersion": "iam.kubesphere.io/v1beta1", "kind": "GlobalRole",
            "metadata": {"name": "r"},
            "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}],
            "aggregationRoleTemplates": {"templateNames": ["global-view-users"]}
        }))
        .unwrap();
        assert_eq!(role.spec.rules.len(), 1);
        let back = serde_json::to_value(&role).unwrap();
        assert_eq!(
            back["aggregationRoleTemplates"]["templateNames"][0],
            "global-view-users"
        );
        assert!(back.get("spec").is_none());
    }
}
