//! ClusterRole aggregation: the rules kube-controller-manager writes into a
//! ClusterRole carrying `aggregationRule.clusterRoleSelectors`.

use crate::{Index, PolicyRule};

impl Index {
    /// The union of the rules of every ClusterRole matched by `name`'s selectors,
    /// selector by selector, roles in name order, each rule once, the role itself
    /// skipped. `None` if `name` is absent or has no aggregationRule.
    pub fn aggregated_rules(&self, name: &str) -> Option<Vec<PolicyRule>> {
        let selectors = self.cluster_roles.get(name)?.selectors.as_ref()?;
        let mut rules: Vec<PolicyRule> = Vec::new();
        for selector in selectors {
            for (other, entry) in &self.cluster_roles {
                if other == name || !selector.matches(&entry.labels) {
                    continue;
                }
                for rule in entry.rules.iter() {
                    if !rules.contains(rule) {
                        rules.push(rule.clone());
                    }
                }
            }
        }
        Some(rules)
    }

    /// Aggregated ClusterRoles whose stored rules differ from what aggregation
    /// gives now, with the rules to write. Writing them and applying the result
    /// until this is empty reaches the fixed point the controller reaches
    /// (view feeds edit, which feeds admin).
    pub fn stale_aggregations(&self) -> Vec<(String, Vec<PolicyRule>)> {
        self.cluster_roles
            .iter()
            .filter(|(_, e)| e.selectors.is_some())
            .filter_map(|(name, entry)| {
                let rules = self.aggregated_rules(name)?;
                (rules[..] != entry.rules[..]).then(|| (name.clone(), rules))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn role(name: &str, labels: serde_json::Value, rules: serde_json::Value) -> serde_json::Value {
        json!({"kind": "ClusterRole", "metadata": {"name": name, "labels": labels}, "rules": rules})
    }

    #[test]
    fn aggregates_matching_roles_in_name_order_without_duplicates() {
        let mut idx = Index::new();
        idx.apply(&json!({
            "kind": "ClusterRole",
            "metadata": {"name": "agg", "labels": {"x": "true"}},
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"x": "true"}}]},
            "rules": []
        }))
        .unwrap();
        idx.apply(&role(
            "b",
            json!({"x": "true"}),
            json!([{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]),
        ))
        .unwrap();
        idx.apply(&role(
            "a",
            json!({"x": "true"}),
            json!([
                {"verbs": ["list"], "apiGroups": [""], "resources": ["pods"]},
                {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}
            ]),
        ))
        .unwrap();
        idx.apply(&role(
            "c",
            json!({"x": "false"}),
            json!([{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]),
        ))
        .unwrap();
        let rules = idx.aggregated_rules("agg").unwrap();
        assert_eq!(
            rules,
            vec![
                PolicyRule::resource(&["list"], &[""], &["pods"]),
                PolicyRule::resource(&["get"], &[""], &["pods"]),
            ]
        );
        assert_eq!(idx.stale_aggregations(), vec![("agg".to_string(), rules)]);
        assert_eq!(idx.aggregated_rules("a"), None);
        assert_eq!(idx.aggregated_rules("missing"), None);
    }
}
