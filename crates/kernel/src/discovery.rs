//! Discovery: `/api`, `/apis`, group and group-version documents, and aggregated
//! discovery (`apidiscovery.k8s.io/v2`), generated from the registry so CRDs
//! appear as soon as they are established.

use crate::registry::Resource;
use crate::request::Route;
use crate::response::{ApiError, ApiResult, Wanted, json_value};
use crate::server::Inner;
use apimachinery::StatusError;
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Built-in groups in the order kube-apiserver lists them.
const GROUP_ORDER: &[&str] = &[
    "apiregistration.k8s.io",
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    "resource.k8s.io",
    "flowcontrol.apiserver.k8s.io",
];

/// Versions ordered by Kubernetes' version priority (GA > beta > alpha, higher first).
fn version_key(v: &str) -> (u32, i64, i64) {
    let rest = v.trim_start_matches('v');
    let (major, tail) = rest.split_at(
        rest.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len()),
    );
    let major: i64 = major.parse().unwrap_or(0);
    if tail.is_empty() {
        (3, major, 0)
    } else if let Some(n) = tail.strip_prefix("beta") {
        (2, major, n.parse().unwrap_or(0))
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, major, n.parse().unwrap_or(0))
    } else {
        (0, 0, 0)
    }
}

/// group → versions (preferred first) → resources.
type Groups = Vec<(String, Vec<(String, Vec<Arc<Resource>>)>)>;

fn groups(inner: &Inner) -> Groups {
    let mut by_group: BTreeMap<String, BTreeMap<String, Vec<Arc<Resource>>>> = BTreeMap::new();
    for r in inner.registry.all() {
        by_group
            .entry(r.group.clone())
            .or_default()
            .entry(r.version.clone())
            .or_default()
            .push(r);
    }
    let mut names: Vec<String> = by_group.keys().filter(|g| !g.is_empty()).cloned().collect();
    names.sort_by_key(|g| {
        let pos = GROUP_ORDER
            .iter()
            .position(|x| x == g)
            .unwrap_or(GROUP_ORDER.len());
        (pos, g.clone())
    });
    let mut out = Vec::new();
    if let Some(core) = by_group.remove("") {
        out.push((String::new(), sorted_versions(core)));
    }
    for g in names {
        if let Some(vs) = by_group.remove(&g) {
            out.push((g, sorted_versions(vs)));
        }
    }
    out
}

fn sorted_versions(vs: BTreeMap<String, Vec<Arc<Resource>>>) -> Vec<(String, Vec<Arc<Resource>>)> {
    let mut v: Vec<_> = vs.into_iter().collect();
    v.sort_by_key(|(ver, _)| std::cmp::Reverse(version_key(ver)));
    for (_, rs) in v.iter_mut() {
        rs.sort_by(|a, b| a.plural.cmp(&b.plural));
    }
    v
}

fn group_doc(name: &str, versions: &[(String, Vec<Arc<Resource>>)]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|(v, _)| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
        .collect();
    json!({"name": name, "versions": vs, "preferredVersion": vs.first().cloned().unwrap_or(Value::Null)})
}

/// The subresources a resource serves: `(name, kind, group, version, verbs)`.
fn subresources(
    r: &Resource,
) -> Vec<(
    &'static str,
    String,
    &'static str,
    &'static str,
    Vec<&'static str>,
)> {
    let mut out = Vec::new();
    if r.group.is_empty() && r.plural == "pods" {
        out.push(("binding", "Binding".to_string(), "", "", vec!["create"]));
    }
    if r.group.is_empty() && r.plural == "serviceaccounts" {
        out.push((
            "token",
            "TokenRequest".to_string(),
            "authentication.k8s.io",
            "v1",
            vec!["create"],
        ));
    }
    if r.group.is_empty() && r.plural == "namespaces" {
        out.push(("finalize", "Namespace".to_string(), "", "", vec!["update"]));
    }
    if r.has_scale() {
        out.push((
            "scale",
            "Scale".to_string(),
            "autoscaling",
            "v1",
            vec!["get", "patch", "update"],
        ));
    }
    if r.has_status() {
        out.push((
            "status",
            r.kind.clone(),
            "",
            "",
            vec!["get", "patch", "update"],
        ));
    }
    out
}

