//! The compact binary form cached projections are kept in: object keys and repeated
//! short strings interned in a per-index table with reference counts, unique values
//! (names, uids, resource versions, IPs) inline, RFC 3339 times as seconds.

use serde_json::{Map, Number, Value};
use std::collections::HashMap;
use std::sync::Arc;

const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const U64: u8 = 3;
const I64: u8 = 4;
const F64: u8 = 5;
const INLINE: u8 = 6;
const INTERNED: u8 = 7;
const TIME: u8 = 8;
const ARRAY: u8 = 9;
const OBJECT: u8 = 10;

/// Strings longer than this are kept inline: long values are rarely shared.
const MAX_INTERNED: usize = 96;

/// Interned strings with reference counts, so that strings no cached object uses any
/// more are dropped.
#[derive(Default)]
pub struct Interner {
    ids: HashMap<Arc<str>, u32>,
    strings: Vec<(Option<Arc<str>>, u32)>,
    free: Vec<u32>,
}

impl Interner {
    /// The id of `s`, taking one reference.
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            if let Some(cell) = self.strings.get_mut(id as usize) {
                cell.1 += 1;
            }
            return id;
        }
        let shared: Arc<str> = Arc::from(s);
        let id = match self.free.pop() {
            Some(id) => {
                if let Some(cell) = self.strings.get_mut(id as usize) {
                    *cell = (Some(shared.clone()), 1);
                }
                id
            }
            None => {
                self.strings.push((Some(shared.clone()), 1));
                u32::try_from(self.strings.len() - 1).unwrap_or(u32::MAX)
            }
        };
        self.ids.insert(shared, id);
        id
    }

    /// Drops one reference to `id`; the string goes when none is left.
    pub fn release(&mut self, id: u32) {
        let Some(cell) = self.strings.get_mut(id as usize) else {
            return;
        };
        cell.1 = cell.1.saturating_sub(1);
        if cell.1 == 0
            && let Some(s) = cell.0.take()
        {
            self.ids.remove(&s);
            self.free.push(id);
        }
    }

    /// The string of `id` ("" for an id not in use).
    pub fn get(&self, id: u32) -> &str {
        self.strings
            .get(id as usize)
            .and_then(|(s, _)| s.as_deref())
            .unwrap_or("")
    }

    /// How many distinct strings are held.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when no string is held.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Bytes of string data held (for the memory benchmark).
    pub fn string_bytes(&self) -> usize {
        self.ids.keys().map(|s| s.len()).sum()
    }
}

/// Whether a string under `key` (in an object under `parent`) is kept inline: values
/// that are unique per object gain nothing from interning.
fn inline_value(parent: &str, key: &str, value: &str) -> bool {
    const UNIQUE: [&str; 6] = [
        "uid",
        "resourceVersion",
        "podIP",
        "ip",
        "clusterIP",
        "containerID",
    ];
    if value.len() > MAX_INTERNED || (parent == "metadata" && key == "name") {
        return true;
    }
    UNIQUE.contains(&key)
}

/// Encodes `value` into `out`, interning keys and shared strings in `strings`.
pub fn encode(value: &Value, strings: &mut Interner, out: &mut Vec<u8>) {
    encode_in(value, "", "", strings, out);
}

fn encode_in(value: &Value, parent: &str, key: &str, strings: &mut Interner, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.push(NULL),
        Value::Bool(false) => out.push(FALSE),
        Value::Bool(true) => out.push(TRUE),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                out.push(U64);
                put_varint(out, u);
            } else if let Some(i) = n.as_i64() {
                out.push(I64);
                put_varint(out, zigzag(i));
            } else {
                out.push(F64);
                out.extend_from_slice(&n.as_f64().unwrap_or(0.0).to_le_bytes());
            }
        }
        Value::String(s) => {
            if let Some(seconds) = exact_time(s) {
                out.push(TIME);
                put_varint(out, zigzag(seconds));
            } else if inline_value(parent, key, s) {
                out.push(INLINE);
                put_varint(out, s.len() as u64);
                out.extend_from_slice(s.as_bytes());
            } else {
                out.push(INTERNED);
                put_varint(out, u64::from(strings.intern(s)));
            }
        }
        Value::Array(items) => {
            out.push(ARRAY);
            put_varint(out, items.len() as u64);
            for item in items {
                encode_in(item, parent, key, strings, out);
            }
        }
        Value::Object(map) => {
            out.push(OBJECT);
            put_varint(out, map.len() as u64);
            for (k, v) in map {
                put_varint(out, u64::from(strings.intern(k)));
                encode_in(v, key, k, strings, out);
            }
        }
    }
}

/// Decodes bytes made by [`encode`] with the same interner; `None` if they are damaged.
pub fn decode(bytes: &[u8], strings: &Interner) -> Option<Value> {
    let mut cursor = Cursor { bytes, at: 0 };
    let value = decode_value(&mut cursor, strings, 0)?;
    (cursor.at == bytes.len()).then_some(value)
}

/// Drops the references an encoding holds (the object leaves the cache).
pub fn release(bytes: &[u8], strings: &mut Interner) {
    let mut cursor = Cursor { bytes, at: 0 };
    release_value(&mut cursor, strings, 0);
}

