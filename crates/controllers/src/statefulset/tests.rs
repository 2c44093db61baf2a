//! Unit tests of StatefulSet planning, claims, revisions and status over hand-built snapshots.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::json;

use super::plan::{Action, DeleteReason, Plan, Snapshot, plan};
use super::revisions::{self, UpdateRevision};
use super::*;

fn at(s: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(s).unwrap()
}

fn set(extra: serde_json::Value) -> StatefulSet {
    let mut v = json!({
        "metadata": {"name": "web", "namespace": "ns", "uid": "set-uid", "generation": 2},
        "spec": {
            "replicas": 3,
            "serviceName": "web-svc",
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "img:1"}]}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "podManagementPolicy": "OrderedReady",
            "revisionHistoryLimit": 10
        }
    });
    merge(&mut v, extra);
    serde_json::from_value(v).unwrap()
}

fn merge(a: &mut serde_json::Value, b: serde_json::Value) {
    match (a, b) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (a, b) => *a = b,
    }
}

/// A pod of `web` at `rev` in `phase`, ready since t=100 when `ready`.
fn pod(s: &StatefulSet, ord: i64, rev: &str, phase: &str, ready: bool) -> Arc<Pod> {
    let template = s.spec.as_ref().unwrap().template.clone();
    let mut p = new_pod(s, &template, ord, rev);
    p.metadata.uid = Some(format!("pod-uid-{ord}"));
    p.status = Some(
        serde_json::from_value(json!({
            "phase": phase,
            "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}, "lastTransitionTime": "1970-01-01T00:01:40Z"}]
        }))
        .unwrap(),
    );
    Arc::new(p)
}

fn terminating(p: Arc<Pod>) -> Arc<Pod> {
    let mut p = (*p).clone();
    p.metadata.deletion_timestamp = Some(Time(at(50)));
    Arc::new(p)
}

struct Fixture {
    set: StatefulSet,
    pods: Vec<Arc<Pod>>,
    claims: BTreeMap<String, Arc<PersistentVolumeClaim>>,
    update_template: PodTemplateSpec,
    now: jiff::Timestamp,
}

impl Fixture {
    fn new(set: StatefulSet, pods: Vec<Arc<Pod>>) -> Self {
        let update_template = set.spec.as_ref().unwrap().template.clone();
        Fixture {
            set,
            pods,
            claims: BTreeMap::new(),
            update_template,
            now: at(1000),
        }
    }

    fn plan(&self) -> Plan {
        let current = self.set.spec.as_ref().unwrap().template.clone();
        plan(&Snapshot {
            set: &self.set,
            pods: &self.pods,
            claims: &self.claims,
            current: ("web-a", &current),
            update: ("web-b", &self.update_template),
            collision_count: 0,
            now: self.now,
        })
    }
}

fn created(p: &Plan) -> Vec<String> {
    p.actions
        .iter()
        .filter_map(|a| match a {
            Action::CreatePod { pod, .. } => pod.metadata.name.clone(),
            _ => None,
        })
        .collect()
}

fn deleted(p: &Plan) -> Vec<(String, DeleteReason)> {
    p.actions
        .iter()
        .filter_map(|a| match a {
            Action::DeletePod { name, reason, .. } => Some((name.clone(), *reason)),
            _ => None,
        })
        .collect()
}

#[test]
fn ordinals_parse_like_kubernetes() {
    assert_eq!(parent_and_ordinal("web-0"), (Some("web"), 0));
    assert_eq!(parent_and_ordinal("my-web-12"), (Some("my-web"), 12));
    assert_eq!(parent_and_ordinal("web"), (None, -1));
    assert_eq!(parent_and_ordinal("web-"), (None, -1));
    assert_eq!(parent_and_ordinal("web-x1"), (None, -1));
    assert_eq!(parent_and_ordinal("web-99999999999"), (Some("web"), -1));
}

