//! Kubernetes JSONPath (`k8s.io/client-go/util/jsonpath`) for single expressions, as
//! CRD `additionalPrinterColumns` and `kubectl -o custom-columns` use it: parsing here,
//! evaluation in `jsonpath_eval`.

use serde_json::Value;

pub use crate::jsonpath_eval::evaluate_with;

/// Why a path could not be parsed or evaluated; messages follow client-go's.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JsonPathError {
    /// The expression is malformed (`unterminated array`, `invalid array index x`, ...).
    #[error("{0}")]
    Syntax(String),
    /// Evaluation failed (`x is not found`, `array index out of bounds: ...`, ...).
    #[error("{0}")]
    Eval(String),
}

/// One array subscript bound: `known` is false when omitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Param {
    pub value: i64,
    pub known: bool,
    /// The end of `[n]`, derived as `n+1`.
    pub derived: bool,
}

/// One parsed node; a path is a list evaluated left to right.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Field(String),
    Wildcard,
    Recursive,
    Array([Param; 3]),
    Union(Vec<Vec<Node>>),
    Filter {
        left: Vec<Node>,
        right: Vec<Node>,
        /// `None` for an existence test such as `[?(@.ready)]`.
        op: Option<String>,
    },
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// A parsed expression, reusable across objects.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    pub(crate) nodes: Vec<Node>,
}

impl JsonPath {
    /// Parses `.spec.replicas`, `{.spec.replicas}` or `spec.replicas` (kubectl's relaxed
    /// form: braces and the leading dot are optional).
    pub fn parse(path: &str) -> Result<Self, JsonPathError> {
        let trimmed = path.trim();
        let body = match trimmed.strip_prefix('{') {
            Some(rest) => rest
                .strip_suffix('}')
                .ok_or_else(|| syntax("unclosed action"))?
                .to_string(),
            None if trimmed.starts_with(['.', '[', '$', '@']) || trimmed.is_empty() => {
                trimmed.to_string()
            }
            None => format!(".{trimmed}"),
        };
        Ok(JsonPath {
            nodes: parse_action(&body)?,
        })
    }

    /// Evaluates against an object; a missing field yields no value rather than an error,
    /// as printer columns and custom columns want.
    pub fn evaluate(&self, v: &Value) -> Result<Vec<Value>, JsonPathError> {
        evaluate_with(self, v, true)
    }
}

/// Parses and evaluates `path` against `v`, missing fields yielding nothing.
pub fn evaluate(path: &str, v: &Value) -> Result<Vec<Value>, JsonPathError> {
    JsonPath::parse(path)?.evaluate(v)
}

fn syntax(msg: impl Into<String>) -> JsonPathError {
    JsonPathError::Syntax(msg.into())
}

fn is_terminator(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => matches!(
            c,
            ' ' | '\t' | '\r' | '\n' | '.' | ',' | '[' | ']' | '$' | '@' | '{' | '}'
        ),
    }
}

