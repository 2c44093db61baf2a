//! Access to the answers recorded from a real kube-apiserver v1.36 (copied under `testdata/kube-apiserver-golden/`).

use std::path::PathBuf;

use serde_json::Value;

/// The folder holding the golden answers (`manifests/`, `objects/`, `errors/`, ...).
pub fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/kube-apiserver-golden")
}

/// The text of one golden file, e.g. `manifests/pod.yaml`.
pub fn golden_text(rel: &str) -> String {
    let path = golden_dir().join(rel);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("golden file {} unreadable: {e}", path.display()))
}

/// One golden JSON document, e.g. `objects/pod.json`.
pub fn golden_json(rel: &str) -> Value {
    let text = golden_text(rel);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("golden file {rel} is not JSON: {e}"))
}

/// A golden error: the HTTP code on its first line and the Status body after it.
pub fn golden_error(rel: &str) -> (u16, Value) {
    let text = golden_text(rel);
    let (first, body) = text.split_once('\n').unwrap_or((text.as_str(), ""));
    let code = first
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("golden error {rel} has no `HTTP <code>` line"));
    let body =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("golden error {rel} body: {e}"));
    (code, body)
}
