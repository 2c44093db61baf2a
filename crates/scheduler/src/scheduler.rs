//! The scheduling loop: watches feed the cache, the queue hands out pods, decisions are bound concurrently.

use crate::actions;
use crate::cache::{Cache, Change};
use crate::filters::{Code, CycleState, Status, run_filters};
use crate::interpod::AffinityState;
use crate::message::{self, Preemption};
use crate::queue::{Queue, QueueTiming};
use crate::scoring::{score_nodes, select_host};
use crate::snapshot::{NodeInfo, PodInfo};
use crate::volumebinding::VolumeState;
use controllers::events::Recorder;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How the scheduler behaves.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// Pods whose `spec.schedulerName` is this (or empty) are ours.
    pub scheduler_name: String,
    /// Bindings in flight at once.
    pub bind_concurrency: usize,
    /// Retry timing.
    pub timing: QueueTiming,
    /// How long binding waits for WaitForFirstConsumer claims to become Bound.
    pub volume_bind_timeout: Duration,
    /// Pods scheduled between two looks at the watches.
    pub batch: usize,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        SchedulerOptions {
            scheduler_name: "default-scheduler".into(),
            bind_concurrency: 64,
            timing: QueueTiming::default(),
            volume_bind_timeout: Duration::from_secs(600),
            batch: 256,
        }
    }
}

enum Input {
    Pod(Box<watcher::Event<Pod>>),
    Node(Box<watcher::Event<Node>>),
    Claim(Box<watcher::Event<PersistentVolumeClaim>>),
    Volume(Box<watcher::Event<PersistentVolume>>),
    Class(Box<watcher::Event<StorageClass>>),
    Namespace(Box<watcher::Event<Namespace>>),
    Bound {
        pod: Arc<Pod>,
        node: String,
        result: Result<(), String>,
    },
}

fn forward<K>(
    api: Api<K>,
    tx: mpsc::Sender<Input>,
    wrap: fn(watcher::Event<K>) -> Input,
    cancel: CancellationToken,
) where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    tokio::spawn(async move {
        let mut s = watcher(api, watcher::Config::default())
            .default_backoff()
            .boxed();
        loop {
            let ev = tokio::select! {
                _ = cancel.cancelled() => return,
                ev = s.next() => ev,
            };
            match ev {
                Some(Ok(ev)) => {
                    if tx.send(wrap(ev)).await.is_err() {
                        return;
                    }
                }
                Some(Err(e)) => tracing::debug!(error = %e, "scheduler watch error"),
                None => return,
            }
        }
    });
}

/// Keys seen during a relist, so objects that vanished meanwhile are dropped.
#[derive(Default)]
struct Relists {
    pods: Option<HashSet<String>>,
    nodes: Option<HashSet<String>>,
    claims: Option<BTreeMap<(String, String), PersistentVolumeClaim>>,
    volumes: Option<BTreeMap<String, PersistentVolume>>,
    classes: Option<BTreeMap<String, StorageClass>>,
    namespaces: Option<BTreeMap<String, Namespace>>,
}

struct Loop {
    client: Client,
    opts: SchedulerOptions,
    cache: Cache,
    queue: Queue,
    recorder: Recorder,
    binds: Arc<Semaphore>,
    tx: mpsc::Sender<Input>,
    tie: usize,
    relists: Relists,
    namespaces: BTreeMap<String, Namespace>,
}

/// Runs the scheduler until `cancel` fires.
pub async fn run(client: Client, opts: SchedulerOptions, cancel: CancellationToken) {
    let (tx, mut rx) = mpsc::channel(8192);
    let c = &client;
    forward(
        Api::<Pod>::all(c.clone()),
        tx.clone(),
        |e| Input::Pod(Box::new(e)),
        cancel.clone(),
    );
    forward(
        Api::<Node>::all(c.clone()),
        tx.clone(),
        |e| Input::Node(Box::new(e)),
        cancel.clone(),
    );
    forward(
        Api::<PersistentVolumeClaim>::all(c.clone()),
        tx.clone(),
        |e| Input::Claim(Box::new(e)),
        cancel.clone(),
    );
    forward(
        Api::<PersistentVolume>::all(c.clone()),
        tx.clone(),
        |e| Input::Volume(Box::new(e)),
        cancel.clone(),
    );
    forward(
        Api::<StorageClass>::all(c.clone()),
        tx.clone(),
        |e| Input::Class(Box::new(e)),
        cancel.clone(),
    );
    forward(
        Api::<Namespace>::all(c.clone()),
        tx.clone(),
        |e| Input::Namespace(Box::new(e)),
        cancel.clone(),
    );
    let mut lp = Loop {
        recorder: Recorder::new(client.clone(), &opts.scheduler_name),
        cache: Cache::new(&opts.scheduler_name),
        queue: Queue::new(opts.timing),
        binds: Arc::new(Semaphore::new(opts.bind_concurrency.max(1))),
        client,
        tx,
        opts,
        tie: 0,
        relists: Relists::default(),
        namespaces: BTreeMap::new(),
    };
    loop {
        // Pods left over from the last batch are due now.
        let wake = if lp.queue.has_active() {
            Instant::now()
        } else {
            lp.queue
                .next_wakeup()
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600))
        };
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return,
            input = rx.recv() => match input {
                Some(i) => lp.handle(i),
                None => return,
            },
            _ = tokio::time::sleep_until(wake) => {}
        }
        // Take in everything already queued so decisions see the freshest state.
        for _ in 0..16_384 {
            match rx.try_recv() {
                Ok(i) => lp.handle(i),
                Err(_) => break,
            }
        }
        lp.queue.tick(Instant::now());
        for _ in 0..lp.opts.batch {
            let Some(uid) = lp.queue.pop() else { break };
            lp.schedule_one(&uid);
        }
        // Let binding tasks and watches run between batches.
        tokio::task::yield_now().await;
    }
}

