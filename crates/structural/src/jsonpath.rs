//! The JSONPath subset CRD printer columns use, evaluated with missing keys allowed.

// Supported: `.a.b`, `['key']`, `[0]`, `[-1]`, `[a:b]`, `[*]`, `..name`, `[?(@.x=="y")]` and the
// other comparison operators, `[?(@.x)]`.

use serde_json::Value;

/// One step of a parsed path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Wildcard,
    Recursive(String),
    Index(i64),
    Slice(Option<i64>, Option<i64>),
    Filter(Filter),
}

#[derive(Debug, Clone, PartialEq)]
struct Filter {
    path: Vec<Step>,
    op: Option<(Op, Value)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A parse failure, with what was left unparsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError(pub String);

/// Parses a path such as `.status.conditions[?(@.type=="Ready")].status`; the surrounding `{}`
/// and a leading `$` are optional.
fn parse(path: &str) -> Result<Vec<Step>, ParseError> {
    let mut s = path.trim();
    if let Some(inner) = s.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
        s = inner.trim();
    }
    s = s.strip_prefix('$').unwrap_or(s);
    let (steps, rest) = parse_steps(s)?;
    if rest.is_empty() {
        Ok(steps)
    } else {
        Err(ParseError(format!("unexpected {rest:?}")))
    }
}

fn is_name_char(c: char) -> bool {
    !matches!(
        c,
        '.' | '[' | ']' | '(' | ')' | '=' | '!' | '<' | '>' | ' ' | '"' | '\''
    )
}

/// Parses steps until something that cannot start a step; returns the rest.
fn parse_steps(mut s: &str) -> Result<(Vec<Step>, &str), ParseError> {
    let mut steps = Vec::new();
    loop {
        if let Some(r) = s.strip_prefix("..") {
            let end = r.find(|c| !is_name_char(c)).unwrap_or(r.len());
            if end == 0 {
                return Err(ParseError(format!(
                    "missing field name after '..' in {s:?}"
                )));
            }
            steps.push(Step::Recursive(r[..end].to_string()));
            s = &r[end..];
        } else if let Some(r) = s.strip_prefix('.') {
            let end = r.find(|c| !is_name_char(c)).unwrap_or(r.len());
            match &r[..end] {
                "" => {}
                "*" => steps.push(Step::Wildcard),
                name => steps.push(Step::Field(name.to_string())),
            }
            s = &r[end..];
        } else if let Some(r) = s.strip_prefix('[') {
            let close = matching_bracket(r)
                .ok_or_else(|| ParseError(format!("unterminated '[' in {s:?}")))?;
            steps.push(parse_bracket(r[..close].trim())?);
            s = &r[close + 1..];
        } else {
            return Ok((steps, s));
        }
    }
}

/// The index of the `]` closing a bracket whose `[` was just consumed, skipping quoted text.
fn matching_bracket(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') if depth == 0 => return Some(i),
            (None, ']') => depth -= 1,
            _ => {}
        }
    }
    None
}

fn parse_bracket(inner: &str) -> Result<Step, ParseError> {
    if inner == "*" {
        return Ok(Step::Wildcard);
    }
    if let Some(name) = unquote(inner) {
        return Ok(Step::Field(name));
    }
    if let Some(f) = inner.strip_prefix("?(").and_then(|r| r.strip_suffix(')')) {
        return parse_filter(f.trim()).map(Step::Filter);
    }
    if let Some((a, b)) = inner.split_once(':') {
        let num = |t: &str| -> Result<Option<i64>, ParseError> {
            let t = t.trim();
            if t.is_empty() {
                return Ok(None);
            }
            t.parse()
                .map(Some)
                .map_err(|_| ParseError(format!("bad slice bound {t:?}")))
        };
        // A step after a second ':' is accepted only as 1, the one stride we implement.
        let (b, step) = b.split_once(':').unwrap_or((b, "1"));
        if !matches!(step.trim(), "" | "1") {
            return Err(ParseError(format!("unsupported slice step {step:?}")));
        }
        return Ok(Step::Slice(num(a)?, num(b)?));
    }
    inner
        .parse()
        .map(Step::Index)
        .map_err(|_| ParseError(format!("bad array index {inner:?}")))
}

fn unquote(s: &str) -> Option<String> {
    let q = s.chars().next()?;
    if (q == '\'' || q == '"') && s.len() >= 2 && s.ends_with(q) {
        Some(s[1..s.len() - 1].to_string())
    } else {
        None
    }
}

fn parse_filter(f: &str) -> Result<Filter, ParseError> {
    let r = f
        .strip_prefix('@')
        .ok_or_else(|| ParseError(format!("filter must start with '@': {f:?}")))?;
    let (path, rest) = parse_steps(r)?;
    let rest = rest.trim();
    if rest.is_empty() {
        return Ok(Filter { path, op: None });
    }
    let ops = [
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];
    for (text, op) in ops {
        if let Some(lit) = rest.strip_prefix(text) {
            let lit = lit.trim();
            let value = match unquote(lit) {
                Some(s) => Value::String(s),
                None => serde_json::from_str(lit)
                    .map_err(|_| ParseError(format!("bad literal {lit:?}")))?,
            };
            return Ok(Filter {
                path,
                op: Some((op, value)),
            });
        }
    }
    Err(ParseError(format!("bad filter {f:?}")))
}

