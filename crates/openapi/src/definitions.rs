//! The built-in definitions: generated once from k8s-openapi's schemars schemas, then given the
//! Kubernetes extensions k8s-openapi leaves out (group-version-kind, patch and list metadata).

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::kinds::{self, BUILTIN_KINDS, LIST_META};
use crate::patch_meta::{FIELDS, TYPES};

const INT_OR_STRING: &str = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const JSON_ANY: &str = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON";

struct Built {
    v2: Map<String, Value>,
    v3: Map<String, Value>,
    /// Entries of the patch-metadata table whose definition or property does not exist.
    unapplied: Vec<String>,
    names: HashMap<(String, String, String), &'static str>,
}

fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(build)
}

/// All built-in definitions, with `#/definitions/` references (OpenAPI v2).
pub fn definitions_v2() -> &'static Map<String, Value> {
    &built().v2
}

/// All built-in definitions, with `#/components/schemas/` references (OpenAPI v3).
pub fn definitions_v3() -> &'static Map<String, Value> {
    &built().v3
}

/// The definition name of a built-in kind (or of its `<Kind>List`), e.g. `io.k8s.api.core.v1.Pod`.
pub fn definition_name(group: &str, version: &str, kind: &str) -> Option<&'static str> {
    built()
        .names
        .get(&(group.to_owned(), version.to_owned(), kind.to_owned()))
        .copied()
}

/// Patch-metadata entries that matched no definition or property (empty when the table is right).
pub fn unapplied_patch_meta() -> &'static [String] {
    &built().unapplied
}

fn build() -> Built {
    // No transforms: k8s-openapi's schemas are already OpenAPI v2 shaped, and the v3 form is
    // derived below exactly the way kube-apiserver derives it.
    let mut generator = SchemaSettings::draft07()
        .with(|s| {
            s.definitions_path = "/definitions".into();
            s.meta_schema = None;
            s.transforms = Vec::new();
        })
        .into_generator();
    kinds::register_all(&mut generator);
    kinds::register_meta(&mut generator);
    let mut defs = generator.take_definitions(false);

    let mut names = HashMap::new();
    for k in BUILTIN_KINDS {
        if let Some(Value::Object(def)) = defs.get_mut(k.definition) {
            def.insert(
                "x-kubernetes-group-version-kind".into(),
                json!([gvk(k.group, k.version, k.kind)]),
            );
        }
        names.insert(
            (k.group.to_owned(), k.version.to_owned(), k.kind.to_owned()),
            k.definition,
        );
        if k.listable {
            let list_name: &'static str = leak(format!("{}List", k.definition));
            defs.insert(
                list_name.to_owned(),
                list_definition(k.group, k.version, k.kind, k.definition),
            );
            names.insert(
                (
                    k.group.to_owned(),
                    k.version.to_owned(),
                    format!("{}List", k.kind),
                ),
                list_name,
            );
        }
    }
    let group_versions: BTreeSet<(&str, &str)> =
        BUILTIN_KINDS.iter().map(|k| (k.group, k.version)).collect();
    for (def_name, kind) in [
        (kinds::DELETE_OPTIONS, "DeleteOptions"),
        (kinds::WATCH_EVENT, "WatchEvent"),
    ] {
        if let Some(Value::Object(def)) = defs.get_mut(def_name) {
            let all: Vec<Value> = group_versions
                .iter()
                .map(|(g, v)| gvk(g, v, kind))
                .collect();
            def.insert("x-kubernetes-group-version-kind".into(), Value::Array(all));
        }
    }

    let mut unapplied = Vec::new();
    for (def_name, field, ext) in FIELDS {
        let prop = defs
            .get_mut(*def_name)
            .and_then(|d| d.get_mut("properties"))
            .and_then(|p| p.get_mut(*field))
            .and_then(Value::as_object_mut);
        match prop {
            Some(prop) => prop.extend(ext.extensions()),
            None => unapplied.push(format!("{def_name}.{field}")),
        }
    }
    for (def_name, ext) in TYPES {
        match defs.get_mut(*def_name).and_then(Value::as_object_mut) {
            Some(def) => def.extend(ext.extensions()),
            None => unapplied.push((*def_name).to_owned()),
        }
    }

    // kube-apiserver's v2 forms of the two scalar wrappers; x-kubernetes-int-or-string stays on
    // IntOrString so schema walkers that only know the v3 extension still accept both forms.
    if let Some(Value::Object(def)) = defs.get_mut(INT_OR_STRING) {
        def.insert("type".into(), json!("string"));
        def.insert("format".into(), json!("int-or-string"));
    }
    if let Some(Value::Object(def)) = defs.get_mut(QUANTITY) {
        def.remove("x-kubernetes-int-or-string");
        def.insert("type".into(), json!("string"));
    }
    // `JSON` holds any JSON value (CRD enums, defaults, examples); k8s-openapi's schema
    // says object, kube-apiserver declares no type at all.
    if let Some(Value::Object(def)) = defs.get_mut(JSON_ANY) {
        def.remove("type");
    }

    let v3 = defs
        .iter()
        .map(|(name, def)| (name.clone(), to_v3_definition(name, def)))
        .collect();
    Built {
        v2: defs,
        v3,
        unapplied,
        names,
    }
}

