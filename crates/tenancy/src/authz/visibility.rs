//! `resources::Visibility` from the scope authorizer: where a caller may list a resource, from the caller's own bindings.

use super::authorizer::Authorizer;
use super::request_info::{RequestInfo, Scope as ReqScope};
use apimachinery::UserInfo;
use resources::Scope;

fn list_request(resource: &str, group: &str, namespace: &str) -> RequestInfo {
    let mut r = RequestInfo::parse("GET", "/apis/x/v1/x", "");
    r.api_group = group.to_string();
    r.resource = resource.to_string();
    r.namespace = namespace.to_string();
    r.scope = if namespace.is_empty() {
        ReqScope::Cluster
    } else {
        ReqScope::Namespace
    };
    r
}

/// For a cluster-scoped resource only `Scope::All` means "may list": the authorizer does
/// not know which resources are namespaced, so a namespace-level grant (for example a
/// project viewer's `*`) yields `Namespaces`, which lists nothing cluster-scoped.
impl resources::Visibility for Authorizer {
    fn namespaces(&self, user: &UserInfo, resource: &str, group: &str) -> Scope {
        if self
            .authorize(user, &list_request(resource, group, ""))
            .allowed
        {
            return Scope::All;
        }
        // Only the namespaces the caller is bound in (directly or through a workspace)
        // are examined, never every namespace of the cluster.
        let candidates = match self.visible_namespaces(user) {
            Some(set) => set,
            None => self.read().all_namespaces.clone(),
        };
        let allowed: std::collections::BTreeSet<String> = candidates
            .into_iter()
            .filter(|ns| {
                self.authorize(user, &list_request(resource, group, ns))
                    .allowed
            })
            .collect();
        if allowed.is_empty() {
            Scope::None
        } else {
            Scope::Namespaces(allowed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::{global_role_binding, global_roles, role_templates, workspace_roles};
    use crate::children::workspace_role_binding;
    use k8s_openapi::api::core::v1::Namespace;
    use resources::Visibility;
    use std::collections::BTreeMap;

    #[test]
    fn lists_are_narrowed_to_the_callers_projects() {
        let a = Authorizer::new();
        {
            let mut idx = a.write();
            for t in role_templates() {
                idx.apply_template(&t);
            }
            for r in global_roles() {
                idx.apply_global_role(&r);
            }
            for r in workspace_roles("a") {
                idx.apply_workspace_role(&r);
            }
            for (n, ws) in [("a-1", "a"), ("b-1", "b")] {
                let mut ns = Namespace::default();
                ns.metadata.name = Some(n.into());
                ns.metadata.labels = Some(BTreeMap::from([(
                    "kubesphere.io/workspace".to_string(),
                    ws.to_string(),
                )]));
                idx.apply_namespace(&ns);
            }
            idx.apply_global_role_binding(&global_role_binding("root", "platform-admin"));
            idx.apply_workspace_role_binding(&workspace_role_binding(
                "a", "ann", "a-viewer", None, None,
            ));
        }
        let ann = UserInfo::new("ann", vec![]);
        assert_eq!(
            a.namespaces(&ann, "pods", ""),
            Scope::Namespaces(["a-1".to_string()].into())
        );
        // Namespace-wide grants never make a cluster-scoped kind listable.
        assert_ne!(a.namespaces(&ann, "nodes", ""), Scope::All);
        assert_eq!(
            a.namespaces(&UserInfo::new("root", vec![]), "nodes", ""),
            Scope::All
        );
        assert_eq!(
            a.namespaces(&UserInfo::new("nobody", vec![]), "pods", ""),
            Scope::None
        );
    }
}
