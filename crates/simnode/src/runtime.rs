//! The running simulated node: heartbeats, the pod loop and the commands tests use.

use crate::ipam::Ipam;
use crate::objects::{self, NodeAddresses, RunInfo};
use crate::{Error, SimNodeOptions};
use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A node that exists only as API objects: it registers itself, renews its Lease and
/// acts as the kubelet for pods bound to it, without running any container.
pub struct SimNode {
    shared: Arc<Shared>,
    cancel: CancellationToken,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

struct Shared {
    client: Client,
    opts: SimNodeOptions,
    addrs: NodeAddresses,
    capacity: BTreeMap<String, String>,
    state: Mutex<State>,
}

struct State {
    ipam: Ipam,
    /// Pods this node runs, by namespace/name, with the uid they were started under.
    running: HashMap<(String, String), (String, RunInfo)>,
}

type Key = (String, String);

fn key(pod: &Pod) -> Key {
    (
        pod.metadata.namespace.clone().unwrap_or_default(),
        pod.metadata.name.clone().unwrap_or_default(),
    )
}

impl SimNode {
    /// Registers the Node and its Lease, then starts heartbeats and the pod loop.
    pub async fn start(client: Client, opts: SimNodeOptions) -> Result<SimNode, Error> {
        let index = opts
            .index
            .unwrap_or_else(|| (objects::fnv64(&[&opts.name]) % 4096) as u16);
        let addrs = NodeAddresses::for_index(index);
        let capacity: BTreeMap<String, String> = [
            ("cpu", opts.capacity.cpu.clone()),
            ("memory", opts.capacity.memory.clone()),
            ("pods", opts.capacity.pods.to_string()),
            ("ephemeral-storage", "100Gi".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let shared = Arc::new(Shared {
            client,
            addrs: addrs.clone(),
            capacity,
            state: Mutex::new(State {
                ipam: Ipam::new(addrs.pod_net),
                running: HashMap::new(),
            }),
            opts,
        });
        let uid = shared.register().await?;
        shared.renew_lease(&uid).await?;
        let cancel = CancellationToken::new();
        let tasks = vec![
            tokio::spawn(heartbeats(shared.clone(), uid, cancel.clone())),
            tokio::spawn(pod_loop(shared.clone(), cancel.clone())),
        ];
        Ok(SimNode {
            shared,
            cancel,
            tasks: Mutex::new(tasks),
        })
    }

    /// The Node's name.
    pub fn name(&self) -> &str {
        &self.shared.opts.name
    }

    /// The node's InternalIP.
    pub fn internal_ip(&self) -> &str {
        &self.shared.addrs.internal_ip
    }

    /// Stops heartbeats and pod handling, as if the kubelet died. The Node stays.
    pub fn stop(&self) {
        self.cancel.cancel();
        for t in self
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            t.abort();
        }
    }

    /// Marks the pod's containers ready or not ready, as a readiness probe would.
    pub async fn set_ready(&self, namespace: &str, name: &str, ready: bool) -> Result<(), Error> {
        let pod = self.shared.bound_pod(namespace, name).await?;
        let run = self.shared.update_run(&pod, |r| r.ready = ready)?;
        self.shared
            .write_status(&pod, objects::running_status(&pod, &run, Timestamp::now()))
            .await
    }

    /// Makes the pod's containers exit with `exit_code`; the kubelet restarts them
    /// or ends the pod Failed according to restartPolicy.
    pub async fn fail_pod(&self, namespace: &str, name: &str, exit_code: i32) -> Result<(), Error> {
        let pod = self.shared.bound_pod(namespace, name).await?;
        self.shared.terminate(&pod, exit_code).await
    }

    /// Makes the pod's containers exit 0, so a Job pod ends Succeeded.
    pub async fn succeed_pod(&self, namespace: &str, name: &str) -> Result<(), Error> {
        self.fail_pod(namespace, name, 0).await
    }
}

impl Drop for SimNode {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Shared {
    fn nodes(&self) -> Api<Node> {
        Api::all(self.client.clone())
    }

    fn pods(&self, namespace: &str) -> Api<Pod> {
        Api::namespaced(self.client.clone(), namespace)
    }

    fn node_status(&self, old: Option<&Node>) -> Value {
        let mut status = objects::node_status(
            &self.opts.name,
            &self.addrs,
            &self.capacity,
            Timestamp::now(),
        );
        let old_status = old
            .and_then(|n| n.status.as_ref())
            .and_then(|s| serde_json::to_value(s).ok());
        objects::keep_transition_times(&mut status, old_status.as_ref());
        status
    }