fn is_alphanumeric(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Go's `%#U`: `U+002A '*'`.
fn go_rune(c: char) -> String {
    format!("U+{:04X} '{c}'", c as u32)
}

/// Parses the inside of one `{...}` action into nodes.
pub(crate) fn parse_action(s: &str) -> Result<Vec<Node>, JsonPathError> {
    let mut nodes = Vec::new();
    let mut pos = 0;
    while pos < s.len() {
        let rest = &s[pos..];
        if let Some(filter) = rest.strip_prefix("[?(") {
            pos += parse_filter(filter, &mut nodes)? + 3;
            continue;
        }
        if let Some(after) = rest.strip_prefix("..") {
            if nodes.last() == Some(&Node::Recursive) {
                return Err(syntax("invalid multiple recursive descent"));
            }
            nodes.push(Node::Recursive);
            pos += 2;
            if after.chars().next().is_some_and(is_alphanumeric) {
                pos += parse_field(after, &mut nodes);
            }
            continue;
        }
        let Some(c) = rest.chars().next() else { break };
        match c {
            '\r' | '\n' => return Err(syntax("unclosed action")),
            ' ' | '@' | '$' => pos += 1,
            '[' => pos += parse_array(rest, &mut nodes)?,
            '"' | '\'' => pos += parse_quote(rest, c, &mut nodes)?,
            '.' => pos += 1 + parse_field(&rest[1..], &mut nodes),
            '+' | '-' | '0'..='9' => pos += parse_number(rest, &mut nodes)?,
            c if is_alphanumeric(c) => {
                let end = rest
                    .char_indices()
                    .find(|&(_, ch)| is_terminator(Some(ch)))
                    .map_or(rest.len(), |(i, _)| i);
                match &rest[..end] {
                    "true" => nodes.push(Node::Bool(true)),
                    "false" => nodes.push(Node::Bool(false)),
                    // `range` and `end` belong to templates, which this module does not run.
                    other => return Err(syntax(format!("unrecognized identifier {other}"))),
                }
                pos += end;
            }
            other => {
                return Err(syntax(format!(
                    "unrecognized character in action: {}",
                    go_rune(other)
                )));
            }
        }
    }
    Ok(nodes)
}

/// A field name up to a terminator; `\` escapes the next character. Returns bytes used.
fn parse_field(s: &str, nodes: &mut Vec<Node>) -> usize {
    let mut chars = s.char_indices().peekable();
    let mut end = s.len();
    while let Some((i, c)) = chars.next() {
        if c == '\\' {
            chars.next();
            continue;
        }
        if is_terminator(Some(c)) {
            end = i;
            break;
        }
    }
    let raw = &s[..end];
    if raw == "*" {
        nodes.push(Node::Wildcard);
    } else {
        nodes.push(Node::Field(raw.replace('\\', "")));
    }
    end
}

fn parse_number(s: &str, nodes: &mut Vec<Node>) -> Result<usize, JsonPathError> {
    let start = usize::from(s.starts_with(['+', '-']));
    let end = s[start..]
        .char_indices()
        .find(|&(_, c)| c != '.' && !c.is_ascii_digit())
        .map_or(s.len(), |(i, _)| i + start);
    let text = &s[..end];
    if let Ok(i) = text.parse::<i64>() {
        nodes.push(Node::Int(i));
    } else if let Ok(f) = text.parse::<f64>() {
        nodes.push(Node::Float(f));
    } else {
        return Err(syntax(format!("cannot parse number {text}")));
    }
    Ok(end)
}

/// A quoted literal; the closing quote is the first one not preceded by a backslash.
fn parse_quote(s: &str, quote: char, nodes: &mut Vec<Node>) -> Result<usize, JsonPathError> {
    let b = s.as_bytes();
    let mut i = 1;
    loop {
        match b.get(i) {
            None | Some(b'\n') => return Err(syntax("unterminated quoted string")),
            Some(&c) if c == quote as u8 && b[i - 1] != b'\\' => break,
            _ => i += 1,
        }
    }
    let inner = &s[1..i];
    nodes.push(Node::Text(unquote(inner, quote).ok_or_else(|| {
        syntax(format!("unquote string {} error invalid syntax", &s[..=i]))
    })?));
    Ok(i + 1)
}

fn unquote(s: &str, quote: char) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == quote {
            return None;
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            '\\' => '\\',
            '\'' if quote == '\'' => '\'',
            '"' if quote == '"' => '"',
            _ => return None,
        });
    }
    Some(out)
}

