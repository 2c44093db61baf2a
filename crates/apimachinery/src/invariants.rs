//! Round-trip invariants shared by the cargo-fuzz targets in `fuzz/` and the proptest
//! suite, so stable CI checks exactly what the fuzzers check.
//!
//! Each function takes arbitrary input, never panics, and returns `Err` with a
//! description when an invariant is broken.

use crate::quantity::{Format, Quantity};
use crate::{fields, jsonpath, labels};
use serde_json::Value;

/// A label selector that parses renders to a string that parses to the same selector
/// and renders identically.
pub fn label_selector(s: &str) -> Result<(), String> {
    let Ok(sel) = labels::parse(s) else {
        return Ok(());
    };
    let text = sel.to_string();
    let again = labels::parse(&text).map_err(|e| format!("{s:?} rendered {text:?}: {e}"))?;
    if again.to_string() != text {
        return Err(format!("{s:?}: {text:?} re-rendered as {again}"));
    }
    if sel.requirements().len() != again.requirements().len() {
        return Err(format!("{s:?}: requirement count changed through {text:?}"));
    }
    Ok(())
}

/// A field selector that parses renders (with escaping) to one with the same terms.
/// Order may change: Kubernetes sorts the raw terms, and `a==b` renders as `a=b`.
pub fn field_selector(s: &str) -> Result<(), String> {
    let Ok(sel) = fields::parse(s) else {
        return Ok(());
    };
    let text = sel.to_string();
    let again = fields::parse(&text).map_err(|e| format!("{s:?} rendered {text:?}: {e}"))?;
    let terms = |f: &fields::FieldSelector| {
        let mut t: Vec<String> = f.requirements().iter().map(|r| r.to_string()).collect();
        t.sort_unstable();
        t
    };
    if terms(&again) != terms(&sel) {
        return Err(format!("{s:?}: {text:?} parsed back differently"));
    }
    Ok(())
}

/// A quantity that parses writes back a string with the same value, and its canonical
/// form is a fixed point.
pub fn quantity(s: &str) -> Result<(), String> {
    let Ok(q) = Quantity::parse(s) else {
        return Ok(());
    };
    // Kubernetes has no DecimalSI suffix above exa and writes such values wrongly;
    // this implementation keeps that behaviour, so those values cannot round-trip.
    if q.format() == Format::DecimalSI && q.nanos().abs() >= 10i128.pow(30) {
        return Ok(());
    }
    for text in [q.to_string(), q.canonical()] {
        let back = Quantity::parse(&text).map_err(|e| format!("{s:?} wrote {text:?}: {e}"))?;
        if back.nanos() != q.nanos() {
            return Err(format!("{s:?} wrote {text:?} which reads back as {back:?}"));
        }
    }
    let canonical = q.canonical();
    let reparsed = Quantity::parse(&canonical).map_err(|e| e.to_string())?;
    if reparsed.canonical() != canonical {
        return Err(format!(
            "{s:?}: canonical {canonical:?} is not a fixed point"
        ));
    }
    Ok(())
}

/// Parsing and evaluating any path on any document returns, never panics; a parsed
/// path evaluates the same way twice.
pub fn jsonpath(path: &str, doc: &Value) -> Result<(), String> {
    let Ok(p) = jsonpath::JsonPath::parse(path) else {
        return Ok(());
    };
    let first = p.evaluate(doc);
    if p.evaluate(doc) != first {
        return Err(format!("{path:?}: evaluation is not deterministic"));
    }
    let _ = jsonpath::evaluate_with(&p, doc, false);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn label_selector_invariant(s in "[a-z0-9 =!<>(),./_-]{0,40}|(in|notin|!|=|==|!=|,|\\(|\\)| |a|b.c/d|1|-1){0,12}|\\PC{0,40}") {
            label_selector(&s).map_err(TestCaseError::fail)?;
        }

        #[test]
        fn field_selector_invariant(s in "[a-z.=!,\\\\]{0,30}|\\PC{0,40}") {
            field_selector(&s).map_err(TestCaseError::fail)?;
        }

        #[test]
        fn quantity_invariant(s in "[-+]?[0-9]{0,20}(\\.[0-9]{0,15})?([eE][-+]?[0-9]{1,3}|[numkMGTPE]|[KMGTPE]i)?|\\PC{0,20}") {
            quantity(&s).map_err(TestCaseError::fail)?;
        }

        #[test]
        fn jsonpath_invariant(p in "[.a-c\\[\\]*?@()=!<>'\"0-9:,$ {}-]{0,24}", doc in "\\{\"a\":\\[\\{\"b\":[0-9]\\},\\{\"c\":\"x\"\\}\\]\\}|\\[1,2,3\\]|null") {
            let doc: Value = serde_json::from_str(&doc).map_err(|e| TestCaseError::fail(e.to_string()))?;
            jsonpath(&p, &doc).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn invariants_hold_on_known_inputs() {
        for s in ["a in (x,y),!b,c>1", "x=", "", "a notin ()"] {
            assert_eq!(label_selector(s), Ok(()), "{s}");
        }
        for s in ["a=b\\,c,d!=e", "a==b", "", "=&,=="] {
            assert_eq!(field_selector(s), Ok(()), "{s}");
        }
        for s in [
            "1000m",
            "1.5Gi",
            "+1",
            "01",
            "1E3",
            "0.000000000001Ki",
            "1000E",
        ] {
            assert_eq!(quantity(s), Ok(()), "{s}");
        }
    }
}
