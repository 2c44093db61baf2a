//! The parsed form of one `JSONSchemaProps` node: the tree every other module walks.

use apimachinery::field::{ErrorList, FieldError, Path};
use regex::Regex;
use serde_json::{Map, Value};

/// `additionalProperties`: a boolean or a schema.
#[derive(Debug, Clone)]
pub(crate) enum AdditionalProperties {
    Bool(bool),
    Schema(Box<Node>),
}

impl AdditionalProperties {
    /// The schema that applies to additional values; `None` for the boolean forms, which pruning
    /// treats as "no schema" exactly as apiextensions-apiserver does.
    pub(crate) fn schema(&self) -> Option<&Node> {
        match self {
            AdditionalProperties::Schema(s) => Some(s),
            AdditionalProperties::Bool(_) => None,
        }
    }
}

/// A `pattern` with its compiled form; the compile error is kept for the structural check.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    pub source: String,
    pub regex: Result<Regex, String>,
}

/// One schema node. Absent keywords are `None`/empty, as in Go's zero values.
#[derive(Debug, Clone, Default)]
pub(crate) struct Node {
    pub type_: String,
    pub format: String,
    pub nullable: bool,
    /// `default`; a JSON `null` default counts as absent, as in Go where `Default.Object` is nil.
    pub default: Option<Value>,
    pub maximum: Option<f64>,
    pub exclusive_maximum: bool,
    pub minimum: Option<f64>,
    pub exclusive_minimum: bool,
    pub max_length: Option<i64>,
    pub min_length: Option<i64>,
    pub pattern: Option<Pattern>,
    pub max_items: Option<i64>,
    pub min_items: Option<i64>,
    pub unique_items: bool,
    pub multiple_of: Option<f64>,
    pub enum_: Vec<Value>,
    pub max_properties: Option<i64>,
    pub min_properties: Option<i64>,
    pub required: Vec<String>,
    pub items: Option<Box<Node>>,
    /// `items` given as an array of schemas (forbidden in CRDs).
    pub items_is_array: bool,
    pub properties: Vec<(String, Node)>,
    pub additional_properties: Option<AdditionalProperties>,
    pub all_of: Vec<Node>,
    pub any_of: Vec<Node>,
    pub one_of: Vec<Node>,
    pub not: Option<Box<Node>>,
    pub preserve_unknown_fields: Option<bool>,
    pub embedded_resource: bool,
    pub int_or_string: bool,
    pub list_type: Option<String>,
    pub list_map_keys: Vec<String>,
    pub map_type: Option<String>,
    pub has_title: bool,
    pub has_description: bool,
    pub has_external_docs: bool,
    pub has_x_validations: bool,
    pub has_id: bool,
    pub has_ref: bool,
    pub has_additional_items: bool,
    pub has_pattern_properties: bool,
    pub has_definitions: bool,
    pub has_dependencies: bool,
    /// The keywords present with a non-null value, for "nothing but X" comparisons.
    pub raw_keys: Vec<String>,
}

