//! Replays protobuf bodies captured from kubectl 1.32 (see kubectl_capture.rs) without kubectl.

#![allow(clippy::unwrap_used)]

mod common;

#[test]
fn captured_kubectl_bodies_decode_to_the_recorded_json() {
    let dir = common::fixture_dir();
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "pb") {
            continue;
        }
        let body = std::fs::read(&path).unwrap();
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path.with_extension("json")).unwrap())
                .unwrap();
        assert_eq!(
            protobuf::decode(&body).unwrap(),
            expected,
            "{}",
            path.display()
        );
        checked += 1;
    }
    assert!(
        checked >= 19,
        "only {checked} captured bodies in {}",
        dir.display()
    );
}
