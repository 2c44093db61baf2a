//! The `/openapi/v2` (Swagger 2.0) and `/openapi/v3/<group-version>` (OpenAPI 3.0) documents.

use std::collections::{BTreeSet, HashSet};

use serde_json::{Map, Value, json};

use crate::definitions::{definitions_v2, list_definition, refs_of, to_v3_schema};
use crate::operations::{
    Body, Operation, PathItem, PathParam, ResourceEntry, id_group_version, paths_for, prefix, tag,
};
use crate::params::{self, Flavor};

const JSON: &str = "application/json";
const PATCH_DEF: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
const RESOURCE_LIST: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList";
/// Definitions every group-version document carries besides its kinds.
const SHARED: &[&str] = &[
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    DELETE_OPTIONS,
    "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
    PATCH_DEF,
    RESOURCE_LIST,
];

fn security_scheme() -> Value {
    json!({"BearerToken": {"description": "Bearer Token authentication", "in": "header", "name": "authorization", "type": "apiKey"}})
}

/// Name of an entry's list definition, adding a synthesized one to `extra` for custom resources.
fn list_name(
    entry: &ResourceEntry,
    known: &Map<String, Value>,
    extra: &mut Map<String, Value>,
) -> String {
    let name = format!("{}List", entry.definition);
    if !known.contains_key(&name) && !extra.contains_key(&name) {
        extra.insert(
            name.clone(),
            list_definition(&entry.group, &entry.version, &entry.kind, &entry.definition),
        );
    }
    name
}

fn patch_types(strategic: bool) -> Vec<&'static str> {
    let mut t = vec![
        "application/json-patch+json",
        "application/merge-patch+json",
    ];
    if strategic {
        t.push("application/strategic-merge-patch+json");
    }
    t.push("application/apply-patch+yaml");
    t
}

fn produces(op: &Operation) -> Vec<&'static str> {
    if op.watch {
        vec![JSON, "application/json;stream=watch"]
    } else {
        vec![JSON]
    }
}

fn path_params(flavor: Flavor, params: &[PathParam]) -> Vec<Value> {
    params
        .iter()
        .map(|p| match p {
            PathParam::Name(kind) => params::name(flavor, kind),
            PathParam::Namespace => params::namespace(flavor),
            PathParam::Pretty => params::query(flavor, "pretty"),
        })
        .collect()
}

fn render_v2(op: &Operation, group: &str, version: &str) -> Value {
    let reference = |def: &str| json!({"$ref": format!("#/definitions/{def}")});
    let mut parameters = Vec::new();
    match &op.body {
        Body::None => {}
        Body::Object(def) => parameters.push(
            json!({"in": "body", "name": "body", "required": true, "schema": reference(def)}),
        ),
        Body::Patch { .. } => parameters.push(
            json!({"in": "body", "name": "body", "required": true, "schema": reference(PATCH_DEF)}),
        ),
        Body::DeleteOptions => parameters
            .push(json!({"in": "body", "name": "body", "schema": reference(DELETE_OPTIONS)})),
    }
    parameters.extend(op.query.iter().map(|q| params::query(Flavor::V2, q)));
    let mut responses = Map::new();
    for (code, description) in op.codes {
        responses.insert(
            (*code).into(),
            json!({"description": description, "schema": reference(&op.response)}),
        );
    }
    responses.insert("401".into(), json!({"description": "Unauthorized"}));
    let consumes = match &op.body {
        Body::Patch { strategic } => patch_types(*strategic),
        _ => vec!["*/*"],
    };
    json!({
        "consumes": consumes,
        "description": op.description,
        "operationId": op.id,
        "parameters": parameters,
        "produces": produces(op),
        "responses": responses,
        "schemes": ["https"],
        "tags": [tag(group, version)],
        "x-kubernetes-action": op.action,
        "x-kubernetes-group-version-kind": op.gvk,
    })
}

fn render_v3(op: &Operation, group: &str, version: &str) -> Value {
    let reference = |def: &str| json!({"$ref": format!("#/components/schemas/{def}")});
    let content = |types: &[&str], def: &str| -> Value {
        Value::Object(
            types
                .iter()
                .map(|t| ((*t).to_owned(), json!({"schema": reference(def)})))
                .collect(),
        )
    };
    let mut o = json!({
        "description": op.description,
        "operationId": op.id,
        "tags": [tag(group, version)],
        "x-kubernetes-action": op.action,
        "x-kubernetes-group-version-kind": op.gvk,
    });
    let parameters: Vec<Value> = op
        .query
        .iter()
        .map(|q| params::query(Flavor::V3, q))
        .collect();
    if !parameters.is_empty() {
        o["parameters"] = Value::Array(parameters);
    }
    match &op.body {
        Body::None => {}
        Body::Object(def) => {
            o["requestBody"] = json!({"content": content(&["*/*"], def), "required": true})
        }
        Body::Patch { strategic } => {
            o["requestBody"] =
                json!({"content": content(&patch_types(*strategic), PATCH_DEF), "required": true});
        }
        Body::DeleteOptions => {
            o["requestBody"] = json!({"content": content(&["*/*"], DELETE_OPTIONS)})
        }
    }
    let mut responses = Map::new();
    for (code, description) in op.codes {
        responses.insert(
            (*code).into(),
            json!({"description": description, "content": content(&produces(op), &op.response)}),
        );
    }
    responses.insert("401".into(), json!({"description": "Unauthorized"}));
    o["responses"] = Value::Object(responses);
    o
}

