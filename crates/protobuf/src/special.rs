//! Kubernetes types whose JSON form differs from their protobuf message (times, quantities, raw JSON).

use base64::Engine as _;
use serde_json::{Number, Value};

use crate::convert::Decoder;
use crate::error::{ProtobufError, Result};
use crate::wire::{Payload, Reader};

const TIME: &str = "apimachinery.pkg.apis.meta.v1.Time";
const MICRO_TIME: &str = "apimachinery.pkg.apis.meta.v1.MicroTime";
const DURATION: &str = "apimachinery.pkg.apis.meta.v1.Duration";
const FIELDS_V1: &str = "apimachinery.pkg.apis.meta.v1.FieldsV1";
const QUANTITY: &str = "apimachinery.pkg.api.resource.Quantity";
const INT_OR_STRING: &str = "apimachinery.pkg.util.intstr.IntOrString";
const RAW_EXTENSION: &str = "apimachinery.pkg.runtime.RawExtension";
const CRD_JSON: &str = "apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON";
const PROPS: &str = "apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps";
const PROPS_OR_ARRAY: &str =
    "apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray";
const PROPS_OR_BOOL: &str =
    "apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool";
const PROPS_OR_STRINGS: &str =
    "apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray";

/// Messages converted by hand because their Go types have their own JSON encoding.
pub const SPECIAL_MESSAGES: &[&str] = &[
    TIME,
    MICRO_TIME,
    DURATION,
    FIELDS_V1,
    QUANTITY,
    INT_OR_STRING,
    RAW_EXTENSION,
    CRD_JSON,
    PROPS_OR_ARRAY,
    PROPS_OR_BOOL,
    PROPS_OR_STRINGS,
];

/// Converts a special message, or returns `None` when `name` is an ordinary message.
pub fn convert(decoder: &mut Decoder, name: &'static str, bytes: &[u8]) -> Option<Result<Value>> {
    let result = match name {
        TIME => time(bytes, false),
        MICRO_TIME => time(bytes, true),
        DURATION => fields(bytes).map(|f| Value::String(go_duration(int_of(&f, 1)))),
        QUANTITY => fields(bytes).map(|f| {
            let s = string_of(&f, 1);
            // A zero Quantity marshals as "0" in Go.
            Value::String(if s.is_empty() { "0".to_string() } else { s })
        }),
        INT_OR_STRING => fields(bytes).map(|f| {
            if int_of(&f, 1) == 1 {
                Value::String(string_of(&f, 3))
            } else {
                Value::Number(Number::from(int_of(&f, 2) as i32))
            }
        }),
        RAW_EXTENSION | FIELDS_V1 | CRD_JSON => raw_json(decoder, name, bytes),
        PROPS_OR_ARRAY => props_or_array(decoder, bytes),
        PROPS_OR_BOOL => props_or_bool(decoder, bytes),
        PROPS_OR_STRINGS => props_or_strings(decoder, bytes),
        _ => return None,
    };
    Some(result)
}

/// The raw fields of a small message, last value of each tag winning as in Go.
fn fields(bytes: &[u8]) -> Result<Vec<(u64, Payload<'_>)>> {
    let mut reader = Reader::new(bytes);
    let mut out = Vec::new();
    while let Some(field) = reader.field()? {
        out.push(field);
    }
    Ok(out)
}

fn int_of(fields: &[(u64, Payload<'_>)], tag: u64) -> i64 {
    fields
        .iter()
        .rev()
        .find_map(|(t, p)| match p {
            Payload::Varint(v) if *t == tag => Some(*v as i64),
            _ => None,
        })
        .unwrap_or(0)
}

fn bytes_of<'a>(fields: &[(u64, Payload<'a>)], tag: u64) -> Option<&'a [u8]> {
    fields.iter().rev().find_map(|(t, p)| match p {
        Payload::Bytes(b) if *t == tag => Some(*b),
        _ => None,
    })
}

