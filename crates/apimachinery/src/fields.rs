//! Field selectors (`?fieldSelector=metadata.name=x,status.phase!=Running`): the grammar
//! and escaping of `k8s.io/apimachinery/pkg/fields`.

use crate::labels::SelectorError;
use std::fmt;

/// A field requirement's operator. `==` parses to `Equals`, as in Kubernetes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldOperator {
    /// `a=b` or `a==b`
    Equals,
    /// `a!=b`
    NotEquals,
}

/// One `field op value` term; the value is unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRequirement {
    /// The field path as written, e.g. `metadata.name`.
    pub field: String,
    pub operator: FieldOperator,
    /// The unescaped value.
    pub value: String,
}

impl FieldRequirement {
    fn matches(&self, get: &impl Fn(&str) -> Option<String>) -> bool {
        // `fields.Set.Get` yields "" for an absent field.
        let have = get(&self.field).unwrap_or_default();
        match self.operator {
            FieldOperator::Equals => have == self.value,
            FieldOperator::NotEquals => have != self.value,
        }
    }
}

impl fmt::Display for FieldRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.operator {
            FieldOperator::Equals => "=",
            FieldOperator::NotEquals => "!=",
        };
        write!(f, "{}{op}{}", self.field, escape_value(&self.value))
    }
}

/// A parsed field selector: terms ANDed together, sorted as Kubernetes sorts them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector {
    requirements: Vec<FieldRequirement>,
}

impl FieldSelector {
    /// The selector matching everything.
    pub fn everything() -> Self {
        FieldSelector::default()
    }

    /// A selector requiring `field=value`.
    pub fn one_term_equal(field: &str, value: &str) -> Self {
        FieldSelector {
            requirements: vec![FieldRequirement {
                field: field.into(),
                operator: FieldOperator::Equals,
                value: value.into(),
            }],
        }
    }

    /// True when there is no term.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The terms, in canonical order.
    pub fn requirements(&self) -> &[FieldRequirement] {
        &self.requirements
    }

    /// Whether an object whose fields `get` returns passes every term.
    pub fn matches(&self, get: impl Fn(&str) -> Option<String>) -> bool {
        self.requirements.iter().all(|r| r.matches(&get))
    }

    /// The value a field must equal, if some term demands it.
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.requirements
            .iter()
            .find(|r| r.field == field && r.operator == FieldOperator::Equals)
            .map(|r| r.value.as_str())
    }

    /// Rejects fields the resource cannot be filtered on, with kube-apiserver's
    /// message: `field label not supported: <name>`.
    pub fn check_supported(&self, supported: &[&str]) -> Result<(), SelectorError> {
        match self
            .requirements
            .iter()
            .find(|r| !supported.contains(&r.field.as_str()))
        {
            Some(r) => Err(SelectorError::Parse(format!(
                "field label not supported: {}",
                r.field
            ))),
            None => Ok(()),
        }
    }
}

impl fmt::Display for FieldSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for FieldSelector {
    type Err = SelectorError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

/// Escapes `\`, `,` and `=` in a value so it survives `parse`.
pub fn escape_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Reverses `escape_value`; an unknown escape or a bare `,`/`=` is an error.
pub fn unescape_value(s: &str) -> Result<String, SelectorError> {
    if !s.contains(['\\', ',', '=']) {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut in_slash = false;
    for c in s.chars() {
        if in_slash {
            if !matches!(c, '\\' | ',' | '=') {
                return Err(SelectorError::Parse(format!(
                    "invalid field selector: invalid escape sequence: \\{c}"
                )));
            }
            out.push(c);
            in_slash = false;
            continue;
        }
        match c {
            '\\' => in_slash = true,
            // Go prints the rune with %v, i.e. as its code point number.
            ',' | '=' => {
                return Err(SelectorError::Parse(format!(
                    "invalid field selector: unescaped character in value: {}",
                    c as u32
                )));
            }
            _ => out.push(c),
        }
    }
    if in_slash {
        return Err(SelectorError::Parse(
            "invalid field selector: invalid escape sequence: \\".into(),
        ));
    }
    Ok(out)
}

/// Splits on commas not preceded by a backslash escape.
fn split_terms(s: &str) -> Vec<&str> {
    if s.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in s.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(&s[start..i]);
            start = i + 1;
        }
    }
    terms.push(&s[start..]);
    terms
}

/// The first operator found scanning left to right; at one position `!=` and `==` win over `=`.
fn split_term(term: &str) -> Option<(&str, FieldOperator, &str)> {
    for (i, _) in term.char_indices() {
        let rest = &term[i..];
        for (op, kind) in [
            ("!=", FieldOperator::NotEquals),
            ("==", FieldOperator::Equals),
            ("=", FieldOperator::Equals),
        ] {
            if let Some(value) = rest.strip_prefix(op) {
                return Some((&term[..i], kind, value));
            }
        }
    }
    None
}

