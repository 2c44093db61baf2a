//! Whether a webhook is called for a request: its rules (operations, groups,
//! versions, resources with subresources, scope), namespaceSelector,
//! objectSelector and matchPolicy, as kube-apiserver's `ShouldCallHook` decides.

use super::config::{Hook, Rule};
use apimachinery::StatusError;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The admission operation of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }
}

/// What admission knows about a request.
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    pub operation: Operation,
    pub group: &'a str,
    pub version: &'a str,
    pub resource: &'a str,
    pub subresource: &'a str,
    pub kind: &'a str,
    /// For Namespace objects, the namespace's own name (as kube-apiserver sets it).
    pub namespace: &'a str,
    pub name: &'a str,
    pub object: Option<&'a Value>,
    pub old_object: Option<&'a Value>,
}

impl Attributes<'_> {
    fn is_namespace_object(&self) -> bool {
        self.group.is_empty() && self.resource == "namespaces"
    }
}

/// The group/version/resource and kind a matched webhook sees: the request's own,
/// or, under `matchPolicy: Equivalent`, another version of the same resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub version: String,
    pub kind: String,
}

fn contains_or_star(list: &[String], v: &str) -> bool {
    list.iter().any(|x| x == "*" || x == v)
}

fn resource_matches(patterns: &[String], resource: &str, subresource: &str) -> bool {
    patterns.iter().any(|p| {
        let (res, sub) = p.split_once('/').unwrap_or((p.as_str(), ""));
        (res == "*" || res == resource) && (sub == "*" || sub == subresource)
    })
}

fn scope_matches(rule: &Rule, a: &Attributes<'_>) -> bool {
    match rule.scope.as_str() {
        "Namespaced" => !a.is_namespace_object() && !a.namespace.is_empty(),
        "Cluster" => a.is_namespace_object() || a.namespace.is_empty(),
        _ => true,
    }
}

/// One rule against the request, with `version` standing for the request's.
pub fn rule_matches(rule: &Rule, a: &Attributes<'_>, version: &str) -> bool {
    contains_or_star(&rule.operations, a.operation.as_str())
        && contains_or_star(&rule.api_groups, a.group)
        && contains_or_star(&rule.api_versions, version)
        && resource_matches(&rule.resources, a.resource, a.subresource)
        && scope_matches(rule, a)
}

fn matches_but_version(rule: &Rule, a: &Attributes<'_>) -> bool {
    contains_or_star(&rule.operations, a.operation.as_str())
        && contains_or_star(&rule.api_groups, a.group)
        && resource_matches(&rule.resources, a.resource, a.subresource)
        && scope_matches(rule, a)
}

fn labels_of(obj: Option<&Value>) -> Option<&Map<String, Value>> {
    obj.and_then(|o| o.pointer("/metadata/labels"))
        .and_then(Value::as_object)
}

fn object_selector_matches(hook: &Hook, a: &Attributes<'_>) -> bool {
    if hook.object_selector.is_empty() {
        return true;
    }
    let one = |o: Option<&Value>| {
        o.is_some_and(|_| {
            let empty = Map::new();
            hook.object_selector.matches(labels_of(o).unwrap_or(&empty))
        })
    };
    one(a.object) || one(a.old_object)
}

/// The namespace selector's verdict: `Ok(true)` to go on, or the error to return
/// if a rule matches (the namespace does not exist).
fn namespace_selector_matches(
    hook: &Hook,
    a: &Attributes<'_>,
    namespace_labels: &dyn Fn(&str) -> Option<BTreeMap<String, String>>,
) -> Result<bool, StatusError> {
    if a.namespace.is_empty() && !a.is_namespace_object() {
        // Cluster-scoped objects other than namespaces are never exempted.
        return Ok(true);
    }
    if hook.namespace_selector.is_empty() {
        return Ok(true);
    }
    if a.is_namespace_object() {
        let own = if a.operation == Operation::Delete {
            a.old_object
        } else {
            a.object
        };
        let empty = Map::new();
        return Ok(hook
            .namespace_selector
            .matches(labels_of(own).unwrap_or(&empty)));
    }
    match namespace_labels(a.namespace) {
        Some(l) => Ok(hook.namespace_selector.matches(&l)),
        None => Err(StatusError::not_found("namespaces", "", a.namespace)),
    }
}

