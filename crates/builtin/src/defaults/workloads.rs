//! Defaults for workload kinds: deployments, replica sets, stateful sets, daemon sets, jobs, cron jobs, replication controllers.

use super::pod::{template, template_metadata};
use crate::json::{default, default_str, each_mut, obj_entry};
use serde_json::{Value, json};

/// Template defaults shared by every kind with `spec.template`.
fn spec_template(spec: &mut Value) {
    if let Some(t) = spec.get_mut("template") {
        template_metadata(t);
        template(t);
    }
}

pub(crate) fn deployment(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec").filter(|s| s.is_object()) else {
        return;
    };
    default(spec, "replicas", json!(1));
    if let Some(strategy) = obj_entry(spec, "strategy") {
        let ty = strategy.entry("type".to_string()).or_insert(Value::Null);
        if ty.is_null() || ty.as_str() == Some("") {
            *ty = json!("RollingUpdate");
        }
    }
    if spec.pointer("/strategy/type").and_then(Value::as_str) == Some("RollingUpdate")
        && let Some(strategy) = spec.get_mut("strategy")
        && let Some(ru) = obj_entry(strategy, "rollingUpdate")
    {
        for k in ["maxUnavailable", "maxSurge"] {
            let slot = ru.entry(k.to_string()).or_insert(Value::Null);
            if slot.is_null() {
                *slot = json!("25%");
            }
        }
    }
    default(spec, "revisionHistoryLimit", json!(10));
    default(spec, "progressDeadlineSeconds", json!(600));
    spec_template(spec);
}

pub(crate) fn replica_set(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec").filter(|s| s.is_object()) else {
        return;
    };
    default(spec, "replicas", json!(1));
    spec_template(spec);
}

pub(crate) fn stateful_set(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec").filter(|s| s.is_object()) else {
        return;
    };
    default_str(spec, "podManagementPolicy", "OrderedReady");
    if let Some(strategy) = obj_entry(spec, "updateStrategy") {
        let ty = strategy.entry("type".to_string()).or_insert(Value::Null);
        // Only an unset type brings a rollingUpdate block along; an explicit
        // RollingUpdate without one stays without one, as in kube.
        if ty.is_null() || ty.as_str() == Some("") {
            *ty = json!("RollingUpdate");
            strategy
                .entry("rollingUpdate".to_string())
                .or_insert(json!({}));
        }
    }
    if spec.pointer("/updateStrategy/type").and_then(Value::as_str) == Some("RollingUpdate")
        && let Some(ru) = spec
            .pointer_mut("/updateStrategy/rollingUpdate")
            .and_then(Value::as_object_mut)
    {
        let slot = ru.entry("partition".to_string()).or_insert(Value::Null);
        if slot.is_null() {
            *slot = json!(0);
        }
    }
    if let Some(policy) = obj_entry(spec, "persistentVolumeClaimRetentionPolicy") {
        for k in ["whenDeleted", "whenScaled"] {
            let slot = policy.entry(k.to_string()).or_insert(Value::Null);
            if slot.is_null() || slot.as_str() == Some("") {
                *slot = json!("Retain");
            }
        }
    }
    default(spec, "replicas", json!(1));
    default(spec, "revisionHistoryLimit", json!(10));
    for claim in each_mut(spec, "volumeClaimTemplates") {
        default_str(claim, "apiVersion", "v1");
        default_str(claim, "kind", "PersistentVolumeClaim");
        super::other::pvc(claim);
    }
    spec_template(spec);
}

pub(crate) fn daemon_set(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec").filter(|s| s.is_object()) else {
        return;
    };
    if let Some(strategy) = obj_entry(spec, "updateStrategy") {
        let ty = strategy.entry("type".to_string()).or_insert(Value::Null);
        if ty.is_null() || ty.as_str() == Some("") {
            *ty = json!("RollingUpdate");
        }
    }
    if spec.pointer("/updateStrategy/type").and_then(Value::as_str) == Some("RollingUpdate")
        && let Some(strategy) = spec.get_mut("updateStrategy")
        && let Some(ru) = obj_entry(strategy, "rollingUpdate")
    {
        for (k, v) in [("maxUnavailable", json!(1)), ("maxSurge", json!(0))] {
            let slot = ru.entry(k.to_string()).or_insert(Value::Null);
            if slot.is_null() {
                *slot = v;
            }
        }
    }
    default(spec, "revisionHistoryLimit", json!(10));
    spec_template(spec);
}