/// Parses a field selector string (`?fieldSelector=`).
pub fn parse(s: &str) -> Result<FieldSelector, SelectorError> {
    let mut parts = split_terms(s);
    // Kubernetes sorts the raw terms, which fixes the canonical order.
    parts.sort_unstable();
    let mut requirements = Vec::with_capacity(parts.len());
    for part in parts {
        if part.is_empty() {
            continue;
        }
        let Some((field, operator, rhs)) = split_term(part) else {
            return Err(SelectorError::Parse(format!(
                "invalid selector: '{s}'; can't understand '{part}'"
            )));
        };
        requirements.push(FieldRequirement {
            field: field.to_string(),
            operator,
            value: unescape_value(rhs)?,
        });
    }
    Ok(FieldSelector { requirements })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn getter<'a>(m: &'a BTreeMap<&'a str, &'a str>) -> impl Fn(&str) -> Option<String> + 'a {
        |k| m.get(k).map(|v| v.to_string())
    }

    #[test]
    fn parses_and_renders() {
        for (input, want) in [
            ("", ""),
            ("a=b", "a=b"),
            ("a==b", "a=b"),
            ("a!=b", "a!=b"),
            ("b=1,a=2", "a=2,b=1"),
            ("a=b,", "a=b"),
            ("a=", "a="),
            ("a=b\\,c", "a=b\\,c"),
            ("a=b\\=c\\\\", "a=b\\=c\\\\"),
            (
                "metadata.name=x,spec.nodeName!=",
                "metadata.name=x,spec.nodeName!=",
            ),
        ] {
            let sel = parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(sel.to_string(), want, "{input}");
        }
        let sel = parse("a=b\\,c").unwrap();
        assert_eq!(sel.requirements()[0].value, "b,c");
        // `=` takes the first operator position: the field is `a`, the value `=b`... which
        // must then be escaped.
        assert!(parse("a==b=c").is_err());
        let sel = parse("a!==b").unwrap_err();
        assert_eq!(
            sel.to_string(),
            "invalid field selector: unescaped character in value: 61"
        );
    }

    #[test]
    fn errors_match_kubernetes() {
        for (input, want) in [
            ("a", "invalid selector: 'a'; can't understand 'a'"),
            ("x=1,b", "invalid selector: 'x=1,b'; can't understand 'b'"),
            (
                "a=b\\c",
                "invalid field selector: invalid escape sequence: \\c",
            ),
            (
                "a=b\\",
                "invalid field selector: invalid escape sequence: \\",
            ),
            (
                "a=b=c",
                "invalid field selector: unescaped character in value: 61",
            ),
        ] {
            assert_eq!(parse(input).unwrap_err().to_string(), want, "{input}");
        }
    }

    #[test]
    fn matching_treats_absent_as_empty() {
        let obj = BTreeMap::from([("metadata.name", "x"), ("status.phase", "Running")]);
        let get = getter(&obj);
        assert!(parse("metadata.name=x").unwrap().matches(&get));
        assert!(
            parse("metadata.name=x,status.phase!=Pending")
                .unwrap()
                .matches(&get)
        );
        assert!(!parse("status.phase!=Running").unwrap().matches(&get));
        assert!(parse("spec.nodeName=").unwrap().matches(&get));
        assert!(!parse("spec.nodeName!=").unwrap().matches(&get));
        assert!(FieldSelector::everything().matches(&get));
        assert_eq!(
            parse("metadata.name=x")
                .unwrap()
                .requires_exact_match("metadata.name"),
            Some("x")
        );
    }

    #[test]
    fn unsupported_field_message() {
        let sel = parse("metadata.name=a,spec.color=red").unwrap();
        assert_eq!(
            sel.check_supported(&["metadata.name", "metadata.namespace"])
                .unwrap_err()
                .to_string(),
            "field label not supported: spec.color"
        );
        assert!(
            sel.check_supported(&["metadata.name", "spec.color"])
                .is_ok()
        );
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn escape_round_trips(v in "\\PC{0,30}") {
                prop_assert_eq!(unescape_value(&escape_value(&v)).ok(), Some(v));
            }

            #[test]
            fn parse_render_round_trip(
                terms in proptest::collection::vec(("[a-z][a-z.]{0,12}", any::<bool>(), "\\PC{0,12}"), 0..4)
            ) {
                let text = terms
                    .iter()
                    .map(|(f, eq, v)| format!("{f}{}{}", if *eq { "=" } else { "!=" }, escape_value(v)))
                    .collect::<Vec<_>>()
                    .join(",");
                let sel = parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
                prop_assert_eq!(sel.requirements().len(), terms.len());
                let again = parse(&sel.to_string()).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(again, sel);
            }

            #[test]
            fn no_panic(s in "\\PC{0,60}") {
                let _ = parse(&s).map(|sel| sel.to_string());
            }
        }
    }
}
