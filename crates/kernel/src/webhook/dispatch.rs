//! Calling the matching webhooks of a request: mutating ones one after another
//! (patches applied, reinvoked once if needed), validating ones in parallel.

use super::config::Hook;
use super::matching::{Attributes, Invocation, Operation, should_call};
use super::review::{self, RequestParts, Verdict};
use super::{exempt, resolve};
use crate::registry::Resource;
use crate::response::ApiError;
use crate::server::Inner;
use apimachinery::{StatusError, UserInfo};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One request as admission sees it; the object under admission is passed
/// separately because mutation changes it.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub res: &'a Resource,
    pub operation: Operation,
    pub subresource: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    pub old_object: Option<&'a Value>,
    pub user: &'a UserInfo,
    pub dry_run: bool,
    /// The request's `CreateOptions`/`UpdateOptions`/`PatchOptions`/`DeleteOptions`.
    pub options: Option<Value>,
}

impl<'a> Request<'a> {
    fn attrs<'b>(&'b self, object: Option<&'b Value>) -> Attributes<'b>
    where
        'a: 'b,
    {
        let is_namespace = self.res.group.is_empty() && self.res.plural == "namespaces";
        Attributes {
            operation: self.operation,
            group: &self.res.group,
            version: &self.res.version,
            resource: &self.res.plural,
            subresource: self.subresource,
            kind: &self.res.kind,
            namespace: if is_namespace {
                self.name
            } else {
                self.namespace
            },
            name: self.name,
            object,
            old_object: self.old_object,
        }
    }

    fn parts(&self) -> RequestParts<'_> {
        RequestParts {
            user: self.user,
            dry_run: self.dry_run,
            options: self.options.clone(),
        }
    }
}

/// Decides whether `hook` runs for `a`; refuses dry-run requests it cannot take.
fn matched(
    inner: &Inner,
    hook: &Hook,
    a: &Attributes<'_>,
    dry_run: bool,
) -> Result<Option<Invocation>, ApiError> {
    let ns_labels = |ns: &str| -> Option<BTreeMap<String, String>> {
        let res = inner.registry.get("", "v1", "namespaces")?;
        inner.cache.get(&res.key("", ns)).map(|o| o.labels())
    };
    let equivalents = || -> Vec<(String, String)> {
        inner
            .registry
            .all()
            .into_iter()
            .filter(|r| r.group == a.group && r.plural == a.resource)
            .map(|r| (r.version.clone(), r.kind.clone()))
            .collect()
    };
    let Some(inv) = should_call(hook, a, &ns_labels, &equivalents)? else {
        return Ok(None);
    };
    if dry_run && !hook.dry_run_safe {
        return Err(ApiError::from(StatusError::bad_request(format!(
            "admission webhook {:?} does not support dry run",
            hook.name
        ))));
    }
    Ok(Some(inv))
}

/// Calls one webhook; `Err` is the reason of a "failed calling webhook" error.
async fn call(
    inner: &Inner,
    hook: &Hook,
    a: &Attributes<'_>,
    inv: &Invocation,
    parts: &RequestParts<'_>,
    mutating: bool,
) -> Result<Verdict, String> {
    if let Some(why) = &hook.invalid {
        return Err(why.clone());
    }
    if !hook.review_versions.iter().any(|v| v == "v1") {
        return Err("webhook does not accept known AdmissionReview versions".into());
    }
    let target =
        resolve::target(inner, hook).map_err(|e| format!("failed to call webhook: {e}"))?;
    let (uid, body) = review::build(a, inv, parts);
    let body = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
    let resp = super::client::post(&target, hook.ca_bundle.as_deref(), body, hook.timeout)
        .await
        .map_err(|e| format!("failed to call webhook: {e}"))?;
    review::verdict(&hook.name, &resp, &uid, mutating)
        .map_err(|e| format!("received invalid webhook response: {e}"))
}

/// A call failure under the hook's failurePolicy: `None` to go on (Ignore).
fn failure(hook: &Hook, reason: String) -> Option<ApiError> {
    if hook.ignore_failures {
        tracing::warn!(webhook = %hook.name, %reason, "failed calling webhook, failing open");
        return None;
    }
    Some(ApiError::from(StatusError::internal(format!(
        "failed calling webhook {:?}: {reason}",
        hook.name
    ))))
}