impl Node {
    /// The schema of a named property.
    pub(crate) fn property(&self, name: &str) -> Option<&Node> {
        self.properties
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, n)| n)
    }

    /// Whether this node or any below it carries `x-kubernetes-validations` rules.
    pub(crate) fn has_validation_rules(&self) -> bool {
        self.has_x_validations
            || self
                .items
                .as_deref()
                .is_some_and(Node::has_validation_rules)
            || self.not.as_deref().is_some_and(Node::has_validation_rules)
            || self
                .properties
                .iter()
                .any(|(_, p)| p.has_validation_rules())
            || self
                .additional_properties
                .as_ref()
                .and_then(AdditionalProperties::schema)
                .is_some_and(Node::has_validation_rules)
            || self
                .all_of
                .iter()
                .chain(&self.any_of)
                .chain(&self.one_of)
                .any(Node::has_validation_rules)
    }

    /// Whether unknown fields under this node are kept.
    pub(crate) fn preserves_unknown(&self) -> bool {
        self.preserve_unknown_fields == Some(true)
    }

    /// Parses a JSONSchemaProps value, reporting keywords of the wrong JSON type as the API
    /// server's decoder would refuse them.
    pub(crate) fn parse(v: &Value, path: &Path, errs: &mut ErrorList) -> Node {
        let Some(m) = v.as_object() else {
            errs.push(FieldError::invalid(
                path.clone(),
                v.clone(),
                "must be a JSON object (JSONSchemaProps)",
            ));
            return Node::default();
        };
        let mut r = Reader { m, path, errs };
        let mut n = Node {
            type_: r.string("type").unwrap_or_default(),
            format: r.string("format").unwrap_or_default(),
            nullable: r.boolean("nullable").unwrap_or(false),
            default: m.get("default").filter(|d| !d.is_null()).cloned(),
            maximum: r.number("maximum"),
            exclusive_maximum: r.boolean("exclusiveMaximum").unwrap_or(false),
            minimum: r.number("minimum"),
            exclusive_minimum: r.boolean("exclusiveMinimum").unwrap_or(false),
            max_length: r.integer("maxLength"),
            min_length: r.integer("minLength"),
            max_items: r.integer("maxItems"),
            min_items: r.integer("minItems"),
            unique_items: r.boolean("uniqueItems").unwrap_or(false),
            multiple_of: r.number("multipleOf"),
            max_properties: r.integer("maxProperties"),
            min_properties: r.integer("minProperties"),
            required: r.strings("required"),
            preserve_unknown_fields: r.boolean("x-kubernetes-preserve-unknown-fields"),
            embedded_resource: r.boolean("x-kubernetes-embedded-resource").unwrap_or(false),
            int_or_string: r.boolean("x-kubernetes-int-or-string").unwrap_or(false),
            list_type: r.string("x-kubernetes-list-type"),
            list_map_keys: r.strings("x-kubernetes-list-map-keys"),
            map_type: r.string("x-kubernetes-map-type"),
            has_title: r.string("title").is_some_and(|s| !s.is_empty()),
            has_description: r.string("description").is_some_and(|s| !s.is_empty()),
            has_external_docs: m.get("externalDocs").is_some_and(|v| !v.is_null()),
            has_x_validations: m
                .get("x-kubernetes-validations")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty()),
            has_id: r.string("id").is_some_and(|s| !s.is_empty()),
            has_ref: m.get("$ref").is_some_and(|v| !v.is_null()),
            has_additional_items: m.get("additionalItems").is_some_and(|v| !v.is_null()),
            has_pattern_properties: m
                .get("patternProperties")
                .and_then(Value::as_object)
                .is_some_and(|o| !o.is_empty()),
            has_definitions: m
                .get("definitions")
                .and_then(Value::as_object)
                .is_some_and(|o| !o.is_empty()),
            has_dependencies: m.get("dependencies").is_some_and(|v| !v.is_null()),
            raw_keys: m
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, _)| k.clone())
                .collect(),
            ..Node::default()
        };
        if let Some(p) = r.string("pattern").filter(|p| !p.is_empty()) {
            let regex = Regex::new(&p).map_err(|e| e.to_string());
            n.pattern = Some(Pattern { source: p, regex });
        }
        match m.get("enum") {
            None | Some(Value::Null) => {}
            Some(Value::Array(a)) => n.enum_ = a.clone(),
            Some(other) => r.wrong("enum", other, "must be an array"),
        }
        match m.get("items") {
            None | Some(Value::Null) => {}
            Some(Value::Array(a)) => {
                n.items_is_array = true;
                let p = path.child("items");
                for (i, s) in a.iter().enumerate() {
                    Node::parse(s, &p.index(i), r.errs);
                }
            }
            Some(s) => n.items = Some(Box::new(Node::parse(s, &path.child("items"), r.errs))),
        }
        match m.get("properties") {
            None | Some(Value::Null) => {}
            Some(Value::Object(props)) => {
                let p = path.child("properties");
                n.properties = props
                    .iter()
                    .map(|(k, s)| (k.clone(), Node::parse(s, &p.key(k), r.errs)))
                    .collect();
            }
            Some(other) => r.wrong("properties", other, "must be an object"),
        }
        match m.get("additionalProperties") {
            None | Some(Value::Null) => {}
            Some(Value::Bool(b)) => n.additional_properties = Some(AdditionalProperties::Bool(*b)),
            Some(s) => {
                let node = Node::parse(s, &path.child("additionalProperties"), r.errs);
                n.additional_properties = Some(AdditionalProperties::Schema(Box::new(node)));
            }
        }
        n.all_of = r.schemas("allOf");
        n.any_of = r.schemas("anyOf");
        n.one_of = r.schemas("oneOf");
        match m.get("not") {
            None | Some(Value::Null) => {}
            Some(s) => n.not = Some(Box::new(Node::parse(s, &path.child("not"), r.errs))),
        }
        n
    }
}

/// Reads typed keywords from one schema object, recording type mismatches.
struct Reader<'a> {
    m: &'a Map<String, Value>,
    path: &'a Path,
    errs: &'a mut ErrorList,
}

impl Reader<'_> {
    fn wrong(&mut self, key: &str, v: &Value, detail: &str) {
        self.errs
            .push(FieldError::invalid(self.path.child(key), v.clone(), detail));
    }

    fn string(&mut self, key: &str) -> Option<String> {
        match self.m.get(key)? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => {
                let other = other.clone();
                self.wrong(key, &other, "must be a string");
                None
            }
        }
    }

    fn boolean(&mut self, key: &str) -> Option<bool> {
        match self.m.get(key)? {
            Value::Null => None,
            Value::Bool(b) => Some(*b),
            other => {
                let other = other.clone();
                self.wrong(key, &other, "must be a boolean");
                None
            }
        }
    }

    fn number(&mut self, key: &str) -> Option<f64> {
        match self.m.get(key)? {
            Value::Null => None,
            Value::Number(n) => n.as_f64(),
            other => {
                let other = other.clone();
                self.wrong(key, &other, "must be a number");
                None
            }
        }
    }

    fn integer(&mut self, key: &str) -> Option<i64> {
        match self.m.get(key)? {
            Value::Null => None,
            Value::Number(n) if n.as_i64().is_some() => n.as_i64(),
            other => {
                let other = other.clone();
                self.wrong(key, &other, "must be an integer");
                None
            }
        }
    }

    fn strings(&mut self, key: &str) -> Vec<String> {
        match self.m.get(key) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) if a.iter().all(Value::is_string) => a
                .iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect(),
            Some(other) => {
                let other = other.clone();
                self.wrong(key, &other, "must be an array of strings");
                Vec::new()
            }
        }
    }

    fn schemas(&mut self, key: &str) -> Vec<Node> {
        match self.m.get(key) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => {
                let p = self.path.child(key);
                a.iter()
                    .enumerate()
                    .map(|(i, s)| Node::parse(s, &p.index(i), self.errs))
                    .collect()
            }
            Some(other) => {
                let other = other.clone();
                self.wrong(key, &other, "must be an array");
                Vec::new()
            }
        }
    }
}
