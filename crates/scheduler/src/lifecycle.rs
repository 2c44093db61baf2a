//! The node lifecycle controller: Ready=Unknown when a node's Lease goes stale, not-ready/unreachable taints, NoExecute eviction.

use crate::selectors::tolerates;
use controllers::events::{EventType, Recorder, object_reference};
use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod, Taint};
use kube::api::{Api, DeleteParams, Patch, PatchParams, Preconditions};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Taint on nodes whose Ready condition is False.
pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
/// Taint on nodes whose Ready condition is Unknown.
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";

/// Timing of the node lifecycle controller.
#[derive(Debug, Clone)]
pub struct LifecycleOptions {
    /// How long a node may go without renewing its Lease before it is Unknown
    /// (kube-controller-manager's nodeMonitorGracePeriod: 40 s).
    pub grace_period: Duration,
    /// How often nodes are checked (nodeMonitorPeriod: 5 s).
    pub monitor_period: Duration,
}

impl Default for LifecycleOptions {
    fn default() -> Self {
        LifecycleOptions {
            grace_period: Duration::from_secs(40),
            monitor_period: Duration::from_secs(5),
        }
    }
}

/// The taints a node should carry for its Ready status (`True`, `False`, `Unknown`).
pub fn condition_taints(ready: &str) -> Vec<(&'static str, &'static str)> {
    let key = match ready {
        "True" => return Vec::new(),
        "False" => TAINT_NOT_READY,
        _ => TAINT_UNREACHABLE,
    };
    vec![(key, "NoSchedule"), (key, "NoExecute")]
}

/// How long a pod may stay on a node with these NoExecute taints: `None` forever,
/// `Some(0)` evict now. The shortest tolerationSeconds among tolerations that
/// match wins; one untolerated taint means now.
pub fn eviction_delay(pod: &Pod, taints: &[Taint]) -> Option<Duration> {
    let tols = pod
        .spec
        .as_ref()
        .and_then(|s| s.tolerations.clone())
        .unwrap_or_default();
    let mut min: Option<Duration> = None;
    for t in taints.iter().filter(|t| t.effect == "NoExecute") {
        let matching: Vec<_> = tols.iter().filter(|tol| tolerates(tol, t)).collect();
        if matching.is_empty() {
            return Some(Duration::ZERO);
        }
        for tol in matching {
            if let Some(s) = tol.toleration_seconds {
                let d = Duration::from_secs(s.max(0) as u64);
                min = Some(min.map_or(d, |m| m.min(d)));
            }
        }
    }
    min
}

fn ready_status(node: &Node) -> String {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
        .map_or_else(|| "Unknown".into(), |c| c.status.clone())
}

fn ready_heartbeat(node: &Node) -> Option<String> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")?
        .last_heartbeat_time
        .as_ref()
        .map(|t| t.0.to_string())
}

enum Input {
    Node(Box<watcher::Event<Node>>),
    Lease(Box<watcher::Event<Lease>>),
    Pod(Box<watcher::Event<Pod>>),
}

fn forward<K>(
    api: Api<K>,
    cfg: watcher::Config,
    tx: mpsc::Sender<Input>,
    wrap: fn(watcher::Event<K>) -> Input,
    cancel: CancellationToken,
) where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
{
    tokio::spawn(async move {
        let mut s = watcher(api, cfg).default_backoff().boxed();
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
                Some(Err(e)) => tracing::debug!(error = %e, "node lifecycle watch error"),
                None => return,
            }
        }
    });
}

/// An unboxed [`Input`], for matching. It lives only for one `match`, so its
/// size does not matter the way a queued value's does.
#[allow(clippy::large_enum_variant)]
enum Ev {
    Node(watcher::Event<Node>),
    Lease(watcher::Event<Lease>),
    Pod(watcher::Event<Pod>),
}

#[derive(Default)]
struct State {
    nodes: BTreeMap<String, Node>,
    /// Last seen lease renewTime / Ready heartbeat, and when (our clock) it changed.
    probes: HashMap<String, (Option<String>, Option<String>, Instant)>,
    /// When we first saw NoExecute taints on a node.
    no_execute_since: HashMap<String, Instant>,
    pods: HashMap<String, Pod>,
    evicted: HashSet<String>,
}

