//! `PolicyRule`: parsing from API JSON, request matching, and the "covers" relation
//! used by escalation checks.

use serde_json::{Map, Value};
use std::fmt::Write as _;

use crate::Error;

/// `*` in verbs, apiGroups, resources and nonResourceURLs.
pub const ALL: &str = "*";

/// One `rbac.authorization.k8s.io/v1` PolicyRule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PolicyRule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    pub non_resource_urls: Vec<String>,
}

impl PolicyRule {
    /// A resource rule; handy for tests and the bootstrap policy.
    pub fn resource(verbs: &[&str], groups: &[&str], resources: &[&str]) -> Self {
        PolicyRule {
            verbs: strings(verbs),
            api_groups: strings(groups),
            resources: strings(resources),
            ..Default::default()
        }
    }

    /// A non-resource URL rule.
    pub fn urls(verbs: &[&str], urls: &[&str]) -> Self {
        PolicyRule {
            verbs: strings(verbs),
            non_resource_urls: strings(urls),
            ..Default::default()
        }
    }

    /// Restricts the rule to the given object names.
    pub fn with_names(mut self, names: &[&str]) -> Self {
        self.resource_names = strings(names);
        self
    }

    /// Parses a rule as the API serves it; absent or null lists are empty.
    pub fn from_value(v: &Value) -> Result<Self, Error> {
        let obj = v
            .as_object()
            .ok_or_else(|| Error::Malformed("policy rule must be an object".into()))?;
        Ok(PolicyRule {
            verbs: string_list(obj, "verbs")?,
            api_groups: string_list(obj, "apiGroups")?,
            resources: string_list(obj, "resources")?,
            resource_names: string_list(obj, "resourceNames")?,
            non_resource_urls: string_list(obj, "nonResourceURLs")?,
        })
    }

    /// Parses the `rules` field of a Role or ClusterRole (null means no rules).
    pub fn list_from_value(v: Option<&Value>) -> Result<Vec<Self>, Error> {
        match v {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items.iter().map(PolicyRule::from_value).collect(),
            Some(_) => Err(Error::Malformed("rules must be a list".into())),
        }
    }

    /// The JSON the API serves, fields in Go struct order, empty lists omitted
    /// except `verbs`.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("verbs".into(), list_value(&self.verbs));
        for (key, list) in [
            ("apiGroups", &self.api_groups),
            ("resources", &self.resources),
            ("resourceNames", &self.resource_names),
            ("nonResourceURLs", &self.non_resource_urls),
        ] {
            if !list.is_empty() {
                m.insert(key.into(), list_value(list));
            }
        }
        Value::Object(m)
    }

    /// Whether this rule allows a resource request (`RuleAllows`).
    pub fn allows_resource(
        &self,
        verb: &str,
        group: &str,
        resource: &str,
        subresource: &str,
        name: &str,
    ) -> bool {
        has_or_all(&self.verbs, verb)
            && has_or_all(&self.api_groups, group)
            && self.resource_matches(resource, subresource)
            && (self.resource_names.is_empty() || self.resource_names.iter().any(|n| n == name))
    }

    /// Whether this rule allows a non-resource request.
    pub fn allows_url(&self, verb: &str, path: &str) -> bool {
        has_or_all(&self.verbs, verb)
            && self
                .non_resource_urls
                .iter()
                .any(|rule| url_matches(rule, path))
    }

    fn resource_matches(&self, resource: &str, subresource: &str) -> bool {
        self.resources.iter().any(|r| {
            if r == ALL {
                return true;
            }
            if subresource.is_empty() {
                return r == resource;
            }
            // "pods/log" against resource "pods" + subresource "log", without allocating.
            if let Some((res, sub)) = r.split_once('/') {
                (res == resource || res == ALL) && sub == subresource
            } else {
                false
            }
        })
    }

    /// Splits the rule into one rule per (group, resource, verb[, name]) and per
    /// (url, verb), as `BreakdownRule` does.
    pub fn breakdown(&self) -> Vec<PolicyRule> {
        let mut out = Vec::new();
        for group in &self.api_groups {
            for resource in &self.resources {
                for verb in &self.verbs {
                    let base = PolicyRule {
                        verbs: vec![verb.clone()],
                        api_groups: vec![group.clone()],
                        resources: vec![resource.clone()],
                        ..Default::default()
                    };
                    if self.resource_names.is_empty() {
                        out.push(base);
                    } else {
                        for name in &self.resource_names {
                            let mut r = base.clone();
                            r.resource_names = vec![name.clone()];
                            out.push(r);
                        }
                    }
                }
            }
        }
        for url in &self.non_resource_urls {
            for verb in &self.verbs {
                out.push(PolicyRule {
                    verbs: vec![verb.clone()],
                    non_resource_urls: vec![url.clone()],
                    ..Default::default()
                });
            }
        }
        out
    }

    /// Whether holding `self` grants everything `sub` grants (`ruleCovers`).
    pub fn covers(&self, sub: &PolicyRule) -> bool {
        let verbs = has(&self.verbs, ALL) || has_all(&self.verbs, &sub.verbs);
        let groups = has(&self.api_groups, ALL) || has_all(&self.api_groups, &sub.api_groups);
        let resources = resources_cover_all(&self.resources, &sub.resources);
        let urls = sub
            .non_resource_urls
            .iter()
            .all(|u| self.non_resource_urls.iter().any(|o| url_covers(o, u)));
        let names = if sub.resource_names.is_empty() {
            self.resource_names.is_empty()
        } else {
            self.resource_names.is_empty() || has_all(&self.resource_names, &sub.resource_names)
        };
        verbs && groups && resources && names && urls
    }

    /// `rbacv1helpers.CompactString`: the form escalation errors list missing rules in.
    pub fn compact_string(&self) -> String {
        let mut parts = Vec::new();
        for (label, list) in [
            ("APIGroups", &self.api_groups),
            ("Resources", &self.resources),
            ("NonResourceURLs", &self.non_resource_urls),
            ("ResourceNames", &self.resource_names),
            ("Verbs", &self.verbs),
        ] {
            if !list.is_empty() {
                parts.push(format!("{label}:{}", go_quoted_list(list)));
            }
        }
        format!("{{{}}}", parts.join(", "))
    }
}