/// Evaluates `path` against `obj`: every match, in document order; missing keys match nothing.
pub(crate) fn find<'a>(path: &str, obj: &'a Value) -> Result<Vec<&'a Value>, ParseError> {
    let steps = parse(path)?;
    Ok(eval(&steps, vec![obj]))
}

fn eval<'a>(steps: &[Step], mut cur: Vec<&'a Value>) -> Vec<&'a Value> {
    for step in steps {
        let mut next = Vec::new();
        for v in cur {
            apply(step, v, &mut next);
        }
        cur = next;
    }
    cur
}

fn apply<'a>(step: &Step, v: &'a Value, out: &mut Vec<&'a Value>) {
    match step {
        Step::Field(name) => {
            if let Some(x) = v.as_object().and_then(|m| m.get(name)) {
                out.push(x);
            }
        }
        Step::Wildcard => match v {
            Value::Object(m) => out.extend(m.values()),
            Value::Array(a) => out.extend(a.iter()),
            _ => {}
        },
        Step::Recursive(name) => recurse(name, v, out),
        Step::Index(i) => {
            if let Value::Array(a) = v {
                let len = a.len() as i64;
                let idx = if *i < 0 { len + i } else { *i };
                if (0..len).contains(&idx) {
                    out.push(&a[idx as usize]);
                }
            }
        }
        Step::Slice(start, end) => {
            if let Value::Array(a) = v {
                let len = a.len() as i64;
                let clamp = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
                let s = clamp(start.unwrap_or(0));
                let e = clamp(end.unwrap_or(len));
                if s < e {
                    out.extend(a[s as usize..e as usize].iter());
                }
            }
        }
        Step::Filter(f) => {
            let candidates: Vec<&Value> = match v {
                Value::Array(a) => a.iter().collect(),
                Value::Object(m) => m.values().collect(),
                _ => Vec::new(),
            };
            for c in candidates {
                if filter_matches(f, c) {
                    out.push(c);
                }
            }
        }
    }
}

fn recurse<'a>(name: &str, v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            if let Some(x) = m.get(name) {
                out.push(x);
            }
            for x in m.values() {
                recurse(name, x, out);
            }
        }
        Value::Array(a) => {
            for x in a {
                recurse(name, x, out);
            }
        }
        _ => {}
    }
}

fn filter_matches(f: &Filter, v: &Value) -> bool {
    let found = eval(&f.path, vec![v]);
    let Some((op, lit)) = &f.op else {
        return !found.is_empty();
    };
    found.iter().any(|x| {
        let ord = match (x, lit) {
            (Value::Number(a), Value::Number(b)) => a
                .as_f64()
                .zip(b.as_f64())
                .and_then(|(a, b)| a.partial_cmp(&b)),
            (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
            (a, b) if *a == b => Some(std::cmp::Ordering::Equal),
            _ => None,
        };
        match (op, ord) {
            (Op::Eq, o) => o == Some(std::cmp::Ordering::Equal),
            (Op::Ne, o) => o != Some(std::cmp::Ordering::Equal),
            (Op::Lt, Some(o)) => o.is_lt(),
            (Op::Le, Some(o)) => o.is_le(),
            (Op::Gt, Some(o)) => o.is_gt(),
            (Op::Ge, Some(o)) => o.is_ge(),
            (_, None) => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn evaluates_the_supported_forms() {
        let obj = json!({
            "spec": {"size": 3, "tags": ["a", "b", "c"], "dotted.key": 1},
            "status": {"conditions": [
                {"type": "Progressing", "status": "False", "n": 1},
                {"type": "Ready", "status": "True", "n": 2}
            ]}
        });
        let cases: &[(&str, Vec<Value>)] = &[
            (".spec.size", vec![json!(3)]),
            ("{.spec.size}", vec![json!(3)]),
            ("$.spec.size", vec![json!(3)]),
            (".spec.missing", vec![]),
            (".spec.tags[1]", vec![json!("b")]),
            (".spec.tags[-1]", vec![json!("c")]),
            (".spec.tags[5]", vec![]),
            (".spec.tags[*]", vec![json!("a"), json!("b"), json!("c")]),
            (".spec.tags[0:2]", vec![json!("a"), json!("b")]),
            (".spec['dotted.key']", vec![json!(1)]),
            (
                ".status.conditions[?(@.type==\"Ready\")].status",
                vec![json!("True")],
            ),
            (
                ".status.conditions[?(@.type=='Progressing')].status",
                vec![json!("False")],
            ),
            (".status.conditions[?(@.n>1)].type", vec![json!("Ready")]),
            (
                ".status.conditions[?(@.type!=\"Ready\")].type",
                vec![json!("Progressing")],
            ),
            (".status.conditions[?(@.n)].n", vec![json!(1), json!(2)]),
            ("..type", vec![json!("Progressing"), json!("Ready")]),
        ];
        for (path, want) in cases {
            let got: Vec<Value> = find(path, &obj)
                .unwrap_or_else(|e| panic!("{path}: {e:?}"))
                .into_iter()
                .cloned()
                .collect();
            assert_eq!(&got, want, "{path}");
        }
    }

    #[test]
    fn rejects_malformed_paths() {
        for bad in [".spec[", ".spec[abc]", ".a[?(x==1)]", ".a[1:2:3]", ".a ) b"] {
            assert!(find(bad, &json!({})).is_err(), "{bad}");
        }
    }
}