/// Interns a definition name built at start-up; called once per listable kind.
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

pub(crate) fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "kind": kind, "version": version})
}

pub(crate) fn list_definition(group: &str, version: &str, kind: &str, item: &str) -> Value {
    json!({
        "description": format!("{kind}List is a list of {kind} objects."),
        "type": "object",
        "properties": {
            "apiVersion": {
                "description": "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
                "type": "string"
            },
            "items": {
                "description": format!("List of {kind} objects."),
                "type": "array",
                "items": {"$ref": format!("#/definitions/{item}")}
            },
            "kind": {
                "description": "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
                "type": "string"
            },
            "metadata": {
                "$ref": format!("#/definitions/{LIST_META}"),
                "description": "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
            }
        },
        "required": ["items"],
        "x-kubernetes-group-version-kind": [gvk(group, version, &format!("{kind}List"))]
    })
}

/// Converts one v2 definition to kube-apiserver's v3 form: references move to
/// `#/components/schemas/`, and a reference with siblings becomes `allOf: [{$ref}]` plus the
/// siblings, since OpenAPI 3.0 ignores anything next to a `$ref`.
pub fn to_v3_definition(name: &str, def: &Value) -> Value {
    match name {
        INT_OR_STRING => {
            let mut out = def.clone();
            if let Value::Object(o) = &mut out {
                o.remove("type");
                o.insert(
                    "oneOf".into(),
                    json!([{"type": "integer"}, {"type": "string"}]),
                );
            }
            out
        }
        QUANTITY => {
            let mut out = def.clone();
            if let Value::Object(o) = &mut out {
                o.remove("type");
                o.insert(
                    "oneOf".into(),
                    json!([{"type": "string"}, {"type": "number"}]),
                );
            }
            out
        }
        _ => to_v3_schema(def),
    }
}

/// Rewrites the references of one schema for OpenAPI v3 (see [`to_v3_definition`]).
pub fn to_v3_schema(schema: &Value) -> Value {
    match schema {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get("$ref") {
                let target = json!({"$ref": v3_ref(r)});
                if o.len() == 1 {
                    return target;
                }
                let mut out = Map::new();
                out.insert("allOf".into(), json!([target]));
                for (k, v) in o {
                    if k != "$ref" {
                        out.insert(k.clone(), to_v3_schema(v));
                    }
                }
                return Value::Object(out);
            }
            Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), to_v3_schema(v)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(to_v3_schema).collect()),
        other => other.clone(),
    }
}

fn v3_ref(r: &str) -> String {
    match r.strip_prefix("#/definitions/") {
        Some(name) => format!("#/components/schemas/{name}"),
        None => r.to_owned(),
    }
}