/// Decides whether `hook` is called for the request. `equivalents` lists the
/// other (version, kind) pairs serving the same group and resource, asked for
/// only when no rule matches the request's own version.
pub fn should_call(
    hook: &Hook,
    a: &Attributes<'_>,
    namespace_labels: &dyn Fn(&str) -> Option<BTreeMap<String, String>>,
    equivalents: &dyn Fn() -> Vec<(String, String)>,
) -> Result<Option<Invocation>, StatusError> {
    let ns = namespace_selector_matches(hook, a, namespace_labels);
    if matches!(ns, Ok(false)) {
        return Ok(None);
    }
    if !object_selector_matches(hook, a) {
        return Ok(None);
    }
    let mut invocation = hook
        .rules
        .iter()
        .any(|r| rule_matches(r, a, a.version))
        .then(|| Invocation {
            version: a.version.to_string(),
            kind: a.kind.to_string(),
        });
    // Other versions are looked up only when a rule could match but for the version.
    if invocation.is_none()
        && !hook.match_exact
        && hook.rules.iter().any(|r| matches_but_version(r, a))
    {
        let others = equivalents();
        // Earlier rules are honoured first, as kube-apiserver does.
        invocation = hook.rules.iter().find_map(|r| {
            others
                .iter()
                .filter(|(v, _)| v != a.version)
                .find(|(v, _)| rule_matches(r, a, v))
                .map(|(v, k)| Invocation {
                    version: v.clone(),
                    kind: k.clone(),
                })
        });
    }
    match invocation {
        None => Ok(None),
        Some(i) => ns.map(|_| Some(i)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::config::parse_configuration;
    use serde_json::json;

    fn hook(extra: Value) -> Hook {
        let mut h = json!({
            "name": "h",
            "clientConfig": {"url": "https://127.0.0.1:1"},
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"],
            "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["configmaps"]}]
        });
        if let (Some(m), Value::Object(e)) = (h.as_object_mut(), extra) {
            m.extend(e);
        }
        parse_configuration(&json!({"metadata": {"name": "c"}, "webhooks": [h]}), false).remove(0)
    }

    fn attrs<'a>(op: Operation, resource: &'a str, sub: &'a str, ns: &'a str) -> Attributes<'a> {
        Attributes {
            operation: op,
            group: "",
            version: "v1",
            resource,
            subresource: sub,
            kind: "ConfigMap",
            namespace: ns,
            name: "x",
            object: None,
            old_object: None,
        }
    }

    fn no_ns(_: &str) -> Option<BTreeMap<String, String>> {
        Some(BTreeMap::new())
    }

    fn called(h: &Hook, a: &Attributes<'_>) -> bool {
        should_call(h, a, &no_ns, &Vec::new)
            .expect("no error")
            .is_some()
    }

    #[test]
    fn operations_groups_versions_resources() {
        let h = hook(json!({}));
        assert!(called(&h, &attrs(Operation::Create, "configmaps", "", "d")));
        assert!(called(&h, &attrs(Operation::Update, "configmaps", "", "d")));
        assert!(!called(
            &h,
            &attrs(Operation::Delete, "configmaps", "", "d")
        ));
        assert!(!called(&h, &attrs(Operation::Create, "secrets", "", "d")));
        assert!(
            !called(&h, &attrs(Operation::Update, "configmaps", "status", "d")),
            "a plain resource does not match its subresources"
        );
        let mut a = attrs(Operation::Create, "configmaps", "", "d");
        a.group = "apps";
        assert!(!called(&h, &a));
    }

    #[test]
    fn wildcards_and_subresources() {
        let rule = |res: Value| {
            hook(
                json!({"rules": [{"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": res}]}),
            )
        };
        let star = rule(json!(["*"]));
        assert!(called(&star, &attrs(Operation::Delete, "pods", "", "d")));
        assert!(!called(
            &star,
            &attrs(Operation::Update, "pods", "status", "d")
        ));
        let star_status = rule(json!(["*/status"]));
        assert!(called(
            &star_status,
            &attrs(Operation::Update, "pods", "status", "d")
        ));
        assert!(!called(
            &star_status,
            &attrs(Operation::Update, "pods", "", "d")
        ));
        let pods_all = rule(json!(["pods/*"]));
        assert!(called(
            &pods_all,
            &attrs(Operation::Update, "pods", "scale", "d")
        ));
        // As in kube-apiserver's rule matcher, `*` after the slash also matches
        // the empty subresource.
        assert!(called(
            &pods_all,
            &attrs(Operation::Update, "pods", "", "d")
        ));
        assert!(!called(
            &pods_all,
            &attrs(Operation::Update, "secrets", "", "d")
        ));
        let everything = rule(json!(["*/*"]));
        assert!(called(
            &everything,
            &attrs(Operation::Update, "pods", "", "d")
        ));
        assert!(called(
            &everything,
            &attrs(Operation::Update, "pods", "status", "d")
        ));
    }

    #[test]
    fn scope() {
        let scoped = |s: &str| {
            hook(
                json!({"rules": [{"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"], "scope": s}]}),
            )
        };
        let ns_hook = scoped("Namespaced");
        let cl_hook = scoped("Cluster");
        let cm = attrs(Operation::Create, "configmaps", "", "d");
        let node = attrs(Operation::Create, "nodes", "", "");
        // A Namespace carries its own name as namespace but is cluster-scoped.
        let nsobj = attrs(Operation::Create, "namespaces", "", "team");
        assert!(called(&ns_hook, &cm));
        assert!(!called(&ns_hook, &node));
        assert!(!called(&ns_hook, &nsobj));
        assert!(!called(&cl_hook, &cm));
        assert!(called(&cl_hook, &node));
        assert!(called(&cl_hook, &nsobj));
    }

    #[test]
    fn namespace_selector() {
        let h = hook(json!({"namespaceSelector": {"matchLabels": {"env": "prod"}}}));
        let prod =
            |n: &str| (n == "p").then(|| BTreeMap::from([("env".to_string(), "prod".to_string())]));
        let ask = |ns: &str| {
            should_call(
                &h,
                &attrs(Operation::Create, "configmaps", "", ns),
                &|n| prod(n).or_else(|| (n == "q").then(BTreeMap::new)),
                &Vec::new,
            )
        };
        assert!(ask("p").expect("ok").is_some());
        assert!(ask("q").expect("ok").is_none());
        assert_eq!(ask("missing").expect_err("404").code(), 404);
        // A Namespace object is judged by its own labels (old ones on delete).
        let h = hook(json!({
            "namespaceSelector": {"matchLabels": {"env": "prod"}},
            "rules": [{"operations": ["*"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["namespaces"]}]
        }));
        let labelled = json!({"metadata": {"labels": {"env": "prod"}}});
        let plain = json!({"metadata": {}});
        let mut a = attrs(Operation::Create, "namespaces", "", "team");
        a.object = Some(&labelled);
        assert!(called(&h, &a));
        a.object = Some(&plain);
        assert!(!called(&h, &a));
        a.operation = Operation::Delete;
        a.object = None;
        a.old_object = Some(&labelled);
        assert!(called(&h, &a));
    }

    #[test]
    fn object_selector_looks_at_old_and_new() {
        let h = hook(
            json!({"objectSelector": {"matchExpressions": [{"key": "deny", "operator": "Exists"}]}}),
        );
        let with = json!({"metadata": {"labels": {"deny": "true"}}});
        let without = json!({"metadata": {"labels": {"a": "b"}}});
        let mut a = attrs(Operation::Update, "configmaps", "", "d");
        a.object = Some(&without);
        assert!(!called(&h, &a));
        a.old_object = Some(&with);
        assert!(called(&h, &a), "the old object's labels count too");
        a.object = Some(&with);
        a.old_object = None;
        assert!(called(&h, &a));
    }

    #[test]
    fn match_policy() {
        let rules = json!([{"operations": ["*"], "apiGroups": ["example.com"], "apiVersions": ["v1"], "resources": ["widgets"]}]);
        let equivalent = hook(json!({"rules": rules}));
        let exact = hook(json!({"rules": rules, "matchPolicy": "Exact"}));
        let mut a = attrs(Operation::Create, "widgets", "", "d");
        a.group = "example.com";
        a.version = "v2";
        a.kind = "Widget";
        let others = || vec![("v1".to_string(), "Widget".to_string())];
        let got = should_call(&equivalent, &a, &no_ns, &others).expect("ok");
        assert_eq!(
            got,
            Some(Invocation {
                version: "v1".into(),
                kind: "Widget".into()
            })
        );
        assert_eq!(should_call(&exact, &a, &no_ns, &others).expect("ok"), None);
        // Other versions are not even looked up for a resource no rule names.
        a.resource = "gadgets";
        let never = || -> Vec<(String, String)> { panic!("equivalents looked up") };
        assert_eq!(
            should_call(&equivalent, &a, &no_ns, &never).expect("ok"),
            None
        );
    }
}
