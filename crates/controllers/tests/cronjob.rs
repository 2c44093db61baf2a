//! CronJobs driven by an injected manual clock: firing at schedule times in the CronJob's zone, status times and the successful-jobs history limit.
//!
//! Schedules follow the manual clock only; nothing here waits for the wall clock to
//! reach a schedule time, and every wait is for an observable state, with the last
//! state seen in the failure message.

#![allow(clippy::unwrap_used)]

mod support;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use controllers::ManualClock;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use kube::api::{Api, ListParams, PostParams};
use serde_json::json;

/// Generous: a loaded 2-core machine may take a while, and a correct run never waits this long.
const SETTLE: Duration = Duration::from_secs(120);

/// Polls `check` until it returns `Ok`, failing after [`SETTLE`] with the last `Err` it gave.
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        match check().await {
            Ok(v) => return v,
            Err(last) if tokio::time::Instant::now() >= deadline => {
                panic!("timed out after {SETTLE:?} waiting for {what}; last observed: {last}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// The `k`-th five-minute boundary after `t`.
fn boundary(t: Timestamp, k: i64) -> Timestamp {
    Timestamp::from_second((t.as_second().div_euclid(300) + k) * 300).unwrap()
}

async fn job_names(jobs: &Api<Job>) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = jobs
        .list(&ListParams::default())
        .await
        .map_err(|e| e.to_string())?
        .items
        .into_iter()
        .filter_map(|j| j.metadata.name)
        .collect();
    names.sort();
    Ok(names)
}

/// `(lastScheduleTime, lastSuccessfulTime, active job names)` of the CronJob.
async fn cron_status(
    api: &Api<CronJob>,
    name: &str,
) -> Result<(Option<Timestamp>, Option<Timestamp>, Vec<String>), String> {
    let c = api.get(name).await.map_err(|e| e.to_string())?;
    let st = c.status.unwrap_or_default();
    Ok((
        st.last_schedule_time.map(|t| t.0),
        st.last_successful_time.map(|t| t.0),
        st.active
            .into_iter()
            .flatten()
            .filter_map(|r| r.name)
            .collect(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cronjob_fires_on_the_injected_clock_and_keeps_history() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("controllers=debug")
        .with_test_writer()
        .try_init();
    // The manual clock starts at the real time, before the CronJob (stamped by the
    // kernel's clock) exists, so no start is missed yet.
    let clock = ManualClock::new(Timestamp::now());
    let env = support::start_opts(controllers::Options {
        clock: Arc::new(clock.clone()),
        ..Default::default()
    })
    .await;
    let api: Api<CronJob> = Api::namespaced(env.client.clone(), "default");
    let jobs: Api<Job> = Api::namespaced(env.client.clone(), "default");
    let cj: CronJob = serde_json::from_value(json!({
        "metadata": {"name": "tick"},
        "spec": {
            "schedule": "*/5 * * * *",
            "timeZone": "Europe/Berlin",
            "successfulJobsHistoryLimit": 1,
            "jobTemplate": {"spec": {"template": {
                "metadata": {"labels": {"outcome": "succeed"}},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}
            }}}
        }
    }))
    .unwrap();
    let created = api.create(&PostParams::default(), &cj).await.unwrap();
    // Schedule times count from the CronJob's creation (second precision).
    let created = created.metadata.creation_timestamp.unwrap().0;

    let first = boundary(created, 1);
    clock.set(first + SignedDuration::from_secs(1));
    let name1 = format!("tick-{}", first.as_second() / 60);
    let j1 = eventually("the first job", || async {
        jobs.get(&name1).await.map_err(|e| e.to_string())
    })
    .await;
    let ann = &j1.metadata.annotations.as_ref().unwrap()["batch.kubernetes.io/cronjob-scheduled-timestamp"];
    assert!(
        ann.ends_with("+01:00") || ann.ends_with("+02:00"),
        "scheduled time in the CronJob's zone: {ann}"
    );
    let st = eventually("the first job finished and recorded", || async {
        let st = cron_status(&api, "tick").await?;
        let done = st.0 == Some(first) && st.1.is_some() && st.2.is_empty();
        if done { Ok(st) } else { Err(format!("{st:?}")) }
    })
    .await;
    // The job controller stamps completion with the same manual clock.
    assert!(st.1 >= Some(first), "lastSuccessfulTime {st:?}");
    // Only the start due at `first` ran: nothing fired for the time before it.
    assert_eq!(job_names(&jobs).await.unwrap(), [name1]);

    // The controller picks the oldest finished Job by creationTimestamp, which has
    // one-second precision and no tie-break (Kubernetes sorts by status.startTime,
    // then name): two Jobs created within one wall-clock second could be deleted in
    // either order. Creating the second one in a later second keeps the test about
    // the schedule, not that ordering.
    let c1 = j1.metadata.creation_timestamp.unwrap().0.as_second();
    while Timestamp::now().as_second() <= c1 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let second = boundary(created, 2);
    clock.set(second + SignedDuration::from_secs(1));
    let name2 = format!("tick-{}", second.as_second() / 60);
    eventually(
        "the second job finished and the first removed by the history limit",
        || async {
            let names = job_names(&jobs).await?;
            let st = cron_status(&api, "tick").await?;
            let done = names == [name2.clone()]
                && st.0 == Some(second)
                && st.1.is_some_and(|t| t >= second)
                && st.2.is_empty();
            if done {
                Ok(())
            } else {
                Err(format!("jobs {names:?}; cronjob status {st:?}"))
            }
        },
    )
    .await;
}