/// Every `$ref` target name inside `schema` (references of either OpenAPI version).
pub(crate) fn refs_of(schema: &Value, out: &mut Vec<String>) {
    match schema {
        Value::Object(o) => {
            for (k, v) in o {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => {
                        if let Some(name) = r.rsplit('/').next() {
                            out.push(name.to_owned());
                        }
                    }
                    _ => refs_of(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| refs_of(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_table_names_match_k8s_openapi() {
        for (declared, generated) in kinds::schema_names() {
            assert_eq!(declared, generated);
        }
    }

    #[test]
    fn every_builtin_kind_has_a_definition_with_its_gvk() {
        let defs = definitions_v2();
        for k in BUILTIN_KINDS {
            let def = &defs[k.definition];
            assert_eq!(
                def["x-kubernetes-group-version-kind"][0],
                gvk(k.group, k.version, k.kind),
                "{}",
                k.kind
            );
            assert_eq!(
                definition_name(k.group, k.version, k.kind),
                Some(k.definition)
            );
            if k.listable {
                let list = definition_name(k.group, k.version, &format!("{}List", k.kind)).unwrap();
                assert_eq!(
                    defs[list]["x-kubernetes-group-version-kind"][0]["kind"],
                    format!("{}List", k.kind)
                );
            }
        }
        assert_eq!(definition_name("apps", "v1", "Nope"), None);
    }

    #[test]
    fn patch_meta_table_matches_the_generated_definitions() {
        assert!(
            unapplied_patch_meta().is_empty(),
            "{:?}",
            unapplied_patch_meta()
        );
    }

    #[test]
    fn no_dangling_refs_in_either_version() {
        for defs in [definitions_v2(), definitions_v3()] {
            for (name, def) in defs {
                let mut refs = Vec::new();
                refs_of(def, &mut refs);
                for r in refs {
                    assert!(defs.contains_key(&r), "{name} refers to missing {r}");
                }
            }
        }
    }

    #[test]
    fn merge_keys_and_strategies_are_declared() {
        let d = definitions_v2();
        let containers = &d["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
        assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
        assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
        let ports = &d["io.k8s.api.core.v1.Container"]["properties"]["ports"];
        assert_eq!(ports["x-kubernetes-patch-merge-key"], "containerPort");
        assert_eq!(
            ports["x-kubernetes-list-map-keys"],
            json!(["containerPort", "protocol"])
        );
        let volumes = &d["io.k8s.api.core.v1.PodSpec"]["properties"]["volumes"];
        assert_eq!(volumes["x-kubernetes-patch-strategy"], "merge,retainKeys");
        let strategy = &d["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"];
        assert_eq!(strategy["x-kubernetes-patch-strategy"], "retainKeys");
        assert!(strategy["$ref"].is_string());
        let finalizers =
            &d["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]["properties"]["finalizers"];
        assert_eq!(finalizers["x-kubernetes-list-type"], "set");
        assert_eq!(
            d["io.k8s.api.core.v1.LocalObjectReference"]["x-kubernetes-map-type"],
            "atomic"
        );
    }

    #[test]
    fn scalar_wrappers_have_kube_apiserver_forms() {
        let v2 = definitions_v2();
        assert_eq!(v2[INT_OR_STRING]["format"], "int-or-string");
        assert_eq!(v2[INT_OR_STRING]["x-kubernetes-int-or-string"], true);
        assert_eq!(v2[QUANTITY]["type"], "string");
        assert!(v2[JSON_ANY].get("type").is_none(), "JSON holds any value");
        let time = &v2["io.k8s.apimachinery.pkg.apis.meta.v1.Time"];
        assert_eq!(
            (time["type"].as_str(), time["format"].as_str()),
            (Some("string"), Some("date-time"))
        );
        let v3 = definitions_v3();
        assert_eq!(
            v3[QUANTITY]["oneOf"],
            json!([{"type": "string"}, {"type": "number"}])
        );
        assert!(v3[INT_OR_STRING].get("type").is_none());
        let strategy = &v3["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"];
        assert_eq!(
            strategy["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy"
        );
        assert_eq!(strategy["x-kubernetes-patch-strategy"], "retainKeys");
    }
}
