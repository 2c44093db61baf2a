//! Validation of workload kinds: selectors against templates, replica counts, strategies, jobs and cron jobs.

use super::pod::validate_template;
use super::{arr, immutable, nonnegative, s, shown};
use apimachinery::labels::{Selector, validate_label_selector};
use apimachinery::{ErrorList, FieldError, Path};
use serde_json::{Map, Value};

fn spec(obj: &Value) -> &Value {
    obj.get("spec").unwrap_or(&Value::Null)
}

fn template_labels(template: &Value) -> Option<&Map<String, Value>> {
    template
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
}

/// `selector` does not match template `labels`, reported on the template labels.
fn selector_matches_template(
    selector: &Selector,
    template: &Value,
    path: &Path,
    errs: &mut ErrorList,
) {
    let labels = template_labels(template);
    if !selector.matches(&labels) {
        errs.push(FieldError::invalid(
            path.child("metadata").child("labels"),
            labels.cloned().map(Value::Object).unwrap_or(Value::Null),
            "`selector` does not match template `labels`",
        ));
    }
}

/// The template rules shared by controllers whose pods always restart.
fn always_restarting_template(template: &Value, path: &Path, errs: &mut ErrorList) {
    errs.extend(validate_template(template, path));
    let policy = template
        .pointer("/spec/restartPolicy")
        .and_then(Value::as_str)
        .unwrap_or("");
    if policy != "Always" {
        errs.push(FieldError::not_supported(
            path.child("spec").child("restartPolicy"),
            policy,
            &["Always"],
        ));
    }
    if template
        .pointer("/spec/activeDeadlineSeconds")
        .is_some_and(|v| !v.is_null())
    {
        errs.push(FieldError::forbidden(
            path.child("spec").child("activeDeadlineSeconds"),
            "activeDeadlineSeconds in ReplicaSet is not Supported",
        ));
    }
}

/// Selector checks of Deployments and ReplicaSets; returns the parsed selector when usable.
fn required_selector(
    spec: &Value,
    path: &Path,
    kind: &str,
    errs: &mut ErrorList,
) -> Option<Selector> {
    let sel_path = path.child("selector");
    match spec.get("selector").filter(|s| !s.is_null()) {
        None => {
            errs.push(FieldError::required(sel_path.clone(), ""));
        }
        Some(sel) => {
            errs.extend(validate_label_selector(sel, &sel_path));
            let empty = sel
                .get("matchLabels")
                .and_then(Value::as_object)
                .is_none_or(Map::is_empty)
                && arr(sel, "matchExpressions").is_empty();
            if empty {
                errs.push(FieldError::invalid(
                    sel_path.clone(),
                    sel.clone(),
                    format!("empty selector is invalid for {kind}"),
                ));
            }
        }
    }
    match Selector::from_label_selector(spec.get("selector").unwrap_or(&Value::Null)) {
        Ok(s) => Some(s),
        Err(_) => {
            errs.push(FieldError::invalid(
                sel_path,
                shown(spec.get("selector")),
                "invalid label selector",
            ));
            None
        }
    }
}

/// `ValidatePodTemplateSpecForReplicaSet`.
fn replica_set_template(spec: &Value, selector: &Selector, path: &Path, errs: &mut ErrorList) {
    let template = spec.get("template").unwrap_or(&Value::Null);
    let tpath = path.child("template");
    if !selector.is_empty() && !selector.is_nothing() {
        selector_matches_template(selector, template, &tpath, errs);
    }
    always_restarting_template(template, &tpath, errs);
}

fn selector_immutable(obj: &Value, old: Option<&Value>, errs: &mut ErrorList) {
    if let Some(old) = old {
        immutable(
            spec(obj).get("selector"),
            spec(old).get("selector"),
            Path::new("spec").child("selector"),
            errs,
        );
    }
}

pub(crate) fn deployment(obj: &Value, old: Option<&Value>) -> ErrorList {
    let mut errs = ErrorList::new();
    let spec = spec(obj);
    let path = Path::new("spec");
    nonnegative(spec.get("replicas"), path.child("replicas"), &mut errs);
    if let Some(selector) = required_selector(spec, &path, "deployment", &mut errs) {
        replica_set_template(spec, &selector, &path, &mut errs);
    }
    deployment_strategy(
        spec.get("strategy").unwrap_or(&Value::Null),
        &path.child("strategy"),
        &mut errs,
    );
    nonnegative(
        spec.get("minReadySeconds"),
        path.child("minReadySeconds"),
        &mut errs,
    );
    nonnegative(
        spec.get("revisionHistoryLimit"),
        path.child("revisionHistoryLimit"),
        &mut errs,
    );
    if let Some(pds) = spec.get("progressDeadlineSeconds").and_then(Value::as_i64) {
        nonnegative(
            spec.get("progressDeadlineSeconds"),
            path.child("progressDeadlineSeconds"),
            &mut errs,
        );
        let min_ready = spec
            .get("minReadySeconds")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if pds <= min_ready {
            errs.push(FieldError::invalid(
                path.child("progressDeadlineSeconds"),
                pds,
                "must be greater than minReadySeconds",
            ));
        }
    }
    selector_immutable(obj, old, &mut errs);
    errs
}

