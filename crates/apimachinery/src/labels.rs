//! Label selectors: the string grammar of `k8s.io/apimachinery/pkg/labels`, matching,
//! and conversion from a `metav1.LabelSelector` object.

use crate::field::{ErrorList, FieldError, Path};
use crate::validation::{is_qualified_name, is_valid_label_value};
use serde_json::{Map, Value};

pub use crate::label_selector::{validate_label_selector, validate_labels};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// Why a selector could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SelectorError {
    /// The string breaks the grammar or a requirement is invalid; the message is the one
    /// kube-apiserver returns (`unable to parse requirement: found 'b', expected: ...`).
    #[error("{0}")]
    Parse(String),
    /// A requirement has a bad key, bad values or the wrong number of values.
    #[error("{}", aggregate(.0))]
    Invalid(ErrorList),
    /// A `matchExpressions` operator other than In, NotIn, Exists, DoesNotExist.
    #[error("{0:?} is not a valid label selector operator")]
    UnknownOperator(String),
    /// A `LabelSelector` object whose fields have the wrong JSON types.
    #[error("{0}")]
    Malformed(String),
}

/// `utilerrors.Aggregate` rendering: duplicates dropped, one error bare, several bracketed.
pub(crate) fn aggregate(list: &ErrorList) -> String {
    let mut seen: Vec<String> = Vec::new();
    for e in list.iter() {
        let s = e.to_string();
        if !seen.contains(&s) {
            seen.push(s);
        }
    }
    if seen.len() == 1 {
        seen.remove(0)
    } else {
        format!("[{}]", seen.join(", "))
    }
}

/// A requirement's operator, named as `selection.Operator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `a=b`
    Equals,
    /// `a==b`
    DoubleEquals,
    /// `a!=b`: also true when the label is absent.
    NotEquals,
    /// `a in (x,y)`
    In,
    /// `a notin (x,y)`: also true when the label is absent.
    NotIn,
    /// `a`
    Exists,
    /// `!a`
    DoesNotExist,
    /// `a>1`: integer comparison.
    GreaterThan,
    /// `a<1`: integer comparison.
    LessThan,
}

impl Operator {
    /// The `selection.Operator` string (`gt`, `notin`, `exists`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => "in",
            Operator::NotIn => "notin",
            Operator::Exists => "exists",
            Operator::DoesNotExist => "!",
            Operator::GreaterThan => "gt",
            Operator::LessThan => "lt",
        }
    }
}

/// Anything labels can be looked up in.
pub trait LabelSource {
    /// The value of a label, if present.
    fn label(&self, key: &str) -> Option<&str>;
}

impl LabelSource for Map<String, Value> {
    /// Non-string values cannot come from a valid object; they count as absent.
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }
}

impl LabelSource for BTreeMap<String, String> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

impl LabelSource for HashMap<String, String> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

impl<T: LabelSource> LabelSource for Option<&T> {
    fn label(&self, key: &str) -> Option<&str> {
        self.and_then(|l| l.label(key))
    }
}

/// One `key op values` clause of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    key: String,
    operator: Operator,
    values: Vec<String>,
}

/// The path Go prints for a field error built on a nil `*field.Path`.
fn nil_path() -> Path {
    Path::new("<nil>")
}

fn validate_key(key: &str, path: &Path) -> Option<FieldError> {
    let errs = is_qualified_name(key);
    (!errs.is_empty()).then(|| FieldError::invalid(path.clone(), key, errs.join("; ")))
}

impl Requirement {
    /// Builds a requirement with `NewRequirement`'s checks. `path` prefixes error paths;
    /// `None` renders as Kubernetes does for a requirement built without one.
    pub fn new(
        key: &str,
        operator: Operator,
        values: Vec<String>,
        path: Option<&Path>,
    ) -> Result<Self, SelectorError> {
        let mut errs = ErrorList::new();
        let child = |name: &str| match path {
            Some(p) => p.child(name),
            None => Path::new(name),
        };
        if let Some(e) = validate_key(key, &child("key")) {
            errs.push(e);
        }
        let values_path = child("values");
        let values_json = || {
            if values.is_empty() && matches!(operator, Operator::In | Operator::NotIn) {
                // Go marshals the nil slice it builds for an empty list as `null`.
                Value::Null
            } else {
                Value::from(values.clone())
            }
        };
        match operator {
            Operator::In | Operator::NotIn => {
                if values.is_empty() {
                    errs.push(FieldError::invalid(
                        values_path.clone(),
                        values_json(),
                        "for 'in', 'notin' operators, values set can't be empty",
                    ));
                }
            }
            Operator::Equals | Operator::DoubleEquals | Operator::NotEquals => {
                if values.len() != 1 {
                    errs.push(FieldError::invalid(
                        values_path.clone(),
                        values_json(),
                        "exact-match compatibility requires one single value",
                    ));
                }
            }
            Operator::Exists | Operator::DoesNotExist => {
                if !values.is_empty() {
                    errs.push(FieldError::invalid(
                        values_path.clone(),
                        values_json(),
                        "values set must be empty for exists and does not exist",
                    ));
                }
            }
            Operator::GreaterThan | Operator::LessThan => {
                if values.len() != 1 {
                    errs.push(FieldError::invalid(
                        values_path.clone(),
                        values_json(),
                        "for 'Gt', 'Lt' operators, exactly one value is required",
                    ));
                }
                for (i, v) in values.iter().enumerate() {
                    if v.parse::<i64>().is_err() {
                        errs.push(FieldError::invalid(
                            values_path.index(i),
                            v.as_str(),
                            "for 'Gt', 'Lt' operators, the value must be an integer",
                        ));
                    }
                }
            }
        }
        for (i, v) in values.iter().enumerate() {
            let msgs = is_valid_label_value(v);
            if !msgs.is_empty() {
                errs.push(FieldError::invalid(
                    values_path.index(i).key(key),
                    v.as_str(),
                    msgs.join("; "),
                ));
            }
        }
        if errs.is_empty() {
            Ok(Requirement {
                key: key.to_string(),
                operator,
                values,
            })
        } else {
            Err(SelectorError::Invalid(errs))
        }
    }

