//! CronJobs firing on a paused clock: this binary's own `sphere up` runs its controllers on `--controller-clock-file`, which the test moves; a simulated node completes the Jobs' pods, and every check is kubectl.
//!
//! The kernel stamps `creationTimestamp` with the wall clock and, as in
//! kube-controller-manager, a CronJob's schedule counts from its creation until it
//! has a `lastScheduleTime`. So the scenario's times are picked relative to the wall
//! clock (the first five-minute boundary at least two minutes ahead, `T0`) rather
//! than fixed: a fixed past date would never fire and a fixed future one would have
//! missed hundreds of schedules already. The Asia/Shanghai CronJob's daily schedule
//! is written for `T0`'s hour and minute in Shanghai (UTC+8, no daylight saving).
//!
//! Against `E2E_KUBECONFIG` the controllers' clock cannot be moved, so the test says
//! so and passes without checking anything.
#![allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure, which is the point

// Only some of the workload scenarios' helpers are needed here.
#[allow(dead_code)]
#[path = "workloads/common.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use e2e::simnodes::{TestNode, node_set_shared, place};
use e2e::{Cluster, Namespace};
use jiff::tz::{self, TimeZone};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use common::{condition_triple, events_of, get_json, name, s, until};

const MINUTE: SignedDuration = SignedDuration::from_secs(60);
const TOO_MANY_MISSED: &str = "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew";
const ALREADY_ACTIVE: &str =
    "Not starting job because prior execution is running and concurrency policy is Forbid";

/// The file `sphere up` reads the controllers' time from.
struct TestClock {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl TestClock {
    fn new(at: Timestamp) -> TestClock {
        let dir = tempfile::Builder::new()
            .prefix("e2e-cronclock-")
            .tempdir()
            .unwrap();
        let clock = TestClock {
            path: dir.path().join("now"),
            _dir: dir,
        };
        clock.set(at);
        clock
    }

    /// Moves the controllers' clock; renamed into place so the server never reads half a line.
    fn set(&self, at: Timestamp) {
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, format!("{at}\n")).unwrap();
        std::fs::rename(&tmp, &self.path).unwrap();
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

/// The first multiple of `step` strictly after `t`.
fn boundary_after(t: Timestamp, step: SignedDuration) -> Timestamp {
    let step = step.as_secs();
    Timestamp::from_second((t.as_second().div_euclid(step) + 1) * step).unwrap()
}

/// Kubernetes' Job name for a scheduled time: `<cronjob>-<minutes since the epoch>`.
fn job_name(cronjob: &str, at: Timestamp) -> String {
    format!("{cronjob}-{}", at.as_second().div_euclid(60))
}

fn cronjob(name: &str, schedule: &str, tz: &str, policy: &str, group: &str) -> Value {
    json!({
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name},
        "spec": {
            "schedule": schedule,
            "timeZone": tz,
            "concurrencyPolicy": policy,
            "jobTemplate": {"spec": {
                "backoffLimit": 0,
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": place(json!({
                        "restartPolicy": "Never",
                        "containers": [common::container("registry.example/task:1")],
                    }), group),
                },
            }},
        },
    })
}

/// True when `o` names `owner` of `kind` as its controller.
fn controlled_by(o: &Value, kind: &str, owner: &str) -> bool {
    o.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| {
            refs.iter().any(|r| {
                r["kind"] == kind && r["name"] == owner && r["controller"] == Value::Bool(true)
            })
        })
}

fn sorted_names(items: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = items.iter().map(|o| name(o).to_owned()).collect();
    names.sort();
    names
}

/// The Jobs CronJob `cj` controls, by name.
fn jobs_of(ns: &Namespace, cj: &str) -> Result<Vec<Value>, String> {
    let v = get_json(ns, &["jobs"])?;
    let items = v["items"].as_array().cloned().unwrap_or_default();
    Ok(items
        .into_iter()
        .filter(|j| controlled_by(j, "CronJob", cj))
        .collect())
}

