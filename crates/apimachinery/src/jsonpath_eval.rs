//! Evaluation of parsed JSONPath nodes over JSON, with client-go's semantics for
//! missing keys, slices, recursive descent and filters.

use crate::jsonpath::{JsonPath, JsonPathError, Node, Param};
use serde_json::Value;
use std::borrow::Cow;
use std::cmp::Ordering;

type Items<'a> = Vec<Cow<'a, Value>>;

/// Evaluates `path` against `v`. With `allow_missing_keys` false a field absent from
/// every input is an error (`x is not found`), as kubectl's `-o jsonpath` reports.
pub fn evaluate_with(
    path: &JsonPath,
    v: &Value,
    allow_missing_keys: bool,
) -> Result<Vec<Value>, JsonPathError> {
    let ev = Evaluator { allow_missing_keys };
    let out = ev.list(vec![Cow::Borrowed(v)], &path.nodes)?;
    Ok(out.into_iter().map(Cow::into_owned).collect())
}

struct Evaluator {
    allow_missing_keys: bool,
}

fn eval_err(msg: impl Into<String>) -> JsonPathError {
    JsonPathError::Eval(msg.into())
}

/// The Go type an unstructured value has, for error messages.
fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// Go's `%v` of an unstructured value (maps print with sorted keys).
fn go_format(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::String(s) => s.clone(),
        Value::Bool(_) | Value::Number(_) => v.to_string(),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(go_format).collect::<Vec<_>>().join(" ")
        ),
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let parts: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{k}:{}", go_format(v)))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// Children in the order Go's reflection walks them; a string's children are its bytes.
fn children(v: &Value) -> Vec<Cow<'_, Value>> {
    match v {
        Value::Object(m) => m.values().map(Cow::Borrowed).collect(),
        Value::Array(a) => a.iter().map(Cow::Borrowed).collect(),
        Value::String(s) => s.bytes().map(|b| Cow::Owned(Value::from(b))).collect(),
        _ => Vec::new(),
    }
}

impl Evaluator {
    fn list<'a>(&self, mut cur: Items<'a>, nodes: &[Node]) -> Result<Items<'a>, JsonPathError> {
        for node in nodes {
            cur = self.node(cur, node)?;
        }
        Ok(cur)
    }

    fn node<'a>(&self, input: Items<'a>, node: &Node) -> Result<Items<'a>, JsonPathError> {
        let literal = |v: Value| Ok(input.iter().map(|_| Cow::Owned(v.clone())).collect());
        match node {
            Node::Text(s) => Ok(vec![Cow::Owned(Value::from(s.as_str()))]),
            Node::Int(i) => literal(Value::from(*i)),
            Node::Float(f) => literal(Value::from(*f)),
            Node::Bool(b) => literal(Value::Bool(*b)),
            Node::Field(name) => self.field(input, name),
            Node::Wildcard => Ok(input
                .into_iter()
                .flat_map(|v| match v {
                    Cow::Borrowed(b) => children(b),
                    Cow::Owned(o) => children(&o)
                        .into_iter()
                        .map(|c| Cow::Owned(c.into_owned()))
                        .collect(),
                })
                .collect()),
            Node::Recursive => {
                let mut out = Vec::new();
                for v in input {
                    recursive(v, &mut out);
                }
                Ok(out)
            }
            Node::Array(params) => array(input, *params),
            Node::Union(lists) => {
                let mut out = Vec::new();
                for l in lists {
                    out.extend(self.list(input.clone(), l)?);
                }
                Ok(out)
            }
            Node::Filter { left, right, op } => self.filter(input, left, right, op.as_deref()),
        }
    }

    fn field<'a>(&self, input: Items<'a>, name: &str) -> Result<Items<'a>, JsonPathError> {
        if input.is_empty() {
            return Ok(input);
        }
        let mut out = Vec::new();
        for v in input {
            match v {
                Cow::Borrowed(Value::Object(m)) => out.extend(m.get(name).map(Cow::Borrowed)),
                Cow::Owned(Value::Object(mut m)) => {
                    out.extend(m.remove(name).map(Cow::Owned));
                }
                _ => {}
            }
        }
        if out.is_empty() && !self.allow_missing_keys {
            return Err(eval_err(format!("{name} is not found")));
        }
        Ok(out)
    }

    fn filter<'a>(
        &self,
        input: Items<'a>,
        left: &[Node],
        right: &[Node],
        op: Option<&str>,
    ) -> Result<Items<'a>, JsonPathError> {
        let mut out = Vec::new();
        for v in input {
            let elems: Items<'a> = match v {
                Cow::Borrowed(Value::Array(a)) => a.iter().map(Cow::Borrowed).collect(),
                Cow::Owned(Value::Array(a)) => a.into_iter().map(Cow::Owned).collect(),
                other => {
                    return Err(eval_err(format!(
                        "{} is not array or slice and cannot be filtered",
                        go_format(&other)
                    )));
                }
            };
            for e in elems {
                let lefts = self.list(vec![e.clone()], left);
                let Some(op) = op else {
                    if lefts.is_ok_and(|l| !l.is_empty()) {
                        out.push(e);
                    }
                    continue;
                };
                let lefts = lefts?;
                let l = match lefts.as_slice() {
                    [] => continue,
                    [one] => one.clone(),
                    _ => return Err(eval_err("can only compare one element at a time")),
                };
                let rights = self.list(vec![e.clone()], right)?;
                let r = match rights.as_slice() {
                    [] => continue,
                    [one] => one.clone(),
                    _ => return Err(eval_err("can only compare one element at a time")),
                };
                if compare(&l, &r, op)? {
                    out.push(e);
                }
            }
        }
        Ok(out)
    }
}

