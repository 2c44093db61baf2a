//! The CronJob controller: Jobs on schedule, with time zones, concurrency policy, missed-start handling and history limits.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, PropagationPolicy};
use kube::runtime::reflector::ObjectRef;
use serde_json::json;

use crate::context::{Ctx, Error};
use crate::cron::Schedule;
use crate::events::{EventType, object_reference};
use crate::pods;
use crate::queue;
use crate::replicaset::ignore_not_found;

/// Annotation with the scheduled time a Job was created for.
pub const SCHEDULED_TIMESTAMP: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";
/// More missed start times than this produce a TooManyMissedTimes warning.
pub const MAX_MISSED: usize = 100;

/// The schedule times to consider at `now`: how many were missed since
/// `earliest`, and the most recent one (None when none is due).
pub fn missed(
    schedule: &Schedule,
    tz: &TimeZone,
    earliest: Timestamp,
    now: Timestamp,
) -> (usize, Option<Timestamp>) {
    let mut count = 0;
    let mut last = None;
    let mut t = earliest;
    while let Some(next) = schedule.next_after(t, tz) {
        if next > now {
            break;
        }
        count += 1;
        last = Some(next);
        t = next;
        // Counting stops being useful past the warning threshold; jump to the end.
        if count > MAX_MISSED {
            let mut probe = next;
            while let Some(n) = schedule.next_after(probe, tz).filter(|n| *n <= now) {
                probe = n;
            }
            last = Some(probe);
            break;
        }
    }
    (count, last)
}

/// Kubernetes' Job name for a scheduled time: `<cronjob>-<minutes since the epoch>`.
pub fn job_name(cronjob: &str, scheduled: Timestamp) -> String {
    format!("{cronjob}-{}", scheduled.as_second().div_euclid(60))
}

/// Go's `time.RFC3339` rendering, which kube-controller-manager uses for the
/// scheduled-timestamp annotation: a zero offset is written `Z`, not `+00:00`.
pub fn rfc3339_in(at: Timestamp, tz: &TimeZone) -> String {
    let zoned = at.to_zoned(tz.clone());
    if zoned.offset() == jiff::tz::Offset::UTC {
        zoned.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        zoned.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
    }
}

/// Go's `time.RFC1123Z` rendering in UTC, which kube-controller-manager uses in the
/// `MissSchedule` event.
pub fn rfc1123z_utc(at: Timestamp) -> String {
    at.to_zoned(TimeZone::UTC)
        .strftime("%a, %d %b %Y %H:%M:%S %z")
        .to_string()
}

/// The finished Jobs that `previously_active` still lists, with the condition that
/// finished them: kube-controller-manager reports each once as `SawCompletedJob` when
/// it drops it from `status.active`.
pub fn newly_finished<'a>(
    previously_active: &[ObjectReference],
    jobs: &'a [Arc<Job>],
) -> Vec<(&'a str, &'a str)> {
    jobs.iter()
        .filter(|j| {
            previously_active
                .iter()
                .any(|r| r.uid.is_some() && r.uid == j.metadata.uid)
        })
        .filter_map(|j| Some((j.metadata.name.as_deref()?, finished(j)?)))
        .collect()
}

