//! The Job controller: completions, parallelism, backoff, deadlines, indexed jobs, finalizer tracking and TTL.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::batch::v1::{Job, JobCondition, JobStatus};
use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, ObjectFieldSelector, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, PropagationPolicy};
use serde_json::json;
use tokio::time::Instant;

use crate::context::{Ctx, Error};
use crate::events::{EventType, object_reference};
use crate::pods;
use crate::queue;
use crate::replicaset::{error_message, ignore_not_found};

/// Finalizer that keeps a finished pod until the Job has counted it.
pub const TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";
/// Annotation and label with an indexed Job pod's completion index.
pub const COMPLETION_INDEX: &str = "batch.kubernetes.io/job-completion-index";
/// First pod-recreation delay after a failure; doubles per failure.
pub const BACKOFF_BASE: Duration = Duration::from_secs(10);
/// Longest pod-recreation delay.
pub const BACKOFF_MAX: Duration = Duration::from_secs(360);

/// Delay before creating pods again after `failures` failed pods (10 s, 20 s, ... up to 6 min).
pub fn backoff_delay(failures: i32) -> Duration {
    if failures <= 0 {
        return Duration::ZERO;
    }
    let exp = (failures - 1).min(16) as u32;
    BACKOFF_BASE.saturating_mul(1u32 << exp).min(BACKOFF_MAX)
}

/// Parses `status.completedIndexes` ("1,3-5") into a set.
pub fn parse_indexes(s: &str) -> BTreeSet<i32> {
    let mut out = BTreeSet::new();
    for part in s.split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<i32>(), b.parse::<i32>()) {
                    out.extend(a..=b);
                }
            }
            None => {
                if let Ok(v) = part.parse() {
                    out.insert(v);
                }
            }
        }
    }
    out
}

