//! KubeSphere's user filters that follow role bindings: `users?globalrole=`,
//! `users?workspace=` and `users?workspacerole=`, resolved once per query.

use crate::filter::Lookup;
use crate::object;
use crate::store::WORKSPACE_LABEL;
use serde_json::Value;
use std::collections::HashSet;

/// The names of the users a binding-following filter admits, or `None` when
/// `(resource, key)` is not one of them. Computed once per query from the cached
/// bindings, so each user costs one set lookup.
pub fn prepare(
    resource: &str,
    key: &str,
    value: &str,
    lookup: &dyn Lookup,
) -> Option<HashSet<String>> {
    if resource != "users" {
        return None;
    }
    let bindings = match key {
        "globalrole" => lookup
            .list("globalrolebindings", None)
            .into_iter()
            .filter(|b| role_ref(b) == value)
            .collect::<Vec<_>>(),
        "workspace" => lookup
            .list("workspacerolebindings", None)
            .into_iter()
            .filter(|b| object::label(b, WORKSPACE_LABEL) == Some(value))
            .collect(),
        "workspacerole" => lookup
            .list("workspacerolebindings", None)
            .into_iter()
            .filter(|b| role_ref(b) == value)
            .collect(),
        _ => return None,
    };
    Some(
        bindings
            .iter()
            .flat_map(|b| object::array_at(b, &["subjects"]))
            .filter(|s| s.get("kind").and_then(Value::as_str) == Some("User"))
            .filter_map(|s| s.get("name").and_then(Value::as_str))
            .map(str::to_owned)
            .collect(),
    )
}

fn role_ref(binding: &Value) -> &str {
    object::str_at(binding, &["roleRef", "name"]).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    struct Bindings(Vec<Value>, Vec<Value>);
    impl Lookup for Bindings {
        fn get(&self, _: &str, _: &str, _: &str) -> Option<Arc<Value>> {
            None
        }
        fn list(&self, resource: &str, _: Option<&str>) -> Vec<Arc<Value>> {
            let from = match resource {
                "globalrolebindings" => &self.0,
                "workspacerolebindings" => &self.1,
                _ => return Vec::new(),
            };
            from.iter().cloned().map(Arc::new).collect()
        }
    }

    fn binding(role: &str, ws: Option<&str>, users: &[&str]) -> Value {
        let subjects: Vec<Value> = users
            .iter()
            .map(|u| json!({"kind": "User", "apiGroup": "iam.kubesphere.io", "name": u}))
            .chain([json!({"kind": "Group", "name": "g1"})])
            .collect();
        let mut b = json!({"metadata": {"name": format!("{role}-b")},
            "roleRef": {"apiGroup": "iam.kubesphere.io", "kind": "GlobalRole", "name": role},
            "subjects": subjects});
        if let Some(ws) = ws {
            b["metadata"]["labels"] = json!({WORKSPACE_LABEL: ws});
        }
        b
    }

    #[test]
    fn follows_bindings() {
        let lookup = Bindings(
            vec![
                binding("platform-admin", None, &["admin"]),
                binding("platform-regular", None, &["alice", "bob"]),
            ],
            vec![
                binding("w1-viewer", Some("w1"), &["alice"]),
                binding("w2-admin", Some("w2"), &["carol"]),
            ],
        );
        let set = |key: &str, value: &str| {
            let mut v: Vec<String> = prepare("users", key, value, &lookup)
                .unwrap()
                .into_iter()
                .collect();
            v.sort();
            v
        };
        assert_eq!(set("globalrole", "platform-regular"), ["alice", "bob"]);
        assert_eq!(set("workspace", "w2"), ["carol"]);
        assert_eq!(set("workspacerole", "w1-viewer"), ["alice"]);
        assert!(set("workspace", "w9").is_empty());
        assert!(prepare("users", "name", "x", &lookup).is_none());
        assert!(prepare("pods", "workspace", "w1", &lookup).is_none());
    }
}
