#![allow(dead_code, unused)]
use serde_json::{Map, Value};
pub struct ResourceEntry { pub group: String, pub version: String, pub kind: String, pub plural: String, pub namespaced: bool, pub verbs: Vec<String>, pub subresources: Vec<String>, pub definition: String }
pub fn crd_definition(group: &str, version: &str, kind: &str, schema: &Value) -> (String, Value) { unimplemented!() }
pub fn document_v2(entries: &[ResourceEntry], extra: &Map<String, Value>, version: &str) -> Value { unimplemented!() }
pub fn document_v3(group: &str, version: &str, entries: &[ResourceEntry], extra: &Map<String, Value>) -> Value { unimplemented!() }
pub struct Column { pub name: &'static str, pub type_: &'static str, pub format: &'static str, pub description: &'static str, pub priority: u32 }
pub fn columns(info: &builtin::ResourceInfo) -> &'static [Column] { unimplemented!() }
pub fn row(info: &builtin::ResourceInfo, obj: &Value, now: jiff::Timestamp) -> Vec<Value> { unimplemented!() }
pub fn human_duration(d: jiff::SignedDuration) -> String { unimplemented!() }
