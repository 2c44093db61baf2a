//! Table cells for a CRD's `additionalPrinterColumns`, as apiextensions' table convertor makes them.

use crate::gofmt::go_float;
use crate::jsonpath;
use serde_json::Value;
use std::time::{SystemTime, UNIX_EPOCH};

/// Evaluates a printer column's `jsonPath` against `obj` into a Table cell of the column `type_`
/// (`integer`, `number`, `string`, `boolean`, `date`). A missing value, a value of another type or
/// an unparsable path gives `null`; `date` cells are ages such as `5m` measured from now.
pub fn printer_cell(json_path: &str, type_: &str, obj: &Value) -> Value {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    printer_cell_at(json_path, type_, obj, now)
}

/// [`printer_cell`] with the clock given, in Unix seconds, so `date` cells are reproducible.
pub fn printer_cell_at(json_path: &str, type_: &str, obj: &Value, now_unix: i64) -> Value {
    let Ok(found) = jsonpath::find(json_path, obj) else {
        return Value::Null;
    };
    // Only simple paths are allowed in CRDs, so the first result is the value.
    let Some(v) = found.first() else {
        return Value::Null;
    };
    match (type_, v) {
        (_, Value::Null) => Value::Null,
        ("string", v) => Value::String(go_print(v, true)),
        ("integer", Value::Number(n)) => match n.as_i64() {
            Some(i) => Value::from(i),
            // Go converts a float64 with int64(f), truncating toward zero.
            None => n.as_f64().map_or(Value::Null, |f| Value::from(f as i64)),
        },
        ("number", Value::Number(n)) => n.as_f64().map_or(Value::Null, Value::from),
        ("boolean", Value::Bool(b)) => Value::Bool(*b),
        ("date", Value::String(s)) => Value::String(match parse_rfc3339(s) {
            Some(t) => human_duration(now_unix - t),
            None => "<invalid>".to_string(),
        }),
        _ => Value::Null,
    }
}

/// Go's `fmt.Fprint` of a decoded JSON value, as the JSONPath text printer writes it.
fn go_print(v: &Value, top: bool) -> String {
    match v {
        Value::Null if top => "null".to_string(),
        Value::Null => "<nil>".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => n.as_f64().map_or_else(|| n.to_string(), go_float),
        },
        Value::String(s) => s.clone(),
        Value::Array(a) => {
            let parts: Vec<String> = a.iter().map(|x| go_print(x, false)).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{k}:{}", go_print(&m[k.as_str()], false)))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// Parses an RFC 3339 timestamp (`metav1.Time`'s format) into Unix seconds.
pub(crate) fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let p = s.get(r)?;
        p.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| p.parse().ok())
            .flatten()
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(frac.len());
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let rb = rest.as_bytes();
            if rb.len() != 6 || !matches!(rb[0], b'+' | b'-') || rb[3] != b':' {
                return None;
            }
            let oh: i64 = rest.get(1..3)?.parse().ok()?;
            let om: i64 = rest.get(4..6)?.parse().ok()?;
            let sign = if rb[0] == b'-' { -1 } else { 1 };
            sign * (oh * 3600 + om * 60)
        }
    };
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `duration.HumanDuration` of apimachinery: `45s`, `3m20s`, `5h10m`, `3d4h`, `2y10d`.
pub(crate) fn human_duration(seconds: i64) -> String {
    apimachinery::duration::human_duration(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn golden_widget() -> Value {
        json!({
            "apiVersion": "golden.example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w1", "namespace": "golden", "creationTimestamp": "2026-11-26T05:10:00Z"},
            "spec": {"color": "red", "size": 3, "ratio": 1.5, "on": true, "tags": ["a", "b"], "sel": {"b": 2, "a": "x"}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}
        })
    }

    #[test]
    fn golden_color_column() {
        // tables/custom-resource-printer-columns.json: Color (.spec.color, string) is "red".
        assert_eq!(
            printer_cell(".spec.color", "string", &golden_widget()),
            json!("red")
        );
    }

    #[test]
    fn cells_by_column_type() {
        let obj = golden_widget();
        let now = parse_rfc3339("2026-11-26T05:15:30Z").unwrap_or_default();
        let cases: &[(&str, &str, Value)] = &[
            (".spec.size", "integer", json!(3)),
            (".spec.ratio", "integer", json!(1)),
            (".spec.size", "number", json!(3.0)),
            (".spec.ratio", "number", json!(1.5)),
            (".spec.on", "boolean", json!(true)),
            (".spec.size", "string", json!("3")),
            (".spec.ratio", "string", json!("1.5")),
            (".spec.on", "string", json!("true")),
            (".spec.tags", "string", json!("[a b]")),
            (".spec.sel", "string", json!("map[a:x b:2]")),
            (".spec.color", "integer", Value::Null),
            (".spec.size", "boolean", Value::Null),
            (".spec.missing", "string", Value::Null),
            (".spec[", "string", Value::Null),
            (
                ".status.conditions[?(@.type==\"Ready\")].status",
                "string",
                json!("True"),
            ),
            (".metadata.creationTimestamp", "date", json!("5m30s")),
            (".spec.color", "date", json!("<invalid>")),
        ];
        for (path, ty, want) in cases {
            assert_eq!(
                &printer_cell_at(path, ty, &obj, now),
                want,
                "{path} as {ty}"
            );
        }
    }

    #[test]
    fn parses_timestamps() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_rfc3339("2000-03-01T00:00:00.123Z"), Some(951_868_800));
        assert_eq!(parse_rfc3339("2000-03-01 00:00:00Z"), None);
        assert_eq!(parse_rfc3339("nope"), None);
    }

    #[test]
    fn human_durations_match_apimachinery() {
        let cases = [
            (-5, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (119, "119s"),
            (120, "2m"),
            (125, "2m5s"),
            (600, "10m"),
            (179 * 60, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 120, "3h2m"),
            (8 * 3600, "8h"),
            (47 * 3600, "47h"),
            (48 * 3600, "2d"),
            (50 * 3600, "2d2h"),
            (8 * 86_400, "8d"),
            (2 * 365 * 86_400, "2y"),
            (2 * 365 * 86_400 + 10 * 86_400, "2y10d"),
            (9 * 365 * 86_400, "9y"),
        ];
        for (s, want) in cases {
            assert_eq!(human_duration(s), want, "{s}");
        }
    }
}
