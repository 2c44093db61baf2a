//! CronJobs driven by an injected clock: firing, history limits, Forbid.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use controllers::ManualClock;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use kube::api::{Api, ListParams, PostParams};
use serde_json::json;

#[ignore = "flaky on a loaded machine: the second run after the history limit sometimes times out; being fixed (cargo test -p controllers --test cronjob -- --ignored)"]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cronjob_fires_on_the_injected_clock_and_keeps_history() {
    // The injected clock starts at the real time, so the CronJob (stamped by the
    // kernel's clock) has no missed start yet.
    let _ = tracing_subscriber::fmt()
        .with_env_filter("controllers=debug")
        .with_test_writer()
        .try_init();
    let real = jiff::Timestamp::now();
    let boundary = |t: jiff::Timestamp, k: i64| {
        jiff::Timestamp::from_second((t.as_second() / 300 + k) * 300).unwrap()
    };
    let clock = ManualClock::new(real);
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
    // Schedule times count from the CronJob's creation (second precision), which
    // may already be past the boundary after `real`.
    let created = created.metadata.creation_timestamp.unwrap().0;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        jobs.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "nothing due yet"
    );

    let first = boundary(created, 1);
    clock.set(first + jiff::SignedDuration::from_secs(1));
    let name1 = format!("tick-{}", first.as_second() / 60);
    let j = support::wait_for(30, "first job", || async { jobs.get(&name1).await.ok() }).await;
    let ann = &j.metadata.annotations.as_ref().unwrap()["batch.kubernetes.io/cronjob-scheduled-timestamp"];
    assert!(
        ann.ends_with("+01:00") || ann.ends_with("+02:00"),
        "scheduled time in the CronJob's zone: {ann}"
    );
    support::wait_for(30, "first job done and recorded", || async {
        let c = api.get("tick").await.ok()?;
        let s = c.status?;
        (s.last_schedule_time.as_ref()?.0 == first && s.last_successful_time.is_some())
            .then_some(())
    })
    .await;

    let second = boundary(created, 2);
    clock.set(second + jiff::SignedDuration::from_secs(1));
    let name2 = format!("tick-{}", second.as_second() / 60);
    support::wait_for(
        30,
        "second job, first removed by the history limit",
        || async {
            let names: Vec<String> = jobs
                .list(&ListParams::default())
                .await
                .ok()?
                .items
                .into_iter()
                .filter_map(|j| j.metadata.name)
                .collect();
            let done = api
                .get("tick")
                .await
                .ok()?
                .status?
                .last_successful_time
                .is_some_and(|t| t.0 >= second);
            (names == [name2.clone()] && done).then_some(())
        },
    )
    .await;
}
