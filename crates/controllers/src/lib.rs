//! Built-in workload controllers for embedded mode (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, Endpoints, pod garbage collection), written with kube-runtime against the Kubernetes API only.
//!
//! Each controller is a pure planning function over a snapshot of the informer
//! caches (unit-tested without a server) plus thin wiring that applies the plan
//! through a `kube::Client`, so the crate runs unchanged against any API server.

// Tests may unwrap (the house rule is about input from outside the process).
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod cache;
mod context;
pub mod cron;
pub mod cronjob;
pub mod daemonset;
pub mod deployment;
pub mod endpoints;
pub mod events;
pub mod expectations;
pub mod informer;
pub mod job;
pub mod leader;
pub mod podgc;
pub mod pods;
pub mod queue;
pub mod replicaset;
pub mod statefulset;

use std::sync::Arc;

use k8s_openapi::api::apps::v1::{
    ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet,
};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Node, PersistentVolumeClaim, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::Api;
use tokio_util::sync::CancellationToken;

pub use context::{Clock, Error, ManualClock, SystemClock};

use cache::{Cache, Indexes};

use context::Ctx;
use informer::Informer;
use queue::Queue;

/// How [`run`] runs the controllers.
#[derive(Clone)]
pub struct Options {
    /// Stops every controller when cancelled.
    pub cancel: CancellationToken,
    /// Workers per controller (kube-controller-manager's `--concurrent-*-syncs`, default 5).
    pub concurrency: usize,
    /// Time source for availability, deadlines and schedules.
    pub clock: Arc<dyn Clock>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cancel: CancellationToken::new(),
            concurrency: 5,
            clock: Arc::new(SystemClock),
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

fn key_of<K: kube::Resource>(o: &K) -> String {
    queue::key(
        o.meta().namespace.as_deref().unwrap_or_default(),
        o.meta().name.as_deref().unwrap_or_default(),
    )
}

/// Runs every controller of this crate until `opts.cancel` fires. Fails at once
/// if the API server cannot be reached.
pub async fn run(client: kube::Client, opts: Options) -> Result<(), Error> {
    client.apiserver_version().await?;
    let rs_queue = Queue::new();
    let deploy_queue = Queue::new();
    let job_queue = Queue::new();
    let svc_queue = Queue::new();
    let cj_queue = Queue::new();
    let ds_queue = Queue::new();
    let sts_queue = Queue::new();
    let gc_queue = Queue::new();

    let mut pod_inf: Informer<Pod> =
        Informer::with_indexes(Api::all(client.clone()), Indexes::Controller);
    let mut rs_inf: Informer<ReplicaSet> =
        Informer::with_indexes(Api::all(client.clone()), Indexes::Controller);
    let mut deploy_inf: Informer<Deployment> = Informer::new(Api::all(client.clone()));
    let mut job_inf: Informer<Job> = Informer::new(Api::all(client.clone()));
    let mut cj_inf: Informer<CronJob> = Informer::new(Api::all(client.clone()));
    let mut node_inf: Informer<Node> = Informer::new(Api::all(client.clone()));
    let mut ds_inf: Informer<DaemonSet> = Informer::new(Api::all(client.clone()));
    let rev_inf: Informer<ControllerRevision> =
        Informer::with_indexes(Api::all(client.clone()), Indexes::Controller);
    let ds_cache = ds_inf.cache();
    let mut svc_inf: Informer<Service> = Informer::new(Api::all(client.clone()));
    let mut slice_inf: Informer<EndpointSlice> = Informer::new(Api::all(client.clone()));
    let mut sts_inf: Informer<StatefulSet> = Informer::new(Api::all(client.clone()));
    let mut pvc_inf: Informer<PersistentVolumeClaim> = Informer::new(Api::all(client.clone()));
    let sts_cache = sts_inf.cache();
    let rs_cache = rs_inf.cache();
    let deploy_cache = deploy_inf.cache();
    let svc_cache = svc_inf.cache();
    let node_cache = node_inf.cache();

    {
        let (rsq, dq, rss) = (rs_queue.clone(), deploy_queue.clone(), rs_cache.clone());
        let (jq, sq, svcs) = (job_queue.clone(), svc_queue.clone(), svc_cache.clone());
        let dsq = ds_queue.clone();
        let (stsq, stss) = (sts_queue.clone(), sts_cache.clone());
        let (gcq, nodes) = (gc_queue.clone(), node_cache.clone());
        pod_inf.on_change(move |pod, deleted| {
            let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
            if !deleted {
                podgc::on_pod_change(pod, &nodes, &gcq);
            }
            // A pod's labels may have changed away from a selector, so every Service
            // with a selector in the namespace looks again.
            for s in svcs.in_namespace(ns).iter().filter(|s| {
                s.spec
                    .as_ref()
                    .and_then(|x| x.selector.as_ref())
                    .is_some_and(|x| !x.is_empty())
            }) {
                sq.add(key_of(s.as_ref()));
            }
            match pods::controller_ref(&pod.metadata) {
                Some(r) if r.kind == "Job" => jq.add(queue::key(ns, &r.name)),
                Some(r) if r.kind == "DaemonSet" => dsq.add(queue::key(ns, &r.name)),
                Some(r) if r.kind == "StatefulSet" => stsq.add(queue::key(ns, &r.name)),
                Some(r) if r.kind == "ReplicaSet" => {
                    rsq.add(queue::key(ns, &r.name));
                    // Recreate waits for old pods to be gone.
                    if deleted {
                        enqueue_owner_deployment(&rss, &dq, ns, &r.name);
                    }
                }
                Some(_) => {}
                None => {
                    enqueue_selecting(&rss, &rsq, ns, pod.metadata.labels.as_ref(), |r| {
                        r.spec.as_ref().map(|s| &s.selector)
                    });
                    enqueue_selecting(&stss, &stsq, ns, pod.metadata.labels.as_ref(), |s| {
                        s.spec.as_ref().map(|s| &s.selector)
                    });
                }
            }
        });
    }
    {
        let (rsq, dq, ds) = (rs_queue.clone(), deploy_queue.clone(), deploy_cache.clone());
        rs_inf.on_change(move |rs, _| {
            rsq.add(key_of(rs));
            let ns = rs.metadata.namespace.as_deref().unwrap_or_default();
            match pods::controller_ref(&rs.metadata) {
                Some(r) if r.kind == "Deployment" => dq.add(queue::key(ns, &r.name)),
                Some(_) => {}
                None => enqueue_selecting(&ds, &dq, ns, rs.metadata.labels.as_ref(), |d| {
                    d.spec.as_ref().map(|s| &s.selector)
                }),
            }
        });
    }
    {
        let dq = deploy_queue.clone();
        deploy_inf.on_change(move |d, _| dq.add(key_of(d)));
        let (jq, cq) = (job_queue.clone(), cj_queue.clone());
        job_inf.on_change(move |j, _| {
            jq.add(key_of(j));
            if let Some(r) = pods::controller_ref(&j.metadata).filter(|r| r.kind == "CronJob") {
                cq.add(queue::key(
                    j.metadata.namespace.as_deref().unwrap_or_default(),
                    &r.name,
                ));
            }
        });
        let cq = cj_queue.clone();
        cj_inf.on_change(move |c, _| cq.add(key_of(c)));
        let dsq = ds_queue.clone();
        ds_inf.on_change(move |d, _| dsq.add(key_of(d)));
        let stsq = sts_queue.clone();
        sts_inf.on_change(move |s, _| stsq.add(key_of(s)));
        // A claim going away may unblock a replica waiting for its stale claim.
        let (stsq, stss) = (sts_queue.clone(), sts_cache.clone());
        pvc_inf.on_change(move |c, _| {
            let ns = c.metadata.namespace.as_deref().unwrap_or_default();
            for s in stss.in_namespace(ns).iter().filter(|s| {
                s.spec
                    .as_ref()
                    .and_then(|x| x.volume_claim_templates.as_ref())
                    .is_some_and(|t| !t.is_empty())
            }) {
                stsq.add(key_of(s.as_ref()));
            }
        });
        // Any node change can change where daemons belong.
        let (dsq, dss) = (ds_queue.clone(), ds_cache.clone());
        let gcq = gc_queue.clone();
        node_inf.on_change(move |node, deleted| {
            if deleted {
                podgc::on_node_deleted(node, &gcq);
            }
            for d in dss.state() {
                dsq.add(key_of(d.as_ref()));
            }
        });
        let sq = svc_queue.clone();
        svc_inf.on_change(move |s, _| sq.add(key_of(s)));
        let sq = svc_queue.clone();
        slice_inf.on_change(move |s, _| {
            if let Some(svc) = s
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(endpoints::SERVICE_NAME_LABEL))
            {
                sq.add(queue::key(
                    s.metadata.namespace.as_deref().unwrap_or_default(),
                    svc,
                ));
            }
        });
    }

