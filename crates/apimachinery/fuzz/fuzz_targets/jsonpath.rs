//! Fuzzes `apimachinery::invariants::jsonpath`: the first line is the path, the rest a
//! JSON document (a fixed object when it does not parse).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let (path, doc) = s.split_once('\n').unwrap_or((s, ""));
    let doc = serde_json::from_str(doc).unwrap_or_else(|_| {
        serde_json::json!({"a": [{"b": 1}, {"b": "x", "c": [true, null]}], "d": {"e": 2.5}})
    });
    if let Err(e) = apimachinery::invariants::jsonpath(path, &doc) {
        panic!("invariant broken: {e}");
    }
});