/// `[...]`: index, slice, `*`, union or `'key'`. Returns bytes used.
fn parse_array(s: &str, nodes: &mut Vec<Node>) -> Result<usize, JsonPathError> {
    let close = match s.find([']', '\n']) {
        Some(i) if s.as_bytes()[i] == b']' => i,
        _ => return Err(syntax("unterminated array")),
    };
    let mut text = &s[1..close];
    if text == "*" {
        text = ":";
    }
    let parts: Vec<&str> = text.split(',').collect();
    if parts.len() > 1 {
        let mut union = Vec::with_capacity(parts.len());
        for p in parts {
            union.push(parse_action(&format!("[{}]", p.trim_matches(' ')))?);
        }
        nodes.push(Node::Union(union));
        return Ok(close + 1);
    }
    if let Some(key) = text
        .strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .filter(|k| !k.contains('\''))
    {
        // Kubernetes re-parses `['k']` as `.k`, so dots in k still split fields.
        nodes.extend(parse_action(&format!(".{key}"))?);
        return Ok(close + 1);
    }
    nodes.push(Node::Array(parse_slice(text)?));
    Ok(close + 1)
}

/// `start:end:step`, each part optional, matching `^(-?\d*)(:-?\d*)?(:-?\d*)?$`.
fn parse_slice(text: &str) -> Result<[Param; 3], JsonPathError> {
    let invalid = || syntax(format!("invalid array index {text}"));
    let mut parts = text.splitn(3, ':');
    let raw: Vec<&str> = (0..3).map(|_| parts.next().unwrap_or("")).collect();
    let colons = text.matches(':').count();
    if colons > 2 {
        return Err(invalid());
    }
    for r in &raw {
        let digits = r.strip_prefix('-').unwrap_or(r);
        if !digits.bytes().all(|c| c.is_ascii_digit()) {
            return Err(invalid());
        }
    }
    let number = |r: &str| {
        r.parse::<i64>()
            .map_err(|_| syntax(format!("array index {r} is not a number")))
    };
    let mut params = [Param::default(); 3];
    if !raw[0].is_empty() {
        params[0] = Param {
            value: number(raw[0])?,
            known: true,
            derived: false,
        };
    }
    if colons >= 1 {
        if !raw[1].is_empty() {
            params[1] = Param {
                value: number(raw[1])?,
                known: true,
                derived: false,
            };
        }
    } else {
        params[1] = Param {
            value: params[0].value.saturating_add(1),
            known: true,
            derived: true,
        };
    }
    if colons == 2 && !raw[2].is_empty() {
        params[2] = Param {
            value: number(raw[2])?,
            known: true,
            derived: false,
        };
    }
    Ok(params)
}

/// `[?(left op right)]` or `[?(path)]`; `s` starts after `[?(`. Returns bytes used.
fn parse_filter(s: &str, nodes: &mut Vec<Node>) -> Result<usize, JsonPathError> {
    let mut begin = false;
    let mut end = false;
    let mut pair = '\0';
    let mut prev = '\0';
    let mut close = None;
    for (i, c) in s.char_indices() {
        match c {
            '\n' => return Err(syntax("unterminated filter")),
            '"' | '\'' if !begin => {
                begin = true;
                pair = c;
            }
            '"' | '\'' if prev != '\\' && c == pair => end = true,
            ')' if begin == end => {
                close = Some(i);
                break;
            }
            _ => {}
        }
        prev = c;
    }
    let close = close.ok_or_else(|| syntax("unterminated filter"))?;
    if s.as_bytes().get(close + 1) != Some(&b']') {
        return Err(syntax("unclosed array expect ]"));
    }
    let text = &s[..close];
    let is_op = |c: char| matches!(c, '!' | '<' | '>' | '=');
    let left_end = text.find(is_op).unwrap_or(text.len());
    let op_end = text[left_end..]
        .find(|c| !is_op(c))
        .map_or(text.len(), |i| i + left_end);
    if left_end > 0 && op_end > left_end && op_end < text.len() {
        nodes.push(Node::Filter {
            left: parse_action(&text[..left_end])?,
            right: parse_action(&text[op_end..])?,
            op: Some(text[left_end..op_end].to_string()),
        });
    } else {
        nodes.push(Node::Filter {
            left: parse_action(text)?,
            right: Vec::new(),
            op: None,
        });
    }
    Ok(close + 2)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "jsonpath_tests.rs"]
mod tests;