/// Runs the node lifecycle controller until `cancel` fires.
pub async fn run(client: Client, opts: LifecycleOptions, cancel: CancellationToken) {
    let (tx, mut rx) = mpsc::channel(4096);
    forward(
        Api::<Node>::all(client.clone()),
        watcher::Config::default(),
        tx.clone(),
        |e| Input::Node(Box::new(e)),
        cancel.clone(),
    );
    forward(
        Api::<Lease>::namespaced(client.clone(), "kube-node-lease"),
        watcher::Config::default(),
        tx.clone(),
        |e| Input::Lease(Box::new(e)),
        cancel.clone(),
    );
    forward(
        Api::<Pod>::all(client.clone()),
        watcher::Config::default().fields("spec.nodeName!="),
        tx,
        |e| Input::Pod(Box::new(e)),
        cancel.clone(),
    );
    let recorder = Recorder::new(client.clone(), "node-controller");
    let mut st = State::default();
    let mut next_check = Instant::now() + opts.monitor_period;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            input = rx.recv() => match input {
                Some(i) => st.handle(i),
                None => return,
            },
            _ = tokio::time::sleep_until(next_check) => {
                let now = Instant::now();
                st.monitor(&client, &opts, now).await;
                st.evict(&client, &recorder, now).await;
                next_check = now + opts.monitor_period;
            }
        }
    }
}

impl State {
    fn handle(&mut self, input: Input) {
        let now = Instant::now();
        let input = match input {
            Input::Node(e) => Ev::Node(*e),
            Input::Lease(e) => Ev::Lease(*e),
            Input::Pod(e) => Ev::Pod(*e),
        };
        match input {
            Ev::Node(watcher::Event::Apply(n) | watcher::Event::InitApply(n)) => {
                let name = n.metadata.name.clone().unwrap_or_default();
                let hb = ready_heartbeat(&n);
                let e = self
                    .probes
                    .entry(name.clone())
                    .or_insert((None, hb.clone(), now));
                if e.1 != hb {
                    e.1 = hb;
                    e.2 = now;
                }
                let has_no_execute = n
                    .spec
                    .as_ref()
                    .and_then(|s| s.taints.as_ref())
                    .is_some_and(|t| t.iter().any(|t| t.effect == "NoExecute"));
                if has_no_execute {
                    self.no_execute_since.entry(name.clone()).or_insert(now);
                } else {
                    self.no_execute_since.remove(&name);
                }
                self.nodes.insert(name, n);
            }
            Ev::Node(watcher::Event::Delete(n)) => {
                let name = n.metadata.name.clone().unwrap_or_default();
                self.nodes.remove(&name);
                self.probes.remove(&name);
                self.no_execute_since.remove(&name);
            }
            Ev::Lease(watcher::Event::Apply(l) | watcher::Event::InitApply(l)) => {
                let name = l.metadata.name.clone().unwrap_or_default();
                let renew = l.spec.and_then(|s| s.renew_time).map(|t| t.0.to_string());
                let e = self.probes.entry(name).or_insert((None, None, now));
                if e.0 != renew {
                    e.0 = renew;
                    e.2 = now;
                }
            }
            Ev::Pod(watcher::Event::Apply(p) | watcher::Event::InitApply(p)) => {
                let uid = p.metadata.uid.clone().unwrap_or_default();
                self.pods.insert(uid, p);
            }
            Ev::Pod(watcher::Event::Delete(p)) => {
                let uid = p.metadata.uid.clone().unwrap_or_default();
                self.pods.remove(&uid);
                self.evicted.remove(&uid);
            }
            _ => {}
        }
    }

