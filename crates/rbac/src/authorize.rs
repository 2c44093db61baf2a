//! Decisions and rule reviews: walking the caller's bindings (cluster-wide first,
//! then the request namespace's) as the RBAC authorizer's visitor does.

use apimachinery::UserInfo;
use serde_json::{Map, Value};

use crate::PolicyRule;
use crate::index::{Binding, Index, RoleRefError, SubjectBindings};

/// A request in authorizer terms, borrowed from the caller's own request record.
#[derive(Debug, Clone, Copy)]
pub struct Attributes<'a> {
    pub user: &'a UserInfo,
    pub verb: &'a str,
    pub api_group: &'a str,
    pub resource: &'a str,
    pub subresource: &'a str,
    /// Empty for cluster-scoped resources and non-resource requests.
    pub namespace: &'a str,
    /// Empty for list, watch, deletecollection and create without a name.
    pub name: &'a str,
    /// `Some` for non-resource requests (`/version`, `/healthz`, ...).
    pub path: Option<&'a str>,
}

/// RBAC's answer. RBAC never denies outright: anything it does not allow is "no
/// opinion", and the reason (empty unless a binding points at a missing role) is
/// what kube-apiserver appends to its 403 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    NoOpinion(String),
}

impl Index {
    /// Whether RBAC allows the request.
    pub fn authorize(&self, a: &Attributes<'_>) -> Decision {
        let mut errors = Vec::new();
        let allowed = self.visit(a.user, a.namespace, &mut errors, |rule| match a.path {
            Some(path) => rule.allows_url(a.verb, path),
            None => rule.allows_resource(a.verb, a.api_group, a.resource, a.subresource, a.name),
        });
        if allowed {
            return Decision::Allow;
        }
        if errors.is_empty() {
            Decision::NoOpinion(String::new())
        } else {
            let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
            Decision::NoOpinion(format!("RBAC: {}", aggregate_message(&messages)))
        }
    }

    /// Every rule `user` holds in `namespace` (cluster-wide rules only when it is
    /// empty), and the resolution errors met on the way (`RulesFor`).
    pub fn rules_of(
        &self,
        user: &UserInfo,
        namespace: &str,
    ) -> (Vec<PolicyRule>, Vec<RoleRefError>) {
        let mut rules = Vec::new();
        let mut errors = Vec::new();
        self.visit(user, namespace, &mut errors, |rule| {
            rules.push(rule.clone());
            false
        });
        (rules, errors)
    }

    /// The rules as SelfSubjectRulesReview's status reports them:
    /// (resourceRules, nonResourceRules, incomplete).
    pub fn rules_for(&self, user: &UserInfo, namespace: &str) -> (Vec<Value>, Vec<Value>, bool) {
        let (rules, errors) = self.rules_of(user, namespace);
        let mut resource = Vec::new();
        let mut non_resource = Vec::new();
        for rule in &rules {
            if !rule.resources.is_empty() {
                let mut m = Map::new();
                m.insert("verbs".into(), list(&rule.verbs));
                for (key, l) in [
                    ("apiGroups", &rule.api_groups),
                    ("resources", &rule.resources),
                    ("resourceNames", &rule.resource_names),
                ] {
                    if !l.is_empty() {
                        m.insert(key.into(), list(l));
                    }
                }
                resource.push(Value::Object(m));
            }
            if !rule.non_resource_urls.is_empty() {
                let mut m = Map::new();
                m.insert("verbs".into(), list(&rule.verbs));
                m.insert("nonResourceURLs".into(), list(&rule.non_resource_urls));
                non_resource.push(Value::Object(m));
            }
        }
        (resource, non_resource, !errors.is_empty())
    }

    /// Calls `f` on each rule granted to `user` until it returns true; returns
    /// whether it did. Dangling role references are recorded in `errors`.
    fn visit(
        &self,
        user: &UserInfo,
        namespace: &str,
        errors: &mut Vec<RoleRefError>,
        mut f: impl FnMut(&PolicyRule) -> bool,
    ) -> bool {
        let subjects = || {
            self.by_user
                .get(&user.name)
                .into_iter()
                .chain(user.groups.iter().filter_map(|g| self.by_group.get(g)))
        };
        let cluster = collect(subjects().map(|s: &SubjectBindings| &s.cluster));
        for name in cluster {
            if let Some(b) = self.cluster_role_bindings.get(name)
                && self.visit_binding(b, "", errors, &mut f)
            {
                return true;
            }
        }
        if namespace.is_empty() {
            return false;
        }
        let Some(bindings) = self.role_bindings.get(namespace) else {
            return false;
        };
        let local = collect(subjects().filter_map(|s| s.namespaced.get(namespace)));
        for name in local {
            if let Some(b) = bindings.get(name)
                && self.visit_binding(b, namespace, errors, &mut f)
            {
                return true;
            }
        }
        false
    }

    fn visit_binding(
        &self,
        binding: &Binding,
        namespace: &str,
        errors: &mut Vec<RoleRefError>,
        f: &mut impl FnMut(&PolicyRule) -> bool,
    ) -> bool {
        match self.role_ref_rules(&binding.role_kind, &binding.role_name, namespace) {
            Ok(rules) => rules.iter().any(f),
            Err(e) => {
                errors.push(e);
                false
            }
        }
    }
}

/// The union of binding names, each once, in name order.
fn collect<'a>(
    sets: impl Iterator<Item = &'a std::collections::BTreeSet<String>>,
) -> Vec<&'a String> {
    let mut names: Vec<&String> = sets.flatten().collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// `utilerrors.Aggregate.Error()`: repeated messages once, a single one bare,
/// several in brackets.
pub(crate) fn aggregate_message(errors: &[String]) -> String {
    let mut seen: Vec<&str> = Vec::with_capacity(errors.len());
    for e in errors {
        if !seen.contains(&e.as_str()) {
            seen.push(e);
        }
    }
    match seen.as_slice() {
        [one] => (*one).to_string(),
        many => format!("[{}]", many.join(", ")),
    }
}

fn list(l: &[String]) -> Value {
    Value::Array(l.iter().cloned().map(Value::String).collect())
}
