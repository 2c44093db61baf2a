//! CustomResourceDefinitions: turning CRD objects into served resources, their
//! status (NamesAccepted, Established, storedVersions), and cleanup of the custom
//! objects when a CRD is deleted.

use crate::delete::{CRD_CLEANUP, DeleteOptions, delete_object};
use crate::meta;
use crate::registry::{CustomScale, CustomVersion, PrinterColumn, Resource, Source};
use crate::server::Inner;
use crate::write::{WriteOptions, guaranteed_update};
use apimachinery::{ErrorList, Path};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

fn crd_resource(inner: &Inner) -> Option<Arc<Resource>> {
    inner
        .registry
        .get("apiextensions.k8s.io", "v1", "customresourcedefinitions")
}

/// Checks every version's schema is structural (run when a CRD is written).
pub fn validate_schemas(crd: &Value) -> ErrorList {
    let mut errs = ErrorList::new();
    let versions = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, v) in versions.iter().enumerate() {
        if let Some(s) = v.pointer("/schema/openAPIV3Schema") {
            let path = Path::new("spec")
                .child("versions")
                .index(i)
                .child("schema")
                .child("openAPIV3Schema");
            if let Err(e) = structural::Schema::from_openapi_v3(s, &path) {
                errs.extend(e);
            }
        }
    }
    errs
}

