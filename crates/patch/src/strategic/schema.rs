//! Patch metadata lookup: walks the openapi crate's definitions the way Kubernetes walks Go struct tags.

use serde_json::{Map, Value};

use crate::error::PatchError;

/// Where the merge currently is in the type tree: the object schema of the value being merged,
/// or nothing for values without patch metadata (unknown fields, free-form maps).
#[derive(Clone, Copy)]
pub(crate) struct Schema<'a> {
    defs: &'a Map<String, Value>,
    node: Option<&'a Value>,
}

/// The patch metadata of one field.
#[derive(Default, Clone, Copy)]
pub(crate) struct FieldMeta<'a> {
    /// `merge`, `replace` or empty, with `retainKeys` already split off.
    pub strategy: &'a str,
    /// The merge key of a list of objects, or empty.
    pub merge_key: &'a str,
}

impl<'a> Schema<'a> {
    /// The schema of a top-level definition, if it exists.
    pub fn root(defs: &'a Map<String, Value>, definition: &str) -> Option<Self> {
        defs.get(definition).map(|node| Schema {
            defs,
            node: Some(node),
        })
    }

    /// A human-readable name for error messages.
    pub fn name(&self) -> String {
        self.node
            .and_then(|n| n.get("description"))
            .and_then(Value::as_str)
            .and_then(|d| d.split_whitespace().next())
            .unwrap_or("map")
            .to_owned()
    }

    fn property(&self, key: &str) -> Option<&'a Value> {
        let node = self.node?;
        node.get("properties")
            .and_then(|p| p.get(key))
            .or_else(|| node.get("additionalProperties").filter(|a| a.is_object()))
    }

    fn resolve(&self, schema: Option<&'a Value>) -> Schema<'a> {
        let target = schema.and_then(|s| {
            let reference = s.get("$ref").or_else(|| {
                s.get("allOf")
                    .and_then(|a| a.get(0))
                    .and_then(|first| first.get("$ref"))
            });
            match reference.and_then(Value::as_str) {
                Some(r) => r.rsplit('/').next().and_then(|name| self.defs.get(name)),
                None => Some(s),
            }
        });
        Schema {
            defs: self.defs,
            node: target,
        }
    }

    /// Metadata and value schema of an object-valued field.
    pub fn lookup_struct(&self, key: &str) -> Result<(Schema<'a>, FieldMeta<'a>), PatchError> {
        let prop = self.property(key);
        Ok((self.resolve(prop), field_meta(prop)?))
    }

    /// Metadata and element schema of a list-valued field.
    pub fn lookup_slice(&self, key: &str) -> Result<(Schema<'a>, FieldMeta<'a>), PatchError> {
        let prop = self.property(key);
        let items = prop.and_then(|p| p.get("items"));
        Ok((self.resolve(items), field_meta(prop)?))
    }
}

/// Splits `x-kubernetes-patch-strategy` as `extractRetainKeysPatchStrategy` does.
fn field_meta(prop: Option<&Value>) -> Result<FieldMeta<'_>, PatchError> {
    let Some(prop) = prop else {
        return Ok(FieldMeta::default());
    };
    let merge_key = prop
        .get("x-kubernetes-patch-merge-key")
        .and_then(Value::as_str)
        .unwrap_or("");
    let raw = prop
        .get("x-kubernetes-patch-strategy")
        .and_then(Value::as_str)
        .unwrap_or("");
    let parts: Vec<&str> = raw.split(',').collect();
    let strategy = match parts.as_slice() {
        [one] if *one == "retainKeys" => "",
        [one] => one,
        [a, b] if *a == "retainKeys" => b,
        [a, b] if *b == "retainKeys" => a,
        _ => return Err(PatchError::BadStrategy(raw.to_owned())),
    };
    Ok(FieldMeta {
        strategy,
        merge_key,
    })
}
