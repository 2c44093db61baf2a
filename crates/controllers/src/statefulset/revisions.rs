//! ControllerRevisions of a StatefulSet: the saved template patches, their names and numbers, and which to prune.
//!
//! A revision's data is the strategic merge patch
//! `{"spec":{"template":{…,"$patch":"replace"}}}` that `kubectl rollout undo`
//! applies to restore the template. Names are `<set>-<hash>` where the hash is
//! Kubernetes' HashControllerRevision: FNV-1 (32 bit) over the JSON data (keys
//! sorted, as Go's encoder writes maps) and the decimal collision count, encoded
//! with SafeEncodeString.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use serde_json::{Value, json};

use crate::deployment::hash::safe_encode_string;
use crate::pods;

/// Label holding the revision's hash, as Kubernetes' history package sets it.
pub const HASH_LABEL: &str = "controller.kubernetes.io/hash";

/// Longest prefix Kubernetes keeps in front of the hash in a revision name.
const MAX_PREFIX: usize = 223;

fn fnv1_32(bytes: &[u8], mut hash: u32) -> u32 {
    for b in bytes {
        hash = hash.wrapping_mul(16_777_619);
        hash ^= u32::from(*b);
    }
    hash
}

const FNV32_OFFSET: u32 = 2_166_136_261;

fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<_> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Kubernetes' HashControllerRevision over `data` and the collision count.
pub fn hash_revision(data: &Value, collision_count: Option<i32>) -> String {
    let mut h = fnv1_32(sorted(data).to_string().as_bytes(), FNV32_OFFSET);
    if let Some(c) = collision_count {
        h = fnv1_32(c.to_string().as_bytes(), h);
    }
    safe_encode_string(&h.to_string())
}

/// `<prefix>-<hash>`, the prefix cut to 223 characters as Kubernetes does.
pub fn revision_name(prefix: &str, hash: &str) -> String {
    let prefix = match prefix.char_indices().nth(MAX_PREFIX) {
        Some((i, _)) => &prefix[..i],
        None => prefix,
    };
    format!("{prefix}-{hash}")
}

/// The patch that restores the set's current template.
pub fn patch_for(set: &StatefulSet) -> Value {
    let template = set
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let mut t = serde_json::to_value(template).unwrap_or_else(|_| json!({}));
    if let Some(m) = t.as_object_mut() {
        m.insert("$patch".into(), json!("replace"));
    } else {
        t = json!({"$patch": "replace"});
    }
    json!({"spec": {"template": t}})
}

/// The revision number `set` would get now: one past the highest in `sorted_revs`.
pub fn next_revision(sorted_revs: &[Arc<ControllerRevision>]) -> i64 {
    sorted_revs.last().map_or(1, |r| r.revision + 1)
}

/// A new revision of `set` numbered `revision` (Kubernetes' newRevision): the
/// template's labels, the set's annotations, a controller reference and the
/// patch as data.
pub fn new_revision(set: &StatefulSet, revision: i64, collision_count: i32) -> ControllerRevision {
    let data = patch_for(set);
    let hash = hash_revision(&data, Some(collision_count));
    let mut labels = set
        .spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    labels.insert(HASH_LABEL.into(), hash.clone());
    let annotations: BTreeMap<String, String> =
        set.metadata.annotations.clone().unwrap_or_default();
    ControllerRevision {
        metadata: ObjectMeta {
            name: Some(revision_name(
                set.metadata.name.as_deref().unwrap_or_default(),
                &hash,
            )),
            namespace: set.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: Some(annotations),
            owner_references: Some(vec![pods::new_controller_ref(set)]),
            ..Default::default()
        },
        data: Some(RawExtension(data)),
        revision,
    }
}

/// Kubernetes' SortControllerRevisions: by number, then age, then name.
pub fn sort(revs: &mut [Arc<ControllerRevision>]) {
    revs.sort_by(|a, b| {
        a.revision
            .cmp(&b.revision)
            .then_with(|| {
                let t =
                    |r: &ControllerRevision| r.metadata.creation_timestamp.as_ref().map(|t| t.0);
                match (t(a), t(b)) {
                    (Some(x), Some(y)) => x.cmp(&y),
                    _ => Ordering::Equal,
                }
            })
            .then_with(|| a.metadata.name.cmp(&b.metadata.name))
    });
}

/// Whether two revisions hold the same data (Kubernetes' EqualRevision; the data
/// is compared as JSON, so a server that reformats it still compares equal).
pub fn equal(a: &ControllerRevision, b: &ControllerRevision) -> bool {
    a.data.as_ref().map(|d| &d.0) == b.data.as_ref().map(|d| &d.0)
}

/// The pod template a revision restores (Kubernetes' ApplyRevision, which for a
/// StatefulSet only replaces `spec.template`).
pub fn template_of(rev: &ControllerRevision) -> Option<PodTemplateSpec> {
    let mut t = rev.data.as_ref()?.0.pointer("/spec/template")?.clone();
    t.as_object_mut()?.remove("$patch");
    serde_json::from_value(t).ok()
}

/// What to do about the update revision, given the revisions sorted.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateRevision {
    /// The newest revision already holds the template: use it.
    Latest(Arc<ControllerRevision>),
    /// An older revision holds it (a rollback): renumber it to `revision`.
    Renumber(Arc<ControllerRevision>, i64),
    /// No revision holds it: create this one.
    Create(Box<ControllerRevision>),
}

/// Kubernetes' getStatefulSetRevisions decision for `set` over `sorted_revs`.
pub fn update_revision(
    set: &StatefulSet,
    sorted_revs: &[Arc<ControllerRevision>],
    collision_count: i32,
) -> UpdateRevision {
    let candidate = new_revision(set, next_revision(sorted_revs), collision_count);
    let last_equal = sorted_revs.iter().rev().find(|r| equal(r, &candidate));
    match (last_equal, sorted_revs.last()) {
        (Some(e), Some(last)) if equal(last, e) => UpdateRevision::Latest(last.clone()),
        (Some(e), _) => UpdateRevision::Renumber(e.clone(), candidate.revision),
        (None, _) => UpdateRevision::Create(Box::new(candidate)),
    }
}

/// The revisions to delete so that at most `revisionHistoryLimit` revisions that
/// no pod, nor the current or update revision, uses remain; oldest first.
pub fn to_prune(
    set: &StatefulSet,
    pods: &[Arc<Pod>],
    sorted_revs: &[Arc<ControllerRevision>],
    current: &str,
    update: &str,
) -> Vec<String> {
    let limit = set
        .spec
        .as_ref()
        .and_then(|s| s.revision_history_limit)
        .unwrap_or(10);
    let mut live: HashSet<&str> = HashSet::from([current, update]);
    live.extend(pods.iter().map(|p| super::pod_revision(p)));
    let history: Vec<&str> = sorted_revs
        .iter()
        .filter_map(|r| r.metadata.name.as_deref())
        .filter(|n| !live.contains(n))
        .collect();
    let Ok(limit) = usize::try_from(limit) else {
        return Vec::new();
    };
    if history.len() <= limit {
        return Vec::new();
    }
    history[..history.len() - limit]
        .iter()
        .map(|s| s.to_string())
        .collect()
}