fn deployment_strategy(strategy: &Value, path: &Path, errs: &mut ErrorList) {
    match s(strategy, "type") {
        "Recreate" => {
            if strategy.get("rollingUpdate").is_some_and(|r| !r.is_null()) {
                errs.push(FieldError::forbidden(
                    path.child("rollingUpdate"),
                    "may not be specified when strategy `type` is 'Recreate'",
                ));
            }
        }
        "RollingUpdate" => match strategy.get("rollingUpdate").filter(|r| !r.is_null()) {
            None => errs.push(FieldError::required(
                path.child("rollingUpdate"),
                "this should be defaulted and never be nil",
            )),
            Some(ru) => {
                let rp = path.child("rollingUpdate");
                let unavailable =
                    int_or_percent(ru.get("maxUnavailable"), &rp.child("maxUnavailable"), errs);
                let surge = int_or_percent(ru.get("maxSurge"), &rp.child("maxSurge"), errs);
                if unavailable == Some(0) && surge == Some(0) {
                    errs.push(FieldError::invalid(
                        rp.child("maxUnavailable"),
                        shown(ru.get("maxUnavailable")),
                        "may not be 0 when `maxSurge` is 0",
                    ));
                }
                if let Some(Value::String(p)) = ru.get("maxUnavailable")
                    && p.trim_end_matches('%')
                        .parse::<i64>()
                        .is_ok_and(|v| v > 100)
                {
                    errs.push(FieldError::invalid(
                        rp.child("maxUnavailable"),
                        p.as_str(),
                        "must not be greater than 100%",
                    ));
                }
            }
        },
        other => errs.push(FieldError::not_supported(
            path.child("type"),
            other,
            &["Recreate", "RollingUpdate"],
        )),
    }
}

/// `ValidatePositiveIntOrPercent`; returns the number (percent or count) when valid.
pub(crate) fn int_or_percent(v: Option<&Value>, path: &Path, errs: &mut ErrorList) -> Option<i64> {
    match v {
        Some(Value::String(text)) => {
            let digits = text
                .strip_suffix('%')
                .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
            match digits.and_then(|d| d.parse::<i64>().ok()) {
                Some(n) => Some(n),
                None => {
                    errs.push(FieldError::invalid(
                        path.clone(),
                        text.as_str(),
                        "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
                    ));
                    None
                }
            }
        }
        Some(Value::Number(n)) => {
            let n = n.as_i64().unwrap_or(-1);
            if n < 0 {
                errs.push(FieldError::invalid(
                    path.clone(),
                    n,
                    "must be greater than or equal to 0",
                ));
            }
            Some(n)
        }
        _ => None,
    }
}

pub(crate) fn replica_set(obj: &Value, old: Option<&Value>) -> ErrorList {
    let mut errs = ErrorList::new();
    let spec = spec(obj);
    let path = Path::new("spec");
    nonnegative(spec.get("replicas"), path.child("replicas"), &mut errs);
    nonnegative(
        spec.get("minReadySeconds"),
        path.child("minReadySeconds"),
        &mut errs,
    );
    // kube's ReplicaSet validation reuses the Deployment wording.
    if let Some(selector) = required_selector(spec, &path, "deployment", &mut errs) {
        replica_set_template(spec, &selector, &path, &mut errs);
    }
    selector_immutable(obj, old, &mut errs);
    errs
}

pub(crate) fn replication_controller(obj: &Value) -> ErrorList {
    let mut errs = ErrorList::new();
    let spec = spec(obj);
    let path = Path::new("spec");
    let selector = spec.get("selector").and_then(Value::as_object);
    if selector.is_none_or(Map::is_empty) {
        errs.push(FieldError::required(path.child("selector"), ""));
    }
    nonnegative(spec.get("replicas"), path.child("replicas"), &mut errs);
    nonnegative(
        spec.get("minReadySeconds"),
        path.child("minReadySeconds"),
        &mut errs,
    );
    match spec.get("template").filter(|t| !t.is_null()) {
        None => errs.push(FieldError::required(path.child("template"), "")),
        Some(template) => {
            let tpath = path.child("template");
            if let Some(sel) = selector.filter(|s| !s.is_empty()) {
                let labels = template_labels(template);
                let matches = sel
                    .iter()
                    .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v));
                if !matches {
                    errs.push(FieldError::invalid(
                        tpath.child("metadata").child("labels"),
                        labels.cloned().map(Value::Object).unwrap_or(Value::Null),
                        "`selector` does not match template `labels`",
                    ));
                }
            }
            always_restarting_template(template, &tpath, &mut errs);
        }
    }
    errs
}

