//! A minimal protobuf writer: varints, length-delimited fields and 64-bit doubles.

use serde_json::Value;

const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LEN: u32 = 2;

/// The bytes of one protobuf message under construction, fields appended in the order written.
#[derive(Default)]
pub(super) struct Msg(Vec<u8>);

impl Msg {
    pub(super) fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn tag(&mut self, field: u32, wire: u32) {
        self.varint(u64::from(field << 3 | wire));
    }

    fn bytes(&mut self, field: u32, b: &[u8]) {
        self.tag(field, LEN);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
    }

    /// A proto3 string: the empty string is the default and is left out, as Go's marshaller does.
    pub(super) fn string(&mut self, field: u32, s: &str) {
        if !s.is_empty() {
            self.bytes(field, s.as_bytes());
        }
    }

    /// Writes `s` even when empty: repeated strings keep every element.
    pub(super) fn repeated_string(&mut self, field: u32, s: &str) {
        self.bytes(field, s.as_bytes());
    }

    pub(super) fn message(&mut self, field: u32, m: Msg) {
        self.bytes(field, &m.0);
    }

    pub(super) fn bool(&mut self, field: u32, b: bool) {
        if b {
            self.bool_always(field, b);
        }
    }

    /// A bool inside a oneof: `false` must still be written or the case is lost.
    pub(super) fn bool_always(&mut self, field: u32, b: bool) {
        self.tag(field, VARINT);
        self.varint(u64::from(b));
    }

    pub(super) fn int64(&mut self, field: u32, v: i64) {
        if v != 0 {
            self.tag(field, VARINT);
            // Negative int64 values are sign-extended to ten bytes, as protobuf specifies.
            self.varint(v as u64);
        }
    }

    pub(super) fn double(&mut self, field: u32, v: f64) {
        if v != 0.0 {
            self.tag(field, FIXED64);
            self.0.extend_from_slice(&v.to_le_bytes());
        }
    }

    /// A string field taken from `obj[key]` when it is a JSON string.
    pub(super) fn str_of(&mut self, field: u32, obj: &Value, key: &str) {
        if let Some(s) = obj.get(key).and_then(Value::as_str) {
            self.string(field, s);
        }
    }

    pub(super) fn bool_of(&mut self, field: u32, obj: &Value, key: &str) {
        if let Some(b) = obj.get(key).and_then(Value::as_bool) {
            self.bool(field, b);
        }
    }

    pub(super) fn int64_of(&mut self, field: u32, obj: &Value, key: &str) {
        if let Some(Value::Number(n)) = obj.get(key) {
            // Swagger allows `maxLength: 5.0`; Go's JSON decoder would take the integer part.
            let v = n.as_i64().or_else(|| n.as_f64().map(|f| f as i64));
            self.int64(field, v.unwrap_or(0));
        }
    }

    pub(super) fn double_of(&mut self, field: u32, obj: &Value, key: &str) {
        if let Some(v) = obj.get(key).and_then(Value::as_f64) {
            self.double(field, v);
        }
    }

    /// Every string of `obj[key]`, which may be one string or an array of them.
    pub(super) fn strings_of(&mut self, field: u32, obj: &Value, key: &str) {
        match obj.get(key) {
            Some(Value::String(s)) => self.repeated_string(field, s),
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .for_each(|s| self.repeated_string(field, s)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_doubles_use_the_protobuf_layout() {
        let mut m = Msg::default();
        m.int64(1, 300);
        m.int64(2, -1);
        m.double(3, 1.5);
        m.bool_always(4, false);
        m.string(5, "");
        let mut expected = vec![0x08, 0xac, 0x02, 0x10];
        expected.extend_from_slice(&[0xff; 9]);
        expected.push(0x01);
        expected.push(0x19);
        expected.extend_from_slice(&1.5f64.to_le_bytes());
        expected.extend_from_slice(&[0x20, 0x00]);
        assert_eq!(m.into_bytes(), expected);
    }
}