#[test]
fn ordered_ready_creates_one_at_a_time() {
    let s = set(json!({}));
    let p = Fixture::new(s.clone(), vec![]).plan();
    assert_eq!(created(&p), ["web-0"]);
    let Action::CreatePod { pod: first, .. } = &p.actions[0] else {
        panic!()
    };
    let labels = first.metadata.labels.clone().unwrap();
    assert_eq!(labels[REVISION_LABEL], "web-b");
    assert_eq!(labels[POD_NAME_LABEL], "web-0");
    assert_eq!(labels[POD_INDEX_LABEL], "0");
    assert_eq!(labels["app"], "web");
    let spec = first.spec.as_ref().unwrap();
    assert_eq!(spec.hostname.as_deref(), Some("web-0"));
    assert_eq!(spec.subdomain.as_deref(), Some("web-svc"));
    let owner = pods::controller_ref(&first.metadata).unwrap();
    assert_eq!(
        (owner.kind.as_str(), owner.uid.as_str()),
        ("StatefulSet", "set-uid")
    );
    assert_eq!(p.status.replicas, 0);
    assert_eq!(p.status.observed_generation, Some(2));

    // web-0 running but not ready: nothing more.
    let p = Fixture::new(s.clone(), vec![pod(&s, 0, "web-b", "Running", false)]).plan();
    assert!(p.actions.is_empty(), "{:?}", p.actions);
    assert_eq!(p.status.replicas, 1);
    assert_eq!(p.status.ready_replicas, Some(0));

    // Ready: the next ordinal.
    let p = Fixture::new(s.clone(), vec![pod(&s, 0, "web-b", "Running", true)]).plan();
    assert_eq!(created(&p), ["web-1"]);
}

#[test]
fn parallel_creates_all_and_recreates_out_of_band_deletions() {
    let s = set(json!({"spec": {"podManagementPolicy": "Parallel"}}));
    let p = Fixture::new(s.clone(), vec![]).plan();
    assert_eq!(created(&p), ["web-0", "web-1", "web-2"]);
    // web-1 was deleted by hand while web-0 is not ready.
    let p = Fixture::new(
        s.clone(),
        vec![
            pod(&s, 0, "web-b", "Pending", false),
            pod(&s, 2, "web-b", "Running", true),
        ],
    )
    .plan();
    assert_eq!(created(&p), ["web-1"]);
}

#[test]
fn scale_down_takes_highest_ordinal_when_healthy() {
    let s = set(json!({"spec": {"replicas": 1}}));
    let all: Vec<_> = (0..3)
        .map(|i| pod(&s, i, "web-b", "Running", true))
        .collect();
    let p = Fixture::new(s.clone(), all.clone()).plan();
    assert_eq!(
        deleted(&p),
        [("web-2".to_string(), DeleteReason::ScaleDown)]
    );
    assert_eq!(p.status.replicas, 3);

    // The highest is terminating: wait for it before touching web-1.
    let mut pods = all.clone();
    pods[2] = terminating(pods[2].clone());
    assert!(deleted(&Fixture::new(s.clone(), pods).plan()).is_empty());

    // A replica that stays is unhealthy: no scale down at all.
    let mut pods = all.clone();
    pods[0] = pod(&s, 0, "web-b", "Running", false);
    assert!(deleted(&Fixture::new(s.clone(), pods).plan()).is_empty());

    // Parallel removes every condemned pod at once.
    let par = set(json!({"spec": {"replicas": 1, "podManagementPolicy": "Parallel"}}));
    let p = Fixture::new(par.clone(), all).plan();
    assert_eq!(
        deleted(&p).into_iter().map(|d| d.0).collect::<Vec<_>>(),
        ["web-2", "web-1"]
    );
}

#[test]
fn failed_pods_are_deleted_for_recreation() {
    let s = set(json!({}));
    let pods = vec![
        pod(&s, 0, "web-b", "Running", true),
        pod(&s, 1, "web-b", "Failed", false),
    ];
    let p = Fixture::new(s.clone(), pods).plan();
    assert_eq!(deleted(&p), [("web-1".to_string(), DeleteReason::Finished)]);
    assert!(
        created(&p).is_empty(),
        "recreated on the next sync, once gone"
    );
}