pub(crate) fn stateful_set(obj: &Value, old: Option<&Value>) -> ErrorList {
    let mut errs = ErrorList::new();
    let spec = spec(obj);
    let path = Path::new("spec");
    match s(spec, "podManagementPolicy") {
        "OrderedReady" | "Parallel" => {}
        other => errs.push(FieldError::invalid(
            path.child("podManagementPolicy"),
            other,
            "must be 'OrderedReady' or 'Parallel'",
        )),
    }
    let strategy = spec.get("updateStrategy").unwrap_or(&Value::Null);
    match s(strategy, "type") {
        "RollingUpdate" => {
            if let Some(ru) = strategy.get("rollingUpdate") {
                nonnegative(
                    ru.get("partition"),
                    path.child("updateStrategy")
                        .child("rollingUpdate")
                        .child("partition"),
                    &mut errs,
                );
            }
        }
        "OnDelete" => {
            if strategy.get("rollingUpdate").is_some_and(|r| !r.is_null()) {
                errs.push(FieldError::invalid(
                    path.child("updateStrategy").child("rollingUpdate"),
                    shown(strategy.get("rollingUpdate")),
                    "only allowed for updateStrategy 'RollingUpdate'",
                ));
            }
        }
        _ => errs.push(FieldError::invalid(
            path.child("updateStrategy"),
            strategy.clone(),
            "must be 'RollingUpdate' or 'OnDelete'",
        )),
    }
    nonnegative(spec.get("replicas"), path.child("replicas"), &mut errs);
    nonnegative(
        spec.get("minReadySeconds"),
        path.child("minReadySeconds"),
        &mut errs,
    );
    if let Some(selector) = required_selector(spec, &path, "statefulset", &mut errs) {
        let template = spec.get("template").unwrap_or(&Value::Null);
        let tpath = path.child("template");
        selector_matches_template(&selector, template, &tpath, &mut errs);
        always_restarting_template(template, &tpath, &mut errs);
    }
    if let Some(old) = old {
        let allowed = [
            "replicas",
            "ordinals",
            "template",
            "updateStrategy",
            "persistentVolumeClaimRetentionPolicy",
            "minReadySeconds",
        ];
        let strip = |v: &Value| {
            let mut m = v.as_object().cloned().unwrap_or_default();
            for k in allowed {
                m.remove(k);
            }
            m
        };
        if strip(spec) != strip(self::spec(old)) {
            errs.push(FieldError::forbidden(
                path,
                "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
            ));
        }
    }
    errs
}

pub(crate) fn daemon_set(obj: &Value, old: Option<&Value>) -> ErrorList {
    let mut errs = ErrorList::new();
    let spec = spec(obj);
    let path = Path::new("spec");
    let sel_value = spec.get("selector").unwrap_or(&Value::Null);
    if sel_value.is_null() {
        errs.push(FieldError::required(path.child("selector"), ""));
    } else {
        errs.extend(validate_label_selector(sel_value, &path.child("selector")));
    }
    let template = spec.get("template").unwrap_or(&Value::Null);
    let tpath = path.child("template");
    if let Ok(selector) = Selector::from_label_selector(sel_value) {
        selector_matches_template(&selector, template, &tpath, &mut errs);
    }
    let empty = sel_value
        .get("matchLabels")
        .and_then(Value::as_object)
        .is_none_or(Map::is_empty)
        && arr(sel_value, "matchExpressions").is_empty();
    if !sel_value.is_null() && empty {
        errs.push(FieldError::invalid(
            path.child("selector"),
            sel_value.clone(),
            "empty selector is invalid for daemonset",
        ));
    }
    always_restarting_template(template, &tpath, &mut errs);
    nonnegative(
        spec.get("minReadySeconds"),
        path.child("minReadySeconds"),
        &mut errs,
    );
    let strategy = spec.get("updateStrategy").unwrap_or(&Value::Null);
    match s(strategy, "type") {
        "OnDelete" => {}
        "RollingUpdate" => {
            if let Some(ru) = strategy.get("rollingUpdate") {
                let rp = path.child("updateStrategy").child("rollingUpdate");
                let unavailable = int_or_percent(
                    ru.get("maxUnavailable"),
                    &rp.child("maxUnavailable"),
                    &mut errs,
                );
                let surge = int_or_percent(ru.get("maxSurge"), &rp.child("maxSurge"), &mut errs);
                if unavailable == Some(0) && surge == Some(0) {
                    errs.push(FieldError::invalid(
                        rp.child("maxUnavailable"),
                        shown(ru.get("maxUnavailable")),
                        "may not be 0 when `maxSurge` is 0",
                    ));
                }
            }
        }
        other => errs.push(FieldError::not_supported(
            path.child("updateStrategy").child("type"),
            other,
            &["OnDelete", "RollingUpdate"],
        )),
    }
    selector_immutable(obj, old, &mut errs);
    errs
}

