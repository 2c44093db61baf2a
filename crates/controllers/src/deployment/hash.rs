//! The pod-template-hash: FNV-32a of the pod template plus the collision count, encoded with SafeEncodeString.
//!
//! Kubernetes feeds the hasher go-spew's `%#v` rendering of the Go struct; that
//! rendering depends on Go's field layout and cannot be reproduced outside Go, so
//! the template is rendered as JSON with sorted keys instead. The algorithm after
//! that (FNV-32a, the collision count as 4 little-endian bytes in an 8-byte buffer,
//! decimal, SafeEncodeString) is Kubernetes', so names have the same shape and
//! alphabet and change exactly when the template or the collision count changes.

use k8s_openapi::api::core::v1::PodTemplateSpec;

/// The alphabet of `rand.SafeEncodeString`: no vowels (no words), no 0/1/3 (no
/// confusion with o/l/e).
const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// FNV-32a of `bytes` continuing from `hash`.
fn fnv32a(mut hash: u32, bytes: &[u8]) -> u32 {
    for b in bytes {
        hash ^= u32::from(*b);
        hash = hash.wrapping_mul(16_777_619);
    }
    hash
}

const FNV32_OFFSET: u32 = 2_166_136_261;

/// Kubernetes' `rand.SafeEncodeString`.
pub fn safe_encode_string(s: &str) -> String {
    s.bytes()
        .map(|b| ALPHANUMS[usize::from(b) % ALPHANUMS.len()] as char)
        .collect()
}

/// The hash of `template` (whose labels must not yet carry pod-template-hash).
pub fn compute_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    // serde_json with preserve_order keeps struct field order; sorting through
    // Value makes the rendering independent of how the object was built.
    let value = serde_json::to_value(template).unwrap_or_default();
    let rendered = sorted(&value).to_string();
    let mut h = fnv32a(FNV32_OFFSET, rendered.as_bytes());
    if let Some(c) = collision_count {
        let mut buf = [0u8; 8];
        buf[..4].copy_from_slice(&(c as u32).to_le_bytes());
        h = fnv32a(h, &buf);
    }
    safe_encode_string(&h.to_string())
}

fn sorted(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<_> = m.keys().collect();
            keys.sort();
            let mut out = serde_json::Map::new();
            for k in keys {
                out.insert(k.clone(), sorted(&m[k]));
            }
            serde_json::Value::Object(out)
        }
        serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    #[test]
    fn fnv32a_reference_vectors() {
        assert_eq!(fnv32a(FNV32_OFFSET, b""), 0x811c9dc5);
        assert_eq!(fnv32a(FNV32_OFFSET, b"a"), 0xe40c292c);
        assert_eq!(fnv32a(FNV32_OFFSET, b"foobar"), 0xbf9cf968);
    }

    #[test]
    fn safe_encode_matches_kubernetes() {
        // rand.SafeEncodeString("123") in Go: bytes 49,50,51 → alphanums[22,23,24].
        assert_eq!(safe_encode_string("123"), "567");
        assert_eq!(safe_encode_string(""), "");
    }

    #[test]
    fn hash_changes_with_template_and_collisions() {
        let mut t = PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some([("app".to_string(), "web".to_string())].into()),
                ..Default::default()
            }),
            spec: None,
        };
        let a = compute_hash(&t, None);
        assert_eq!(a, compute_hash(&t, None));
        assert!(a.len() <= 10 && a.bytes().all(|b| ALPHANUMS.contains(&b)));
        assert_ne!(a, compute_hash(&t, Some(1)));
        assert_ne!(compute_hash(&t, Some(1)), compute_hash(&t, Some(2)));
        t.metadata = None;
        assert_ne!(a, compute_hash(&t, None));
    }
}
