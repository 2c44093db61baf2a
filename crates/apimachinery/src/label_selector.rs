//! `metav1.LabelSelector` objects: conversion to a `Selector` and the validation
//! workloads run on `spec.selector`.

use crate::field::{ErrorList, FieldError, Path};
use crate::labels::{Operator, Requirement, Selector, SelectorError};
use crate::validation::{is_qualified_name, is_valid_label_value};
use serde_json::{Map, Value};

impl Selector {
    /// Converts a `metav1.LabelSelector` as `LabelSelectorAsSelector` does: null matches
    /// nothing, an empty selector matches everything.
    pub fn from_label_selector(selector: &Value) -> Result<Self, SelectorError> {
        let obj = match selector {
            Value::Null => return Ok(Selector::nothing()),
            Value::Object(o) => o,
            _ => {
                return Err(SelectorError::Malformed(
                    "label selector must be an object".into(),
                ));
            }
        };
        let match_labels = string_map(obj.get("matchLabels"), "matchLabels")?;
        let exprs = match obj.get("matchExpressions") {
            None | Some(Value::Null) => &[][..],
            Some(Value::Array(a)) => a.as_slice(),
            Some(_) => {
                return Err(SelectorError::Malformed(
                    "matchExpressions must be a list".into(),
                ));
            }
        };
        let mut reqs = Vec::with_capacity(match_labels.len() + exprs.len());
        for (k, v) in &match_labels {
            reqs.push(Requirement::new(
                k,
                Operator::Equals,
                vec![v.to_string()],
                None,
            )?);
        }
        for expr in exprs {
            let e = LabelSelectorRequirement::from_value(expr)?;
            let op = match e.operator.as_str() {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                other => return Err(SelectorError::UnknownOperator(other.to_string())),
            };
            reqs.push(Requirement::new(&e.key, op, e.values, None)?);
        }
        Ok(Selector::from_requirements(reqs))
    }
}

fn string_map<'a>(
    v: Option<&'a Value>,
    what: &str,
) -> Result<Vec<(&'a str, &'a str)>, SelectorError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.as_str(), s.as_str())),
                _ => Err(SelectorError::Malformed(format!(
                    "{what}[{k}] must be a string"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|mut v| {
                // Go ranges over a map in random order; sorting keeps errors reproducible.
                v.sort_unstable();
                v
            }),
        Some(_) => Err(SelectorError::Malformed(format!(
            "{what} must be an object"
        ))),
    }
}

/// One `matchExpressions` entry, decoded leniently so validation can report on it.
struct LabelSelectorRequirement {
    key: String,
    operator: String,
    values: Vec<String>,
}

impl LabelSelectorRequirement {
    fn from_value(v: &Value) -> Result<Self, SelectorError> {
        let bad = |m: &str| SelectorError::Malformed(format!("matchExpressions: {m}"));
        let obj = v
            .as_object()
            .ok_or_else(|| bad("entries must be objects"))?;
        let text = |name: &str| match obj.get(name) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(bad(&format!("{name} must be a string"))),
        };
        let values = match obj.get("values") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| bad("values must be strings"))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(bad("values must be a list")),
        };
        Ok(LabelSelectorRequirement {
            key: text("key")?,
            operator: text("operator")?,
            values,
        })
    }
}

/// `ValidateLabels`: every key a qualified name, every value a label value; errors are
/// reported at `path` itself, as Kubernetes does.
pub fn validate_labels(labels: &Map<String, Value>, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for (k, v) in labels {
        for msg in is_qualified_name(k) {
            errs.push(FieldError::invalid(path.clone(), k.as_str(), msg));
        }
        match v {
            Value::String(s) => {
                for msg in is_valid_label_value(s) {
                    errs.push(FieldError::invalid(path.clone(), s.as_str(), msg));
                }
            }
            other => errs.push(FieldError::type_invalid(
                path.key(k),
                other.clone(),
                "must be of type string",
            )),
        }
    }
    errs
}

/// `ValidateLabelSelector` with the default options: what Deployments, ReplicaSets and
/// other workloads run on `spec.selector`.
pub fn validate_label_selector(selector: &Value, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let Some(obj) = selector.as_object() else {
        return errs;
    };
    if let Some(Value::Object(ml)) = obj.get("matchLabels") {
        errs.extend(validate_labels(ml, &path.child("matchLabels")));
    }
    let Some(Value::Array(exprs)) = obj.get("matchExpressions") else {
        return errs;
    };
    for (i, expr) in exprs.iter().enumerate() {
        let p = path.child("matchExpressions").index(i);
        let e = match LabelSelectorRequirement::from_value(expr) {
            Ok(e) => e,
            Err(err) => {
                errs.push(FieldError::type_invalid(p, expr.clone(), err.to_string()));
                continue;
            }
        };
        match e.operator.as_str() {
            "In" | "NotIn" => {
                if e.values.is_empty() {
                    errs.push(FieldError::required(
                        p.child("values"),
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    ));
                }
            }
            "Exists" | "DoesNotExist" => {
                if !e.values.is_empty() {
                    errs.push(FieldError::forbidden(
                        p.child("values"),
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    ));
                }
            }
            other => errs.push(FieldError::invalid(
                p.child("operator"),
                other,
                "not a valid selector operator",
            )),
        }
        for msg in is_qualified_name(&e.key) {
            errs.push(FieldError::invalid(p.child("key"), e.key.as_str(), msg));
        }
        for (vi, v) in e.values.iter().enumerate() {
            for msg in is_valid_label_value(v) {
                errs.push(FieldError::invalid(
                    p.child("values").index(vi),
                    v.as_str(),
                    msg,
                ));
            }
        }
    }
    errs
}