/// Waits until CronJob `cj` controls exactly the Jobs `want`; returns them by name.
#[track_caller]
fn wait_jobs(ns: &Namespace, cj: &str, want: &[String]) -> Vec<Value> {
    let mut want = want.to_vec();
    want.sort();
    until(&format!("cronjob {cj} to own exactly {want:?}"), || {
        let jobs = jobs_of(ns, cj)?;
        if sorted_names(&jobs) == want {
            let mut jobs = jobs;
            jobs.sort_by(|a, b| name(a).cmp(name(b)));
            Ok(jobs)
        } else {
            Err(format!("jobs {:?}", sorted_names(&jobs)))
        }
    })
}

/// `status.active` names of a CronJob.
fn active_names(cj: &Value) -> Vec<String> {
    let refs = cj.pointer("/status/active").and_then(Value::as_array);
    let mut names: Vec<String> = refs
        .into_iter()
        .flatten()
        .map(|r| s(r, "/name").to_owned())
        .collect();
    names.sort();
    names
}

/// Waits until CronJob `cj`'s status satisfies `ok`; returns it.
#[track_caller]
fn wait_status(ns: &Namespace, cj: &str, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    until(&format!("cronjob {cj}: {what}"), || {
        let v = get_json(ns, &["cronjob", cj])?;
        if ok(&v) {
            Ok(v)
        } else {
            Err(format!("status {}", v["status"]))
        }
    })
}

