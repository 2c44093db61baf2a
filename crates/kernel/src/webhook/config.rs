//! Webhook configurations (`admissionregistration.k8s.io/v1`) parsed once into
//! the form admission matches against, with the v1 defaults filled in.

use apimachinery::labels::Selector;
use serde_json::Value;
use std::time::Duration;

/// One rule of a webhook: which operations on which resources it wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub operations: Vec<String>,
    pub api_groups: Vec<String>,
    pub api_versions: Vec<String>,
    pub resources: Vec<String>,
    /// `*` (default), `Cluster` or `Namespaced`.
    pub scope: String,
}

/// Where the webhook is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Url(String),
    Service {
        namespace: String,
        name: String,
        path: String,
        port: u16,
    },
}

/// One webhook of a Validating- or MutatingWebhookConfiguration.
#[derive(Debug, Clone)]
pub struct Hook {
    pub name: String,
    /// The configuration the webhook belongs to (webhooks run in its name order).
    pub configuration: String,
    pub rules: Vec<Rule>,
    /// `failurePolicy: Ignore`; the v1 default is `Fail`.
    pub ignore_failures: bool,
    /// `matchPolicy: Exact`; the v1 default is `Equivalent`.
    pub match_exact: bool,
    pub namespace_selector: Selector,
    pub object_selector: Selector,
    /// `sideEffects` is `None` or `NoneOnDryRun`: the webhook may see dry-run requests.
    pub dry_run_safe: bool,
    pub timeout: Duration,
    pub endpoint: Endpoint,
    /// PEM certificates the webhook's serving certificate must chain to.
    pub ca_bundle: Option<Vec<u8>>,
    pub review_versions: Vec<String>,
    /// `reinvocationPolicy: IfNeeded` (mutating only).
    pub reinvoke_if_needed: bool,
    /// The configuration could not be understood; calling it fails (so
    /// `failurePolicy` decides) with this reason.
    pub invalid: Option<String>,
}

/// The timeout kube-apiserver gives a v1 webhook that names none, and the cap.
const DEFAULT_TIMEOUT: u64 = 10;
const MAX_TIMEOUT: u64 = 30;

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn selector(v: Option<&Value>, field: &str, invalid: &mut Option<String>) -> Selector {
    match v {
        // An absent selector is the v1 default `{}`, which matches everything.
        None | Some(Value::Null) => Selector::everything(),
        Some(s) => Selector::from_label_selector(s).unwrap_or_else(|e| {
            invalid.get_or_insert(format!("invalid {field}: {e}"));
            Selector::nothing()
        }),
    }
}

fn parse_rule(r: &Value) -> Rule {
    Rule {
        operations: strings(r.get("operations")),
        api_groups: strings(r.get("apiGroups")),
        api_versions: strings(r.get("apiVersions")),
        resources: strings(r.get("resources")),
        scope: r
            .get("scope")
            .and_then(Value::as_str)
            .unwrap_or("*")
            .to_string(),
    }
}

fn parse_endpoint(cc: Option<&Value>) -> Result<Endpoint, String> {
    let cc = cc.ok_or("webhook has no clientConfig")?;
    if let Some(url) = cc.get("url").and_then(Value::as_str) {
        return Ok(Endpoint::Url(url.to_string()));
    }
    let svc = cc
        .get("service")
        .ok_or("clientConfig must have a url or a service")?;
    let port = svc.get("port").and_then(Value::as_i64).unwrap_or(443);
    Ok(Endpoint::Service {
        namespace: svc
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        name: svc
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        path: svc
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        port: u16::try_from(port).map_err(|_| format!("invalid service port {port}"))?,
    })
}

