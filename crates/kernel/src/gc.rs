//! The garbage collector: follows ownerReferences to delete dependents whose owners
//! are gone, carries out Foreground deletion (dependents first, honouring
//! blockOwnerDeletion) and Orphan deletion (owner references removed first).

use crate::cache::{CachedObject, EventKind};
use crate::delete::{DeleteOptions, FOREGROUND, ORPHAN, Propagation, delete_object};
use crate::meta;
use crate::registry::Resource;
use crate::server::Inner;
use crate::write::{WriteOptions, guaranteed_update};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
struct OwnerRef {
    uid: String,
    block: bool,
}

#[derive(Debug, Clone)]
struct Node {
    key: String,
    owners: Vec<OwnerRef>,
    deleting: bool,
    finalizers: Vec<String>,
}

/// The part of an object the graph reads.
#[derive(serde::Deserialize)]
struct GraphView {
    metadata: GraphMeta,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphMeta {
    uid: Option<String>,
    #[serde(default)]
    owner_references: Vec<GraphOwner>,
    deletion_timestamp: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    finalizers: Vec<String>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphOwner {
    uid: String,
    block_owner_deletion: Option<bool>,
}

/// The object graph, by uid.
#[derive(Default)]
struct Graph {
    nodes: HashMap<String, Node>,
    by_key: HashMap<String, String>,
    dependents: HashMap<String, HashSet<String>>,
}

impl Graph {
    fn upsert(&mut self, key: &str, obj: &CachedObject) -> Option<String> {
        // Every write of every object passes here: read just the metadata the graph
        // needs instead of building the whole object.
        let meta = serde_json::from_slice::<GraphView>(&obj.raw).ok()?.metadata;
        let uid = meta.uid?;
        self.remove_key(key);
        let owners: Vec<OwnerRef> = meta
            .owner_references
            .into_iter()
            .map(|o| OwnerRef {
                uid: o.uid,
                block: o.block_owner_deletion == Some(true),
            })
            .collect();
        for o in &owners {
            self.dependents
                .entry(o.uid.clone())
                .or_default()
                .insert(uid.clone());
        }
        self.by_key.insert(key.to_string(), uid.clone());
        self.nodes.insert(
            uid.clone(),
            Node {
                key: key.to_string(),
                owners,
                deleting: meta.deletion_timestamp.is_some(),
                finalizers: meta.finalizers,
            },
        );
        Some(uid)
    }

    /// Whether the collector has anything to do for `node`: it is being deleted, or
    /// one of its owners is not (or no longer) in the graph.
    fn needs_attention(&self, node: &Node) -> bool {
        node.deleting || node.owners.iter().any(|o| !self.nodes.contains_key(&o.uid))
    }

    /// Forgets the object at `key`; returns its uid.
    fn remove_key(&mut self, key: &str) -> Option<String> {
        let uid = self.by_key.remove(key)?;
        if let Some(node) = self.nodes.remove(&uid) {
            for o in node.owners {
                if let Some(d) = self.dependents.get_mut(&o.uid) {
                    d.remove(&uid);
                    if d.is_empty() {
                        self.dependents.remove(&o.uid);
                    }
                }
            }
        }
        Some(uid)
    }

    fn dependents_of(&self, uid: &str) -> Vec<(String, Node)> {
        self.dependents
            .get(uid)
            .map(|d| {
                d.iter()
                    .filter_map(|u| self.nodes.get(u).map(|n| (u.clone(), n.clone())))
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn resources_by_prefix(inner: &Inner) -> Vec<(String, Arc<Resource>)> {
    let mut v: Vec<(String, Arc<Resource>)> = inner
        .registry
        .storage_resources()
        .into_iter()
        .map(|r| (r.key_prefix(), r))
        .collect();
    v.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
    v
}

fn resource_for(prefixes: &[(String, Arc<Resource>)], key: &str) -> Option<Arc<Resource>> {
    prefixes
        .iter()
        .find(|(p, _)| key.starts_with(p.as_str()))
        .map(|(_, r)| r.clone())
}

pub async fn run(inner: Arc<Inner>) {
    loop {
        let mut graph = Graph::default();
        let (items, _, mut rx) = inner.cache.snapshot_and_watch("/", "0");
        let mut queue: BTreeSet<String> = BTreeSet::new();
        for (k, o) in &items {
            if let Some(uid) = graph.upsert(k, o) {
                queue.insert(uid);
            }
        }
        drop(items);
        loop {
            let prefixes = resources_by_prefix(&inner);
            while let Some(uid) = queue.pop_first() {
                process(&inner, &graph, &prefixes, &uid).await;
            }
            let ev = tokio::select! {
                ev = rx.recv() => ev,
                // Periodic retry of everything that is mid-deletion or orphaned.
                _ = tokio::time::sleep(Duration::from_secs(2)) => {
                    for (uid, n) in &graph.nodes {
                        if graph.needs_attention(n) {
                            queue.insert(uid.clone());
                        }
                    }
                    continue;
                }
            };
            match ev {
                Ok(ev) => {
                    let mut batch = vec![ev];
                    while let Ok(more) = rx.try_recv() {
                        batch.push(more);
                    }
                    for ev in batch {
                        match ev.kind {
                            EventKind::Deleted => {
                                if let Some(uid) = graph.remove_key(&ev.key) {
                                    for (d, _) in graph.dependents_of(&uid) {
                                        queue.insert(d);
                                    }
                                    // Owners waiting in foreground for this dependent.
                                    if let Some(prev) = &ev.previous {
                                        for o in meta::owner_references(&prev.value()) {
                                            if let Some(u) = o.get("uid").and_then(Value::as_str) {
                                                queue.insert(u.to_string());
                                            }
                                        }
                                    }
                                }
                            }
                            _ => {
                                if let Some(uid) = graph.upsert(&ev.key, &ev.object) {
                                    queue.insert(uid.clone());
                                    for (d, _) in graph.dependents_of(&uid) {
                                        queue.insert(d);
                                    }
                                }
                            }
                        }
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}

fn locate(
    prefixes: &[(String, Arc<Resource>)],
    key: &str,
) -> Option<(Arc<Resource>, Option<String>, String)> {
    let res = resource_for(prefixes, key)?;
    let (ns, name) = crate::select::split_key(&res, key);
    let ns = if res.namespaced {
        Some(ns.to_string())
    } else {
        None
    };
    Some((res, ns, name.to_string()))
}

async fn process(
    inner: &Arc<Inner>,
    graph: &Graph,
    prefixes: &[(String, Arc<Resource>)],
    uid: &str,
) {
    let Some(node) = graph.nodes.get(uid) else {
        return;
    };
    let Some((res, ns, name)) = locate(prefixes, &node.key) else {
        return;
    };
    let system = WriteOptions::system();
    if node.deleting && node.finalizers.iter().any(|f| f == ORPHAN) {
        for (_, dep) in graph.dependents_of(uid) {
            if let Some((dres, dns, dname)) = locate(prefixes, &dep.key) {
                let owner = uid.to_string();
                let r = guaranteed_update(
                    inner,
                    &dres,
                    dns.as_deref(),
                    &dname,
                    None,
                    None,
                    &system,
                    |cur| {
                        let mut v = cur.clone();
                        let refs: Vec<Value> = meta::owner_references(cur)
                            .into_iter()
                            .filter(|o| o.get("uid").and_then(Value::as_str) != Some(&owner))
                            .collect();
                        let m = meta::metadata_mut(&mut v);
                        if refs.is_empty() {
                            m.remove("ownerReferences");
                        } else {
                            m.insert("ownerReferences".into(), Value::Array(refs));
                        }
                        Ok(v)
                    },
                )
                .await;
                if let Err(e) = r {
                    tracing::debug!(error = %e.0, "orphaning dependent");
                    return;
                }
            }
        }
        remove_finalizer(inner, &res, ns.as_deref(), &name, ORPHAN).await;
        return;
    }
    if node.deleting && node.finalizers.iter().any(|f| f == FOREGROUND) {
        let deps = graph.dependents_of(uid);
        let mut blocking = 0;
        for (duid, dep) in &deps {
            let blocks = dep.owners.iter().any(|o| o.uid == uid && o.block);
            if blocks {
                blocking += 1;
            }
            if !dep.deleting
                && let Some((dres, dns, dname)) = locate(prefixes, &dep.key)
            {
                let has_own = !graph.dependents_of(duid).is_empty();
                let opts = DeleteOptions {
                    propagation: Some(if has_own {
                        Propagation::Foreground
                    } else {
                        Propagation::Background
                    }),
                    ..Default::default()
                };
                if let Err(e) = delete_object(inner, &dres, dns.as_deref(), &dname, &opts).await {
                    tracing::debug!(error = %e.0, "deleting dependent in foreground");
                }
            }
        }
        if blocking == 0 {
            remove_finalizer(inner, &res, ns.as_deref(), &name, FOREGROUND).await;
        }
        return;
    }
    if node.owners.is_empty() || node.deleting {
        return;
    }
    let absent: Vec<&OwnerRef> = node
        .owners
        .iter()
        .filter(|o| !graph.nodes.contains_key(&o.uid))
        .collect();
    if absent.is_empty() {
        return;
    }
    if absent.len() == node.owners.len() {
        // Every owner is gone: the dependent goes too. If an owner was deleted in
        // the foreground the dependent's own dependents go first.
        let opts = DeleteOptions {
            propagation: Some(Propagation::Background),
            ..Default::default()
        };
        if let Err(e) = delete_object(inner, &res, ns.as_deref(), &name, &opts).await
            && e.0.code() != 404
        {
            tracing::debug!(error = %e.0, "collecting orphaned dependent");
        }
    } else {
        let gone: HashSet<String> = absent.iter().map(|o| o.uid.clone()).collect();
        let r = guaranteed_update(
            inner,
            &res,
            ns.as_deref(),
            &name,
            None,
            None,
            &system,
            |cur| {
                let mut v = cur.clone();
                let refs: Vec<Value> = meta::owner_references(cur)
                    .into_iter()
                    .filter(|o| {
                        !o.get("uid")
                            .and_then(Value::as_str)
                            .is_some_and(|u| gone.contains(u))
                    })
                    .collect();
                meta::metadata_mut(&mut v).insert("ownerReferences".into(), Value::Array(refs));
                Ok(v)
            },
        )
        .await;
        if let Err(e) = r {
            tracing::debug!(error = %e.0, "removing dangling owner references");
        }
    }
}

async fn remove_finalizer(
    inner: &Arc<Inner>,
    res: &Arc<Resource>,
    ns: Option<&str>,
    name: &str,
    finalizer: &str,
) {
    let r = guaranteed_update(
        inner,
        res,
        ns,
        name,
        None,
        None,
        &WriteOptions::system(),
        |cur| {
            let mut v = cur.clone();
            let f: Vec<String> = meta::finalizers(cur)
                .into_iter()
                .filter(|x| x != finalizer)
                .collect();
            meta::set_finalizers(&mut v, &f);
            Ok(v)
        },
    )
    .await;
    if let Err(e) = r
        && e.0.code() != 404
    {
        tracing::debug!(error = %e.0, "removing finalizer {finalizer}");
    }
}