fn render_paths(
    items: &[PathItem],
    flavor: Flavor,
    group: &str,
    version: &str,
    paths: &mut Map<String, Value>,
) {
    for item in items {
        let mut p = Map::new();
        p.insert(
            "parameters".into(),
            Value::Array(path_params(flavor, &item.params)),
        );
        for op in &item.operations {
            let rendered = match flavor {
                Flavor::V2 => render_v2(op, group, version),
                Flavor::V3 => render_v3(op, group, version),
            };
            p.insert(op.method.into(), rendered);
        }
        paths.insert(item.path.clone(), Value::Object(p));
    }
}

/// The discovery path of a group version (`/api/v1/`), which returns its APIResourceList.
fn discovery_path(flavor: Flavor, group: &str, version: &str, paths: &mut Map<String, Value>) {
    let op = Operation {
        method: "get",
        action: "",
        id: format!("get{}APIResources", id_group_version(group, version)),
        description: "get available resources".into(),
        query: &[],
        body: Body::None,
        codes: &[("200", "OK")],
        response: RESOURCE_LIST.into(),
        watch: false,
        gvk: Value::Null,
    };
    let mut rendered = match flavor {
        Flavor::V2 => render_v2(&op, group, version),
        Flavor::V3 => render_v3(&op, group, version),
    };
    if let Value::Object(o) = &mut rendered {
        o.remove("x-kubernetes-action");
        o.remove("x-kubernetes-group-version-kind");
    }
    paths.insert(
        format!("{}/", prefix(group, version)),
        json!({"get": rendered}),
    );
}

/// The `/openapi/v2` document: every entry's paths, all built-in definitions and
/// `extra_definitions` (CRD schemas as [`crate::crd_definition`] returns them).
pub fn document_v2(
    entries: &[ResourceEntry],
    extra_definitions: &Map<String, Value>,
    version: &str,
) -> Value {
    let builtins = definitions_v2();
    let mut definitions = builtins.clone();
    definitions.extend(
        extra_definitions
            .iter()
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    let mut synthesized = Map::new();
    let mut paths = Map::new();
    let mut group_versions = BTreeSet::new();
    for entry in entries {
        let list = list_name(entry, &definitions, &mut synthesized);
        let strategic = builtins.contains_key(&entry.definition);
        render_paths(
            &paths_for(entry, &list, strategic),
            Flavor::V2,
            &entry.group,
            &entry.version,
            &mut paths,
        );
        group_versions.insert((entry.group.clone(), entry.version.clone()));
    }
    for (g, v) in &group_versions {
        discovery_path(Flavor::V2, g, v, &mut paths);
    }
    definitions.extend(synthesized);
    json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": version},
        "paths": paths,
        "definitions": definitions,
        "securityDefinitions": security_scheme(),
        "security": [{"BearerToken": []}],
    })
}

/// The `/openapi/v3/api/v1` or `/openapi/v3/apis/<group>/<version>` document: the paths of that
/// group version's entries and only the schemas they reach. `extra_definitions` use v2
/// references (`#/definitions/`), as [`crate::crd_definition`] returns them.
pub fn document_v3(
    group: &str,
    version: &str,
    entries: &[ResourceEntry],
    extra_definitions: &Map<String, Value>,
) -> Value {
    let builtins = definitions_v2();
    let builtins_v3 = crate::definitions::definitions_v3();
    let mut synthesized = Map::new();
    let mut paths = Map::new();
    let mut roots: Vec<String> = SHARED.iter().map(|s| (*s).to_owned()).collect();
    for entry in entries
        .iter()
        .filter(|e| e.group == group && e.version == version)
    {
        let known = if builtins.contains_key(&format!("{}List", entry.definition)) {
            builtins
        } else {
            extra_definitions
        };
        let list = list_name(entry, known, &mut synthesized);
        let strategic = builtins.contains_key(&entry.definition);
        let items = paths_for(entry, &list, strategic);
        for op in items.iter().flat_map(|i| &i.operations) {
            roots.push(op.response.clone());
            if let Body::Object(def) = &op.body {
                roots.push(def.clone());
            }
        }
        render_paths(&items, Flavor::V3, group, version, &mut paths);
    }
    discovery_path(Flavor::V3, group, version, &mut paths);

    let mut schemas = Map::new();
    let mut seen = HashSet::new();
    while let Some(name) = roots.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        // Custom definitions shadow built-in ones of the same name, as in the v2 document.
        let v3 = match (
            extra_definitions
                .get(&name)
                .or_else(|| synthesized.get(&name)),
            builtins_v3.get(&name),
        ) {
            (Some(custom), _) => to_v3_schema(custom),
            (None, Some(builtin)) => builtin.clone(),
            (None, None) => continue,
        };
        refs_of(&v3, &mut roots);
        schemas.insert(name, v3);
    }
    schemas.sort_keys();
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": security_scheme()},
    })
}