/// The resources a CRD serves, one per served version.
fn resources_of(crd: &Value) -> Vec<Resource> {
    let name = meta::name(crd).unwrap_or("").to_string();
    let spec = crd.get("spec").cloned().unwrap_or(Value::Null);
    let group = spec
        .get("group")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let names = spec.get("names").cloned().unwrap_or(Value::Null);
    let kind = names
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let plural = names
        .get("plural")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let singular = names
        .get("singular")
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_else(|| kind.to_lowercase());
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let short_names = strings(names.get("shortNames"));
    let categories = strings(names.get("categories"));
    let namespaced = spec.get("scope").and_then(Value::as_str) != Some("Cluster");
    let versions = spec
        .get("versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let storage_version = versions
        .iter()
        .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .and_then(|v| v.get("name").and_then(Value::as_str))
        .unwrap_or("")
        .to_string();
    let mut out = Vec::new();
    for v in versions
        .iter()
        .filter(|v| v.get("served").and_then(Value::as_bool) == Some(true))
    {
        let version = v
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let raw_schema = v.pointer("/schema/openAPIV3Schema").cloned();
        let schema = raw_schema
            .as_ref()
            .and_then(|s| structural::Schema::from_openapi_v3(s, &Path::root()).ok());
        let printer_columns = v
            .get("additionalPrinterColumns")
            .and_then(Value::as_array)
            .map(|cols| {
                cols.iter()
                    .map(|c| PrinterColumn {
                        name: c.get("name").and_then(Value::as_str).unwrap_or("").into(),
                        type_: c
                            .get("type")
                            .and_then(Value::as_str)
                            .unwrap_or("string")
                            .into(),
                        format: c.get("format").and_then(Value::as_str).unwrap_or("").into(),
                        description: c
                            .get("description")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .into(),
                        priority: c.get("priority").and_then(Value::as_u64).unwrap_or(0) as u32,
                        json_path: c
                            .get("jsonPath")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .into(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let scale = v.pointer("/subresources/scale").map(|s| CustomScale {
            spec_replicas: s
                .get("specReplicasPath")
                .and_then(Value::as_str)
                .unwrap_or(".spec.replicas")
                .into(),
            status_replicas: s
                .get("statusReplicasPath")
                .and_then(Value::as_str)
                .unwrap_or(".status.replicas")
                .into(),
            label_selector: s
                .get("labelSelectorPath")
                .and_then(Value::as_str)
                .map(String::from),
        });
        let selectable_fields = v
            .get("selectableFields")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|f| f.get("jsonPath").and_then(Value::as_str).map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let custom = CustomVersion {
            crd_name: name.clone(),
            storage_version: storage_version.clone(),
            schema,
            raw_schema,
            printer_columns,
            status: v.pointer("/subresources/status").is_some(),
            scale,
            selectable_fields,
        };
        out.push(Resource {
            group: group.clone(),
            version,
            kind: kind.clone(),
            plural: plural.clone(),
            singular: singular.clone(),
            namespaced,
            short_names: short_names.clone(),
            categories: categories.clone(),
            // The order apiextensions-apiserver lists them in.
            verbs: [
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "create",
                "update",
                "watch",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            source: Source::Custom(Arc::new(custom)),
        });
    }
    out
}

fn all_crds(inner: &Inner) -> Vec<Value> {
    let Some(res) = crd_resource(inner) else {
        return Vec::new();
    };
    let (start, end) = res.range(None);
    let (items, _, _) = inner.cache.range(&start, &end, None, 0, |_, _| true);
    items
        .iter()
        .map(|(_, o)| crate::wire::object_value(&res, &o.raw))
        .collect()
}

/// Registers every stored CRD (at start-up, before serving).
pub fn register_all(inner: &Arc<Inner>) {
    for crd in all_crds(inner) {
        if let Some(name) = meta::name(&crd) {
            inner.registry.set_custom(name, resources_of(&crd));
            inner
                .registry
                .set_custom_version(name, meta::resource_version(&crd).unwrap_or(""));
        }
    }
}

/// Keeps the registry and CRD statuses in step with CRD objects.
pub async fn run(inner: Arc<Inner>) {
    let Some(res) = crd_resource(&inner) else {
        return;
    };
    let (start, end) = res.range(None);
    loop {
        let (_, _, mut rx) = inner.cache.snapshot_and_watch(&start, &end);
        reconcile_all(&inner).await;
        loop {
            tokio::select! {
                ev = rx.recv() => match ev {
                    Ok(ev) if ev.key >= start && ev.key < end => {
                        if ev.kind == crate::cache::EventKind::Deleted {
                            let name = ev.key.rsplit('/').next().unwrap_or("").to_string();
                            inner.registry.remove_custom(&name);
                        } else {
                            let crd = crate::wire::object_value(&res, &ev.object.raw);
                            reconcile(&inner, &crd).await;
                        }
                    }
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
                // Retry what failed (e.g. custom objects still being finalized).
                _ = tokio::time::sleep(Duration::from_secs(2)) => reconcile_all(&inner).await,
            }
        }
    }
}

async fn reconcile_all(inner: &Arc<Inner>) {
    for crd in all_crds(inner) {
        reconcile(inner, &crd).await;
    }
}

async fn reconcile(inner: &Arc<Inner>, crd: &Value) {
    let Some(name) = meta::name(crd).map(String::from) else {
        return;
    };
    let Some(res) = crd_resource(inner) else {
        return;
    };
    if meta::deletion_timestamp(crd).is_some() {
        if meta::finalizers(crd).iter().any(|f| f == CRD_CLEANUP) {
            cleanup(inner, &res, crd, &name).await;
        }
        return;
    }
    // Re-register only when the CRD changed: registering bumps the registry's
    // generation, which makes discovery and OpenAPI documents rebuild.
    let rv = meta::resource_version(crd).unwrap_or("").to_string();
    if inner.registry.custom_version(&name).as_deref() != Some(rv.as_str()) {
        inner.registry.set_custom(&name, resources_of(crd));
        inner.registry.set_custom_version(&name, &rv);
    }
    let established = crd
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|c| {
            c.iter()
                .any(|x| x["type"] == "Established" && x["status"] == "True")
        });
    let storage = resources_of(crd)
        .first()
        .map(|r| r.storage_version().to_string())
        .unwrap_or_default();
    let stored: Vec<String> = crd
        .pointer("/status/storedVersions")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let accepted = crd.pointer("/status/acceptedNames").cloned();
    let names = crd.pointer("/spec/names").cloned().unwrap_or(Value::Null);
    if established && stored.contains(&storage) && accepted.as_ref() == Some(&names) {
        return;
    }
    let result = guaranteed_update(inner, &res, None, &name, None, Some("status"), &WriteOptions::system(), |cur| {
        let mut v = cur.clone();
        let now = meta::now();
        let mut stored = stored.clone();
        if !storage.is_empty() && !stored.contains(&storage) {
            stored.push(storage.clone());
        }
        let mut names = cur.pointer("/spec/names").cloned().unwrap_or(json!({}));
        if names.get("singular").is_none()
            && let Some(k) = names.get("kind").and_then(Value::as_str) {
                names["singular"] = json!(k.to_lowercase());
            }
        v["status"] = json!({
            "acceptedNames": names,
            "conditions": [
                {"lastTransitionTime": now, "message": "no conflicts found", "reason": "NoConflicts", "status": "True", "type": "NamesAccepted"},
                {"lastTransitionTime": now, "message": "the initial names have been accepted", "reason": "InitialNamesAccepted", "status": "True", "type": "Established"}
            ],
            "storedVersions": stored,
        });
        Ok(v)
    })
    .await;
    if let Err(e) = result {
        tracing::debug!(crd = %name, error = %e.0, "updating CRD status");
    }
}

/// Deletes every custom object of a CRD being deleted, then lets the CRD go.
async fn cleanup(inner: &Arc<Inner>, res: &Arc<Resource>, crd: &Value, name: &str) {
    let served = resources_of(crd);
    let mut remaining = 0;
    if let Some(r) = served.into_iter().next() {
        let r = Arc::new(r);
        let (start, end) = r.range(None);
        let (items, _, _) = inner.cache.range(&start, &end, None, 0, |_, _| true);
        remaining = items.len();
        for (key, obj) in items {
            if obj.value().pointer("/metadata/deletionTimestamp").is_some() {
                continue;
            }
            let (ns, n) = crate::select::split_key(&r, &key);
            let ns = if r.namespaced { Some(ns) } else { None };
            if let Err(e) = delete_object(inner, &r, ns, n, &DeleteOptions::default()).await {
                tracing::debug!(error = %e.0, "deleting custom object");
            }
        }
    }
    if remaining > 0 {
        // Check again after the deletes land (or their finalizers finish).
        let (start, end) = match resources_of(crd).into_iter().next() {
            Some(r) => r.range(None),
            None => return,
        };
        let (left, _, _) = inner.cache.range(&start, &end, None, 1, |_, _| true);
        if !left.is_empty() {
            return;
        }
    }
    inner.registry.remove_custom(name);
    let r = guaranteed_update(
        inner,
        res,
        None,
        name,
        None,
        None,
        &WriteOptions::system(),
        |cur| {
            let mut v = cur.clone();
            let f: Vec<String> = meta::finalizers(cur)
                .into_iter()
                .filter(|f| f != CRD_CLEANUP)
                .collect();
            meta::set_finalizers(&mut v, &f);
            Ok(v)
        },
    )
    .await;
    if let Err(e) = r {
        tracing::debug!(crd = %name, error = %e.0, "removing CRD finalizer");
    }
}