fn parse_hook(configuration: &str, h: &Value, mutating: bool) -> Hook {
    use base64::Engine;
    let mut invalid = None;
    let endpoint = parse_endpoint(h.get("clientConfig")).unwrap_or_else(|e| {
        invalid = Some(e);
        Endpoint::Url(String::new())
    });
    let ca_bundle = match h.pointer("/clientConfig/caBundle").and_then(Value::as_str) {
        None | Some("") => None,
        Some(b64) => match base64::engine::general_purpose::STANDARD.decode(b64) {
            Ok(pem) => Some(pem),
            Err(e) => {
                invalid.get_or_insert(format!("invalid clientConfig.caBundle: {e}"));
                None
            }
        },
    };
    let timeout = h
        .get("timeoutSeconds")
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_TIMEOUT)
        .clamp(1, MAX_TIMEOUT);
    let side_effects = h.get("sideEffects").and_then(Value::as_str).unwrap_or("");
    Hook {
        name: h
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        configuration: configuration.to_string(),
        rules: h
            .get("rules")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(parse_rule).collect())
            .unwrap_or_default(),
        ignore_failures: h.get("failurePolicy").and_then(Value::as_str) == Some("Ignore"),
        match_exact: h.get("matchPolicy").and_then(Value::as_str) == Some("Exact"),
        namespace_selector: selector(
            h.get("namespaceSelector"),
            "namespaceSelector",
            &mut invalid,
        ),
        object_selector: selector(h.get("objectSelector"), "objectSelector", &mut invalid),
        dry_run_safe: matches!(side_effects, "None" | "NoneOnDryRun"),
        timeout: Duration::from_secs(timeout),
        endpoint,
        ca_bundle,
        review_versions: strings(h.get("admissionReviewVersions")),
        reinvoke_if_needed: mutating
            && h.get("reinvocationPolicy").and_then(Value::as_str) == Some("IfNeeded"),
        invalid,
    }
}

/// The webhooks of one configuration object, in the order it lists them.
pub fn parse_configuration(obj: &Value, mutating: bool) -> Vec<Hook> {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    obj.get("webhooks")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|h| parse_hook(name, h, mutating)).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn v1_defaults() {
        let cfg = json!({
            "metadata": {"name": "c"},
            "webhooks": [{
                "name": "a.example.com",
                "clientConfig": {"url": "https://127.0.0.1:1/x"},
                "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["configmaps"]}],
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"],
                "timeoutSeconds": 99
            }]
        });
        let hooks = parse_configuration(&cfg, true);
        assert_eq!(hooks.len(), 1);
        let h = &hooks[0];
        assert!(!h.ignore_failures, "v1 defaults to failurePolicy Fail");
        assert!(!h.match_exact, "v1 defaults to matchPolicy Equivalent");
        assert!(h.dry_run_safe);
        assert_eq!(h.timeout, Duration::from_secs(30), "capped at 30s");
        assert_eq!(h.rules[0].scope, "*");
        assert!(h.namespace_selector.is_empty());
        assert!(!h.reinvoke_if_needed);
        assert!(h.invalid.is_none());
    }

    #[test]
    fn service_reference() {
        let cfg = json!({"metadata": {"name": "c"}, "webhooks": [{
            "name": "b", "clientConfig": {"service": {"namespace": "ns", "name": "svc", "path": "/v"}},
            "failurePolicy": "Ignore", "sideEffects": "Some", "reinvocationPolicy": "IfNeeded"
        }]});
        let h = &parse_configuration(&cfg, true)[0];
        assert_eq!(
            h.endpoint,
            Endpoint::Service {
                namespace: "ns".into(),
                name: "svc".into(),
                path: "/v".into(),
                port: 443
            }
        );
        assert!(h.ignore_failures);
        assert!(!h.dry_run_safe);
        assert!(h.reinvoke_if_needed);
        assert_eq!(h.timeout, Duration::from_secs(10));
    }

    #[test]
    fn bad_ca_bundle_marks_the_hook_invalid() {
        let cfg = json!({"metadata": {"name": "c"}, "webhooks": [{
            "name": "b", "clientConfig": {"url": "https://x", "caBundle": "%%%"}
        }]});
        assert!(parse_configuration(&cfg, false)[0].invalid.is_some());
    }
}
