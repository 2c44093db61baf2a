//! Decodes Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) into JSON.
//!
//! client-go's typed clients (kubectl's imperative commands) send bodies as the magic `k8s\0`
//! followed by a `runtime.Unknown` envelope. [`decode`] turns such a body into the JSON object a
//! kube-apiserver would have built from it: Go decodes protobuf into its struct and then encodes
//! JSON, so zero values of `omitempty` fields disappear, times become RFC 3339 strings and
//! `[]byte` becomes base64. The per-field facts come from a generated table (`messages.txt`,
//! written by `tools/protogen` from k8s-pb and the Kubernetes Go types).
//!
//! Zero values follow Go. Go's protobuf encoder always writes non-pointer fields, zero or not,
//! and writes pointer, slice and map fields only when set. So a present zero scalar is kept
//! when the Go field is a pointer (`replicas: 0`, `immutable: false`) or has no `omitempty`
//! (`status.allowed: false`), and dropped otherwise; an absent slice, map or pointer without
//! `omitempty` is `null`; a present message is an object even when empty (`"strategy": {}`),
//! except the zero `metav1.Time`, which is `null`.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod convert;
mod error;
mod special;
mod table;
mod wire;

pub use error::{ProtobufError, Result};
pub use special::SPECIAL_MESSAGES;

/// The 4-byte prefix of every Kubernetes protobuf body.
pub const MAGIC: &[u8] = b"k8s\0";

/// The media type of Kubernetes protobuf bodies.
pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// True when a `Content-Type` header value names Kubernetes protobuf (parameters and case ignored).
pub fn is_protobuf(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|m| m.trim().eq_ignore_ascii_case(CONTENT_TYPE))
}

/// Decodes a protobuf request body of a built-in kind into its JSON object, with `kind` and
/// `apiVersion` taken from the envelope.
pub fn decode(body: &[u8]) -> Result<serde_json::Value> {
    convert::Decoder::new(table::table()?).envelope(body)
}

#[cfg(test)]
mod tests;