    /// The label key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The operator.
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The values, in the order given (sorted and unique when parsed from a string).
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Whether a set of labels satisfies this requirement.
    pub fn matches(&self, labels: &(impl LabelSource + ?Sized)) -> bool {
        let found = labels.label(&self.key);
        match self.operator {
            Operator::In | Operator::Equals | Operator::DoubleEquals => {
                found.is_some_and(|v| self.values.iter().any(|x| x == v))
            }
            Operator::NotIn | Operator::NotEquals => {
                found.is_none_or(|v| !self.values.iter().any(|x| x == v))
            }
            Operator::Exists => found.is_some(),
            Operator::DoesNotExist => found.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let Some(have) = found.and_then(|v| v.parse::<i64>().ok()) else {
                    return false;
                };
                let [want] = self.values.as_slice() else {
                    return false;
                };
                let Ok(want) = want.parse::<i64>() else {
                    return false;
                };
                if self.operator == Operator::GreaterThan {
                    have > want
                } else {
                    have < want
                }
            }
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operator == Operator::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let op = match self.operator {
            Operator::Exists | Operator::DoesNotExist => return Ok(()),
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => " in ",
            Operator::NotIn => " notin ",
            Operator::GreaterThan => ">",
            Operator::LessThan => "<",
        };
        f.write_str(op)?;
        let set = matches!(self.operator, Operator::In | Operator::NotIn);
        if set {
            f.write_str("(")?;
        }
        let mut sorted: Vec<&str> = self.values.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        f.write_str(&sorted.join(","))?;
        if set {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// A parsed label selector: requirements ANDed together, or the selector matching nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// `None` is `labels.Nothing()`, what a null `LabelSelector` converts to.
    requirements: Option<Vec<Requirement>>,
}

impl Selector {
    /// The selector that matches every object.
    pub fn everything() -> Self {
        Selector {
            requirements: Some(Vec::new()),
        }
    }

    /// The selector that matches no object.
    pub fn nothing() -> Self {
        Selector { requirements: None }
    }

    /// A selector from requirements, sorted by key as Kubernetes sorts them.
    pub fn from_requirements(mut requirements: Vec<Requirement>) -> Self {
        // Go sorts with an unstable sort that is insertion sort (stable) below 13 items.
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Selector {
            requirements: Some(requirements),
        }
    }

    /// `key=value` for every entry, without validation (`SelectorFromValidatedSet`).
    pub fn from_set(set: &BTreeMap<String, String>) -> Self {
        Selector::from_requirements(
            set.iter()
                .map(|(k, v)| Requirement {
                    key: k.clone(),
                    operator: Operator::Equals,
                    values: vec![v.clone()],
                })
                .collect(),
        )
    }

    /// True for the selector with no requirements (matches everything).
    pub fn is_empty(&self) -> bool {
        self.requirements.as_ref().is_some_and(Vec::is_empty)
    }

    /// True for the selector matching nothing.
    pub fn is_nothing(&self) -> bool {
        self.requirements.is_none()
    }

    /// The requirements; empty for both everything and nothing.
    pub fn requirements(&self) -> &[Requirement] {
        self.requirements.as_deref().unwrap_or(&[])
    }

    /// Whether labels satisfy every requirement.
    pub fn matches(&self, labels: &(impl LabelSource + ?Sized)) -> bool {
        match &self.requirements {
            None => false,
            Some(reqs) => reqs.iter().all(|r| r.matches(labels)),
        }
    }

    /// Matches against an object's `metadata.labels` (absent labels are an empty set).
    pub fn matches_object(&self, object: &Value) -> bool {
        let labels = object
            .get("metadata")
            .and_then(|m| m.get("labels"))
            .and_then(Value::as_object);
        self.matches(&labels)
    }

    /// The single value a label must have for the selector to match, if there is one:
    /// lets a caller narrow a scan with an index.
    pub fn requires_exact_match(&self, key: &str) -> Option<&str> {
        let r = self.requirements().iter().find(|r| r.key == key)?;
        match (r.operator, r.values.as_slice()) {
            (Operator::Equals | Operator::DoubleEquals | Operator::In, [v]) => Some(v),
            _ => None,
        }
    }
}

impl fmt::Display for Selector {
    /// The canonical string, `""` for everything and for nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements().iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Selector {
    type Err = SelectorError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

/// Parses a label selector string (`?labelSelector=`).
pub fn parse(s: &str) -> Result<Selector, SelectorError> {
    crate::label_parser::parse(s).map(Selector::from_requirements)
}

pub(crate) fn key_error(key: &str) -> Option<SelectorError> {
    validate_key(key, &nil_path()).map(|e| SelectorError::Invalid(ErrorList(vec![e])))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "labels_tests.rs"]
mod tests;