/// Whether `owner` rules grant everything in `requested`; `Err` holds the broken
/// down rules no owner rule covers (`validation.Covers`).
pub fn covers(owner: &[PolicyRule], requested: &[PolicyRule]) -> Result<(), Vec<PolicyRule>> {
    let mut missing = Vec::new();
    for rule in requested {
        for sub in rule.breakdown() {
            if !owner.iter().any(|o| o.covers(&sub)) {
                missing.push(sub);
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(missing)
    }
}

/// Merges single-group, single-resource rules that differ only by verb, as
/// `CompactRules` does before an escalation error is written.
pub fn compact_rules(rules: &[PolicyRule]) -> Vec<PolicyRule> {
    let mut out: Vec<PolicyRule> = Vec::with_capacity(rules.len());
    for rule in rules {
        let simple = rule.api_groups.len() == 1
            && rule.resources.len() == 1
            && rule.non_resource_urls.is_empty()
            && rule.resource_names.len() <= 1;
        let existing = simple
            .then(|| {
                out.iter_mut().find(|r| {
                    r.api_groups == rule.api_groups
                        && r.resources == rule.resources
                        && r.resource_names == rule.resource_names
                        && r.non_resource_urls.is_empty()
                })
            })
            .flatten();
        match existing {
            // Go appends without deduplicating; the message keeps its repeats.
            Some(r) => r.verbs.extend(rule.verbs.iter().cloned()),
            None => out.push(rule.clone()),
        }
    }
    out
}

fn resources_cover_all(owner: &[String], requested: &[String]) -> bool {
    if has(owner, ALL) {
        return true;
    }
    requested.iter().all(|r| {
        if has(owner, r) {
            return true;
        }
        match r.split_once('/') {
            Some((_, sub)) => owner
                .iter()
                .any(|o| o.strip_prefix("*/").is_some_and(|s| s == sub)),
            None => false,
        }
    })
}

fn url_matches(rule: &str, path: &str) -> bool {
    if rule == ALL || rule == path {
        return true;
    }
    rule.strip_suffix('*')
        .is_some_and(|prefix| path.starts_with(prefix))
}

fn url_covers(owner: &str, requested: &str) -> bool {
    if owner == requested {
        return true;
    }
    owner
        .strip_suffix('*')
        .is_some_and(|prefix| requested.starts_with(prefix))
}

fn has(list: &[String], item: &str) -> bool {
    list.iter().any(|x| x == item)
}

fn has_or_all(list: &[String], item: &str) -> bool {
    list.iter().any(|x| x == ALL || x == item)
}

fn has_all(list: &[String], items: &[String]) -> bool {
    items.iter().all(|i| has(list, i))
}

/// Go's `%q` of a `[]string`: `["a" "b"]`.
pub(crate) fn go_quoted_list(list: &[String]) -> String {
    let mut s = String::from("[");
    for (i, item) in list.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{item:?}");
    }
    s.push(']');
    s
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_string()).collect()
}