fn string_of(fields: &[(u64, Payload<'_>)], tag: u64) -> String {
    bytes_of(fields, tag)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

/// `metav1.Time` (RFC 3339, seconds) and `MicroTime` (six fractional digits); the zero time,
/// which Go encodes as an empty message, is JSON null.
fn time(bytes: &[u8], micro: bool) -> Result<Value> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    let f = fields(bytes)?;
    let (seconds, nanos) = (int_of(&f, 1), i64::from(int_of(&f, 2) as i32));
    let out_of_range = ProtobufError::TimeOutOfRange { seconds, nanos };
    let total = seconds
        .checked_add(nanos.div_euclid(1_000_000_000))
        .ok_or(ProtobufError::TimeOutOfRange { seconds, nanos })?;
    let nanos_in_second = nanos.rem_euclid(1_000_000_000);
    let ts = jiff::Timestamp::from_second(total)
        .map_err(|_| ProtobufError::TimeOutOfRange { seconds, nanos })?;
    let dt = ts.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    if !(0..=9999).contains(&dt.year()) {
        return Err(out_of_range);
    }
    let mut s = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    if micro {
        s.push_str(&format!(".{:06}", nanos_in_second / 1000));
    }
    s.push('Z');
    Ok(Value::String(s))
}

/// Formats nanoseconds as Go's `time.Duration.String()` does (`1h2m3.5s`, `1.5ms`, `0s`).
pub fn go_duration(nanos: i64) -> String {
    let neg = nanos < 0;
    let mut u = nanos.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        let (unit, prec) = match u {
            0 => return "0s".to_string(),
            1..1_000 => ("ns", 0),
            1_000..1_000_000 => ("µs", 3),
            _ => ("ms", 6),
        };
        let frac = fraction(u, prec);
        u /= 10u64.pow(prec);
        out.push_str(&format!("{u}{frac}{unit}"));
    } else {
        let frac = fraction(u, 9);
        u /= 1_000_000_000;
        let secs = format!("{}{frac}s", u % 60);
        u /= 60;
        if u > 0 {
            let mins = u % 60;
            u /= 60;
            if u > 0 {
                out.push_str(&format!("{u}h"));
            }
            out.push_str(&format!("{mins}m"));
        }
        out.push_str(&secs);
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

/// The `prec` low decimal digits of `v` as `.ddd` without trailing zeros, or nothing.
fn fraction(v: u64, prec: u32) -> String {
    if prec == 0 {
        return String::new();
    }
    let digits = format!("{:0width$}", v % 10u64.pow(prec), width = prec as usize);
    let trimmed = digits.trim_end_matches('0');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!(".{trimmed}")
    }
}

/// RawExtension, FieldsV1 and the CRD JSON type hold raw JSON; Go emits it verbatim, or null
/// when it is empty. A RawExtension may also hold a nested protobuf object.
fn raw_json(decoder: &mut Decoder, name: &'static str, bytes: &[u8]) -> Result<Value> {
    let f = fields(bytes)?;
    let raw = bytes_of(&f, 1).unwrap_or_default();
    if raw.is_empty() {
        return Ok(Value::Null);
    }
    if raw.starts_with(crate::MAGIC) {
        return decoder.envelope(raw);
    }
    serde_json::from_slice(raw).map_err(|source| ProtobufError::EmbeddedJson {
        message: name,
        source,
    })
}

fn props(decoder: &mut Decoder, bytes: &[u8]) -> Result<Value> {
    decoder.message_value(PROPS, bytes)
}

/// Go: the array when it is non-empty, otherwise the schema (null when absent).
fn props_or_array(decoder: &mut Decoder, bytes: &[u8]) -> Result<Value> {
    let f = fields(bytes)?;
    let mut items = Vec::new();
    for (_, p) in f.iter().filter(|(t, _)| *t == 2) {
        if let Payload::Bytes(b) = p {
            items.push(props(decoder, b)?);
        }
    }
    if !items.is_empty() {
        return Ok(Value::Array(items));
    }
    bytes_of(&f, 1).map_or(Ok(Value::Null), |b| props(decoder, b))
}

/// Go: the schema when present, otherwise the boolean `allows`.
fn props_or_bool(decoder: &mut Decoder, bytes: &[u8]) -> Result<Value> {
    let f = fields(bytes)?;
    match bytes_of(&f, 2) {
        Some(b) => props(decoder, b),
        None => Ok(Value::Bool(int_of(&f, 1) != 0)),
    }
}

/// Go: the string array when it is non-empty, otherwise the schema (null when absent).
fn props_or_strings(decoder: &mut Decoder, bytes: &[u8]) -> Result<Value> {
    let f = fields(bytes)?;
    let strings: Vec<Value> = f
        .iter()
        .filter_map(|(t, p)| match p {
            Payload::Bytes(b) if *t == 2 => {
                Some(Value::String(String::from_utf8_lossy(b).into_owned()))
            }
            _ => None,
        })
        .collect();
    if !strings.is_empty() {
        return Ok(Value::Array(strings));
    }
    bytes_of(&f, 1).map_or(Ok(Value::Null), |b| props(decoder, b))
}

/// Bytes as Go's `encoding/json` renders `[]byte`: standard base64 with padding.
pub fn base64(bytes: &[u8]) -> Value {
    Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_match_go() {
        for (ns, want) in [
            (0, "0s"),
            (1, "1ns"),
            (1_100, "1.1µs"),
            (2_200_000, "2.2ms"),
            (1_500_000_000, "1.5s"),
            (60_000_000_000, "1m0s"),
            (3_600_000_000_000, "1h0m0s"),
            (3_723_000_000_000, "1h2m3s"),
            (-90_000_000_000, "-1m30s"),
            (100 * 3_600_000_000_000, "100h0m0s"),
        ] {
            assert_eq!(go_duration(ns), want, "{ns}");
        }
        assert_eq!(go_duration(i64::MIN), "-2562047h47m16.854775808s");
    }

    #[test]
    fn times_are_rfc3339_and_zero_is_null() {
        // seconds=1795669771 (2026-11-26T05:09:31Z), nanos=123456789
        let mut body = vec![0x08];
        let mut v: u64 = 1_795_669_771;
        while v >= 0x80 {
            body.push((v as u8) | 0x80);
            v >>= 7;
        }
        body.push(v as u8);
        body.extend([0x10, 0x95, 0x9a, 0xef, 0x3a]);
        assert_eq!(
            time(&body, false).unwrap(),
            Value::String("2026-11-26T05:09:31Z".into())
        );
        assert_eq!(
            time(&body, true).unwrap(),
            Value::String("2026-11-26T05:09:31.123456Z".into())
        );
        assert_eq!(time(&[], false).unwrap(), Value::Null);
        assert_eq!(
            time(&[0x08, 0x00], false).unwrap(),
            Value::String("1970-01-01T00:00:00Z".into())
        );
        let far = [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
        assert!(matches!(
            time(&far, false),
            Err(ProtobufError::TimeOutOfRange { .. })
        ));
    }
}