fn finished(job: &Job) -> Option<&str> {
    job.status
        .as_ref()?
        .conditions
        .iter()
        .flatten()
        .find(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
        .map(|c| c.type_.as_str())
}

/// Reconciles the CronJob `key`.
pub(crate) async fn reconcile(ctx: Arc<Ctx>, key: String) -> Result<Option<Duration>, Error> {
    let (ns, name) = queue::split_key(&key);
    let Some(cj) = ctx.cronjobs.get(&ObjectRef::new(name).within(ns)) else {
        return Ok(None);
    };
    let now = ctx.clock.now();
    let spec = cj.spec.clone();
    let uid = cj.metadata.uid.clone().unwrap_or_default();
    let cref = object_reference(cj.as_ref());
    let cj_api: Api<CronJob> = Api::namespaced(ctx.client.clone(), ns);
    let job_api: Api<Job> = Api::namespaced(ctx.client.clone(), ns);
    let mut jobs: Vec<Arc<Job>> = ctx.jobs.state_filter(|j| {
        j.metadata.namespace.as_deref() == Some(ns) && pods::is_controlled_by(&j.metadata, &uid)
    });
    jobs.sort_by_key(|j| j.metadata.creation_timestamp.as_ref().map(|t| t.0));

    let mut st = cj.status.clone().unwrap_or_default();
    let job_ref = |j: &Job| ObjectReference {
        api_version: Some("batch/v1".into()),
        kind: Some("Job".into()),
        name: j.metadata.name.clone(),
        namespace: j.metadata.namespace.clone(),
        uid: j.metadata.uid.clone(),
        resource_version: j.metadata.resource_version.clone(),
        field_path: None,
    };
    let active: Vec<&Arc<Job>> = jobs.iter().filter(|j| finished(j).is_none()).collect();
    for (jn, condition) in newly_finished(st.active.as_deref().unwrap_or_default(), &jobs) {
        ctx.cronjob_events
            .record(
                &cref,
                EventType::Normal,
                "SawCompletedJob",
                &format!("Saw completed job: {jn}, condition: {condition}"),
            )
            .await;
    }
    for j in jobs.iter().filter(|j| finished(j) == Some("Complete")) {
        let done = j.status.as_ref().and_then(|s| s.completion_time.clone());
        if done.is_some() && done > st.last_successful_time {
            st.last_successful_time = done;
        }
    }

    // History limits: the oldest finished Jobs beyond the limits go.
    for (kind, limit) in [
        ("Complete", spec.successful_jobs_history_limit.unwrap_or(3)),
        ("Failed", spec.failed_jobs_history_limit.unwrap_or(1)),
    ] {
        let mut done: Vec<&Arc<Job>> = jobs.iter().filter(|j| finished(j) == Some(kind)).collect();
        done.sort_by(|a, b| by_start_time(a, b));
        let excess = done.len().saturating_sub(limit.max(0) as usize);
        for j in &done[..excess] {
            let jn = j.metadata.name.clone().unwrap_or_default();
            let dp = DeleteParams {
                propagation_policy: Some(PropagationPolicy::Background),
                ..Default::default()
            };
            if ignore_not_found(job_api.delete(&jn, &dp).await)?.is_some() {
                ctx.cronjob_events
                    .record(
                        &cref,
                        EventType::Normal,
                        "SuccessfulDelete",
                        &format!("Deleted job {jn}"),
                    )
                    .await;
            }
        }
    }

    let tz = match spec.time_zone.as_deref() {
        Some(z) => match TimeZone::get(z) {
            Ok(tz) => tz,
            Err(_) => {
                ctx.cronjob_events
                    .record(
                        &cref,
                        EventType::Warning,
                        "UnknownTimeZone",
                        &format!("invalid timeZone: {z:?}"),
                    )
                    .await;
                return Ok(None);
            }
        },
        None => TimeZone::system(),
    };
    let schedule = match Schedule::parse(&spec.schedule) {
        Ok(s) => s,
        Err(e) => {
            ctx.cronjob_events
                .record(
                    &cref,
                    EventType::Warning,
                    "UnparseableSchedule",
                    &format!("unparseable schedule: {:?} : {e}", spec.schedule),
                )
                .await;
            return Ok(None);
        }
    };
    let mut requeue = schedule.next_after(now, &tz).map(|n| {
        Duration::try_from(n.duration_since(now)).unwrap_or_default() + Duration::from_millis(100)
    });
    st.active = (!active.is_empty()).then(|| active.iter().map(|j| job_ref(j)).collect());

    if !spec.suspend.unwrap_or(false) {
        let created = cj
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0)
            .unwrap_or(now);
        let mut earliest = st
            .last_schedule_time
            .as_ref()
            .map(|t| t.0)
            .unwrap_or(created);
        if let Some(sds) = spec.starting_deadline_seconds {
            let window = now - jiff::SignedDuration::from_secs(sds);
            if window > earliest {
                earliest = window;
            }
        }
        let (count, scheduled) = missed(&schedule, &tz, earliest, now);
        tracing::debug!(cronjob = %key, %now, %earliest, count, ?scheduled, "cronjob schedule");
        if count > MAX_MISSED {
            ctx.cronjob_events
                .record(&cref, EventType::Warning, "TooManyMissedTimes", "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew")
                .await;
        }
        if let Some(at) = scheduled {
            let too_late = spec
                .starting_deadline_seconds
                .is_some_and(|sds| at + jiff::SignedDuration::from_secs(sds) < now);
            let policy = spec.concurrency_policy.as_deref().unwrap_or("Allow");
            if too_late {
                ctx.cronjob_events
                    .record(
                        &cref,
                        EventType::Warning,
                        "MissSchedule",
                        &format!("Missed scheduled time to start a job: {}", rfc1123z_utc(at)),
                    )
                    .await;
            } else if jobs
                .iter()
                .any(|j| j.metadata.name.as_deref() == Some(job_name(name, at).as_str()))
            {
                // Already created for this time by a pass whose status write this copy of
                // the CronJob does not show yet: record it instead of judging it again
                // (which, under Forbid, would blame the Job on itself).
                tracing::debug!(cronjob = %key, %at, "scheduled time already has its job");
                st.last_schedule_time = Some(Time(at));
            } else if policy == "Forbid" && !active.is_empty() {
                // Not recorded as scheduled: once the running Job finishes, this time
                // (or a later one) starts late, as kube-controller-manager does.
                tracing::debug!(cronjob = %key, "prior execution running and concurrencyPolicy is Forbid");
                ctx.cronjob_events
                    .record(
                        &cref,
                        EventType::Normal,
                        "JobAlreadyActive",
                        "Not starting job because prior execution is running and concurrency policy is Forbid",
                    )
                    .await;
            } else {
                if policy == "Replace" {
                    for j in &active {
                        let jn = j.metadata.name.clone().unwrap_or_default();
                        let dp = DeleteParams {
                            propagation_policy: Some(PropagationPolicy::Background),
                            ..Default::default()
                        };
                        if ignore_not_found(job_api.delete(&jn, &dp).await)?.is_some() {
                            ctx.cronjob_events
                                .record(
                                    &cref,
                                    EventType::Normal,
                                    "SuccessfulDelete",
                                    &format!("Deleted job {jn}"),
                                )
                                .await;
                        }
                    }
                    st.active = None;
                }
                let job = job_for(&cj, at);
                let jn = job.metadata.name.clone().unwrap_or_default();
                match job_api.create(&PostParams::default(), &job).await {
                    Ok(created) => {
                        ctx.cronjob_events
                            .record(
                                &cref,
                                EventType::Normal,
                                "SuccessfulCreate",
                                &format!("Created job {jn}"),
                            )
                            .await;
                        st.active
                            .get_or_insert_with(Vec::new)
                            .push(job_ref(&created));
                    }
                    // Created by an earlier pass whose status write was lost.
                    Err(kube::Error::Api(s)) if s.code == 409 => {}
                    Err(e) => return Err(e.into()),
                }
                st.last_schedule_time = Some(Time(at));
            }
        }
    } else {
        requeue = None;
    }
    if cj.status.as_ref() != Some(&st) {
        let patch = json!({"status": {
            "active": st.active,
            "lastScheduleTime": st.last_schedule_time,
            "lastSuccessfulTime": st.last_successful_time,
        }});
        ignore_not_found(
            cj_api
                .patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await,
        )?;
    }
    Ok(requeue)
}