fn uid_of<K: Resource>(o: &K) -> String {
    o.meta().uid.clone().unwrap_or_default()
}

fn name_of<K: Resource>(o: &K) -> String {
    o.meta().name.clone().unwrap_or_default()
}

fn key_of<K: Resource>(o: &K) -> (String, String) {
    (o.meta().namespace.clone().unwrap_or_default(), name_of(o))
}

impl Loop {
    fn changed(&mut self, change: Change, uid: Option<&str>) {
        let now = Instant::now();
        match change {
            Change::None => {}
            Change::Cluster => self.queue.move_all(now),
            Change::Pending => {
                if let Some(uid) = uid
                    && let Some(p) = self.cache.pending.get(uid)
                {
                    let prio = p.spec.as_ref().and_then(|s| s.priority).unwrap_or(0);
                    self.queue.add(uid, prio, now);
                    self.queue.updated(uid, now);
                }
            }
        }
    }

    fn handle(&mut self, input: Input) {
        match input {
            Input::Pod(ev) => self.handle_pod(*ev),
            Input::Node(ev) => self.handle_node(*ev),
            Input::Claim(ev) => {
                let cat = &mut self.cache.catalog.claims;
                apply_map(*ev, cat, &mut self.relists.claims, key_of);
                self.changed(Change::Cluster, None);
            }
            Input::Volume(ev) => {
                let cat = &mut self.cache.catalog.volumes;
                apply_map(*ev, cat, &mut self.relists.volumes, name_of);
                self.changed(Change::Cluster, None);
            }
            Input::Class(ev) => {
                let cat = &mut self.cache.catalog.classes;
                apply_map(*ev, cat, &mut self.relists.classes, name_of);
                self.changed(Change::Cluster, None);
            }
            Input::Namespace(ev) => {
                apply_map(
                    *ev,
                    &mut self.namespaces,
                    &mut self.relists.namespaces,
                    name_of,
                );
                // Only labels matter, for namespaceSelector in pod affinity terms.
                self.cache.namespaces = self
                    .namespaces
                    .iter()
                    .map(|(k, v)| (k.clone(), v.metadata.labels.clone().unwrap_or_default()))
                    .collect();
            }
            Input::Bound { pod, node, result } => self.handle_bound(pod, node, result),
        }
    }

    fn handle_pod(&mut self, ev: watcher::Event<Pod>) {
        match ev {
            watcher::Event::Init => self.relists.pods = Some(HashSet::new()),
            watcher::Event::InitApply(p) | watcher::Event::Apply(p) => {
                let uid = uid_of(&p);
                if let Some(seen) = self.relists.pods.as_mut() {
                    seen.insert(uid.clone());
                }
                let c = self.cache.apply_pod(p);
                if !self.cache.pending.contains_key(&uid) {
                    self.queue.remove(&uid);
                }
                self.changed(c, Some(&uid));
            }
            watcher::Event::Delete(p) => {
                let uid = uid_of(&p);
                self.queue.remove(&uid);
                let c = self.cache.delete_pod(&uid);
                self.changed(c, None);
            }
            watcher::Event::InitDone => {
                let Some(seen) = self.relists.pods.take() else {
                    return;
                };
                let gone: Vec<String> = self
                    .cache
                    .assigned
                    .keys()
                    .chain(self.cache.pending.keys())
                    .filter(|u| !seen.contains(*u) && !self.cache.assumed.contains_key(*u))
                    .cloned()
                    .collect();
                for uid in gone {
                    self.queue.remove(&uid);
                    self.cache.delete_pod(&uid);
                }
                self.changed(Change::Cluster, None);
            }
        }
    }