    let cancel = opts.cancel.clone();
    let pods = pod_inf.spawn(cancel.clone());
    let replicasets = rs_inf.spawn(cancel.clone());
    let deployments = deploy_inf.spawn(cancel.clone());
    let jobs = job_inf.spawn(cancel.clone());
    let cronjobs = cj_inf.spawn(cancel.clone());
    let nodes = node_inf.spawn(cancel.clone());
    let daemonsets = ds_inf.spawn(cancel.clone());
    let revisions = rev_inf.spawn(cancel.clone());
    let services = svc_inf.spawn(cancel.clone());
    let endpoint_slices = slice_inf.spawn(cancel.clone());
    let statefulsets = sts_inf.spawn(cancel.clone());
    let claims = pvc_inf.spawn(cancel.clone());
    let ready = async {
        // wait_until_ready only fails if the writer is dropped, i.e. on cancellation.
        let _ = futures::join!(
            pods.wait_until_ready(),
            replicasets.wait_until_ready(),
            deployments.wait_until_ready(),
            jobs.wait_until_ready(),
            cronjobs.wait_until_ready(),
            nodes.wait_until_ready(),
            daemonsets.wait_until_ready(),
            revisions.wait_until_ready(),
            services.wait_until_ready(),
            endpoint_slices.wait_until_ready(),
            statefulsets.wait_until_ready(),
            claims.wait_until_ready(),
        );
    };
    tokio::select! {
        () = cancel.cancelled() => return Ok(()),
        () = ready => {}
    }

