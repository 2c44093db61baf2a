//! `admission.k8s.io/v1 AdmissionReview`: the request a webhook is sent, and
//! how its response is checked and turned into a verdict.

use super::matching::{Attributes, Invocation};
use apimachinery::{StatusError, UserInfo};
use serde_json::{Map, Value, json};

/// What a webhook answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Allowed, with a JSONPatch (mutating webhooks only) and warnings.
    Allowed {
        patch: Option<Vec<u8>>,
        warnings: Vec<String>,
    },
    /// Denied, with the error to return to the client.
    Denied {
        error: StatusError,
        warnings: Vec<String>,
    },
}

/// Everything the review request carries beyond the matching attributes.
#[derive(Debug, Clone)]
pub struct RequestParts<'a> {
    pub user: &'a UserInfo,
    pub dry_run: bool,
    /// `CreateOptions`, `UpdateOptions`, `PatchOptions` or `DeleteOptions`.
    pub options: Option<Value>,
}

fn user_info(u: &UserInfo) -> Value {
    let mut m = Map::new();
    m.insert("username".into(), Value::String(u.name.clone()));
    if !u.uid.is_empty() {
        m.insert("uid".into(), Value::String(u.uid.clone()));
    }
    if !u.groups.is_empty() {
        m.insert("groups".into(), json!(u.groups));
    }
    if !u.extra.is_empty() {
        m.insert("extra".into(), json!(u.extra));
    }
    Value::Object(m)
}

fn api_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

/// The object as the webhook's version of the resource: versions of a resource
/// served here differ only in `apiVersion` (CRDs use the `None` conversion).
pub fn as_version(obj: &Value, group: &str, version: &str) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.insert(
            "apiVersion".into(),
            Value::String(api_version(group, version)),
        );
    }
    v
}

/// The AdmissionReview for one call, with a fresh request uid.
pub fn build(a: &Attributes<'_>, inv: &Invocation, parts: &RequestParts<'_>) -> (String, Value) {
    let uid = uuid::Uuid::new_v4().to_string();
    let gvk =
        |version: &str, kind: &str| json!({"group": a.group, "version": version, "kind": kind});
    let gvr = |version: &str| json!({"group": a.group, "version": version, "resource": a.resource});
    let mut req = Map::new();
    req.insert("uid".into(), Value::String(uid.clone()));
    req.insert("kind".into(), gvk(&inv.version, &inv.kind));
    req.insert("resource".into(), gvr(&inv.version));
    if !a.subresource.is_empty() {
        req.insert("subResource".into(), Value::String(a.subresource.into()));
    }
    req.insert("requestKind".into(), gvk(a.version, a.kind));
    req.insert("requestResource".into(), gvr(a.version));
    if !a.subresource.is_empty() {
        req.insert(
            "requestSubResource".into(),
            Value::String(a.subresource.into()),
        );
    }
    if !a.name.is_empty() {
        req.insert("name".into(), Value::String(a.name.into()));
    }
    if !a.namespace.is_empty() {
        req.insert("namespace".into(), Value::String(a.namespace.into()));
    }
    req.insert(
        "operation".into(),
        Value::String(a.operation.as_str().into()),
    );
    req.insert("userInfo".into(), user_info(parts.user));
    let convert = |o: Option<&Value>| {
        o.map(|o| as_version(o, a.group, &inv.version))
            .unwrap_or(Value::Null)
    };
    req.insert("object".into(), convert(a.object));
    req.insert("oldObject".into(), convert(a.old_object));
    req.insert("dryRun".into(), Value::Bool(parts.dry_run));
    if let Some(o) = &parts.options {
        req.insert("options".into(), o.clone());
    }
    let review = json!({
        "kind": "AdmissionReview",
        "apiVersion": "admission.k8s.io/v1",
        "request": Value::Object(req),
    });
    (uid, review)
}

/// kube-apiserver's `ToStatusErr`: the webhook's status, forced to a failure of
/// at least 400, with the message prefixed by who denied it.
pub fn denial(webhook: &str, status: Option<&Value>) -> StatusError {
    let denied_by = format!("admission webhook {webhook:?} denied the request");
    let s = status.cloned().unwrap_or(Value::Null);
    let code = s
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| *c >= 400)
        .unwrap_or(400);
    let message = s.get("message").and_then(Value::as_str).unwrap_or("");
    let reason = s.get("reason").and_then(Value::as_str).unwrap_or("");
    let full = if !message.is_empty() {
        format!("{denied_by}: {message}")
    } else if !reason.is_empty() {
        format!("{denied_by}: {reason}")
    } else {
        format!("{denied_by} without explanation")
    };
    let details = s
        .get("details")
        .and_then(|d| serde_json::from_value(d.clone()).ok());
    StatusError::new(code, reason, full, details)
}

