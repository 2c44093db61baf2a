//! Fuzzes RFC 7386 JSON merge patch: any JSON split into (object, patch) must merge without panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let (left, right) = data.split_at(split);
    let (Ok(doc), Ok(p)) = (serde_json::from_slice::<Value>(left), serde_json::from_slice::<Value>(right.get(1..).unwrap_or_default())) else {
        return;
    };
    let merged = patch::merge_patch(&doc, &p);
    // Applying the same merge patch twice changes nothing more (RFC 7386 is idempotent).
    assert_eq!(patch::merge_patch(&merged, &p), merged);
});