/// The part of `ValidateJobSpec` shared by jobs and cron job templates.
fn job_spec_common(spec: &Value, path: &Path, errs: &mut ErrorList) {
    for k in [
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
    ] {
        nonnegative(spec.get(k), path.child(k), errs);
    }
    let mode = s(spec, "completionMode");
    match mode {
        "" | "NonIndexed" => {}
        "Indexed" => {
            if spec.get("completions").is_none_or(Value::is_null) {
                errs.push(FieldError::required(
                    path.child("completions"),
                    "when completion mode is Indexed",
                ));
            }
        }
        other => errs.push(FieldError::not_supported(
            path.child("completionMode"),
            other,
            &["NonIndexed", "Indexed"],
        )),
    }
    let template = spec.get("template").unwrap_or(&Value::Null);
    let tpath = path.child("template");
    errs.extend(validate_template(template, &tpath));
    let policy = template
        .pointer("/spec/restartPolicy")
        .and_then(Value::as_str)
        .unwrap_or("");
    if policy != "OnFailure" && policy != "Never" {
        errs.push(FieldError::not_supported(
            tpath.child("spec").child("restartPolicy"),
            policy,
            &["OnFailure", "Never"],
        ));
    }
}

pub(crate) fn job(obj: &Value, old: Option<&Value>) -> ErrorList {
    let mut errs = ErrorList::new();
    let spec = spec(obj);
    let path = Path::new("spec");
    job_spec_common(spec, &path, &mut errs);
    match spec.get("selector").filter(|s| !s.is_null()) {
        None => errs.push(FieldError::required(path.child("selector"), "")),
        Some(sel) => errs.extend(validate_label_selector(sel, &path.child("selector"))),
    }
    if let Ok(selector) =
        Selector::from_label_selector(spec.get("selector").unwrap_or(&Value::Null))
    {
        let template = spec.get("template").unwrap_or(&Value::Null);
        selector_matches_template(&selector, template, &path.child("template"), &mut errs);
    }
    if let Some(old) = old {
        let old_spec = self::spec(old);
        immutable(
            spec.get("selector"),
            old_spec.get("selector"),
            path.child("selector"),
            &mut errs,
        );
        immutable(
            spec.get("completions"),
            old_spec.get("completions"),
            path.child("completions"),
            &mut errs,
        );
        immutable(
            spec.get("completionMode"),
            old_spec.get("completionMode"),
            path.child("completionMode"),
            &mut errs,
        );
    }
    errs
}

pub(crate) fn cron_job(obj: &Value) -> ErrorList {
    let mut errs = ErrorList::new();
    let spec = spec(obj);
    let path = Path::new("spec");
    let schedule = s(spec, "schedule");
    if schedule.is_empty() {
        errs.push(FieldError::required(path.child("schedule"), ""));
    } else {
        if let Err(e) = super::cron::parse_schedule(schedule) {
            errs.push(FieldError::invalid(path.child("schedule"), schedule, e));
        }
        if schedule.contains("TZ") {
            errs.push(FieldError::invalid(
                path.child("schedule"),
                schedule,
                "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
            ));
        }
    }
    nonnegative(
        spec.get("startingDeadlineSeconds"),
        path.child("startingDeadlineSeconds"),
        &mut errs,
    );
    let policy = s(spec, "concurrencyPolicy");
    if policy.is_empty() {
        errs.push(FieldError::required(path.child("concurrencyPolicy"), ""));
    } else if !["Allow", "Forbid", "Replace"].contains(&policy) {
        errs.push(FieldError::not_supported(
            path.child("concurrencyPolicy"),
            policy,
            &["Allow", "Forbid", "Replace"],
        ));
    }
    let jt_spec_path = path.child("jobTemplate").child("spec");
    let jt_spec = spec.pointer("/jobTemplate/spec").unwrap_or(&Value::Null);
    job_spec_common(jt_spec, &jt_spec_path, &mut errs);
    if let Some(sel) = jt_spec.get("selector").filter(|s| !s.is_null()) {
        errs.push(FieldError::invalid(
            jt_spec_path.child("selector"),
            sel.clone(),
            "`selector` will be auto-generated",
        ));
    }
    if jt_spec.get("manualSelector").and_then(Value::as_bool) == Some(true) {
        errs.push(FieldError::not_supported(
            jt_spec_path.child("manualSelector"),
            true,
            &["nil", "false"],
        ));
    }
    for k in ["successfulJobsHistoryLimit", "failedJobsHistoryLimit"] {
        nonnegative(spec.get(k), path.child(k), &mut errs);
    }
    errs
}