    fn handle_node(&mut self, ev: watcher::Event<Node>) {
        match ev {
            watcher::Event::Init => self.relists.nodes = Some(HashSet::new()),
            watcher::Event::InitApply(n) | watcher::Event::Apply(n) => {
                if let Some(seen) = self.relists.nodes.as_mut() {
                    seen.insert(name_of(&n));
                }
                let c = self.cache.apply_node(&n);
                self.changed(c, None);
            }
            watcher::Event::Delete(n) => {
                let c = self.cache.delete_node(&name_of(&n));
                self.changed(c, None);
            }
            watcher::Event::InitDone => {
                let Some(seen) = self.relists.nodes.take() else {
                    return;
                };
                let gone: Vec<String> = self
                    .cache
                    .nodes
                    .keys()
                    .filter(|n| !seen.contains(*n))
                    .cloned()
                    .collect();
                for n in gone {
                    self.cache.delete_node(&n);
                }
                self.changed(Change::Cluster, None);
            }
        }
    }

    fn handle_bound(&mut self, pod: Arc<Pod>, node: String, result: Result<(), String>) {
        let uid = uid_of(pod.as_ref());
        match result {
            Ok(()) => {
                let recorder = self.recorder.clone();
                tokio::spawn(
                    async move { actions::report_scheduled(&recorder, &pod, &node).await },
                );
            }
            Err(e) => {
                tracing::info!(pod = %name_of(pod.as_ref()), node, error = %e, "binding failed");
                if !self.cache.assumed.contains_key(&uid) {
                    return;
                }
                self.cache.forget(pod.clone());
                let prio = pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0);
                self.queue.add(&uid, prio, Instant::now());
                self.queue.retry_later(&uid, Instant::now());
                let (client, recorder) = (self.client.clone(), self.recorder.clone());
                tokio::spawn(async move {
                    let msg = format!("Binding rejected: {e}");
                    actions::report_failure(&client, &recorder, &pod, "SchedulerError", &msg).await;
                });
            }
        }
    }

    fn schedule_one(&mut self, uid: &str) {
        let Some(pod) = self.cache.pending.get(uid).cloned() else {
            self.queue.remove(uid);
            return;
        };
        let info = PodInfo::new(&pod);
        match self.decide(&info) {
            Decision::Bind { node, volumes } => {
                self.cache.assume(&pod, &node);
                self.queue.done(uid);
                self.spawn_bind(pod, node, volumes);
            }
            Decision::Fail { message, victims } => {
                self.queue.unschedulable(uid, Instant::now());
                let (client, recorder) = (self.client.clone(), self.recorder.clone());
                let scheduler = self.opts.scheduler_name.clone();
                let victim_pods: Option<(String, Vec<Pod>)> = victims.map(|(node, uids)| {
                    (
                        node,
                        uids.iter().filter_map(|u| self.victim_pod(u)).collect(),
                    )
                });
                tokio::spawn(async move {
                    if let Some((node, victims)) = victim_pods {
                        actions::preempt(&client, &recorder, &pod, &node, &victims, &scheduler)
                            .await;
                    }
                    actions::report_failure(&client, &recorder, &pod, "Unschedulable", &message)
                        .await;
                });
            }
        }
    }

    fn victim_pod(&self, uid: &str) -> Option<Pod> {
        let (_, info) = self.cache.assigned.get(uid)?;
        let mut p = Pod::default();
        p.metadata.name = Some(info.name.clone());
        p.metadata.namespace = Some(info.namespace.clone());
        p.metadata.uid = Some(info.uid.clone());
        Some(p)
    }

    fn spawn_bind(
        &self,
        pod: Arc<Pod>,
        node: String,
        volumes: Vec<crate::volumebinding::Decision>,
    ) {
        let (client, tx, sem) = (self.client.clone(), self.tx.clone(), self.binds.clone());
        let timeout = self.opts.volume_bind_timeout;
        tokio::spawn(async move {
            let _permit = sem.acquire_owned().await;
            let result = actions::bind(&client, &pod, &node, &volumes, timeout).await;
            let _ = tx.send(Input::Bound { pod, node, result }).await;
        });
    }

    fn decide(&mut self, info: &PodInfo) -> Decision {
        let snap = self.cache.snapshot();
        let n = snap.nodes.len();
        if n == 0 {
            return Decision::fail(message::NO_NODES.into());
        }
        let volumes = match VolumeState::compute(info, &self.cache.catalog) {
            Ok(v) => v,
            Err(msg) => {
                let st = Status {
                    code: Code::Unresolvable,
                    reasons: vec![msg.clone()],
                };
                let nodes: Vec<(&NodeInfo, Option<&Status>)> =
                    snap.nodes.iter().map(|n| (*n, Some(&st))).collect();
                let post = match message::preemption(info, &nodes, |_, _| Err(st.clone())) {
                    Preemption::Message(m) => m,
                    Preemption::Victims { .. } => String::new(),
                };
                return Decision::fail(message::fit_error(n, Some(&msg), &[], &post));
            }
        };
        let affinity = if info.has_pod_affinity_terms() || self.cache.affinity_pods > 0 {
            AffinityState::compute(info, &snap)
        } else {
            AffinityState::default()
        };
        let state = CycleState { affinity, volumes };
        let mut feasible = Vec::new();
        let mut statuses: Vec<Option<Status>> = Vec::with_capacity(n);
        for node in &snap.nodes {
            match run_filters(info, node, &state) {
                Ok(()) => {
                    feasible.push(*node);
                    statuses.push(None);
                }
                Err(s) => statuses.push(Some(s)),
            }
        }
        if feasible.is_empty() {
            let pairs: Vec<(&NodeInfo, Option<&Status>)> = snap
                .nodes
                .iter()
                .zip(statuses.iter())
                .map(|(n, s)| (*n, s.as_ref()))
                .collect();
            let refit = |node: &NodeInfo, victims: &[&str]| {
                let mut copy = node.clone();
                for v in victims {
                    copy.remove_pod(v);
                }
                run_filters(info, &copy, &state)
            };
            let all: Vec<Status> = statuses.iter().flatten().cloned().collect();
            return match message::preemption(info, &pairs, refit) {
                Preemption::Message(post) => {
                    Decision::fail(message::fit_error(n, None, &all, &post))
                }
                Preemption::Victims { node, victims } => {
                    let minimal = snap
                        .nodes
                        .iter()
                        .find(|x| x.name == node)
                        .map(|ni| minimal_victims(info, ni, victims.clone(), &state))
                        .unwrap_or(victims);
                    Decision::Fail {
                        message: message::fit_error(n, None, &all, ""),
                        victims: Some((node, minimal)),
                    }
                }
            };
        }
        let scores = score_nodes(info, &feasible, &state);
        self.tie = self.tie.wrapping_add(1);
        let Some(best) = select_host(&scores, self.tie) else {
            return Decision::fail(message::NO_NODES.into());
        };
        let node = feasible[best];
        let volumes = state.volumes.decide(node).unwrap_or_default();
        Decision::Bind {
            node: node.name.clone(),
            volumes,
        }
    }
}

