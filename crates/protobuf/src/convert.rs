//! Table-driven conversion of protobuf messages to the JSON Go's encoding would produce.

use serde_json::{Map, Number, Value};

use crate::error::{ProtobufError, Result};
use crate::special;
use crate::table::{Field, FieldType, Message, Table};
use crate::wire::{FIXED64, LEN, Payload, Reader, VARINT};

/// Deeper than any built-in object nests (JSONSchemaProps recursion included).
const MAX_DEPTH: usize = 100;

/// Walks messages against the table, tracking nesting depth.
pub struct Decoder {
    table: &'static Table,
    depth: usize,
}

impl Decoder {
    /// A decoder over the generated table.
    pub fn new(table: &'static Table) -> Self {
        Decoder { table, depth: 0 }
    }

    /// Decodes a `k8s\0`-prefixed `runtime.Unknown` envelope into a JSON object carrying
    /// `kind` and `apiVersion`.
    pub fn envelope(&mut self, body: &[u8]) -> Result<Value> {
        let inner = body
            .strip_prefix(crate::MAGIC)
            .ok_or(ProtobufError::BadMagic)?;
        let (mut api_version, mut kind, mut raw, mut encoding) =
            (String::new(), String::new(), &[][..], String::new());
        let mut reader = Reader::new(inner);
        while let Some((tag, payload)) = reader.field()? {
            match (tag, payload) {
                (1, Payload::Bytes(type_meta)) => {
                    let mut tm = Reader::new(type_meta);
                    while let Some((t, p)) = tm.field()? {
                        match (t, p) {
                            (1, Payload::Bytes(b)) => {
                                api_version = utf8(b, "TypeMeta", "apiVersion")?
                            }
                            (2, Payload::Bytes(b)) => kind = utf8(b, "TypeMeta", "kind")?,
                            _ => {}
                        }
                    }
                }
                (2, Payload::Bytes(b)) => raw = b,
                (3, Payload::Bytes(b)) => encoding = utf8(b, "Unknown", "contentEncoding")?,
                _ => {}
            }
        }
        if !encoding.is_empty() {
            return Err(ProtobufError::UnsupportedEncoding(encoding));
        }
        let message = self.lookup_kind(&api_version, &kind)?;
        let mut object = Map::new();
        object.insert("kind".to_string(), Value::String(kind));
        object.insert("apiVersion".to_string(), Value::String(api_version));
        self.descend()?;
        let result = self.fill(message, raw, &mut object);
        self.depth -= 1;
        result?;
        Ok(Value::Object(object))
    }