fn recursive<'a>(v: Cow<'a, Value>, out: &mut Items<'a>) {
    let kids: Items<'a> = match &v {
        Cow::Borrowed(b) => children(b),
        Cow::Owned(o) => children(o)
            .into_iter()
            .map(|c| Cow::Owned(c.into_owned()))
            .collect(),
    };
    if kids.is_empty() {
        return;
    }
    out.push(v);
    for k in kids {
        recursive(k, out);
    }
}

fn array(input: Items<'_>, params: [Param; 3]) -> Result<Items<'_>, JsonPathError> {
    let mut out = Vec::new();
    for v in input {
        if v.is_null() {
            continue;
        }
        let len = match v.as_ref() {
            Value::Array(a) => a.len() as i64,
            other => {
                return Err(eval_err(format!(
                    "{} is not array or slice",
                    go_type(other)
                )));
            }
        };
        let mut p = params;
        if !p[0].known {
            p[0].value = 0;
        }
        if p[0].value < 0 {
            p[0].value += len;
        }
        if !p[1].known {
            p[1].value = len;
        }
        if p[1].value < 0 || (p[1].value == 0 && p[1].derived) {
            p[1].value += len;
        }
        if p[1].value == p[0].value {
            // Go returns what it has so far, skipping any further inputs.
            return Ok(out);
        }
        let (start, end) = (p[0].value, p[1].value);
        if start >= len || start < 0 {
            return Err(eval_err(format!(
                "array index out of bounds: index {start}, length {len}"
            )));
        }
        if end > len || end < 0 {
            return Err(eval_err(format!(
                "array index out of bounds: index {}, length {len}",
                end - 1
            )));
        }
        if start > end {
            return Err(eval_err(format!(
                "starting index {start} is greater than ending index {end}"
            )));
        }
        let step = if p[2].known {
            if p[2].value <= 0 {
                return Err(eval_err("step must be > 0"));
            }
            p[2].value as usize
        } else {
            1
        };
        let range = (start as usize..end as usize).step_by(step);
        match v {
            Cow::Borrowed(Value::Array(a)) => out.extend(range.map(|i| Cow::Borrowed(&a[i]))),
            Cow::Owned(Value::Array(a)) => {
                out.extend(range.filter_map(|i| a.get(i).cloned().map(Cow::Owned)))
            }
            _ => {}
        }
    }
    Ok(out)
}

#[derive(PartialEq)]
enum Kind {
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
}

/// text/template's basic kinds; anything else cannot be compared.
fn kind(v: &Value) -> Result<Kind, JsonPathError> {
    Ok(match v {
        Value::Bool(b) => Kind::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Kind::Int(i128::from(i)),
            (None, Some(u)) => Kind::Int(i128::from(u)),
            _ => Kind::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Kind::Str(s.clone()),
        _ => return Err(eval_err("invalid type for comparison")),
    })
}

/// `eq`, `ne`, `lt`, `le`, `gt`, `ge` of client-go's forked text/template.
fn compare(l: &Value, r: &Value, op: &str) -> Result<bool, JsonPathError> {
    let incompatible = || eval_err("incompatible types for comparison");
    let (a, b) = (kind(l)?, kind(r)?);
    let ord = match (&a, &b) {
        (Kind::Bool(x), Kind::Bool(y)) => match op {
            "==" => return Ok(x == y),
            "!=" => return Ok(x != y),
            "<" | ">" | "<=" | ">=" => return Err(eval_err("invalid type for comparison")),
            _ => None,
        },
        (Kind::Int(x), Kind::Int(y)) => Some(x.cmp(y)),
        (Kind::Float(x), Kind::Float(y)) => x.partial_cmp(y),
        (Kind::Str(x), Kind::Str(y)) => Some(x.cmp(y)),
        _ if matches!(op, "==" | "!=" | "<" | ">" | "<=" | ">=") => return Err(incompatible()),
        _ => None,
    };
    // NaN compares false everywhere except `!=`.
    Ok(match op {
        "==" => ord == Some(Ordering::Equal),
        "!=" => ord != Some(Ordering::Equal),
        "<" => ord == Some(Ordering::Less),
        ">" => ord == Some(Ordering::Greater),
        "<=" => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
        ">=" => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
        other => return Err(eval_err(format!("unrecognized filter operator {other}"))),
    })
}
