//! The generated message table (messages.txt): kinds, messages and their fields, parsed once.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::error::{ProtobufError, Result};

/// The generated table, see tools/protogen.
const TEXT: &str = include_str!("messages.txt");

/// The declared type of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// `string`.
    String,
    /// `bytes`, rendered as base64 like Go's `[]byte`.
    Bytes,
    /// `bool`.
    Bool,
    /// `int32`.
    Int32,
    /// `int64`.
    Int64,
    /// `double`.
    Double,
    /// A nested message.
    Message(&'static str),
    /// `map<string, string>`.
    MapString,
    /// `map<string, bytes>`.
    MapBytes,
    /// `map<string, message>`.
    MapMessage(&'static str),
}

/// One field of a message.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The protobuf field number.
    pub tag: u32,
    /// The JSON name; `None` for a Go struct embedded inline, whose fields merge into the parent.
    pub json: Option<&'static str>,
    /// The declared type.
    pub ty: FieldType,
    /// A repeated field (a JSON array).
    pub repeated: bool,
    /// A zero value (`""`, `0`, `false`) is kept, because the Go field is a pointer or has no
    /// `omitempty`; other zero values are dropped as Go's JSON encoding would.
    pub keep_zero: bool,
    /// An absent field is JSON null, as Go prints a nil slice, map or pointer without `omitempty`.
    pub null_when_absent: bool,
}

impl Field {
    /// The name used in error messages.
    pub fn name(&self) -> &'static str {
        self.json.unwrap_or("(inline)")
    }
}

/// The shape of one message.
#[derive(Debug)]
pub enum Message {
    /// A struct: its fields sorted by tag.
    Struct(Vec<Field>),
    /// A Go `[]string` type wrapped in a message `{repeated string items = 1}`.
    Strings,
}

/// The parsed table.
#[derive(Debug, Default)]
pub struct Table {
    kinds: HashMap<(&'static str, &'static str), &'static str>,
    messages: HashMap<&'static str, Message>,
}

impl Table {
    /// The message of an apiVersion/kind, if it is a built-in kind.
    pub fn kind(&self, api_version: &str, kind: &str) -> Option<&'static str> {
        self.kinds.get(&(api_version, kind)).copied()
    }

    /// A message by full name.
    pub fn message(&self, name: &str) -> Result<&Message> {
        self.messages
            .get(name)
            .ok_or_else(|| ProtobufError::UnknownMessage(name.to_string()))
    }

    /// How many messages the table holds.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.messages.len()
    }
}

/// The table, parsed on first use.
pub fn table() -> Result<&'static Table> {
    static TABLE: OnceLock<std::result::Result<Table, (usize, &'static str)>> = OnceLock::new();
    TABLE
        .get_or_init(|| parse(TEXT))
        .as_ref()
        .map_err(|&(line, reason)| ProtobufError::Table { line, reason })
}

fn parse_type(word: &'static str) -> Option<FieldType> {
    Some(match word {
        "string" => FieldType::String,
        "bytes" => FieldType::Bytes,
        "bool" => FieldType::Bool,
        "int32" => FieldType::Int32,
        "int64" => FieldType::Int64,
        "double" => FieldType::Double,
        "map:string" => FieldType::MapString,
        "map:bytes" => FieldType::MapBytes,
        w => match w.strip_prefix("map:") {
            Some(m) if m.contains('.') => FieldType::MapMessage(m),
            Some(_) => return None,
            None if w.contains('.') => FieldType::Message(w),
            None => return None,
        },
    })
}