/// Runs the mutating webhooks on `object` (None for DELETE), in order, applying
/// their JSONPatches. Webhooks with `reinvocationPolicy: IfNeeded` run once more if
/// a later one changed the object. Returns the webhooks' warnings and whether the
/// object changed.
pub async fn mutate(
    inner: &Arc<Inner>,
    req: &Request<'_>,
    mut object: Option<&mut Value>,
) -> Result<(Vec<String>, bool), ApiError> {
    if exempt(&req.res.group, &req.res.plural) {
        return Ok((Vec::new(), false));
    }
    let hooks = inner.webhooks.current(inner, true);
    if hooks.is_empty() {
        return Ok((Vec::new(), false));
    }
    let mut warnings = Vec::new();
    // `changes` counts modifications; `seen[i]` is the count right after hook i ran.
    let mut changes = 0u64;
    let mut seen: Vec<Option<u64>> = vec![None; hooks.len()];
    for pass in 0..2 {
        for (i, hook) in hooks.iter().enumerate() {
            if pass == 1 && !(hook.reinvoke_if_needed && seen[i].is_some_and(|s| s < changes)) {
                continue;
            }
            let current = object.as_deref().cloned();
            let a = req.attrs(current.as_ref());
            let Some(inv) = matched(inner, hook, &a, req.dry_run)? else {
                continue;
            };
            let verdict = call(inner, hook, &a, &inv, &req.parts(), true).await;
            seen[i] = Some(changes);
            let patch = match verdict {
                Ok(Verdict::Allowed { patch, warnings: w }) => {
                    warnings.extend(w);
                    patch
                }
                Ok(Verdict::Denied { error, .. }) => return Err(ApiError::from(error)),
                Err(reason) => match failure(hook, reason) {
                    Some(e) => return Err(e),
                    None => continue,
                },
            };
            let Some(patch) = patch else { continue };
            let ops: Vec<Value> = serde_json::from_slice(&patch)
                .map_err(|e| ApiError::from(StatusError::internal(e)))?;
            if ops.is_empty() {
                continue;
            }
            let Some(obj) = object.as_deref_mut() else {
                return Err(ApiError::from(StatusError::internal(format!(
                    "admission webhook {:?} attempted to modify the object, which is not supported for this operation",
                    hook.name
                ))));
            };
            // The webhook patched its own version of the object.
            let seen_as = review::as_version(obj, &req.res.group, &inv.version);
            let mut patched = patch::json_patch(&seen_as, &patch)
                .map_err(|e| ApiError::from(StatusError::internal(e)))?;
            if let Some(m) = patched.as_object_mut() {
                m.insert("apiVersion".into(), Value::String(req.res.api_version()));
            }
            if patched != *obj {
                *obj = patched;
                changes += 1;
                seen[i] = Some(changes);
            }
        }
        if changes == 0 {
            break;
        }
    }
    Ok((warnings, changes > 0))
}

/// Runs the validating webhooks on the final object in parallel. The first
/// denial or failure (in webhook order) is returned; warnings otherwise.
pub async fn validate(
    inner: &Arc<Inner>,
    req: &Request<'_>,
    object: Option<&Value>,
) -> Result<Vec<String>, ApiError> {
    if exempt(&req.res.group, &req.res.plural) {
        return Ok(Vec::new());
    }
    let hooks = inner.webhooks.current(inner, false);
    if hooks.is_empty() {
        return Ok(Vec::new());
    }
    let a = req.attrs(object);
    let parts = req.parts();
    let mut calls = Vec::new();
    for hook in hooks.iter() {
        if let Some(inv) = matched(inner, hook, &a, req.dry_run)? {
            calls.push((hook, inv));
        }
    }
    let results = futures::future::join_all(
        calls
            .iter()
            .map(|(hook, inv)| call(inner, hook, &a, inv, &parts, false)),
    )
    .await;
    let mut warnings = Vec::new();
    for ((hook, _), result) in calls.iter().zip(results) {
        match result {
            Ok(Verdict::Allowed { warnings: w, .. }) => warnings.extend(w),
            Ok(Verdict::Denied { error, .. }) => return Err(ApiError::from(error)),
            Err(reason) => {
                if let Some(e) = failure(hook, reason) {
                    return Err(e);
                }
            }
        }
    }
    Ok(warnings)
}
