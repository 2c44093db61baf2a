//! `/openapi/v2` and `/openapi/v3`: the documents kubectl uses for `explain` and
//! to detect server-side field validation, rebuilt when CRDs change.

use crate::registry::{Resource, Source};
use crate::response::{ApiError, ApiResult, json_response};
use crate::server::{Inner, Query};
use apimachinery::StatusError;
use bytes::Bytes;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

struct Docs {
    generation: u64,
    v2: Bytes,
    /// The same document as gnostic protobuf, which is how kubectl downloads it.
    v2_protobuf: Bytes,
    /// "api/v1" or "apis/<g>/<v>" → (hash, document)
    v3: BTreeMap<String, (String, Bytes)>,
}

fn cache() -> &'static Mutex<Option<Arc<Docs>>> {
    static C: OnceLock<Mutex<Option<Arc<Docs>>>> = OnceLock::new();
    C.get_or_init(|| Mutex::new(None))
}

fn entry(r: &Resource) -> openapi::ResourceEntry {
    let mut subresources = Vec::new();
    if r.has_status() {
        subresources.push("status".to_string());
    }
    if r.has_scale() {
        subresources.push("scale".to_string());
    }
    let definition = match &r.source {
        Source::Builtin(_) | Source::Virtual(_) => {
            openapi::definition_name(&r.group, &r.version, &r.kind)
                .unwrap_or_default()
                .to_string()
        }
        Source::Custom(_) => openapi::crd_definition_name(&r.group, &r.version, &r.kind),
    };
    openapi::ResourceEntry {
        group: r.group.clone(),
        version: r.version.clone(),
        kind: r.kind.clone(),
        plural: r.plural.clone(),
        namespaced: r.namespaced,
        verbs: r.verbs.clone(),
        subresources,
        definition,
    }
}

fn extra_definitions(inner: &Inner) -> Map<String, Value> {
    let mut m = Map::new();
    for r in inner.registry.all() {
        if let Source::Custom(c) = &r.source {
            let schema = c.raw_schema.clone().unwrap_or_else(
                || json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
            );
            let (name, def) = openapi::crd_definition(&r.group, &r.version, &r.kind, &schema);
            m.insert(name, def);
        }
    }
    m
}

fn hash_hex(b: &[u8]) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    b.hash(&mut h);
    format!("{:016X}", h.finish())
}

fn docs(inner: &Inner) -> Arc<Docs> {
    let generation = inner.registry.generation();
    let mut guard = cache().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(d) = guard.as_ref()
        && d.generation == generation
    {
        return d.clone();
    }
    let resources = inner.registry.all();
    // A resource without a schema (ComponentStatus) is left out rather than
    // documented with a dangling reference, which kubectl's parser rejects.
    let entries: Vec<openapi::ResourceEntry> = resources
        .iter()
        .map(|r| entry(r))
        .filter(|e| !e.definition.is_empty())
        .collect();
    let extra = extra_definitions(inner);
    let doc_v2 = openapi::document_v2(&entries, &extra, crate::KUBERNETES_VERSION);
    let v2 = Bytes::from(serde_json::to_vec(&doc_v2).unwrap_or_default());
    let v2_protobuf = Bytes::from(openapi::document_v2_protobuf(&doc_v2));
    let mut gvs: BTreeMap<(String, String), ()> = BTreeMap::new();
    for r in &resources {
        gvs.insert((r.group.clone(), r.version.clone()), ());
    }
    let mut v3 = BTreeMap::new();
    for (g, v) in gvs.keys() {
        let doc = openapi::document_v3(g, v, &entries, &extra);
        let bytes = Bytes::from(serde_json::to_vec(&doc).unwrap_or_default());
        let path = if g.is_empty() {
            format!("api/{v}")
        } else {
            format!("apis/{g}/{v}")
        };
        v3.insert(path, (hash_hex(&bytes), bytes));
    }
    let d = Arc::new(Docs {
        generation,
        v2,
        v2_protobuf,
        v3,
    });
    *guard = Some(d.clone());
    d
}

pub fn serve(inner: &Arc<Inner>, path: &str, _query: &Query, accept: &str) -> ApiResult {
    let d = docs(inner);
    if path == "/openapi/v2" {
        if openapi::wants_protobuf_v2(accept) {
            let mut r = json_response(200, d.v2_protobuf.clone());
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static(openapi::PROTOBUF_V2_MEDIA_TYPE),
            );
            return Ok(r);
        }
        return Ok(json_response(200, d.v2.clone()));
    }
    let rest = path.trim_start_matches("/openapi/v3").trim_matches('/');
    if rest.is_empty() {
        let mut paths = Map::new();
        for (p, (hash, _)) in &d.v3 {
            paths.insert(
                p.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={hash}")}),
            );
        }
        return Ok(json_response(
            200,
            serde_json::to_vec(&json!({"paths": paths})).unwrap_or_default(),
        ));
    }
    match d.v3.get(rest) {
        Some((_, doc)) => {
            let mut r = json_response(200, doc.clone());
            // Hashed URLs never change content, as kube-apiserver promises.
            r.headers_mut().insert(
                http::header::CACHE_CONTROL,
                http::HeaderValue::from_static("public, immutable"),
            );
            Ok(r)
        }
        None => Err(ApiError::from(StatusError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
            Some(Default::default()),
        ))),
    }
}
