//! Validation of the replica-count policies: HorizontalPodAutoscalers and PodDisruptionBudgets.

use super::s;
use super::workloads::int_or_percent;
use apimachinery::labels::validate_label_selector;
use apimachinery::validation::is_path_segment_name;
use apimachinery::{ErrorList, FieldError, Path};
use serde_json::Value;

pub(crate) fn hpa(obj: &Value) -> ErrorList {
    let mut errs = ErrorList::new();
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let path = Path::new("spec");
    let min = spec.get("minReplicas").and_then(Value::as_i64);
    let max = spec.get("maxReplicas").and_then(Value::as_i64).unwrap_or(0);
    if let Some(m) = min
        && m < 1
    {
        errs.push(FieldError::invalid(
            path.child("minReplicas"),
            m,
            "must be greater than or equal to 1",
        ));
    }
    if max < 1 {
        errs.push(FieldError::invalid(
            path.child("maxReplicas"),
            max,
            "must be greater than 0",
        ));
    }
    if let Some(m) = min
        && max < m
    {
        errs.push(FieldError::invalid(
            path.child("maxReplicas"),
            max,
            "must be greater than or equal to `minReplicas`",
        ));
    }
    let target = spec.get("scaleTargetRef").unwrap_or(&Value::Null);
    let tp = path.child("scaleTargetRef");
    for key in ["kind", "name"] {
        let v = s(target, key);
        if v.is_empty() {
            errs.push(FieldError::required(tp.child(key), ""));
        } else {
            for msg in is_path_segment_name(v) {
                errs.push(FieldError::invalid(tp.child(key), v, msg));
            }
        }
    }
    errs
}

pub(crate) fn pdb(obj: &Value) -> ErrorList {
    let mut errs = ErrorList::new();
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let path = Path::new("spec");
    let set = |k: &str| spec.get(k).is_some_and(|v| !v.is_null());
    if set("minAvailable") && set("maxUnavailable") {
        errs.push(FieldError::invalid(
            path.clone(),
            spec.clone(),
            "minAvailable and maxUnavailable cannot be both set",
        ));
    }
    for key in ["minAvailable", "maxUnavailable"] {
        let v = spec.get(key);
        int_or_percent(v, &path.child(key), &mut errs);
        if let Some(Value::String(p)) = v
            && p.trim_end_matches('%')
                .parse::<i64>()
                .is_ok_and(|n| n > 100)
        {
            errs.push(FieldError::invalid(
                path.child(key),
                p.as_str(),
                "must not be greater than 100%",
            ));
        }
    }
    if let Some(sel) = spec.get("selector").filter(|v| !v.is_null()) {
        errs.extend(validate_label_selector(sel, &path.child("selector")));
    }
    if let Some(policy) = spec
        .get("unhealthyPodEvictionPolicy")
        .and_then(Value::as_str)
        && policy != "AlwaysAllow"
        && policy != "IfHealthyBudget"
    {
        errs.push(FieldError::not_supported(
            path.child("unhealthyPodEvictionPolicy"),
            policy,
            &["AlwaysAllow", "IfHealthyBudget"],
        ));
    }
    errs
}
