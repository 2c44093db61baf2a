//! The namespace controller: empties a namespace being deleted and then lets it
//! go; keeps a `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap in
//! every active namespace (kube-controller-manager's jobs, needed here so pods
//! can be admitted in embedded mode).

use crate::delete::{DeleteOptions, delete_object};
use crate::meta;
use crate::server::Inner;
use crate::write::{WriteOptions, create_object, guaranteed_update};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

pub async fn run(inner: Arc<Inner>) {
    let Ok(ns_res) = inner.resource("", "v1", "namespaces") else {
        return;
    };
    let (start, end) = ns_res.range(None);
    loop {
        let (_, _, mut rx) = inner.cache.snapshot_and_watch(&start, &end);
        reconcile_all(&inner).await;
        loop {
            tokio::select! {
                ev = rx.recv() => match ev {
                    Ok(ev) if ev.key >= start && ev.key < end && ev.kind != crate::cache::EventKind::Deleted => {
                        let v = crate::wire::object_value(&ns_res, &ev.object.raw);
                        reconcile(&inner, &v).await;
                    }
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
                _ = tokio::time::sleep(Duration::from_secs(1)) => reconcile_all(&inner).await,
            }
        }
    }
}

async fn reconcile_all(inner: &Arc<Inner>) {
    let Ok(ns_res) = inner.resource("", "v1", "namespaces") else {
        return;
    };
    let (start, end) = ns_res.range(None);
    let (items, _, _) = inner.cache.range(&start, &end, None, 0, |_, _| true);
    for (_, o) in items {
        let v = crate::wire::object_value(&ns_res, &o.raw);
        reconcile(inner, &v).await;
    }
}

async fn reconcile(inner: &Arc<Inner>, ns: &Value) {
    let Some(name) = meta::name(ns).map(String::from) else {
        return;
    };
    if meta::deletion_timestamp(ns).is_some() {
        finalize(inner, &name).await;
    } else {
        ensure_defaults(inner, &name).await;
    }
}

/// Deletes everything in the namespace; once nothing is left, removes the
/// `kubernetes` finalizer so the namespace itself goes.
async fn finalize(inner: &Arc<Inner>, ns: &str) {
    let mut remaining = 0usize;
    for res in inner
        .registry
        .storage_resources()
        .into_iter()
        .filter(|r| r.namespaced)
    {
        let (start, end) = res.range(Some(ns));
        let (items, _, _) = inner.cache.range(&start, &end, None, 0, |_, _| true);
        remaining += items.len();
        for (key, obj) in items {
            if obj.value().pointer("/metadata/deletionTimestamp").is_some() {
                continue;
            }
            let (_, name) = crate::select::split_key(&res, &key);
            let opts = DeleteOptions {
                propagation: Some(crate::delete::Propagation::Background),
                ..Default::default()
            };
            if let Err(e) = delete_object(inner, &res, Some(ns), name, &opts).await
                && e.0.code() != 404
            {
                tracing::debug!(error = %e.0, namespace = ns, "deleting namespace content");
            }
        }
    }
    if remaining > 0 {
        return;
    }
    let Ok(ns_res) = inner.resource("", "v1", "namespaces") else {
        return;
    };
    let r = guaranteed_update(
        inner,
        &ns_res,
        None,
        ns,
        None,
        Some("finalize"),
        &WriteOptions::system(),
        |cur| {
            let mut v = cur.clone();
            let fins: Vec<Value> = cur
                .pointer("/spec/finalizers")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter(|f| f.as_str() != Some("kubernetes"))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            v["spec"]["finalizers"] = Value::Array(fins);
            Ok(v)
        },
    )
    .await;
    if let Err(e) = r
        && e.0.code() != 404
    {
        tracing::debug!(error = %e.0, namespace = ns, "finalizing namespace");
    }
}

async fn ensure_defaults(inner: &Arc<Inner>, ns: &str) {
    let system = WriteOptions::system();
    if let Ok(sa) = inner.resource("", "v1", "serviceaccounts")
        && inner.cache.get(&sa.key(ns, "default")).is_none()
    {
        let obj = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": ns}});
        if let Err(e) = create_object(inner, &sa, Some(ns), obj, &system).await
            && !matches!(e.0.code(), 409 | 403 | 404)
        {
            tracing::debug!(error = %e.0, namespace = ns, "creating default service account");
        }
    }
    let Some(ca) = read_ca(inner) else { return };
    if let Ok(cm) = inner.resource("", "v1", "configmaps")
        && inner.cache.get(&cm.key(ns, "kube-root-ca.crt")).is_none()
    {
        let obj = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "kube-root-ca.crt", "namespace": ns, "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}},
            "data": {"ca.crt": ca},
        });
        if let Err(e) = create_object(inner, &cm, Some(ns), obj, &system).await
            && !matches!(e.0.code(), 409 | 403 | 404)
        {
            tracing::debug!(error = %e.0, namespace = ns, "creating kube-root-ca.crt");
        }
    }
}

fn read_ca(inner: &Inner) -> Option<String> {
    inner.config.ca_cert_pem.clone()
}