    /// Marks silent nodes Unknown and keeps condition taints in line with Ready.
    async fn monitor(&mut self, client: &Client, opts: &LifecycleOptions, now: Instant) {
        let nodes: Api<Node> = Api::all(client.clone());
        let names: Vec<String> = self.nodes.keys().cloned().collect();
        for name in names {
            let Some(node) = self.nodes.get(&name).cloned() else {
                continue;
            };
            let probe = self.probes.get(&name).map_or(now, |p| p.2);
            let mut node = node;
            let mut ready = ready_status(&node);
            if now.duration_since(probe) > opts.grace_period && ready != "Unknown" {
                match mark_unknown(&nodes, &node).await {
                    // Continue with the written object, so the taint update that
                    // follows does not conflict with our own status write.
                    Ok(updated) => node = updated,
                    Err(e) => {
                        tracing::warn!(node = %name, error = %e, "cannot mark node Unknown");
                        continue;
                    }
                }
                ready = "Unknown".into();
                self.mark_pods_not_ready(client, &name).await;
            }
            match sync_taints(&nodes, &node, &ready).await {
                Ok(Some(updated)) => {
                    // The toleration clock starts when the taint is added, not
                    // when its watch event happens to arrive.
                    let no_execute = updated
                        .spec
                        .as_ref()
                        .and_then(|s| s.taints.as_ref())
                        .is_some_and(|t| t.iter().any(|t| t.effect == "NoExecute"));
                    if no_execute {
                        self.no_execute_since.entry(name.clone()).or_insert(now);
                    }
                    self.nodes.insert(name, updated);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(node = %name, error = %e, "cannot update node taints"),
            }
        }
    }

    async fn mark_pods_not_ready(&self, client: &Client, node: &str) {
        for p in self.pods.values() {
            if p.spec.as_ref().and_then(|s| s.node_name.as_deref()) != Some(node) {
                continue;
            }
            let Some(status) = p.status.as_ref() else {
                continue;
            };
            let conds: Vec<Value> = status
                .conditions
                .iter()
                .flatten()
                .map(|c| {
                    let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
                    if c.type_ == "Ready" && c.status != "False" {
                        v["status"] = json!("False");
                        v["lastTransitionTime"] = json!(Timestamp::now().to_string());
                    }
                    v
                })
                .collect();
            let ns = p.metadata.namespace.clone().unwrap_or_default();
            let name = p.metadata.name.clone().unwrap_or_default();
            let patch = json!({"status": {"conditions": conds}});
            let _ = Api::<Pod>::namespaced(client.clone(), &ns)
                .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await;
        }
    }

    /// Deletes pods whose toleration of their node's NoExecute taints ran out.
    async fn evict(&mut self, client: &Client, recorder: &Recorder, now: Instant) {
        let mut due = Vec::new();
        for (uid, p) in &self.pods {
            if self.evicted.contains(uid) || p.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let Some(node) = p.spec.as_ref().and_then(|s| s.node_name.as_deref()) else {
                continue;
            };
            let Some(since) = self.no_execute_since.get(node) else {
                continue;
            };
            let taints = self
                .nodes
                .get(node)
                .and_then(|n| n.spec.as_ref())
                .and_then(|s| s.taints.clone())
                .unwrap_or_default();
            if let Some(delay) = eviction_delay(p, &taints)
                && now >= *since + delay
            {
                due.push(uid.clone());
            }
        }
        for uid in due {
            let Some(p) = self.pods.get(&uid).cloned() else {
                continue;
            };
            self.evicted.insert(uid.clone());
            let ns = p.metadata.namespace.clone().unwrap_or_default();
            let name = p.metadata.name.clone().unwrap_or_default();
            let api: Api<Pod> = Api::namespaced(client.clone(), &ns);
            let cond = json!({"status": {"conditions": [{
                "type": "DisruptionTarget", "status": "True", "reason": "DeletionByTaintManager",
                "message": "Taint manager: deleting due to NoExecute taint",
                "lastTransitionTime": Timestamp::now().to_string(),
            }]}});
            let _ = api
                .patch_status(&name, &PatchParams::default(), &Patch::Strategic(&cond))
                .await;
            recorder
                .record(
                    &object_reference(&p),
                    EventType::Normal,
                    "TaintManagerEviction",
                    &format!("Marking for deletion Pod {ns}/{name}"),
                )
                .await;
            let dp = DeleteParams {
                preconditions: Some(Preconditions {
                    uid: Some(uid.clone()),
                    resource_version: None,
                }),
                ..DeleteParams::default()
            };
            if let Err(e) = api.delete(&name, &dp).await {
                tracing::debug!(pod = %name, error = %e, "eviction failed");
                self.evicted.remove(&uid);
            }
        }
    }
}

async fn mark_unknown(nodes: &Api<Node>, node: &Node) -> Result<Node, kube::Error> {
    let now = Timestamp::now().to_string();
    let conds: Vec<Value> = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|c| {
            let mut v = serde_json::to_value(&c).unwrap_or(Value::Null);
            if c.status != "Unknown" {
                v["status"] = json!("Unknown");
                v["reason"] = json!("NodeStatusUnknown");
                v["message"] = json!("Kubelet stopped posting node status.");
                v["lastTransitionTime"] = json!(now);
            }
            v
        })
        .collect();
    let name = node.metadata.name.clone().unwrap_or_default();
    let patch = json!({"status": {"conditions": conds}});
    nodes
        .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
}