    /// Creates the Node, or refreshes labels, taints and status of an existing one
    /// (a restarted kubelet), and returns its uid.
    async fn register(&self) -> Result<String, Error> {
        let o = &self.opts;
        let want = objects::node_object(
            &o.name,
            &self.addrs,
            &self.capacity,
            &o.labels,
            &o.taints,
            Timestamp::now(),
        );
        let node: Node = serde_json::from_value(want.clone())?;
        let created = match self.nodes().create(&PostParams::default(), &node).await {
            Ok(n) => n,
            Err(kube::Error::Api(s)) if s.code == 409 => {
                let patch = json!({"metadata": {"labels": want["metadata"]["labels"]},
                                   "spec": {"taints": want["spec"]["taints"]}});
                self.nodes()
                    .patch(&o.name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await?
            }
            Err(e) => return Err(e.into()),
        };
        let status = self.node_status(Some(&created));
        self.nodes()
            .patch_status(
                &o.name,
                &PatchParams::default(),
                &Patch::Merge(&json!({"status": status})),
            )
            .await?;
        Ok(created.metadata.uid.unwrap_or_default())
    }

    async fn renew_lease(&self, node_uid: &str) -> Result<(), Error> {
        let leases: Api<Lease> = Api::namespaced(self.client.clone(), "kube-node-lease");
        let now = Timestamp::now();
        let patch = json!({"spec": {
            "holderIdentity": self.opts.name,
            "leaseDurationSeconds": self.opts.lease_duration_seconds,
            "renewTime": objects::micro_time(now),
        }});
        match leases
            .patch(
                &self.opts.name,
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => {
                let lease: Lease = serde_json::from_value(objects::lease_object(
                    &self.opts.name,
                    node_uid,
                    self.opts.lease_duration_seconds,
                    now,
                ))?;
                leases.create(&PostParams::default(), &lease).await?;
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn report_status(&self) -> Result<(), Error> {
        let old = self.nodes().get_opt(&self.opts.name).await?;
        if old.is_none() {
            self.register().await?;
            return Ok(());
        }
        let status = self.node_status(old.as_ref());
        self.nodes()
            .patch_status(
                &self.opts.name,
                &PatchParams::default(),
                &Patch::Merge(&json!({"status": status})),
            )
            .await?;
        Ok(())
    }

    async fn bound_pod(&self, namespace: &str, name: &str) -> Result<Pod, Error> {
        let pod = self.pods(namespace).get(name).await?;
        let node = pod.spec.as_ref().and_then(|s| s.node_name.as_deref());
        if node != Some(self.opts.name.as_str()) {
            return Err(Error::NotOnThisNode {
                namespace: namespace.into(),
                name: name.into(),
                node: self.opts.name.clone(),
            });
        }
        Ok(pod)
    }

    fn update_run(&self, pod: &Pod, f: impl FnOnce(&mut RunInfo)) -> Result<RunInfo, Error> {
        let k = key(pod);
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match st.running.get_mut(&k) {
            Some((uid, run)) if Some(uid.as_str()) == pod.metadata.uid.as_deref() => {
                f(run);
                Ok(run.clone())
            }
            _ => Err(Error::NotRunning {
                namespace: k.0,
                name: k.1,
                node: self.opts.name.clone(),
            }),
        }
    }

    fn release(&self, k: &Key) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, run)) = st.running.remove(k)
            && let Ok(ip) = run.pod_ip.parse::<Ipv4Addr>()
        {
            st.ipam.release(ip);
        }
    }

    async fn write_status(&self, pod: &Pod, status: Value) -> Result<(), Error> {
        let (ns, name) = key(pod);
        // The uid precondition keeps a late write from landing on a recreated pod.
        let patch = json!({"metadata": {"uid": pod.metadata.uid}, "status": status});
        // The updated pod comes back through the watch; reading the response as
        // text skips decoding a whole Pod per status write.
        let req = kube::core::Request::new(format!("/api/v1/namespaces/{ns}/pods"))
            .patch_subresource(
                "status",
                &name,
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .map_err(kube::Error::BuildRequest)?;
        self.client.request_text(req).await?;
        Ok(())
    }

    async fn terminate(&self, pod: &Pod, exit_code: i32) -> Result<(), Error> {
        if objects::restarts(pod, exit_code) {
            let ready = self.opts.ready_on_start;
            let run = self.update_run(pod, |r| {
                r.restart_count += 1;
                r.started = Timestamp::now();
                r.ready = ready;
            })?;
            return self
                .write_status(pod, objects::running_status(pod, &run, Timestamp::now()))
                .await;
        }
        let run = self.update_run(pod, |_| {})?;
        let status = objects::terminated_status(pod, &run, exit_code, Timestamp::now());
        self.release(&key(pod));
        self.write_status(pod, status).await
    }

    /// Acts on one observed pod the way the kubelet's sync loop would.
    async fn sync_pod(self: &Arc<Self>, pod: Pod) -> Result<(), Error> {
        let k = key(&pod);
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        if pod.metadata.deletion_timestamp.is_some() {
            // The simulated containers stop at once, so the kubelet's final delete
            // with grace period 0 follows immediately.
            self.release(&k);
            let dp = DeleteParams {
                grace_period_seconds: Some(0),
                preconditions: Some(Preconditions {
                    uid: Some(uid),
                    resource_version: None,
                }),
                ..DeleteParams::default()
            };
            return match self.pods(&k.0).delete(&k.1, &dp).await {
                Ok(_) => Ok(()),
                Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => Ok(()),
                Err(e) => Err(e.into()),
            };
        }
        let status = pod.status.clone().unwrap_or_default();
        let phase = status.phase.as_deref().unwrap_or("Pending");
        if phase == "Succeeded" || phase == "Failed" {
            self.release(&k);
            return Ok(());
        }
        let known = {
            let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            st.running.get(&k).is_some_and(|(u, _)| *u == uid)
        };
        if known {
            return Ok(());
        }
        if phase == "Running"
            && let Some(ip) = status.pod_ip.as_deref().and_then(|i| i.parse().ok())
        {
            // Adopted after a restart of the simulated node: keep what it reported.
            let ready = status
                .conditions
                .iter()
                .flatten()
                .any(|c| c.type_ == "Ready" && c.status == "True");
            let run = RunInfo {
                host_ip: self.addrs.internal_ip.clone(),
                pod_ip: ip_string(ip),
                started: status.start_time.as_ref().map_or(Timestamp::now(), |t| t.0),
                restart_count: 0,
                ready,
            };
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            st.ipam.reserve(ip);
            st.running.insert(k, (uid, run));
            return Ok(());
        }
        let run = {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let ip = st.ipam.allocate().ok_or_else(|| Error::NoFreeIp {
                node: self.opts.name.clone(),
                cidr: st.ipam.cidr(),
            })?;
            let run = RunInfo {
                host_ip: self.addrs.internal_ip.clone(),
                pod_ip: ip_string(ip),
                started: Timestamp::now(),
                restart_count: 0,
                ready: self.opts.ready_on_start,
            };
            st.running.insert(k.clone(), (uid, run.clone()));
            run
        };
        if let Err(e) = self
            .write_status(&pod, objects::running_status(&pod, &run, Timestamp::now()))
            .await
        {
            self.release(&k);
            return Err(e);
        }
        let completes = pod
            .spec
            .as_ref()
            .and_then(|s| s.restart_policy.as_deref())
            .is_some_and(|p| p == "Never" || p == "OnFailure");
        if let (true, Some(after)) = (completes, self.opts.auto_complete_after) {
            let me = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                if let Ok(fresh) = me.bound_pod(&k.0, &k.1).await
                    && fresh.metadata.uid == pod.metadata.uid
                    && let Err(e) = me.terminate(&fresh, 0).await
                {
                    tracing::debug!(pod = %k.1, error = %e, "auto-complete skipped");
                }
            });
        }
        Ok(())
    }
}

fn ip_string(ip: Ipv4Addr) -> String {
    ip.to_string()
}

async fn heartbeats(shared: Arc<Shared>, node_uid: String, cancel: CancellationToken) {
    let mut lease_tick = tokio::time::interval(shared.opts.lease_renew_interval);
    let mut status_tick = tokio::time::interval(shared.opts.status_report_interval);
    // Both were just written by start().
    lease_tick.tick().await;
    status_tick.tick().await;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = lease_tick.tick() => {
                if let Err(e) = shared.renew_lease(&node_uid).await {
                    tracing::warn!(node = %shared.opts.name, error = %e, "lease renewal failed");
                }
            }
            _ = status_tick.tick() => {
                if let Err(e) = shared.report_status().await {
                    tracing::warn!(node = %shared.opts.name, error = %e, "node status update failed");
                }
            }
        }
    }
}

async fn pod_loop(shared: Arc<Shared>, cancel: CancellationToken) {
    let api: Api<Pod> = Api::all(shared.client.clone());
    let cfg = watcher::Config::default().fields(&format!("spec.nodeName={}", shared.opts.name));
    let mut events = watcher(api, cfg).default_backoff().boxed();
    loop {
        let ev = tokio::select! {
            _ = cancel.cancelled() => return,
            ev = events.next() => ev,
        };
        let Some(ev) = ev else { return };
        let result = match ev {
            Ok(watcher::Event::Apply(pod) | watcher::Event::InitApply(pod)) => {
                shared.sync_pod(pod).await
            }
            Ok(watcher::Event::Delete(pod)) => {
                shared.release(&key(&pod));
                Ok(())
            }
            Ok(watcher::Event::Init | watcher::Event::InitDone) => Ok(()),
            Err(e) => {
                tracing::debug!(node = %shared.opts.name, error = %e, "pod watch error");
                Ok(())
            }
        };
        if let Err(e) = result {
            tracing::warn!(node = %shared.opts.name, error = %e, "pod sync failed");
        }
    }
}
