//! RFC 6902 JSON patch and RFC 7386 JSON merge patch, on top of the `json-patch` crate.

use json_patch::{Patch, PatchErrorKind};
use serde_json::Value;

use crate::error::PatchError;

/// kube-apiserver's `maxJSONPatchOperations`.
const MAX_OPERATIONS: usize = 10_000;

/// Applies an RFC 6902 JSON patch (the raw request body) to `doc`; the whole patch applies or
/// nothing does.
pub fn json_patch(doc: &Value, patch: &[u8]) -> Result<Value, PatchError> {
    let ops: Patch =
        serde_json::from_slice(patch).map_err(|e| PatchError::InvalidDocument(e.to_string()))?;
    if ops.0.len() > MAX_OPERATIONS {
        return Err(PatchError::TooManyOperations {
            max: MAX_OPERATIONS,
            got: ops.0.len(),
        });
    }
    let mut out = doc.clone();
    json_patch::patch(&mut out, &ops).map_err(|e| match e.kind {
        PatchErrorKind::TestFailed => PatchError::TestFailed {
            path: e.path.to_string(),
        },
        _ => PatchError::JsonPatchFailed(e.to_string()),
    })?;
    Ok(out)
}

/// Applies an RFC 7386 JSON merge patch: objects merge recursively, `null` deletes, anything
/// else (lists included) replaces.
pub fn merge_patch(doc: &Value, patch: &Value) -> Value {
    let mut out = doc.clone();
    json_patch::merge(&mut out, patch);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_patch_applies_every_operation() {
        let doc = json!({"a": 1, "b": [1, 2], "c": {"d": "x"}});
        let patch = br#"[
            {"op": "test", "path": "/a", "value": 1},
            {"op": "add", "path": "/b/-", "value": 3},
            {"op": "replace", "path": "/a", "value": 2},
            {"op": "remove", "path": "/c/d"},
            {"op": "copy", "from": "/b/0", "path": "/e"},
            {"op": "move", "from": "/e", "path": "/c/f"}
        ]"#;
        let out = json_patch(&doc, patch).unwrap();
        assert_eq!(out, json!({"a": 2, "b": [1, 2, 3], "c": {"f": 1}}));
    }

    #[test]
    fn json_patch_test_failure_leaves_nothing_applied() {
        let doc = json!({"a": 1});
        let err = json_patch(
            &doc,
            br#"[{"op":"replace","path":"/a","value":5},{"op":"test","path":"/a","value":1}]"#,
        )
        .unwrap_err();
        assert!(
            matches!(err, PatchError::TestFailed { ref path } if path == "/a"),
            "{err}"
        );
        assert_eq!(err.http_status(), 422);
    }

    #[test]
    fn json_patch_limits_the_number_of_operations() {
        let op = r#"{"op":"test","path":"/a","value":1}"#;
        let body = format!("[{}]", vec![op; MAX_OPERATIONS + 1].join(","));
        let err = json_patch(&json!({"a": 1}), body.as_bytes()).unwrap_err();
        assert_eq!(err.http_status(), 413);
        let body = format!("[{}]", vec![op; MAX_OPERATIONS].join(","));
        assert_eq!(
            json_patch(&json!({"a": 1}), body.as_bytes()).unwrap(),
            json!({"a": 1})
        );
    }

    #[test]
    fn json_patch_rejects_malformed_documents_and_missing_paths() {
        let doc = json!({"a": 1});
        assert!(matches!(
            json_patch(&doc, b"{}"),
            Err(PatchError::InvalidDocument(_))
        ));
        assert!(matches!(
            json_patch(&doc, br#"[{"op":"jump","path":"/a"}]"#),
            Err(PatchError::InvalidDocument(_))
        ));
        assert!(matches!(
            json_patch(&doc, br#"[{"op":"remove","path":"/zz"}]"#),
            Err(PatchError::JsonPatchFailed(_))
        ));
    }

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let doc = json!({"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]});
        let patch = json!({"a": "z", "c": {"f": null}, "l": [3]});
        assert_eq!(
            merge_patch(&doc, &patch),
            json!({"a": "z", "c": {"d": "e"}, "l": [3]})
        );
        assert_eq!(merge_patch(&doc, &json!(["x"])), json!(["x"]));
    }
}