/// The Job a CronJob creates for `scheduled`. Its scheduled-timestamp annotation is
/// in the CronJob's `timeZone`, or UTC without one (Go's `time.LoadLocation("")`),
/// whatever zone the schedule itself was read in.
pub fn job_for(cj: &CronJob, scheduled: Timestamp) -> Job {
    let tz = cj
        .spec
        .time_zone
        .as_deref()
        .and_then(|z| TimeZone::get(z).ok())
        .unwrap_or(TimeZone::UTC);
    let spec = cj.spec.clone();
    let tmpl = spec.job_template;
    let meta = tmpl.metadata.unwrap_or_default();
    let name = cj.metadata.name.clone().unwrap_or_default();
    let mut annotations = meta.annotations.unwrap_or_default();
    annotations.insert(SCHEDULED_TIMESTAMP.into(), rfc3339_in(scheduled, &tz));
    Job {
        metadata: ObjectMeta {
            name: Some(job_name(&name, scheduled)),
            namespace: cj.metadata.namespace.clone(),
            labels: meta.labels,
            annotations: Some(annotations),
            owner_references: Some(vec![pods::new_controller_ref(cj)]),
            ..Default::default()
        },
        spec: Some(tmpl.spec.unwrap_or_default()),
        status: None,
    }
}