/// What kube-apiserver publishes so clients notice storage migrations: the first
/// eight bytes of SHA-256 over `group/version/kind` of the storage version, base64.
fn storage_version_hash(r: &Resource) -> String {
    use base64::Engine;
    let gvk = match (r.group.as_str(), r.plural.as_str()) {
        ("autoscaling", "horizontalpodautoscalers") => {
            "autoscaling/v2/HorizontalPodAutoscaler".to_string()
        }
        ("events.k8s.io", "events") => "/v1/Event".to_string(),
        _ => format!("{}/{}/{}", r.group, r.storage_version(), r.kind),
    };
    let digest = ring::digest::digest(&ring::digest::SHA256, gvk.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(&digest.as_ref()[..8])
}

fn resource_list(group: &str, version: &str, rs: &[Arc<Resource>]) -> Value {
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let mut resources = Vec::new();
    for r in rs {
        let mut e = json!({"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced, "kind": r.kind, "verbs": r.verbs});
        if !r.short_names.is_empty() {
            e["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            e["categories"] = json!(r.categories);
        }
        if !r.is_virtual() {
            e["storageVersionHash"] = json!(storage_version_hash(r));
        }
        resources.push(e);
        for (sub, kind, g, v, verbs) in subresources(r) {
            let mut s = json!({"name": format!("{}/{}", r.plural, sub), "singularName": "", "namespaced": r.namespaced, "kind": kind, "verbs": verbs});
            if !g.is_empty() {
                s["group"] = json!(g);
                s["version"] = json!(v);
            }
            resources.push(s);
        }
    }
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
}

fn aggregated_group(name: &str, versions: &[(String, Vec<Arc<Resource>>)]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|(v, rs)| {
            let resources: Vec<Value> = rs
                .iter()
                .map(|r| {
                    let mut e = json!({
                        "resource": r.plural,
                        "responseKind": {"group": "", "version": "", "kind": r.kind},
                        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
                        "singularResource": r.singular,
                        "verbs": r.verbs,
                    });
                    if !r.short_names.is_empty() {
                        e["shortNames"] = json!(r.short_names);
                    }
                    if !r.categories.is_empty() {
                        e["categories"] = json!(r.categories);
                    }
                    let subs: Vec<Value> = subresources(r)
                        .into_iter()
                        .map(|(sub, kind, g, v, verbs)| {
                            json!({"subresource": sub, "responseKind": {"group": g, "version": v, "kind": kind}, "verbs": verbs})
                        })
                        .collect();
                    if !subs.is_empty() {
                        e["subresources"] = Value::Array(subs);
                    }
                    e
                })
                .collect();
            json!({"version": v, "resources": resources, "freshness": "Current"})
        })
        .collect();
    let metadata = if name.is_empty() {
        json!({})
    } else {
        json!({"name": name})
    };
    json!({"metadata": metadata, "versions": vs})
}

fn aggregated(items: Vec<Value>) -> Response {
    let mut r = json_value(
        200,
        &json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items}),
    );
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        ),
    );
    r
}

fn not_found() -> ApiError {
    ApiError::from(StatusError::new(
        404,
        "NotFound",
        "the server could not find the requested resource",
        Some(Default::default()),
    ))
}

pub fn serve(inner: &Arc<Inner>, route: Route, wanted: Wanted) -> ApiResult {
    let all = groups(inner);
    match route {
        Route::CoreVersions => {
            if wanted == Wanted::AggregatedDiscovery {
                let core: Vec<Value> = all
                    .iter()
                    .filter(|(g, _)| g.is_empty())
                    .map(|(g, v)| aggregated_group(g, v))
                    .collect();
                return Ok(aggregated(core));
            }
            Ok(json_value(
                200,
                &json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": inner.config.advertise_address}]}),
            ))
        }
        Route::Groups => {
            if wanted == Wanted::AggregatedDiscovery {
                let items: Vec<Value> = all
                    .iter()
                    .filter(|(g, _)| !g.is_empty())
                    .map(|(g, v)| aggregated_group(g, v))
                    .collect();
                return Ok(aggregated(items));
            }
            let gs: Vec<Value> = all
                .iter()
                .filter(|(g, _)| !g.is_empty())
                .map(|(g, v)| group_doc(g, v))
                .collect();
            Ok(json_value(
                200,
                &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": gs}),
            ))
        }
        Route::Group(g) => {
            let (_, vs) = all
                .iter()
                .find(|(name, _)| *name == g && !g.is_empty())
                .ok_or_else(not_found)?;
            let mut doc = group_doc(&g, vs);
            doc["kind"] = json!("APIGroup");
            doc["apiVersion"] = json!("v1");
            Ok(json_value(200, &doc))
        }
        Route::GroupVersion { group, version } => {
            let (_, vs) = all
                .iter()
                .find(|(name, _)| *name == group)
                .ok_or_else(not_found)?;
            let (_, rs) = vs
                .iter()
                .find(|(v, _)| *v == version)
                .ok_or_else(not_found)?;
            Ok(json_value(200, &resource_list(&group, &version, rs)))
        }
        Route::Resource(_) => Err(not_found()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_hashes_match_kube_apiserver() {
        let reg = crate::registry::Registry::with_builtins();
        let cm = reg.get("", "v1", "configmaps").expect("configmaps");
        assert_eq!(storage_version_hash(&cm), "qFsyl6wFWjQ=");
        let d = reg.get("apps", "v1", "deployments").expect("deployments");
        assert_eq!(storage_version_hash(&d), "8aSe+NMegvE=");
    }

    #[test]
    fn version_priority() {
        let mut v = vec!["v1beta1", "v2", "v1", "v1alpha1", "v2beta2"];
        v.sort_by_key(|x| std::cmp::Reverse(version_key(x)));
        assert_eq!(v, vec!["v2", "v1", "v2beta2", "v1beta1", "v1alpha1"]);
    }
}
