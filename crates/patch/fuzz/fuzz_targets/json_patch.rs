//! Fuzzes RFC 6902 JSON patch: arbitrary patch bodies against a fixed object must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let doc = json!({"metadata": {"name": "p", "labels": {"a": "1"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}});
    let _ = patch::json_patch(&doc, data);
});