/// Parses the table text; errors carry the 1-based line number.
pub fn parse(text: &'static str) -> std::result::Result<Table, (usize, &'static str)> {
    let mut table = Table::default();
    let mut current: Option<(&'static str, Vec<Field>)> = None;
    let finish = |table: &mut Table, current: &mut Option<(&'static str, Vec<Field>)>| {
        if let Some((name, mut fields)) = current.take() {
            fields.sort_by_key(|f| f.tag);
            table.messages.insert(name, Message::Struct(fields));
        }
    };
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(field) = line.strip_prefix(' ') {
            let Some((_, fields)) = current.as_mut() else {
                return Err((n, "field outside a message"));
            };
            let mut words = field.split(' ');
            let tag = words
                .next()
                .and_then(|t| t.parse().ok())
                .ok_or((n, "bad field number"))?;
            let json = words.next().ok_or((n, "missing JSON name"))?;
            let ty = words
                .next()
                .and_then(parse_type)
                .ok_or((n, "bad field type"))?;
            let (mut repeated, mut keep_zero, mut null_when_absent) = (false, false, false);
            for flag in words {
                match flag {
                    "r" => repeated = true,
                    "z" => keep_zero = true,
                    "n" => null_when_absent = true,
                    _ => return Err((n, "unknown field flag")),
                }
            }
            let json = (json != ".").then_some(json);
            fields.push(Field {
                tag,
                json,
                ty,
                repeated,
                keep_zero,
                null_when_absent,
            });
            continue;
        }
        finish(&mut table, &mut current);
        let words: Vec<&'static str> = line.split(' ').collect();
        match words.as_slice() {
            ["kind", api_version, kind, message] => {
                table.kinds.insert((api_version, kind), message);
            }
            ["message", name] => current = Some((name, Vec::new())),
            ["message", name, "strings", _] => {
                table.messages.insert(name, Message::Strings);
            }
            _ => return Err((n, "unknown line")),
        }
    }
    finish(&mut table, &mut current);
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kinds_messages_and_flags() {
        let t = parse(
            "# c\nkind v1 Pod api.core.v1.Pod\nmessage api.core.v1.Pod\n 2 spec api.core.v1.PodSpec\n 1 metadata x.ObjectMeta\n\
             message x.Extra strings Extra\nmessage api.core.v1.PodSpec\n 4 replicas int32 z\n 3 names string r\n 5 data map:bytes n\n 6 . x.Inline\n",
        )
        .unwrap();
        assert_eq!(t.kind("v1", "Pod"), Some("api.core.v1.Pod"));
        let Message::Struct(pod) = t.message("api.core.v1.Pod").unwrap() else {
            panic!()
        };
        assert_eq!(pod.iter().map(|f| f.tag).collect::<Vec<_>>(), [1, 2]);
        assert!(matches!(t.message("x.Extra").unwrap(), Message::Strings));
        let Message::Struct(spec) = t.message("api.core.v1.PodSpec").unwrap() else {
            panic!()
        };
        assert!(spec[1].keep_zero && !spec[1].repeated);
        assert!(spec[0].repeated && !spec[0].keep_zero);
        assert_eq!(spec[2].ty, FieldType::MapBytes);
        assert!(spec[2].null_when_absent && !spec[1].null_when_absent);
        assert_eq!(spec[3].json, None);
        assert!(matches!(
            t.message("nope"),
            Err(ProtobufError::UnknownMessage(_))
        ));
    }

    #[test]
    fn reports_the_line_of_a_malformed_entry() {
        assert_eq!(
            parse("message a.B\n 1 x nosuchtype\n").unwrap_err(),
            (2, "bad field type")
        );
        assert_eq!(
            parse(" 1 x string\n").unwrap_err(),
            (1, "field outside a message")
        );
        assert_eq!(parse("bogus\n").unwrap_err(), (1, "unknown line"));
    }

    #[test]
    fn the_generated_table_parses_and_covers_the_served_kinds() {
        let t = table().unwrap();
        assert!(t.len() > 300, "only {} messages", t.len());
        for (api_version, kind) in [
            ("v1", "Pod"),
            ("v1", "Secret"),
            ("apps/v1", "Deployment"),
            ("batch/v1", "CronJob"),
            ("policy/v1", "Eviction"),
            ("authorization.k8s.io/v1", "SelfSubjectAccessReview"),
            ("authentication.k8s.io/v1", "TokenRequest"),
            ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
            ("meta.k8s.io/v1", "DeleteOptions"),
        ] {
            let message = t
                .kind(api_version, kind)
                .unwrap_or_else(|| panic!("{api_version} {kind}"));
            t.message(message).unwrap();
        }
    }
}