#[test]
fn rolling_update_respects_partition_and_order() {
    let mut s = set(json!({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 1}}}}));
    let old: Vec<_> = (0..3)
        .map(|i| pod(&s, i, "web-a", "Running", true))
        .collect();
    let mut f = Fixture::new(s.clone(), old.clone());
    f.update_template.spec.as_mut().unwrap().containers[0].image = Some("img:2".into());
    let p = f.plan();
    assert_eq!(deleted(&p), [("web-2".to_string(), DeleteReason::Update)]);
    assert_eq!(p.status.current_replicas, Some(2));
    assert_eq!(p.status.current_revision.as_deref(), Some("web-a"));

    // web-2 is back at the update revision but not ready: wait.
    f.pods[2] = pod(&s, 2, "web-b", "Running", false);
    assert!(deleted(&f.plan()).is_empty());
    // Ready: next is web-1; web-0 stays below the partition.
    f.pods[2] = pod(&s, 2, "web-b", "Running", true);
    assert_eq!(
        deleted(&f.plan()),
        [("web-1".to_string(), DeleteReason::Update)]
    );
    f.pods[1] = pod(&s, 1, "web-b", "Running", true);
    let p = f.plan();
    assert!(deleted(&p).is_empty());
    assert_eq!(p.status.updated_replicas, Some(2));
    assert_eq!(p.status.current_revision.as_deref(), Some("web-a"));

    // A replica below the partition that goes missing comes back at the current revision.
    f.pods.remove(0);
    let p = f.plan();
    let Action::CreatePod { pod: created, .. } = &p.actions[0] else {
        panic!("{:?}", p.actions)
    };
    assert_eq!(pod_revision(created), "web-a");

    // Partition 0 finishes the rollout and the status completes it.
    s.spec.as_mut().unwrap().update_strategy = None;
    let mut f = Fixture::new(
        s.clone(),
        (0..3)
            .map(|i| pod(&s, i, "web-b", "Running", true))
            .collect(),
    );
    f.set = s;
    let p = f.plan();
    assert!(p.actions.is_empty());
    assert_eq!(p.status.current_revision.as_deref(), Some("web-b"));
    assert_eq!(p.status.current_replicas, Some(3));
}

#[test]
fn on_delete_never_deletes_for_updates() {
    let s = set(json!({"spec": {"updateStrategy": {"type": "OnDelete", "rollingUpdate": null}}}));
    let old: Vec<_> = (0..3)
        .map(|i| pod(&s, i, "web-a", "Running", true))
        .collect();
    let p = Fixture::new(s, old).plan();
    assert!(p.actions.is_empty());
    assert_eq!(p.status.updated_replicas, Some(0));
    assert_eq!(p.status.current_replicas, Some(3));
}

#[test]
fn max_unavailable_deletes_several() {
    let s = set(
        json!({"spec": {"replicas": 4, "podManagementPolicy": "Parallel",
        "updateStrategy": {"rollingUpdate": {"partition": 0, "maxUnavailable": 2}}}}),
    );
    let old: Vec<_> = (0..4)
        .map(|i| pod(&s, i, "web-a", "Running", true))
        .collect();
    let p = Fixture::new(s, old).plan();
    assert_eq!(
        deleted(&p).into_iter().map(|d| d.0).collect::<Vec<_>>(),
        ["web-3", "web-2"]
    );
}

#[test]
fn min_ready_seconds_gates_the_next_ordinal() {
    let s = set(json!({"spec": {"minReadySeconds": 30}}));
    let mut f = Fixture::new(s.clone(), vec![pod(&s, 0, "web-b", "Running", true)]);
    f.now = at(110);
    let p = f.plan();
    assert!(p.actions.is_empty());
    assert_eq!(p.status.available_replicas, Some(0));
    assert_eq!(p.requeue_after, Some(std::time::Duration::from_secs(20)));
    f.now = at(130);
    assert_eq!(created(&f.plan()), ["web-1"]);
}

#[test]
fn claims_are_named_labelled_and_mounted() {
    let s = set(json!({"spec": {"volumeClaimTemplates": [
        {"metadata": {"name": "data", "labels": {"tier": "db"}}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
    ], "template": {"spec": {"volumes": [{"name": "scratch", "emptyDir": {}}]}}}}));
    let p = Fixture::new(s.clone(), vec![]).plan();
    let Action::CreatePod { pod, claims, .. } = &p.actions[0] else {
        panic!()
    };
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].metadata.name.as_deref(), Some("data-web-0"));
    assert_eq!(claims[0].metadata.namespace.as_deref(), Some("ns"));
    let labels = claims[0].metadata.labels.clone().unwrap();
    assert_eq!(
        (labels["app"].as_str(), labels["tier"].as_str()),
        ("web", "db")
    );
    let vols = pod.spec.as_ref().unwrap().volumes.clone().unwrap();
    assert_eq!(vols[0].name, "data");
    assert_eq!(
        vols[0].persistent_volume_claim.as_ref().unwrap().claim_name,
        "data-web-0"
    );
    assert_eq!(vols[1].name, "scratch");
    assert!(storage_matches(&s, pod));

    // A claim already there (kept from an earlier scale down) is reused, not recreated.
    let mut f = Fixture::new(s.clone(), vec![]);
    let (_, existing) = claims_for(&s, 0).remove(0);
    f.claims.insert("data-web-0".into(), Arc::new(existing));
    let Action::CreatePod { claims, .. } = &f.plan().actions[0] else {
        panic!()
    };
    assert!(claims.is_empty());
}