    fn lookup_kind(&self, api_version: &str, kind: &str) -> Result<&'static str> {
        self.table
            .kind(api_version, kind)
            // Option kinds (DeleteOptions, ...) are registered in every group version.
            .or_else(|| {
                self.table
                    .kind("meta.k8s.io/v1", kind)
                    .filter(|_| kind.ends_with("Options"))
            })
            .ok_or_else(|| ProtobufError::UnknownKind {
                kind: kind.to_string(),
                api_version: api_version.to_string(),
            })
    }

    /// A table struct whose JSON object a repeated occurrence merges into.
    fn is_plain(&self, name: &str) -> bool {
        !special::SPECIAL_MESSAGES.contains(&name)
            && matches!(self.table.message(name), Ok(Message::Struct(_)))
    }

    fn descend(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            return Err(ProtobufError::TooDeep(MAX_DEPTH));
        }
        Ok(())
    }

    /// Converts one message (special or from the table) to its JSON value.
    pub fn message_value(&mut self, name: &'static str, bytes: &[u8]) -> Result<Value> {
        self.descend()?;
        let result = self.message_value_inner(name, bytes);
        self.depth -= 1;
        result
    }

    fn message_value_inner(&mut self, name: &'static str, bytes: &[u8]) -> Result<Value> {
        if let Some(value) = special::convert(self, name, bytes) {
            return value;
        }
        if let Message::Strings = self.table.message(name)? {
            let mut items = Vec::new();
            let mut reader = Reader::new(bytes);
            while let Some((tag, payload)) = reader.field()? {
                if let (1, Payload::Bytes(b)) = (tag, payload) {
                    items.push(Value::String(utf8(b, name, "items")?));
                }
            }
            return Ok(Value::Array(items));
        }
        let mut object = Map::new();
        self.fill(name, bytes, &mut object)?;
        Ok(Value::Object(object))
    }

    /// Decodes the fields of struct message `name` into `out`, merging as Go's decoder does
    /// when a field repeats.
    fn fill(
        &mut self,
        name: &'static str,
        bytes: &[u8],
        out: &mut Map<String, Value>,
    ) -> Result<()> {
        let Message::Struct(fields) = self.table.message(name)? else {
            return Err(ProtobufError::UnknownMessage(name.to_string()));
        };
        let mut reader = Reader::new(bytes);
        while let Some((tag, payload)) = reader.field()? {
            let Ok(tag) = u32::try_from(tag) else {
                continue;
            };
            let Ok(i) = fields.binary_search_by_key(&tag, |f| f.tag) else {
                continue;
            };
            let field = fields[i];
            self.field(name, field, payload, out)?;
        }
        for field in fields.iter().filter(|f| f.null_when_absent) {
            if let Some(json) = field.json
                && !out.contains_key(json)
            {
                out.insert(json.to_string(), Value::Null);
            }
        }
        Ok(())
    }

    fn field(
        &mut self,
        message: &'static str,
        field: Field,
        payload: Payload<'_>,
        out: &mut Map<String, Value>,
    ) -> Result<()> {
        let wrong = |expected: u8| ProtobufError::WrongWireType {
            message: message.to_string(),
            tag: field.tag,
            field: field.name().to_string(),
            expected,
            found: payload.wire_type(),
        };
        match field.ty {
            FieldType::Message(target) => {
                let Payload::Bytes(b) = payload else {
                    return Err(wrong(LEN));
                };
                let Some(json) = field.json else {
                    self.descend()?;
                    let result = self.fill(target, b, out);
                    self.depth -= 1;
                    return result;
                };
                if field.repeated {
                    let value = self.message_value(target, b)?;
                    push(out, json, value);
                    return Ok(());
                }
                if let Some(Value::Object(existing)) = out.get_mut(json)
                    && self.is_plain(target)
                {
                    self.descend()?;
                    let result = self.fill(target, b, existing);
                    self.depth -= 1;
                    return result;
                }
                let value = self.message_value(target, b)?;
                out.insert(json.to_string(), value);
            }
            FieldType::MapString | FieldType::MapBytes | FieldType::MapMessage(_) => {
                let Payload::Bytes(entry) = payload else {
                    return Err(wrong(LEN));
                };
                let (key, value) = self.map_entry(message, field, entry)?;
                let json = field.json.unwrap_or_default();
                let slot = out.entry(json.to_string()).or_insert(Value::Null);
                // A null left by an earlier occurrence of the enclosing message turns into a map.
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                if let Value::Object(map) = slot {
                    map.insert(key, value);
                }
            }
            _ => {
                let json = field.json.unwrap_or_default();
                if field.repeated && payload.wire_type() == LEN && is_numeric(field.ty) {
                    let Payload::Bytes(packed) = payload else {
                        return Err(wrong(LEN));
                    };
                    if field.ty == FieldType::Double {
                        if packed.len() % 8 != 0 {
                            return Err(ProtobufError::Truncated("a packed double"));
                        }
                        for chunk in packed.chunks_exact(8) {
                            let mut a = [0u8; 8];
                            a.copy_from_slice(chunk);
                            let value = scalar(
                                message,
                                field,
                                Payload::Fixed64(u64::from_le_bytes(a)),
                                &wrong,
                            )?;
                            push(out, json, value);
                        }
                        return Ok(());
                    }
                    let mut r = Reader::new(packed);
                    while !r.is_empty() {
                        let value = scalar(message, field, Payload::Varint(r.varint()?), &wrong)?;
                        push(out, json, value);
                    }
                    return Ok(());
                }
                let value = scalar(message, field, payload, &wrong)?;
                if field.repeated {
                    push(out, json, value);
                } else if field.keep_zero || !is_zero(&value) {
                    out.insert(json.to_string(), value);
                } else {
                    // A later zero overrides an earlier value, as in Go.
                    out.remove(json);
                }
            }
        }
        Ok(())
    }

    fn map_entry(
        &mut self,
        message: &'static str,
        field: Field,
        entry: &[u8],
    ) -> Result<(String, Value)> {
        let mut key = String::new();
        let mut value: Option<Value> = None;
        let mut reader = Reader::new(entry);
        while let Some((tag, payload)) = reader.field()? {
            let Payload::Bytes(b) = payload else {
                return Err(ProtobufError::WrongWireType {
                    message: message.to_string(),
                    tag: field.tag,
                    field: field.name().to_string(),
                    expected: LEN,
                    found: payload.wire_type(),
                });
            };
            match tag {
                1 => key = utf8(b, message, field.name())?,
                2 => {
                    value = Some(match field.ty {
                        FieldType::MapBytes => special::base64(b),
                        FieldType::MapMessage(target) => self.message_value(target, b)?,
                        _ => Value::String(utf8(b, message, field.name())?),
                    })
                }
                _ => {}
            }
        }
        let value = match (value, field.ty) {
            (Some(v), _) => v,
            (None, FieldType::MapMessage(target)) => self.message_value(target, &[])?,
            (None, _) => Value::String(String::new()),
        };
        Ok((key, value))
    }
}