/// Makes the simulated node finish the pod of Job `job` with exit code 0 and waits for
/// the Job's Complete condition.
#[track_caller]
fn complete(node: &TestNode, ns: &Namespace, job: &str) {
    until(&format!("job {job} Complete"), || {
        let pods = get_json(ns, &["pods"])?;
        let pods: Vec<Value> = pods["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|p| controlled_by(p, "Job", job))
            .collect();
        for p in pods.iter().filter(|p| s(p, "/status/phase") == "Running") {
            // A pod the node has not started yet is finished on a later pass.
            let _ = node.succeed_pod(ns.name(), name(p));
        }
        let j = get_json(ns, &["job", job])?;
        if condition_triple(&j, "Complete").0 == "True" {
            Ok(())
        } else {
            Err(format!(
                "job status {}; pods {}",
                j["status"],
                common::pods_summary(&pods)
            ))
        }
    });
}

/// The event about `obj` with `reason`, once `kubectl get events` shows it.
#[track_caller]
fn wait_event(ns: &Namespace, obj: &str, reason: &str, message: &str) -> Value {
    until(
        &format!("a {reason} event on {obj} saying {message:?}"),
        || {
            let events = events_of(ns, obj)?;
            events
                .iter()
                .find(|e| s(e, "/reason") == reason && s(e, "/message") == message)
                .cloned()
                .ok_or_else(|| {
                    let seen: Vec<String> = events
                        .iter()
                        .map(|e| format!("{}: {}", s(e, "/reason"), s(e, "/message")))
                        .collect();
                    format!("events {seen:?}")
                })
        },
    )
}

fn has_event(ns: &Namespace, obj: &str, reason: &str) -> bool {
    events_of(ns, obj)
        .unwrap()
        .iter()
        .any(|e| s(e, "/reason") == reason)
}

#[test]
fn cronjobs_fire_on_the_controllers_paused_clock() {
    let clock = TestClock::new(Timestamp::now());
    let cluster =
        Cluster::shared_with_up_args(&["--controller-clock-file", clock.path().to_str().unwrap()]);
    if !cluster.is_own() {
        eprintln!("skipped: the controllers' clock of an E2E_KUBECONFIG cluster cannot be moved");
        return;
    }
    let _nodes = node_set_shared();
    let (ns, group) = common::namespace("cronclock");
    let node = TestNode::dedicated(&group, "n0", true);

    // T0 and the Shanghai schedule are fixed before anything is created.
    let t0 = boundary_after(Timestamp::now() + 2 * MINUTE, 5 * MINUTE);
    let in_shanghai = t0.to_zoned(TimeZone::fixed(tz::offset(8)));
    let shanghai_schedule = format!("{} {} * * *", in_shanghai.minute(), in_shanghai.hour());
    let list = json!({"apiVersion": "v1", "kind": "List", "items": [
        cronjob("every5", "*/5 * * * *", "Etc/UTC", "Allow", &group),
        cronjob("shanghai", &shanghai_schedule, "Asia/Shanghai", "Allow", &group),
        cronjob("forbid", "*/5 * * * *", "Etc/UTC", "Forbid", &group),
    ]});
    ns.create(&list.to_string());
    let created = ["every5", "shanghai", "forbid"].map(|cj| {
        let v = get_json(&ns, &["cronjob", cj]).unwrap();
        s(&v, "/metadata/creationTimestamp")
            .parse::<Timestamp>()
            .unwrap()
    });
    let last_created = created.into_iter().max().unwrap();
    assert!(
        last_created < t0,
        "creating the CronJobs took until {last_created}, past the schedule time {t0} picked for them"
    );

    // Paused a second before the next schedule time after creation: nothing is due,
    // however long the wall clock runs.
    let paused = boundary_after(last_created, 5 * MINUTE) - SignedDuration::from_secs(1);
    clock.set(paused);
    let until_wall = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until_wall {
        let jobs = get_json(&ns, &["jobs"]).unwrap();
        assert_eq!(
            sorted_names(jobs["items"].as_array().unwrap()),
            Vec::<String>::new(),
            "no Job while the controllers' clock stands at {paused}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }

    fires_once_per_cronjob_at_t0(&clock, &ns, &node, t0);
    forbid_skips_while_its_job_runs(&clock, &ns, &node, t0);
    missed_schedules_start_only_the_latest(&clock, &ns, t0);
}

/// Past T0 each CronJob creates exactly one Job named for T0, records T0 as its
/// `lastScheduleTime`, and `lastSuccessfulTime` once the node completes the pod.
fn fires_once_per_cronjob_at_t0(clock: &TestClock, ns: &Namespace, node: &TestNode, t0: Timestamp) {
    clock.set(t0 + SignedDuration::from_secs(30));
    let t0s = t0.to_string();
    let expected_annotation = [
        ("every5", t0s.clone()),
        ("forbid", t0s.clone()),
        (
            "shanghai",
            t0.to_zoned(TimeZone::fixed(tz::offset(8)))
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string(),
        ),
    ];
    for (cj, annotation) in &expected_annotation {
        let jn = job_name(cj, t0);
        let jobs = wait_jobs(ns, cj, std::slice::from_ref(&jn));
        assert_eq!(
            s(
                &jobs[0],
                "/metadata/annotations/batch.kubernetes.io~1cronjob-scheduled-timestamp"
            ),
            annotation,
            "job {jn}: the scheduled time in the CronJob's time zone"
        );
        wait_status(ns, cj, "lastScheduleTime T0 and the job active", |v| {
            s(v, "/status/lastScheduleTime") == t0s && active_names(v) == [jn.clone()]
        });
        wait_event(ns, cj, "SuccessfulCreate", &format!("Created job {jn}"));
    }

    for cj in ["every5", "shanghai"] {
        let jn = job_name(cj, t0);
        complete(node, ns, &jn);
        let v = wait_status(ns, cj, "lastSuccessfulTime set and nothing active", |v| {
            v.pointer("/status/lastSuccessfulTime").is_some() && active_names(v).is_empty()
        });
        let job = get_json(ns, &["job", &jn]).unwrap();
        assert_eq!(
            s(&v, "/status/lastSuccessfulTime"),
            s(&job, "/status/completionTime"),
            "lastSuccessfulTime is the Job's completionTime"
        );
        wait_event(
            ns,
            cj,
            "SawCompletedJob",
            &format!("Saw completed job: {jn}, condition: Complete"),
        );
    }
    assert!(
        !has_event(ns, "forbid", "JobAlreadyActive"),
        "nothing was due while forbid's first job ran"
    );
}

/// With `concurrencyPolicy: Forbid` and its Job still running, the next schedule
/// starts nothing; once the Job completes, the skipped time starts late (no
/// `startingDeadlineSeconds`), as Kubernetes does.
fn forbid_skips_while_its_job_runs(
    clock: &TestClock,
    ns: &Namespace,
    node: &TestNode,
    t0: Timestamp,
) {
    let t5 = t0 + 5 * MINUTE;
    clock.set(t5 + SignedDuration::from_secs(30));
    // The Allow CronJob on the same schedule shows the jump was seen.
    wait_jobs(
        ns,
        "every5",
        &[job_name("every5", t0), job_name("every5", t5)],
    );
    wait_event(ns, "forbid", "JobAlreadyActive", ALREADY_ACTIVE);
    assert_eq!(
        sorted_names(&jobs_of(ns, "forbid").unwrap()),
        [job_name("forbid", t0)],
        "Forbid started nothing while its job runs"
    );
    let v = get_json(ns, &["cronjob", "forbid"]).unwrap();
    assert_eq!(
        s(&v, "/status/lastScheduleTime"),
        t0.to_string(),
        "a skipped time is not recorded as scheduled"
    );

    complete(node, ns, &job_name("every5", t5));
    complete(node, ns, &job_name("forbid", t0));
    wait_event(
        ns,
        "forbid",
        "SawCompletedJob",
        &format!(
            "Saw completed job: {}, condition: Complete",
            job_name("forbid", t0)
        ),
    );
    wait_jobs(
        ns,
        "forbid",
        &[job_name("forbid", t0), job_name("forbid", t5)],
    );
    wait_status(ns, "forbid", "the late job active", |v| {
        s(v, "/status/lastScheduleTime") == t5.to_string()
            && active_names(v) == [job_name("forbid", t5)]
    });
}

/// Ten hours later every5 has missed 119 schedules: Kubernetes warns
/// `TooManyMissedTimes` (over 100) and starts one Job, for the most recent time only.
fn missed_schedules_start_only_the_latest(clock: &TestClock, ns: &Namespace, t0: Timestamp) {
    let t5 = t0 + 5 * MINUTE;
    let latest = t0 + SignedDuration::from_hours(10);
    clock.set(latest + MINUTE);
    let want = [
        job_name("every5", t0),
        job_name("every5", t5),
        job_name("every5", latest),
    ];
    wait_jobs(ns, "every5", &want);
    wait_status(
        ns,
        "every5",
        "lastScheduleTime the latest missed time",
        |v| {
            s(v, "/status/lastScheduleTime") == latest.to_string()
                && active_names(v) == [job_name("every5", latest)]
        },
    );
    let warning = wait_event(ns, "every5", "TooManyMissedTimes", TOO_MANY_MISSED);
    assert_eq!(s(&warning, "/type"), "Warning");
    wait_event(
        ns,
        "every5",
        "SuccessfulCreate",
        &format!("Created job {}", job_name("every5", latest)),
    );
    // Settled (status written after the create): still exactly one new Job.
    assert_eq!(
        sorted_names(&jobs_of(ns, "every5").unwrap()),
        {
            let mut w = want.to_vec();
            w.sort();
            w
        },
        "one Job for the most recent missed time, none for the others"
    );
    // Daily in Shanghai: its next time is T0 + 24h, not yet due.
    assert_eq!(
        sorted_names(&jobs_of(ns, "shanghai").unwrap()),
        [job_name("shanghai", t0)]
    );
    // Forbid's late job still runs: it is skipped again, and warned about too.
    wait_event(ns, "forbid", "TooManyMissedTimes", TOO_MANY_MISSED);
    assert_eq!(
        sorted_names(&jobs_of(ns, "forbid").unwrap()),
        [job_name("forbid", t0), job_name("forbid", t5)]
    );
}