fn claim_with_refs(
    s: &StatefulSet,
    ord: i64,
    refs: serde_json::Value,
) -> Arc<PersistentVolumeClaim> {
    let (_, mut c) = claims_for(s, ord).remove(0);
    c.metadata.uid = Some(format!("claim-{ord}"));
    c.metadata.owner_references = serde_json::from_value(refs).unwrap();
    Arc::new(c)
}

#[test]
fn retention_policy_sets_owner_references() {
    let tmpl = json!([{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}]);
    // whenScaled=Delete: a condemned pod's claim is handed to the pod before it goes.
    let s = set(json!({"spec": {"replicas": 1, "volumeClaimTemplates": tmpl,
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Delete"}}}));
    let pods: Vec<_> = (0..2)
        .map(|i| pod(&s, i, "web-b", "Running", true))
        .collect();
    let mut f = Fixture::new(s.clone(), pods);
    f.claims
        .insert("data-web-0".into(), claim_with_refs(&s, 0, json!(null)));
    f.claims
        .insert("data-web-1".into(), claim_with_refs(&s, 1, json!(null)));
    let p = f.plan();
    let fixes: Vec<_> = p
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::UpdateClaims(r) => Some(r.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(fixes.len(), 1);
    assert_eq!(fixes[0].name, "data-web-1");
    let r = &fixes[0].owner_references[0];
    assert_eq!(
        (r.kind.as_str(), r.name.as_str(), r.uid.as_str()),
        ("Pod", "web-1", "pod-uid-1")
    );
    assert_eq!(r.controller, Some(true));
    assert_eq!(
        deleted(&p),
        [("web-1".to_string(), DeleteReason::ScaleDown)]
    );

    // A claim still naming an earlier web-1 blocks creating the new web-1.
    let s2 = set(json!({"spec": {"replicas": 2, "volumeClaimTemplates": tmpl,
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Delete"}}}));
    let mut f = Fixture::new(s2.clone(), vec![pod(&s2, 0, "web-b", "Running", true)]);
    f.claims
        .insert("data-web-0".into(), claim_with_refs(&s2, 0, json!(null)));
    f.claims.insert(
        "data-web-1".into(),
        claim_with_refs(&s2, 1, json!([{"apiVersion": "v1", "kind": "Pod", "name": "web-1", "uid": "old", "controller": true}])),
    );
    assert!(f.plan().actions.is_empty());

    // whenDeleted=Delete: a live replica's claim gets the set as controller.
    let s3 = set(json!({"spec": {"replicas": 1, "volumeClaimTemplates": tmpl,
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Retain"}}}));
    let mut f = Fixture::new(s3.clone(), vec![pod(&s3, 0, "web-b", "Running", true)]);
    f.claims
        .insert("data-web-0".into(), claim_with_refs(&s3, 0, json!(null)));
    let p = f.plan();
    let Some(Action::UpdatePod {
        claim_refs, labels, ..
    }) = p.actions.first()
    else {
        panic!("{:?}", p.actions)
    };
    assert!(labels.is_none());
    assert_eq!(claim_refs[0].owner_references[0].uid, "set-uid");
    // Once set, it is up to date and nothing happens.
    let fixed = claim_with_refs(
        &s3,
        0,
        serde_json::to_value(&claim_refs[0].owner_references).unwrap(),
    );
    f.claims.insert("data-web-0".into(), fixed.clone());
    assert!(f.plan().actions.is_empty());
    // Back to Retain: the reference is removed again.
    let s4 = set(json!({"spec": {"replicas": 1, "volumeClaimTemplates": tmpl}}));
    assert!(!claims::owner_up_to_date(&s4, &f.pods[0], &fixed));
    assert!(claims::desired_refs(&s4, &f.pods[0], &fixed).is_empty());
}

fn rev(s: &StatefulSet, n: i64) -> Arc<ControllerRevision> {
    Arc::new(revisions::new_revision(s, n, 0))
}

#[test]
fn revisions_are_created_reused_and_renumbered() {
    let a = set(json!({}));
    let b = set(
        json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "img:2"}]}}}}),
    );
    let ra = rev(&a, 1);
    assert!(ra.metadata.name.as_deref().unwrap().starts_with("web-"));
    assert_eq!(
        ra.metadata.name,
        rev(&a, 7).metadata.name,
        "the name does not depend on the number"
    );
    assert_ne!(ra.metadata.name, rev(&b, 1).metadata.name);
    assert_ne!(
        ra.metadata.name,
        revisions::new_revision(&a, 1, 1).metadata.name,
        "collisions change the name"
    );
    assert_eq!(
        revisions::template_of(&ra),
        Some(a.spec.clone().unwrap().template)
    );
    assert_eq!(
        ra.data.as_ref().unwrap().0["spec"]["template"]["$patch"],
        "replace"
    );
    let ctrl = pods::controller_ref(&ra.metadata).unwrap();
    assert_eq!(ctrl.uid, "set-uid");

    let UpdateRevision::Create(c) = revisions::update_revision(&a, &[], 0) else {
        panic!("no revisions yet: create one")
    };
    assert_eq!(c.revision, 1);
    assert!(
        matches!(revisions::update_revision(&a, std::slice::from_ref(&ra), 0), UpdateRevision::Latest(r) if r == ra)
    );
    let rb = rev(&b, 2);
    match revisions::update_revision(&b, std::slice::from_ref(&ra), 0) {
        UpdateRevision::Create(c) => {
            assert_eq!((c.revision, c.metadata.name), (2, rb.metadata.name.clone()))
        }
        other => panic!("{other:?}"),
    }
    // Back to template a (rollout undo): revision 1 is renumbered 3.
    match revisions::update_revision(&a, &[ra.clone(), rb.clone()], 0) {
        UpdateRevision::Renumber(r, n) => assert_eq!((r, n), (ra.clone(), 3)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn history_is_pruned_oldest_first_sparing_live_revisions() {
    let s = set(json!({"spec": {"revisionHistoryLimit": 1}}));
    let revs: Vec<_> = (1..=5)
        .map(|n| {
            let mut r = (*rev(&s, n)).clone();
            r.metadata.name = Some(format!("web-r{n}"));
            Arc::new(r)
        })
        .collect();
    let pods = vec![pod(&s, 0, "web-r2", "Running", true)];
    let prune = revisions::to_prune(&s, &pods, &revs, "web-r4", "web-r5");
    // History (not live): r1, r3; keep the newest one.
    assert_eq!(prune, ["web-r1"]);
    let mut shuffled = vec![revs[3].clone(), revs[0].clone(), revs[2].clone()];
    revisions::sort(&mut shuffled);
    assert_eq!(
        shuffled.iter().map(|r| r.revision).collect::<Vec<_>>(),
        [1, 3, 4]
    );
}

#[test]
fn deleting_set_only_counts() {
    let mut s = set(json!({}));
    s.metadata.deletion_timestamp = Some(Time(at(1)));
    let p = Fixture::new(s.clone(), vec![pod(&s, 0, "web-b", "Running", true)]).plan();
    assert!(p.actions.is_empty());
    assert_eq!(p.status.replicas, 1);
}

#[test]
fn identity_labels_are_restored() {
    let s = set(json!({"spec": {"replicas": 1}}));
    let mut p0 = (*pod(&s, 0, "web-b", "Running", true)).clone();
    p0.metadata.labels.as_mut().unwrap().remove(POD_NAME_LABEL);
    let p = Fixture::new(s.clone(), vec![Arc::new(p0)]).plan();
    let Some(Action::UpdatePod {
        labels: Some(l), ..
    }) = p.actions.first()
    else {
        panic!("{:?}", p.actions)
    };
    assert_eq!(l[POD_NAME_LABEL], "web-0");
}