fn list_value(list: &[String]) -> Value {
    Value::Array(list.iter().cloned().map(Value::String).collect())
}

fn string_list(obj: &Map<String, Value>, key: &str) -> Result<Vec<String>, Error> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| Error::Malformed(format!("{key} must hold strings")))
            })
            .collect(),
        Some(_) => Err(Error::Malformed(format!("{key} must be a list"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_matching_follows_rbac() {
        let r = PolicyRule::resource(&["get"], &[""], &["pods", "*/status", "deployments/scale"]);
        assert!(r.allows_resource("get", "", "pods", "", "x"));
        assert!(!r.allows_resource("get", "", "pods", "log", "x"));
        assert!(r.allows_resource("get", "", "nodes", "status", ""));
        assert!(r.allows_resource("get", "", "deployments", "scale", ""));
        assert!(!r.allows_resource("get", "", "deployments", "", ""));
        assert!(!r.allows_resource("list", "", "pods", "", ""));
        assert!(!r.allows_resource("get", "apps", "pods", "", ""));
        let named = PolicyRule::resource(&["*"], &["*"], &["*"]).with_names(&["a"]);
        assert!(named.allows_resource("get", "apps", "x", "", "a"));
        assert!(!named.allows_resource("list", "apps", "x", "", ""));
    }

    #[test]
    fn url_matching_uses_trailing_star_as_prefix() {
        let r = PolicyRule::urls(&["get"], &["/apis/*", "/version"]);
        assert!(r.allows_url("get", "/apis/apps"));
        assert!(r.allows_url("get", "/apis/"));
        assert!(!r.allows_url("get", "/apis"));
        assert!(r.allows_url("get", "/version"));
        assert!(!r.allows_url("get", "/version/"));
        assert!(!r.allows_url("post", "/version"));
        assert!(PolicyRule::urls(&["*"], &["*"]).allows_url("delete", "/x"));
    }

    #[test]
    fn covers_breaks_rules_down() {
        let owner = vec![
            PolicyRule::resource(&["get", "list"], &[""], &["pods"]),
            PolicyRule::resource(&["get"], &[""], &["*/status"]),
            PolicyRule::resource(&["update"], &[""], &["secrets"]).with_names(&["a", "b"]),
            PolicyRule::urls(&["get"], &["/apis/*"]),
        ];
        assert!(
            covers(
                &owner,
                &[PolicyRule::resource(
                    &["get"],
                    &[""],
                    &["pods", "pods/status"]
                )]
            )
            .is_ok()
        );
        assert!(
            covers(
                &owner,
                &[PolicyRule::resource(&["update"], &[""], &["secrets"]).with_names(&["a"])]
            )
            .is_ok()
        );
        assert!(covers(&owner, &[PolicyRule::urls(&["get"], &["/apis/apps"])]).is_ok());
        let missing = covers(
            &owner,
            &[PolicyRule::resource(
                &["get", "delete"],
                &["", "apps"],
                &["pods"],
            )],
        )
        .unwrap_err();
        assert_eq!(missing.len(), 3);
        // A rule restricted to names never covers the same rule without names.
        assert!(
            covers(
                &owner,
                &[PolicyRule::resource(&["update"], &[""], &["secrets"])]
            )
            .is_err()
        );
        assert_eq!(
            compact_rules(&missing)[0].compact_string(),
            "{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"delete\"]}"
        );
    }

    #[test]
    fn round_trips_json() {
        let v = serde_json::json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"], "resourceNames": ["a"]});
        let r = PolicyRule::from_value(&v).unwrap();
        assert_eq!(r.to_value(), v);
        assert!(PolicyRule::from_value(&serde_json::json!({"verbs": "get"})).is_err());
    }
}