/// Puts the node's condition taints in line with `ready`; returns the node if it
/// had to be written.
async fn sync_taints(
    nodes: &Api<Node>,
    node: &Node,
    ready: &str,
) -> Result<Option<Node>, kube::Error> {
    let current = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default();
    let want = condition_taints(ready);
    let ours = |t: &Taint| t.key == TAINT_NOT_READY || t.key == TAINT_UNREACHABLE;
    let have: Vec<(&str, &str)> = current
        .iter()
        .filter(|t| ours(t))
        .map(|t| (t.key.as_str(), t.effect.as_str()))
        .collect();
    let mut sorted_have = have.clone();
    sorted_have.sort();
    let mut sorted_want = want.clone();
    sorted_want.sort();
    if sorted_have == sorted_want {
        return Ok(None);
    }
    let now = Timestamp::now().to_string();
    let mut taints: Vec<Value> = current
        .iter()
        .filter(|t| !ours(t))
        .filter_map(|t| serde_json::to_value(t).ok())
        .collect();
    for (key, effect) in want {
        let mut t = json!({"key": key, "effect": effect});
        if effect == "NoExecute" {
            t["timeAdded"] = json!(now);
        }
        taints.push(t);
    }
    let name = node.metadata.name.clone().unwrap_or_default();
    // The resourceVersion makes this a compare-and-swap with the kubelet and users.
    let patch = json!({"metadata": {"resourceVersion": node.metadata.resource_version}, "spec": {"taints": taints}});
    nodes
        .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map(Some)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pod(tols: Value) -> Pod {
        serde_json::from_value(
            json!({"metadata": {"name": "p"}, "spec": {"containers": [], "tolerations": tols}}),
        )
        .unwrap()
    }

    fn taint(key: &str) -> Taint {
        Taint {
            key: key.into(),
            value: None,
            effect: "NoExecute".into(),
            time_added: None,
        }
    }

    #[test]
    fn taints_follow_ready() {
        assert!(condition_taints("True").is_empty());
        assert_eq!(
            condition_taints("False"),
            [
                (TAINT_NOT_READY, "NoSchedule"),
                (TAINT_NOT_READY, "NoExecute")
            ]
        );
        assert_eq!(
            condition_taints("Unknown")[1],
            (TAINT_UNREACHABLE, "NoExecute")
        );
    }

    #[test]
    fn eviction_delay_uses_shortest_matching_toleration() {
        let t = [taint(TAINT_UNREACHABLE)];
        assert_eq!(eviction_delay(&pod(json!([])), &t), Some(Duration::ZERO));
        let default_tols = json!([
            {"key": TAINT_NOT_READY, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": TAINT_UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]);
        assert_eq!(
            eviction_delay(&pod(default_tols), &t),
            Some(Duration::from_secs(300))
        );
        let forever = json!([{"operator": "Exists"}]);
        assert_eq!(eviction_delay(&pod(forever), &t), None);
        let two = json!([{"operator": "Exists", "tolerationSeconds": 30},
                         {"key": TAINT_UNREACHABLE, "operator": "Exists", "tolerationSeconds": 10}]);
        assert_eq!(eviction_delay(&pod(two), &t), Some(Duration::from_secs(10)));
        assert_eq!(eviction_delay(&pod(json!([])), &[]), None);
    }
}