/// `SetDefaults_Job`; `with_labels` copies template labels to the job, which
/// the API server does for jobs but not for the job template of a cron job.
pub(crate) fn job_spec(spec: &mut Value) {
    if !spec.is_object() {
        return;
    }
    let completions_missing = spec.get("completions").is_none_or(Value::is_null);
    let parallelism_missing = spec.get("parallelism").is_none_or(Value::is_null);
    if completions_missing && parallelism_missing {
        default(spec, "completions", json!(1));
    }
    default(spec, "parallelism", json!(1));
    let per_index = spec
        .get("backoffLimitPerIndex")
        .is_some_and(|v| !v.is_null());
    default(
        spec,
        "backoffLimit",
        json!(if per_index { i32::MAX } else { 6 }),
    );
    default_str(spec, "completionMode", "NonIndexed");
    default(spec, "suspend", json!(false));
    let has_failure_policy = spec.get("podFailurePolicy").is_some_and(|v| !v.is_null());
    if let Some(rules) = spec
        .pointer_mut("/podFailurePolicy/rules")
        .and_then(Value::as_array_mut)
    {
        for rule in rules {
            for cond in each_mut(rule, "onPodConditions") {
                default_str(cond, "status", "True");
            }
        }
    }
    default_str(
        spec,
        "podReplacementPolicy",
        if has_failure_policy {
            "Failed"
        } else {
            "TerminatingOrFailed"
        },
    );
    default(spec, "manualSelector", json!(false));
    spec_template(spec);
}

pub(crate) fn job(obj: &mut Value) {
    if let Some(spec) = obj.get_mut("spec") {
        job_spec(spec);
    }
    let template_labels = obj
        .pointer("/spec/template/metadata/labels")
        .and_then(Value::as_object)
        .filter(|l| !l.is_empty())
        .cloned();
    let job_labels_empty = obj
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .is_none_or(|l| l.is_empty());
    if let (Some(labels), true) = (template_labels, job_labels_empty)
        && let Some(meta) = obj_entry(obj, "metadata")
    {
        meta.insert("labels".to_string(), Value::Object(labels));
    }
}

pub(crate) fn cron_job(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec").filter(|s| s.is_object()) else {
        return;
    };
    default_str(spec, "concurrencyPolicy", "Allow");
    default(spec, "suspend", json!(false));
    default(spec, "successfulJobsHistoryLimit", json!(3));
    default(spec, "failedJobsHistoryLimit", json!(1));
    if let Some(jt) = spec.get_mut("jobTemplate").filter(|j| j.is_object()) {
        template_metadata(jt);
        // The job template gets pod template defaults only: job defaults apply when the job is created.
        if let Some(js) = jt.get_mut("spec") {
            spec_template(js);
        }
    }
}

pub(crate) fn replication_controller(obj: &mut Value) {
    let template_labels = obj
        .pointer("/spec/template/metadata/labels")
        .and_then(Value::as_object)
        .filter(|l| !l.is_empty())
        .cloned();
    if let Some(labels) = template_labels {
        if let Some(spec) = obj.get_mut("spec")
            && spec
                .get("selector")
                .and_then(Value::as_object)
                .is_none_or(|s| s.is_empty())
            && let Some(m) = spec.as_object_mut()
        {
            m.insert("selector".to_string(), Value::Object(labels.clone()));
        }
        let empty = obj
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .is_none_or(|l| l.is_empty());
        if empty && let Some(meta) = obj_entry(obj, "metadata") {
            meta.insert("labels".to_string(), Value::Object(labels));
        }
    }
    let Some(spec) = obj.get_mut("spec").filter(|s| s.is_object()) else {
        return;
    };
    default(spec, "replicas", json!(1));
    spec_template(spec);
}

pub(crate) fn pod_template(obj: &mut Value) {
    if let Some(t) = obj.get_mut("template") {
        template_metadata(t);
        template(t);
    }
}
