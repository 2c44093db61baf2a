//! `pods/{name}/binding` and `bindings`: assigning a pod to a node, as kube-apiserver's BindingREST does.
//!
//! A binding is not an update of the pod through the general write path: kube-apiserver
//! sets `spec.nodeName`, the binding's annotations and `PodScheduled=True` directly on
//! the stored pod, without managedFields bookkeeping, defaulting or validation of the
//! pod (it was validated when written). Doing the same here is both the faithful
//! behaviour and the scheduler's hot path: one parse, one encode, one durable write.

use crate::decode;
use crate::meta;
use crate::response::{ApiError, ApiResult, json_value};
use crate::server::Ctx;
use crate::write::{
    MAX_OBJECT_BYTES, WriteOptions, content_type, encode_checked, put_op, store_err,
};
use apimachinery::{ErrorList, FieldError, Path, StatusError};
use bytes::Bytes;
use serde_json::{Map, Value, json};

/// How many times a binding is retried when the pod changes between read and write.
const ATTEMPTS: usize = 16;

/// `POST pods/{name}/binding`: assigns a pod to a node, once.
pub async fn bind_pod(ctx: &Ctx, body: Bytes) -> ApiResult {
    let mut binding = decode::parse_any(&content_type(ctx), &body, "Binding")?;
    let name = ctx.req.name.clone().unwrap_or_default();
    match meta::name(&binding) {
        Some(n) if n != name => {
            return Err(ApiError::from(StatusError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            ))));
        }
        _ => {
            meta::metadata_mut(&mut binding).insert("name".into(), Value::String(name));
        }
    }
    bind(ctx, &binding).await
}