/// Keeps as many would-be victims as possible, highest priority first, as
/// DefaultPreemption's reprieve step does.
fn minimal_victims(
    pod: &PodInfo,
    node: &NodeInfo,
    mut victims: Vec<String>,
    state: &CycleState,
) -> Vec<String> {
    victims.sort_by_key(|u| std::cmp::Reverse(node.pods.get(u).map_or(0, |p| p.priority)));
    let mut kept = Vec::new();
    for candidate in victims.clone() {
        let mut copy = node.clone();
        for v in victims
            .iter()
            .filter(|v| **v != candidate && !kept.contains(*v))
        {
            copy.remove_pod(v);
        }
        if run_filters(pod, &copy, state).is_ok() {
            kept.push(candidate);
        }
    }
    victims.retain(|v| !kept.contains(v));
    victims
}

enum Decision {
    Bind {
        node: String,
        volumes: Vec<crate::volumebinding::Decision>,
    },
    Fail {
        message: String,
        victims: Option<(String, Vec<String>)>,
    },
}

impl Decision {
    fn fail(message: String) -> Self {
        Decision::Fail {
            message,
            victims: None,
        }
    }
}

/// Applies a watch event to a mirrored map. A relist is collected aside and
/// swapped in whole at InitDone, so decisions never see a half-listed catalog.
fn apply_map<K, Key: Ord>(
    ev: watcher::Event<K>,
    map: &mut BTreeMap<Key, K>,
    building: &mut Option<BTreeMap<Key, K>>,
    key: fn(&K) -> Key,
) {
    match ev {
        watcher::Event::Apply(o) => {
            map.insert(key(&o), o);
        }
        watcher::Event::InitApply(o) => {
            building
                .get_or_insert_with(BTreeMap::new)
                .insert(key(&o), o);
        }
        watcher::Event::Delete(o) => {
            map.remove(&key(&o));
        }
        watcher::Event::Init => *building = Some(BTreeMap::new()),
        watcher::Event::InitDone => {
            if let Some(b) = building.take() {
                *map = b;
            }
        }
    }
}