/// Deeper nesting than any Kubernetes object has means damaged bytes.
const MAX_DEPTH: usize = 128;

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.at.checked_add(n)?;
        let slice = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(slice)
    }

    fn id(&mut self) -> Option<u32> {
        u32::try_from(self.varint()?).ok()
    }

    fn len(&mut self) -> Option<usize> {
        let n = usize::try_from(self.varint()?).ok()?;
        // Every element takes at least one byte: a longer count is damage, not a reason
        // to reserve memory.
        (n <= self.bytes.len() - self.at).then_some(n)
    }
}

fn decode_value(c: &mut Cursor<'_>, strings: &Interner, depth: usize) -> Option<Value> {
    if depth > MAX_DEPTH {
        return None;
    }
    Some(match c.byte()? {
        NULL => Value::Null,
        FALSE => Value::Bool(false),
        TRUE => Value::Bool(true),
        U64 => Value::Number(c.varint()?.into()),
        I64 => Value::Number(unzigzag(c.varint()?).into()),
        F64 => {
            let raw: [u8; 8] = c.take(8)?.try_into().ok()?;
            Value::Number(Number::from_f64(f64::from_le_bytes(raw))?)
        }
        INLINE => {
            let n = c.len()?;
            Value::String(std::str::from_utf8(c.take(n)?).ok()?.to_owned())
        }
        INTERNED => Value::String(strings.get(c.id()?).to_owned()),
        TIME => Value::String(format_time(unzigzag(c.varint()?))?),
        ARRAY => {
            let n = c.len()?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(decode_value(c, strings, depth + 1)?);
            }
            Value::Array(items)
        }
        OBJECT => {
            let n = c.len()?;
            let mut map = Map::with_capacity(n);
            for _ in 0..n {
                let key = strings.get(c.id()?).to_owned();
                map.insert(key, decode_value(c, strings, depth + 1)?);
            }
            Value::Object(map)
        }
        _ => return None,
    })
}

fn release_value(c: &mut Cursor<'_>, strings: &mut Interner, depth: usize) -> Option<()> {
    if depth > MAX_DEPTH {
        return None;
    }
    match c.byte()? {
        NULL | FALSE | TRUE => {}
        U64 | I64 | TIME => {
            c.varint()?;
        }
        F64 => {
            c.take(8)?;
        }
        INLINE => {
            let n = c.len()?;
            c.take(n)?;
        }
        INTERNED => strings.release(c.id()?),
        ARRAY => {
            for _ in 0..c.len()? {
                release_value(c, strings, depth + 1)?;
            }
        }
        OBJECT => {
            for _ in 0..c.len()? {
                strings.release(c.id()?);
                release_value(c, strings, depth + 1)?;
            }
        }
        _ => return None,
    }
    Some(())
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn zigzag(i: i64) -> u64 {
    ((i << 1) ^ (i >> 63)) as u64
}

fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

/// Seconds of a `YYYY-MM-DDTHH:MM:SSZ` time that prints back identically.
fn exact_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    let t: jiff::Timestamp = s.parse().ok()?;
    let seconds = t.as_second();
    (format_time(seconds)? == s).then_some(seconds)
}

fn format_time(seconds: i64) -> Option<String> {
    let t = jiff::Timestamp::from_second(seconds).ok()?;
    Some(t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn round_trips_and_releases() {
        let mut strings = Interner::default();
        let pod = json!({"metadata": {"name": "web-1", "namespace": "demo", "uid": "u-1",
            "creationTimestamp": "2024-03-01T10:00:00Z", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]},
            "status": {"phase": "Running", "startTime": "2024-03-01T10:00:00.5Z",
                "ratio": 0.5, "delta": -3, "ok": true, "none": null, "big": u64::MAX}});
        let mut a = Vec::new();
        encode(&pod, &mut strings, &mut a);
        assert_eq!(decode(&a, &strings), Some(pod.clone()));
        let mut b = Vec::new();
        encode(&pod, &mut strings, &mut b);
        let shared = strings.len();
        release(&a, &mut strings);
        assert_eq!(strings.len(), shared, "b still holds every string");
        assert_eq!(decode(&b, &strings), Some(pod));
        release(&b, &mut strings);
        assert!(strings.is_empty());
        assert!(a.len() < 200, "{} bytes", a.len());
        assert_eq!(decode(&a[..a.len() - 1], &strings), None);
        assert_eq!(
            decode(&[ARRAY, 0xff, 0xff, 0xff, 0xff, 0x0f], &strings),
            None
        );
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|i| json!(i)),
            any::<u64>().prop_map(|u| json!(u)),
            (-1e9f64..1e9).prop_map(|f| json!(f)),
            "[a-z0-9:.TZ-]{0,24}".prop_map(Value::String),
            prop::sample::select(vec!["2024-01-01T00:00:00Z", "1969-12-31T23:59:59Z"])
                .prop_map(|s| Value::String(s.into())),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(
                    (
                        prop::sample::select(vec!["name", "uid", "metadata", "a", "b"]),
                        inner
                    ),
                    0..6
                )
                .prop_map(|kv| Value::Object(
                    kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
                )),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_json_round_trips(values in prop::collection::vec(arb_json(), 1..5)) {
            let mut strings = Interner::default();
            let encoded: Vec<Vec<u8>> = values.iter().map(|v| {
                let mut out = Vec::new();
                encode(v, &mut strings, &mut out);
                out
            }).collect();
            for (v, e) in values.iter().zip(&encoded) {
                prop_assert_eq!(decode(e, &strings), Some(v.clone()));
            }
            for e in &encoded {
                release(e, &mut strings);
            }
            prop_assert!(strings.is_empty());
        }
    }
}