/// Carries out a `Binding` (from `pods/{name}/binding` or `bindings`).
pub async fn bind(ctx: &Ctx, binding: &Value) -> ApiResult {
    let pods = ctx.inner.resource("", "v1", "pods")?;
    let opts = WriteOptions::from_ctx(ctx)?;
    let name = meta::name(binding).unwrap_or("").to_string();
    let node = binding
        .pointer("/target/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut errs = ErrorList::new();
    if name.is_empty() {
        errs.push(FieldError::required(
            Path::new("metadata").child("name"),
            "name or generateName is required",
        ));
    }
    if node.is_empty() {
        errs.push(FieldError::required(Path::new("target").child("name"), ""));
    }
    if !errs.is_empty() {
        return Err(ApiError::from(StatusError::invalid(
            "Binding", "", &name, &errs,
        )));
    }
    let uid_precondition = meta::uid(binding).filter(|u| !u.is_empty());
    let annotations = binding
        .pointer("/metadata/annotations")
        .and_then(Value::as_object);
    let key = pods.key(ctx.namespace().unwrap_or_default(), &name);
    for _ in 0..ATTEMPTS {
        let cur = ctx
            .inner
            .cache
            .get(&key)
            .ok_or_else(|| ApiError::from(StatusError::not_found("pods", "", &name)))?;
        let mut pod: Value = serde_json::from_slice(&cur.raw)
            .map_err(|e| ApiError::from(StatusError::internal(e)))?;
        let now = jiff::Timestamp::now()
            .round(jiff::Unit::Second)
            .unwrap_or(jiff::Timestamp::now());
        assign(&mut pod, &name, &node, uid_precondition, annotations, now)?;
        // Only a pod already near the limit can cross it by being bound; measure just those.
        if cur.raw.len() + 4096 > MAX_OBJECT_BYTES {
            encode_checked(&pods, &pod)?;
        }
        if opts.dry_run {
            return Ok(success());
        }
        let op = put_op(&pods, pod);
        let w = store::Write {
            key: key.clone(),
            precondition: store::Precondition::ModRevision(cur.revision),
            op,
        };
        match ctx.inner.store.write(w).await {
            Ok(_) => return Ok(success()),
            Err(store::Error::PreconditionFailed {
                current: Some(_), ..
            }) => continue,
            Err(e) => return Err(store_err(&pods, &name, e, false)),
        }
    }
    Err(ApiError::from(StatusError::conflict(
        "pods/binding",
        "",
        &name,
        "too many concurrent updates; try again",
    )))
}

fn success() -> http::Response<axum::body::Body> {
    json_value(
        201,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
    )
}

/// Applies a binding to the stored pod: kube-apiserver's `setPodHostAndAnnotations`.
fn assign(
    pod: &mut Value,
    name: &str,
    node: &str,
    uid_precondition: Option<&str>,
    annotations: Option<&Map<String, Value>>,
    now: jiff::Timestamp,
) -> Result<(), ApiError> {
    let conflict =
        |msg: String| ApiError::from(StatusError::conflict("pods/binding", "", name, &msg));
    if let Some(want) = uid_precondition {
        let have = meta::uid(pod).unwrap_or("");
        if want != have {
            return Err(conflict(format!(
                "Precondition failed: UID in precondition: {want}, UID in object meta: {have}"
            )));
        }
    }
    if meta::deletion_timestamp(pod).is_some() {
        return Err(conflict(format!(
            "pod {name} is being deleted, cannot be assigned to a host"
        )));
    }
    if let Some(existing) = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    {
        return Err(conflict(format!(
            "pod {name} is already assigned to node {existing:?}"
        )));
    }
    let Some(obj) = pod.as_object_mut() else {
        return Err(ApiError::from(StatusError::internal(
            "stored pod is not an object",
        )));
    };
    if let Some(spec) = obj
        .entry("spec")
        .or_insert_with(|| json!({}))
        .as_object_mut()
    {
        spec.insert("nodeName".into(), Value::String(node.to_string()));
    }
    if let Some(extra) = annotations.filter(|a| !a.is_empty()) {
        let m = meta::metadata_mut(pod);
        if let Some(anns) = m
            .entry("annotations")
            .or_insert_with(|| json!({}))
            .as_object_mut()
        {
            for (k, v) in extra {
                anns.insert(k.clone(), v.clone());
            }
        }
    }
    set_scheduled(pod, now);
    Ok(())
}

/// Sets `PodScheduled=True`, keeping the transition time if it already was True
/// (podutil.UpdatePodCondition).
fn set_scheduled(pod: &mut Value, now: jiff::Timestamp) {
    let Some(obj) = pod.as_object_mut() else {
        return;
    };
    let Some(status) = obj
        .entry("status")
        .or_insert_with(|| json!({}))
        .as_object_mut()
    else {
        return;
    };
    let Some(conds) = status
        .entry("conditions")
        .or_insert_with(|| json!([]))
        .as_array_mut()
    else {
        return;
    };
    let mut cond = json!({
        "type": "PodScheduled",
        "status": "True",
        "lastProbeTime": null,
        "lastTransitionTime": now.to_string(),
    });
    match conds
        .iter_mut()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("PodScheduled"))
    {
        Some(old) => {
            if old.get("status").and_then(Value::as_str) == Some("True")
                && let Some(t) = old.get("lastTransitionTime")
            {
                cond["lastTransitionTime"] = t.clone();
            }
            *old = cond;
        }
        None => conds.push(cond),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn pending() -> Value {
        json!({
            "metadata": {"name": "p", "namespace": "d", "uid": "u-1"},
            "spec": {"containers": [{"name": "c", "image": "i"}]},
            "status": {"phase": "Pending", "conditions": [{
                "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": "0/1 nodes are available", "lastProbeTime": null,
                "lastTransitionTime": "2026-01-01T00:00:00Z",
            }]},
        })
    }

    fn at(s: &str) -> jiff::Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn sets_node_annotations_and_scheduled_condition() {
        let mut pod = pending();
        let anns = json!({"a": "b"});
        assign(
            &mut pod,
            "p",
            "n1",
            Some("u-1"),
            anns.as_object(),
            at("2026-02-02T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(pod["spec"]["nodeName"], "n1");
        assert_eq!(pod["metadata"]["annotations"]["a"], "b");
        assert_eq!(
            pod["status"]["conditions"],
            json!([{"type": "PodScheduled", "status": "True", "lastProbeTime": null,
                    "lastTransitionTime": "2026-02-02T00:00:00Z"}])
        );
    }

    #[test]
    fn keeps_transition_time_of_a_true_condition() {
        let mut pod = pending();
        pod["status"]["conditions"][0]["status"] = json!("True");
        assign(&mut pod, "p", "n1", None, None, at("2026-02-02T00:00:00Z")).unwrap();
        assert_eq!(
            pod["status"]["conditions"][0]["lastTransitionTime"],
            "2026-01-01T00:00:00Z"
        );
    }

    #[test]
    fn refuses_bound_deleting_and_uid_mismatch() {
        let mut bound = pending();
        bound["spec"]["nodeName"] = json!("n0");
        let e = assign(&mut bound, "p", "n1", None, None, jiff::Timestamp::now()).unwrap_err();
        assert!(
            e.0.to_string().contains("already assigned to node \"n0\""),
            "{e:?}"
        );

        let mut deleting = pending();
        deleting["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        let e = assign(&mut deleting, "p", "n1", None, None, jiff::Timestamp::now()).unwrap_err();
        assert!(e.0.to_string().contains("is being deleted"), "{e:?}");

        let mut other = pending();
        let e = assign(
            &mut other,
            "p",
            "n1",
            Some("u-2"),
            None,
            jiff::Timestamp::now(),
        )
        .unwrap_err();
        assert!(
            e.0.to_string().contains("UID in precondition: u-2"),
            "{e:?}"
        );
        assert_eq!(other, pending(), "a refused binding changes nothing");
    }
}
