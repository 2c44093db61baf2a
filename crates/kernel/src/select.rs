//! Label and field selection of objects for list, watch and deletecollection.

use crate::cache::CachedObject;
use crate::registry::{Resource, Source};
use crate::server::Ctx;
use apimachinery::StatusError;
use apimachinery::fields::FieldSelector;
use apimachinery::labels::Selector;
use serde_json::Value;

/// The `labelSelector` and `fieldSelector` of a request.
#[derive(Debug, Default)]
pub struct Filter {
    labels: Option<Selector>,
    fields: Option<FieldSelector>,
    /// Whether the field selector needs more than name and namespace (then each
    /// candidate object is parsed).
    needs_body: bool,
}

impl Filter {
    pub fn from_ctx(ctx: &Ctx) -> Result<Filter, StatusError> {
        Filter::parse(
            &ctx.resource,
            ctx.q("labelSelector"),
            ctx.q("fieldSelector"),
        )
    }

    pub fn parse(
        res: &Resource,
        labels: Option<&str>,
        fields: Option<&str>,
    ) -> Result<Filter, StatusError> {
        let labels = match labels {
            Some(s) => {
                let sel = apimachinery::labels::parse(s).map_err(|e| {
                    StatusError::bad_request(format!("unable to parse requirement: {e}"))
                })?;
                if sel.is_empty() { None } else { Some(sel) }
            }
            None => None,
        };
        let mut needs_body = false;
        let fields = match fields {
            Some(s) => {
                let sel = apimachinery::fields::parse(s)
                    .map_err(|e| StatusError::bad_request(e.to_string()))?;
                for req in sel.requirements() {
                    match req.field.as_str() {
                        "metadata.name" | "metadata.namespace" => {}
                        f if supported_field(res, f) => needs_body = true,
                        f => {
                            return Err(StatusError::bad_request(format!(
                                "field label not supported: {f}"
                            )));
                        }
                    }
                }
                if sel.is_empty() { None } else { Some(sel) }
            }
            None => None,
        };
        Ok(Filter {
            labels,
            fields,
            needs_body,
        })
    }

    /// Whether the object stored under `key` is selected.
    pub fn matches(&self, res: &Resource, key: &str, obj: &CachedObject) -> bool {
        self.matches_with(res, key, obj, || {
            self.needs_body
                .then(|| std::borrow::Cow::Owned(obj.value()))
        })
    }

    /// [`Filter::matches`] for an object whose body the caller already parsed, so
    /// many filters can be evaluated against one parse (indexed watch fan-out).
    pub fn matches_parsed(
        &self,
        res: &Resource,
        key: &str,
        obj: &CachedObject,
        body: &Value,
    ) -> bool {
        self.matches_with(res, key, obj, || Some(std::borrow::Cow::Borrowed(body)))
    }

    /// The `field=value` term on a field read from the object's body, if there is
    /// one: watches are indexed by it.
    pub fn index_term(&self) -> Option<(&str, &str)> {
        if !self.needs_body {
            return None;
        }
        self.fields.as_ref()?.requirements().iter().find_map(|r| {
            let body_field = !matches!(r.field.as_str(), "metadata.name" | "metadata.namespace");
            (body_field && r.operator == apimachinery::fields::FieldOperator::Equals)
                .then_some((r.field.as_str(), r.value.as_str()))
        })
    }

    fn matches_with<'b>(
        &self,
        res: &Resource,
        key: &str,
        obj: &CachedObject,
        body: impl FnOnce() -> Option<std::borrow::Cow<'b, Value>>,
    ) -> bool {
        if let Some(l) = &self.labels
            && !l.matches(&obj.labels())
        {
            return false;
        }
        let Some(f) = &self.fields else { return true };
        let (namespace, name) = split_key(res, key);
        let body = body();
        f.matches(|field| match field {
            "metadata.name" => Some(name.to_string()),
            "metadata.namespace" => Some(namespace.to_string()),
            other => body.as_ref().and_then(|b| field_value(res, b, other)),
        })
    }
}

fn supported_field(res: &Resource, field: &str) -> bool {
    match &res.source {
        Source::Builtin(info) => info.field_selectors.contains(&field),
        Source::Custom(c) => c
            .selectable_fields
            .iter()
            .any(|f| f.trim_start_matches('.') == field),
        Source::Virtual(_) => false,
    }
}

/// The value of a selectable field; an absent field reads as "", as `fields.Set.Get` does.
pub fn field_value_or_empty(res: &Resource, obj: &Value, field: &str) -> String {
    field_value(res, obj, field).unwrap_or_default()
}

fn field_value(res: &Resource, obj: &Value, field: &str) -> Option<String> {
    match &res.source {
        Source::Builtin(info) => builtin::field_value(info, obj, field),
        Source::Virtual(_) => None,
        Source::Custom(_) => {
            let mut cur = obj;
            for part in field.split('.') {
                cur = cur.get(part)?;
            }
            Some(match cur {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            })
        }
    }
}

/// `(namespace, name)` from a storage key.
pub fn split_key<'a>(res: &Resource, key: &'a str) -> (&'a str, &'a str) {
    let prefix_len = res.key_prefix().len();
    let rest = key.get(prefix_len..).unwrap_or("");
    if res.namespaced {
        rest.split_once('/').unwrap_or(("", rest))
    } else {
        ("", rest)
    }
}