/// Formats a set of indexes as Kubernetes does: ascending, runs collapsed to "a-b".
pub fn format_indexes(set: &BTreeSet<i32>) -> String {
    let mut parts = Vec::new();
    let mut it = set.iter().copied().peekable();
    while let Some(start) = it.next() {
        let mut end = start;
        while it.peek() == Some(&(end + 1)) {
            end += 1;
            it.next();
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
    }
    parts.join(",")
}

fn index_of(p: &Pod) -> Option<i32> {
    p.metadata
        .annotations
        .as_ref()?
        .get(COMPLETION_INDEX)?
        .parse()
        .ok()
}

fn finished_condition(st: &JobStatus) -> Option<&JobCondition> {
    st.conditions
        .iter()
        .flatten()
        .find(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
}

fn condition(type_: &str, reason: &str, message: &str, now: jiff::Timestamp) -> JobCondition {
    JobCondition {
        type_: type_.into(),
        status: "True".into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_probe_time: Some(Time(now)),
        last_transition_time: Some(Time(now)),
    }
}

fn progress(st: &JobStatus) -> (usize, i32) {
    (
        st.conditions.as_ref().map_or(0, Vec::len),
        st.succeeded.unwrap_or(0) + st.failed.unwrap_or(0),
    )
}

#[derive(Debug, Default)]
struct JobMemory {
    counted: std::collections::HashSet<String>,
    status: Option<JobStatus>,
    failures: Option<(i32, Instant)>,
}

/// What the Job controller remembers between reconciles: pods already counted, the
/// last status written, and when the latest failure was seen (for backoff on
/// tokio's clock).
#[derive(Debug, Default, Clone)]
pub(crate) struct JobState(Arc<Mutex<HashMap<String, JobMemory>>>);

impl JobState {
    fn with<T>(&self, key: &str, f: impl FnOnce(&mut JobMemory) -> T) -> T {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(m.entry(key.to_string()).or_default())
    }

    fn counted(&self, key: &str, uid: &str) -> bool {
        self.with(key, |m| m.counted.contains(uid))
    }

    fn record(&self, key: &str, st: &JobStatus, uids: Vec<String>) {
        self.with(key, |m| {
            m.counted.extend(uids);
            m.status = Some(st.clone());
        });
    }

    fn status(&self, key: &str) -> Option<JobStatus> {
        self.with(key, |m| m.status.clone())
    }

    fn remember_status(&self, key: &str, st: &JobStatus) {
        self.with(key, |m| m.status = Some(st.clone()));
    }

    /// When the latest failure of `key` was first seen.
    fn last_failure(&self, key: &str, failed: i32) -> Instant {
        self.with(key, |m| match m.failures {
            Some((n, at)) if n == failed => at,
            _ => {
                let at = Instant::now();
                m.failures = Some((failed, at));
                at
            }
        })
    }

    fn forget(&self, key: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

/// Reconciles the Job `key`.
pub(crate) async fn reconcile(ctx: Arc<Ctx>, key: String) -> Result<Option<Duration>, Error> {
    let (ns, name) = queue::split_key(&key);
    let Some(job) = ctx.jobs.find(ns, name) else {
        ctx.job_state.forget(&key);
        return Ok(None);
    };
    let now = ctx.clock.now();
    let api: Api<Job> = Api::namespaced(ctx.client.clone(), ns);
    let pod_api: Api<Pod> = Api::namespaced(ctx.client.clone(), ns);
    let spec = job.spec.clone().unwrap_or_default();
    let mut st = job.status.clone().unwrap_or_default();
    let uid = job.metadata.uid.clone().unwrap_or_default();
    let jref = object_reference(job.as_ref());
    let owned: Vec<Arc<Pod>> = ctx.pods.controlled_by(ns, &uid);

    // The cache may not yet show our last status write; counts only grow, so the
    // larger of the two is the truth.
    if let Some(mine) = ctx.job_state.status(&key)
        && progress(&mine) > progress(&st)
    {
        st = mine;
    }
    // Count finished pods that still carry our finalizer: first in the status, then
    // by dropping the finalizer, so a stale cache never counts a pod twice.
    let has_fin = |p: &Pod| {
        p.metadata
            .finalizers
            .iter()
            .flatten()
            .any(|f| f == TRACKING_FINALIZER)
    };
    let indexed = spec.completion_mode.as_deref() == Some("Indexed");
    let mut completed: BTreeSet<i32> = parse_indexes(st.completed_indexes.as_deref().unwrap_or(""));
    let mut to_release: Vec<&Arc<Pod>> = Vec::new();
    let mut newly = Vec::new();
    for p in &owned {
        if !has_fin(p) {
            continue;
        }
        let pod_uid = p.metadata.uid.clone().unwrap_or_default();
        let outcome = match pods::phase(p) {
            "Succeeded" => Some(true),
            "Failed" => Some(false),
            // A pod deleted before it finished counts as failed.
            _ if p.metadata.deletion_timestamp.is_some() => Some(false),
            _ => None,
        };
        let Some(ok) = outcome else { continue };
        to_release.push(p);
        if ctx.job_state.counted(&key, &pod_uid) {
            continue;
        }
        newly.push(pod_uid);
        if ok {
            st.succeeded = Some(st.succeeded.unwrap_or(0) + 1);
            if indexed && let Some(i) = index_of(p) {
                completed.insert(i);
            }
        } else {
            st.failed = Some(st.failed.unwrap_or(0) + 1);
        }
    }
    if indexed {
        st.completed_indexes = Some(format_indexes(&completed));
        st.succeeded = Some(completed.len() as i32);
    }
    if !newly.is_empty() {
        let patch = json!({"status": {"succeeded": st.succeeded, "failed": st.failed, "completedIndexes": st.completed_indexes}});
        ignore_not_found(
            api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await,
        )?;
        ctx.job_state.record(&key, &st, newly);
    }
    for p in to_release {
        let keep: Vec<String> = p
            .metadata
            .finalizers
            .iter()
            .flatten()
            .filter(|f| *f != TRACKING_FINALIZER)
            .cloned()
            .collect();
        let patch = json!({"metadata": {"finalizers": keep}});
        let pn = p.metadata.name.clone().unwrap_or_default();
        ignore_not_found(
            pod_api
                .patch(&pn, &PatchParams::default(), &Patch::Merge(&patch))
                .await,
        )?;
    }

    let active: Vec<&Arc<Pod>> = owned.iter().filter(|p| pods::is_active(p)).collect();
    let mut requeue = None;
    if let Some(c) = finished_condition(&st).cloned() {
        // Finished: only the TTL remains.
        if let Some(ttl) = spec.ttl_seconds_after_finished {
            let finished = st
                .completion_time
                .clone()
                .or(c.last_transition_time)
                .map(|t| t.0)
                .unwrap_or(now);
            let at = finished + jiff::SignedDuration::from_secs(i64::from(ttl));
            if at <= now {
                let dp = DeleteParams {
                    propagation_policy: Some(PropagationPolicy::Background),
                    ..Default::default()
                };
                ignore_not_found(api.delete(name, &dp).await)?;
                return Ok(None);
            }
            requeue = Duration::try_from(at.duration_since(now)).ok();
        }
        write_status(&ctx, &key, &api, name, &job, st, &owned).await?;
        return Ok(requeue);
    }

    if st.start_time.is_none() && !spec.suspend.unwrap_or(false) {
        st.start_time = Some(Time(now));
    }
    let backoff_limit = spec.backoff_limit.unwrap_or(6);
    let failed = st.failed.unwrap_or(0);
    let parallelism = spec.parallelism.unwrap_or(1).max(0);
    let completions = spec.completions;
    let succeeded = st.succeeded.unwrap_or(0);
    let deadline_exceeded = spec
        .active_deadline_seconds
        .zip(st.start_time.as_ref())
        .is_some_and(|(ads, start)| start.0 + jiff::SignedDuration::from_secs(ads) <= now);
    let failure = if failed > backoff_limit {
        Some((
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit",
        ))
    } else if deadline_exceeded {
        Some((
            "DeadlineExceeded",
            "Job was active longer than specified deadline",
        ))
    } else {
        None
    };
    let complete = match completions {
        Some(c) if indexed => (0..c).all(|i| completed.contains(&i)),
        Some(c) => succeeded >= c,
        None => succeeded > 0 && active.is_empty(),
    };
    if let Some((reason, message)) = failure {
        delete_pods(&pod_api, &active).await?;
        let conds = st.conditions.get_or_insert_with(Vec::new);
        conds.push(condition("FailureTarget", reason, message, now));
        conds.push(condition("Failed", reason, message, now));
        ctx.job_events
            .record(&jref, EventType::Warning, reason, message)
            .await;
        write_status(&ctx, &key, &api, name, &job, st, &owned).await?;
        return Ok(None);
    }
    if complete {
        let conds = st.conditions.get_or_insert_with(Vec::new);
        conds.push(condition(
            "SuccessCriteriaMet",
            "CompletionsReached",
            "Reached expected number of succeeded pods",
            now,
        ));
        conds.push(condition(
            "Complete",
            "CompletionsReached",
            "Reached expected number of succeeded pods",
            now,
        ));
        st.completion_time = Some(Time(now));
        ctx.job_events
            .record(&jref, EventType::Normal, "Completed", "Job completed")
            .await;
        write_status(&ctx, &key, &api, name, &job, st, &owned).await?;
        return Ok(spec
            .ttl_seconds_after_finished
            .map(|t| Duration::from_secs(t.max(0) as u64)));
    }

    // How many pods should run now.
    let want_active = if spec.suspend.unwrap_or(false) {
        0
    } else {
        match completions {
            Some(c) if indexed => parallelism.min(c - completed.len() as i32),
            Some(c) => parallelism.min(c - succeeded),
            None if succeeded > 0 => 0,
            None => parallelism,
        }
        .max(0)
    };
    let active_n = active.len() as i32;
    if active_n > want_active {
        let mut victims: Vec<&Arc<Pod>> = active.clone();
        victims.sort_by(|a, b| pods::deletion_order(a, b));
        victims.truncate((active_n - want_active) as usize);
        delete_pods(&pod_api, &victims).await?;
    } else if active_n < want_active {
        let wait = backoff_delay(failed)
            .saturating_sub(ctx.job_state.last_failure(&key, failed).elapsed());
        if failed > 0 && !wait.is_zero() {
            requeue = Some(wait);
        } else {
            let template = spec.template.clone();
            let running: BTreeSet<i32> = active.iter().filter_map(|p| index_of(p)).collect();
            let mut free = (0..completions.unwrap_or(0))
                .filter(|i| !completed.contains(i) && !running.contains(i));
            for _ in 0..(want_active - active_n) {
                let mut pod = pods::pod_from_template(
                    &template,
                    ns,
                    Some(format!("{name}-")),
                    None,
                    pods::new_controller_ref(job.as_ref()),
                );
                pod.metadata
                    .finalizers
                    .get_or_insert_with(Vec::new)
                    .push(TRACKING_FINALIZER.into());
                if indexed {
                    let Some(i) = free.next() else { break };
                    index_pod(&mut pod, name, i);
                }
                match pod_api.create(&PostParams::default(), &pod).await {
                    Ok(p) => {
                        let pn = p.metadata.name.unwrap_or_default();
                        ctx.job_events
                            .record(
                                &jref,
                                EventType::Normal,
                                "SuccessfulCreate",
                                &format!("Created pod: {pn}"),
                            )
                            .await;
                    }
                    Err(e) => {
                        ctx.job_events
                            .record(
                                &jref,
                                EventType::Warning,
                                "FailedCreate",
                                &format!("Error creating: {}", error_message(&e)),
                            )
                            .await;
                        return Err(e.into());
                    }
                }
            }
        }
    }
    if let Some(ads) = spec.active_deadline_seconds
        && let Some(start) = &st.start_time
    {
        let at = start.0 + jiff::SignedDuration::from_secs(ads);
        let left = Duration::try_from(at.duration_since(now))
            .unwrap_or_default()
            .max(Duration::from_millis(100));
        requeue = Some(requeue.map_or(left, |r: Duration| r.min(left)));
    }
    write_status(&ctx, &key, &api, name, &job, st, &owned).await?;
    Ok(requeue)
}

fn index_pod(pod: &mut Pod, job: &str, i: i32) {
    pod.metadata.generate_name = Some(format!("{job}-{i}-"));
    pod.metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(COMPLETION_INDEX.into(), i.to_string());
    pod.metadata
        .labels
        .get_or_insert_with(Default::default)
        .insert(COMPLETION_INDEX.into(), i.to_string());
    if let Some(spec) = pod.spec.as_mut() {
        if spec.hostname.is_none() {
            spec.hostname = Some(format!("{job}-{i}"));
        }
        for c in spec
            .containers
            .iter_mut()
            .chain(spec.init_containers.iter_mut().flatten())
        {
            c.env.get_or_insert_with(Vec::new).push(EnvVar {
                name: "JOB_COMPLETION_INDEX".into(),
                value: None,
                value_from: Some(EnvVarSource {
                    field_ref: Some(ObjectFieldSelector {
                        api_version: None,
                        field_path: format!("metadata.labels['{COMPLETION_INDEX}']"),
                    }),
                    ..Default::default()
                }),
            });
        }
    }
}

async fn delete_pods(api: &Api<Pod>, victims: &[&Arc<Pod>]) -> Result<(), Error> {
    for p in victims {
        let n = p.metadata.name.clone().unwrap_or_default();
        ignore_not_found(api.delete(&n, &DeleteParams::default()).await)?;
    }
    Ok(())
}

async fn write_status(
    ctx: &Ctx,
    key: &str,
    api: &Api<Job>,
    name: &str,
    job: &Job,
    mut st: JobStatus,
    owned: &[Arc<Pod>],
) -> Result<(), Error> {
    let live: Vec<&Arc<Pod>> = owned.iter().filter(|p| pods::is_active(p)).collect();
    st.active = Some(live.len() as i32);
    st.ready = Some(live.iter().filter(|p| pods::is_ready(p)).count() as i32);
    st.terminating = Some(
        owned
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_some())
            .count() as i32,
    );
    if job.status.as_ref() != Some(&st) {
        let patch = json!({"status": st});
        ignore_not_found(
            api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await,
        )?;
        ctx.job_state.remember_status(key, &st);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_ten_seconds_to_six_minutes() {
        assert_eq!(backoff_delay(0), Duration::ZERO);
        assert_eq!(backoff_delay(1), Duration::from_secs(10));
        assert_eq!(backoff_delay(2), Duration::from_secs(20));
        assert_eq!(backoff_delay(4), Duration::from_secs(80));
        assert_eq!(backoff_delay(6), Duration::from_secs(320));
        assert_eq!(backoff_delay(7), BACKOFF_MAX);
        assert_eq!(backoff_delay(100), BACKOFF_MAX);
    }

    #[test]
    fn completed_indexes_round_trip() {
        let s = parse_indexes("0,2-4,7");
        assert_eq!(s.iter().copied().collect::<Vec<_>>(), [0, 2, 3, 4, 7]);
        assert_eq!(format_indexes(&s), "0,2-4,7");
        assert_eq!(format_indexes(&BTreeSet::new()), "");
        assert_eq!(format_indexes(&[5].into()), "5");
    }

    #[test]
    fn indexed_pods_get_index_name_and_env() {
        let mut pod = Pod {
            spec: Some(k8s_openapi::api::core::v1::PodSpec {
                containers: vec![Default::default()],
                ..Default::default()
            }),
            ..Default::default()
        };
        index_pod(&mut pod, "work", 3);
        assert_eq!(pod.metadata.generate_name.as_deref(), Some("work-3-"));
        assert_eq!(index_of(&pod), Some(3));
        let spec = pod.spec.unwrap();
        assert_eq!(spec.hostname.as_deref(), Some("work-3"));
        assert_eq!(
            spec.containers[0].env.as_ref().unwrap()[0].name,
            "JOB_COMPLETION_INDEX"
        );
    }
}