/// Checks a response body as kube-apiserver's `VerifyAdmissionResponse` does.
/// Errors are the reason text of a "received invalid webhook response" failure.
pub fn verdict(webhook: &str, body: &[u8], uid: &str, mutating: bool) -> Result<Verdict, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let Some(resp) = v.get("response").filter(|r| !r.is_null()) else {
        return Err("webhook response was absent".into());
    };
    let got_uid = resp.get("uid").and_then(Value::as_str).unwrap_or("");
    if got_uid != uid {
        return Err(format!("expected response.uid={uid:?}, got {got_uid:?}"));
    }
    let av = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
    if av != "admission.k8s.io/v1" || kind != "AdmissionReview" {
        let (g, ver) = av.rsplit_once('/').unwrap_or(("", av));
        return Err(format!(
            "expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got {g}/{ver}, Kind={kind}"
        ));
    }
    let warnings: Vec<String> = resp
        .get("warnings")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|w| w.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let patch_b64 = resp.get("patch").and_then(Value::as_str).unwrap_or("");
    let patch_type = resp.get("patchType").and_then(Value::as_str).unwrap_or("");
    let mut patch = None;
    if !patch_b64.is_empty() || !patch_type.is_empty() {
        if !mutating {
            return Err(
                "validating webhook may not return response.patch or response.patchType".into(),
            );
        }
        if patch_type != "JSONPatch" {
            return Err(format!(
                "mutating webhook returned unsupported patchType {patch_type:?} (only \"JSONPatch\" is supported)"
            ));
        }
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(patch_b64)
            .map_err(|e| format!("invalid response.patch: {e}"))?;
        patch = Some(bytes);
    }
    if resp.get("allowed").and_then(Value::as_bool) == Some(true) {
        Ok(Verdict::Allowed { patch, warnings })
    } else {
        Ok(Verdict::Denied {
            error: denial(webhook, resp.get("status")),
            warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::matching::Operation;

    fn attrs<'a>(obj: &'a Value) -> Attributes<'a> {
        Attributes {
            operation: Operation::Create,
            group: "",
            version: "v1",
            resource: "configmaps",
            subresource: "",
            kind: "ConfigMap",
            namespace: "default",
            name: "cm",
            object: Some(obj),
            old_object: None,
        }
    }

    #[test]
    fn request_fields() {
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}});
        let user = UserInfo::new("jane", vec!["dev".into()]);
        let inv = Invocation {
            version: "v1".into(),
            kind: "ConfigMap".into(),
        };
        let parts = RequestParts {
            user: &user,
            dry_run: true,
            options: Some(json!({"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"})),
        };
        let (uid, r) = build(&attrs(&obj), &inv, &parts);
        let req = &r["request"];
        assert_eq!(req["uid"], json!(uid));
        assert_eq!(
            req["kind"],
            json!({"group": "", "version": "v1", "kind": "ConfigMap"})
        );
        assert_eq!(
            req["requestResource"],
            json!({"group": "", "version": "v1", "resource": "configmaps"})
        );
        assert_eq!(req["operation"], "CREATE");
        assert_eq!(req["namespace"], "default");
        assert_eq!(
            req["userInfo"],
            json!({"username": "jane", "groups": ["dev"]})
        );
        assert_eq!(req["object"], obj);
        assert_eq!(req["oldObject"], Value::Null);
        assert_eq!(req["dryRun"], true);
        assert_eq!(req["options"]["kind"], "CreateOptions");
    }

    #[test]
    fn denials_as_kube_apiserver_words_them() {
        let e = denial(
            "deny.example.com",
            Some(&json!({"code": 403, "message": "no"})),
        );
        assert_eq!(e.code(), 403);
        assert_eq!(
            e.status.message,
            "admission webhook \"deny.example.com\" denied the request: no"
        );
        let e = denial("d", Some(&json!({"code": 200, "reason": "Forbidden"})));
        assert_eq!(e.code(), 400);
        assert_eq!(
            e.status.message,
            "admission webhook \"d\" denied the request: Forbidden"
        );
        let e = denial("d", None);
        assert_eq!(
            e.status.message,
            "admission webhook \"d\" denied the request without explanation"
        );
    }

    #[test]
    fn responses_are_checked() {
        let ok = |resp: Value| {
            serde_json::to_vec(&json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": resp}))
                .expect("json")
        };
        assert_eq!(
            verdict(
                "w",
                &ok(json!({"uid": "u", "allowed": true, "warnings": ["careful"]})),
                "u",
                false
            ),
            Ok(Verdict::Allowed {
                patch: None,
                warnings: vec!["careful".into()]
            })
        );
        assert_eq!(
            verdict("w", &ok(json!({"uid": "x", "allowed": true})), "u", false),
            Err("expected response.uid=\"u\", got \"x\"".into())
        );
        let patched =
            ok(json!({"uid": "u", "allowed": true, "patchType": "JSONPatch", "patch": "W10="}));
        assert!(
            verdict("w", &patched, "u", false).is_err(),
            "validating webhooks may not patch"
        );
        assert_eq!(
            verdict("w", &patched, "u", true),
            Ok(Verdict::Allowed {
                patch: Some(b"[]".to_vec()),
                warnings: vec![]
            })
        );
        let v1beta1 = serde_json::to_vec(&json!({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview", "response": {"uid": "u", "allowed": true}})).expect("json");
        assert_eq!(
            verdict("w", &v1beta1, "u", false),
            Err("expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got admission.k8s.io/v1beta1, Kind=AdmissionReview".into())
        );
        assert_eq!(
            verdict("w", b"{}", "u", false),
            Err("webhook response was absent".into())
        );
        match verdict("w", &ok(json!({"uid": "u", "allowed": false})), "u", false) {
            Ok(Verdict::Denied { error, .. }) => assert_eq!(error.code(), 400),
            other => panic!("expected a denial, got {other:?}"),
        }
    }
}