fn push(out: &mut Map<String, Value>, json: &str, value: Value) {
    match out
        .entry(json.to_string())
        .or_insert_with(|| Value::Array(Vec::new()))
    {
        Value::Array(items) => items.push(value),
        other => *other = Value::Array(vec![value]),
    }
}

fn is_numeric(ty: FieldType) -> bool {
    matches!(
        ty,
        FieldType::Bool | FieldType::Int32 | FieldType::Int64 | FieldType::Double
    )
}

fn is_zero(value: &Value) -> bool {
    match value {
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    }
}

fn utf8(bytes: &[u8], message: &str, field: &str) -> Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| ProtobufError::InvalidUtf8 {
        message: message.to_string(),
        field: field.to_string(),
    })
}

fn scalar(
    message: &'static str,
    field: Field,
    payload: Payload<'_>,
    wrong: &dyn Fn(u8) -> ProtobufError,
) -> Result<Value> {
    Ok(match (field.ty, payload) {
        (FieldType::String, Payload::Bytes(b)) => Value::String(utf8(b, message, field.name())?),
        (FieldType::Bytes, Payload::Bytes(b)) => special::base64(b),
        (FieldType::Bool, Payload::Varint(v)) => Value::Bool(v != 0),
        // Go truncates a varint to the field's width.
        (FieldType::Int32, Payload::Varint(v)) => Value::Number(Number::from(v as i32)),
        (FieldType::Int64, Payload::Varint(v)) => Value::Number(Number::from(v as i64)),
        (FieldType::Double, Payload::Fixed64(v)) => {
            let f = f64::from_bits(v);
            if !f.is_finite() {
                return Err(ProtobufError::NonFiniteNumber {
                    message: message.to_string(),
                    field: field.name().to_string(),
                });
            }
            go_float(f)
        }
        (FieldType::String | FieldType::Bytes, _) => return Err(wrong(LEN)),
        (FieldType::Double, _) => return Err(wrong(FIXED64)),
        _ => return Err(wrong(VARINT)),
    })
}

/// Go prints an integral float64 without a fraction (`5`, not `5.0`).
fn go_float(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return Value::Number(Number::from(f as i64));
    }
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}