    let sts_ctx = Arc::new(statefulset::StsCtx {
        client: client.clone(),
        clock: opts.clock.clone(),
        sets: statefulsets,
        pods: pods.clone(),
        claims,
        revisions: revisions.clone(),
        events: events::Recorder::new(client.clone(), "statefulset-controller"),
    });
    let gc = Arc::new(podgc::PodGc {
        client: client.clone(),
        clock: opts.clock.clone(),
        pods: pods.clone(),
        nodes: nodes.clone(),
    });
    let ctx = Arc::new(Ctx {
        rs_events: events::Recorder::new(client.clone(), "replicaset-controller"),
        deploy_events: events::Recorder::new(client.clone(), "deployment-controller"),
        job_events: events::Recorder::new(client.clone(), "job-controller"),
        cronjob_events: events::Recorder::new(client.clone(), "cronjob-controller"),
        ds_events: events::Recorder::new(client.clone(), "daemonset-controller"),
        nodes,
        daemonsets,
        revisions,
        cronjobs,
        job_state: job::JobState::default(),
        jobs,
        services,
        endpoint_slices,
        client,
        clock: opts.clock.clone(),
        pods,
        replicasets,
        deployments,
        rs_expectations: expectations::Expectations::new(),
    });
    let workers = opts.concurrency;
    let c1 = ctx.clone();
    let c2 = ctx.clone();
    let c3 = ctx.clone();
    let c4 = ctx.clone();
    let c5 = ctx.clone();
    let c6 = ctx.clone();
    let jumps = clock_jumps(ctx.clone(), cj_queue.clone(), cancel.clone());
    tokio::join!(
        jumps,
        gc_queue.run(1, cancel.clone(), "podgc", move |k| podgc::reconcile(
            gc.clone(),
            k
        )),
        sts_queue.run(workers, cancel.clone(), "statefulset", move |k| {
            statefulset::reconcile(sts_ctx.clone(), k)
        }),
        ds_queue.run(workers, cancel.clone(), "daemonset", move |k| {
            daemonset::reconcile(c6.clone(), k)
        }),
        cj_queue.run(workers, cancel.clone(), "cronjob", move |k| {
            cronjob::reconcile(c5.clone(), k)
        }),
        job_queue.run(workers, cancel.clone(), "job", move |k| job::reconcile(
            c3.clone(),
            k
        )),
        svc_queue.run(workers, cancel.clone(), "endpoints", move |k| {
            endpoints::reconcile(c4.clone(), k)
        }),
        rs_queue.run(workers, cancel.clone(), "replicaset", move |k| {
            replicaset::reconcile(c1.clone(), k)
        }),
        deploy_queue.run(workers, cancel.clone(), "deployment", move |k| {
            deployment::reconcile(c2.clone(), k)
        }),
    );
    Ok(())
}

/// Re-queues every CronJob whenever an injected clock jumps.
async fn clock_jumps(ctx: Arc<Ctx>, q: Queue, cancel: CancellationToken) {
    let Some(mut rx) = ctx.clock.jumps() else {
        return;
    };
    tracing::debug!("watching the injected clock");
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            r = rx.changed() => if r.is_err() { return },
        }
        tracing::debug!(cronjobs = ctx.cronjobs.len(), "clock jumped");
        for c in ctx.cronjobs.state() {
            q.add(key_of(c.as_ref()));
        }
    }
}

fn enqueue_owner_deployment(rss: &Cache<ReplicaSet>, dq: &Queue, ns: &str, rs_name: &str) {
    let rs = rss.find(ns, rs_name);
    if let Some(r) = rs
        .as_deref()
        .and_then(|r| pods::controller_ref(&r.metadata))
        && r.kind == "Deployment"
    {
        dq.add(queue::key(ns, &r.name));
    }
}

/// Queues every owner in `ns` whose selector matches `labels` (for adoption of orphans).
fn enqueue_selecting<K>(
    cache: &Cache<K>,
    q: &Queue,
    ns: &str,
    labels: Option<&std::collections::BTreeMap<String, String>>,
    selector: impl Fn(&K) -> Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
) where
    K: kube::Resource<DynamicType = ()> + Clone + 'static,
{
    let empty = std::collections::BTreeMap::new();
    let labels = labels.unwrap_or(&empty);
    for o in cache.in_namespace(ns) {
        if let Some(sel) = selector(&o)
            && !pods::selector_is_empty(sel)
            && pods::selector_matches(sel, labels)
        {
            q.add(key_of(o.as_ref()));
        }
    }
}