/// The order in which finished Jobs leave the history, kube-controller-manager's
/// `byJobStartTime`: by `status.startTime` (Jobs without one last), then by name. Names
/// end in the scheduled minute, so they break the ties of second-precision times, where
/// creation timestamps alone left the order of two Jobs started in one second to chance.
fn by_start_time(a: &Job, b: &Job) -> std::cmp::Ordering {
    let start = |j: &Job| {
        j.status
            .as_ref()
            .and_then(|s| s.start_time.as_ref())
            .map(|t| t.0)
    };
    match (start(a), start(b)) {
        (Some(x), Some(y)) if x != y => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        _ => a.metadata.name.cmp(&b.metadata.name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_order_is_start_time_then_name() {
        let job = |name: &str, start: Option<&str>| Job {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            status: Some(k8s_openapi::api::batch::v1::JobStatus {
                start_time: start.map(|s| {
                    k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(s.parse().unwrap())
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut jobs = [
            job("cj-29000002", Some("2026-01-01T00:00:05Z")),
            job("cj-29000003", None),
            job("cj-29000001", Some("2026-01-01T00:00:05Z")),
            job("cj-29000000", Some("2026-01-01T00:00:09Z")),
        ];
        jobs.sort_by(by_start_time);
        let names: Vec<_> = jobs
            .iter()
            .map(|j| j.metadata.name.clone().unwrap())
            .collect();
        assert_eq!(
            names,
            ["cj-29000001", "cj-29000002", "cj-29000000", "cj-29000003"]
        );
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn counts_missed_and_picks_the_latest() {
        let s = Schedule::parse("*/10 * * * *").unwrap();
        let (n, last) = missed(
            &s,
            &TimeZone::UTC,
            ts("2026-01-01T00:00:00Z"),
            ts("2026-01-01T00:35:00Z"),
        );
        assert_eq!((n, last), (3, Some(ts("2026-01-01T00:30:00Z"))));
        let (n, last) = missed(
            &s,
            &TimeZone::UTC,
            ts("2026-01-01T00:30:00Z"),
            ts("2026-01-01T00:35:00Z"),
        );
        assert_eq!((n, last), (0, None));
    }

    #[test]
    fn too_many_missed_still_finds_the_latest() {
        let s = Schedule::parse("* * * * *").unwrap();
        let (n, last) = missed(
            &s,
            &TimeZone::UTC,
            ts("2026-01-01T00:00:00Z"),
            ts("2026-01-01T05:00:30Z"),
        );
        assert!(n > MAX_MISSED);
        assert_eq!(last, Some(ts("2026-01-01T05:00:00Z")));
    }

    #[test]
    fn scheduled_timestamps_are_go_rfc3339_in_the_cronjob_zone_or_utc() {
        let at = ts("2026-01-05T10:00:00Z");
        assert_eq!(rfc3339_in(at, &TimeZone::UTC), "2026-01-05T10:00:00Z");
        let utc = TimeZone::get("Etc/UTC").unwrap();
        assert_eq!(rfc3339_in(at, &utc), "2026-01-05T10:00:00Z");
        let sh = TimeZone::get("Asia/Shanghai").unwrap();
        assert_eq!(rfc3339_in(at, &sh), "2026-01-05T18:00:00+08:00");
        // London's winter offset is zero: Go still writes Z.
        let london = TimeZone::get("Europe/London").unwrap();
        assert_eq!(rfc3339_in(at, &london), "2026-01-05T10:00:00Z");
        assert_eq!(rfc1123z_utc(at), "Mon, 05 Jan 2026 10:00:00 +0000");

        let cj = |tz: Option<&str>| CronJob {
            metadata: ObjectMeta {
                name: Some("nightly".into()),
                namespace: Some("ns".into()),
                uid: Some("u1".into()),
                ..Default::default()
            },
            spec: k8s_openapi::api::batch::v1::CronJobSpec {
                schedule: "0 18 * * *".into(),
                time_zone: tz.map(Into::into),
                ..Default::default()
            },
            status: None,
        };
        let ann = |j: Job| j.metadata.annotations.unwrap()[SCHEDULED_TIMESTAMP].clone();
        assert_eq!(ann(job_for(&cj(None), at)), "2026-01-05T10:00:00Z");
        assert_eq!(
            ann(job_for(&cj(Some("Asia/Shanghai")), at)),
            "2026-01-05T18:00:00+08:00"
        );
        assert_eq!(
            job_for(&cj(None), at).metadata.name.as_deref(),
            Some("nightly-29460120")
        );
    }

    #[test]
    fn finished_jobs_still_listed_active_are_seen_once_with_their_condition() {
        use k8s_openapi::api::batch::v1::{JobCondition, JobStatus};
        let job = |name: &str, uid: &str, cond: Option<&str>| {
            Arc::new(Job {
                metadata: ObjectMeta {
                    name: Some(name.into()),
                    uid: Some(uid.into()),
                    ..Default::default()
                },
                status: Some(JobStatus {
                    conditions: cond.map(|c| {
                        vec![JobCondition {
                            type_: c.into(),
                            status: "True".into(),
                            ..Default::default()
                        }]
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            })
        };
        let active = |uid: &str| ObjectReference {
            uid: Some(uid.into()),
            ..Default::default()
        };
        let jobs = [
            job("a", "ua", Some("Complete")),
            job("b", "ub", Some("Failed")),
            job("c", "uc", None),
            job("d", "ud", Some("Complete")),
        ];
        // d finished but was already dropped from the active list: not seen again.
        let seen = newly_finished(&[active("ua"), active("ub"), active("uc")], &jobs);
        assert_eq!(seen, [("a", "Complete"), ("b", "Failed")]);
        assert!(newly_finished(&[], &jobs).is_empty());
    }

    #[test]
    fn job_names_use_minutes_since_epoch() {
        assert_eq!(
            job_name("backup", ts("2026-01-01T00:10:00Z")),
            "backup-29453770"
        );
    }
}
