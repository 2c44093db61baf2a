//! A throwaway namespace per test, created on construction and deleted on drop.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::kubectl::{Output, expect_ok, kubectl, kubectl_stdin};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A DNS-label name `<prefix>-<suffix>` unique across processes and calls, so that
/// parallel tests and repeated runs against one cluster never collide.
pub fn unique_name(prefix: &str) -> String {
    let clean: String = prefix
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(40)
        .collect();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mixed = u64::from(nanos)
        ^ (u64::from(std::process::id()) << 20)
        ^ (u64::from(COUNTER.fetch_add(1, Ordering::Relaxed)) << 40);
    format!(
        "{}-{}",
        clean.trim_matches('-'),
        base36(mixed % 36u64.pow(7))
    )
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

/// Creates namespace `name` from a manifest. kubectl's imperative `create namespace` sends
/// protobuf; the manifest path sends JSON, so every test does not hinge on protobuf
/// decoding (which `tests/kubectl.rs` checks on its own).
#[track_caller]
pub fn create_namespace(name: &str) {
    let manifest = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
    expect_ok(&kubectl_stdin(
        &["create", "-f", "-"],
        &manifest.to_string(),
    ));
}

/// A ConfigMap manifest (JSON) with string data.
pub fn configmap_manifest(name: &str, data: &[(&str, &str)]) -> String {
    let data: serde_json::Map<String, serde_json::Value> = data
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}});
    if !data.is_empty() {
        cm["data"] = serde_json::Value::Object(data);
    }
    cm.to_string()
}

/// A namespace owned by one test.
pub struct Namespace {
    name: String,
}

impl Namespace {
    /// Creates `e2e-<label>-<random>`.
    #[track_caller]
    pub fn new(label: &str) -> Namespace {
        let name = unique_name(&format!("e2e-{label}"));
        create_namespace(&name);
        Namespace { name }
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs kubectl with `-n <this namespace>` before `args`.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        kubectl(&all)
    }

    /// Runs kubectl in this namespace, feeding `stdin`.
    pub fn kubectl_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        kubectl_stdin(&all, stdin)
    }

    /// `kubectl create -f -` of `yaml` in this namespace, asserting success.
    #[track_caller]
    pub fn create(&self, yaml: &str) -> Output {
        let out = self.kubectl_stdin(&["create", "-f", "-"], yaml);
        expect_ok(&out);
        out
    }

    /// Creates ConfigMap `name` with `data` (from a manifest, so JSON on the wire), asserting success.
    #[track_caller]
    pub fn create_configmap(&self, name: &str, data: &[(&str, &str)]) -> Output {
        self.create(&configmap_manifest(name, data))
    }

    /// Makes sure the `default` ServiceAccount exists: pods need it for ServiceAccount
    /// admission, and without controllers nothing else creates it. On a real cluster the
    /// controller may win the race, which is why AlreadyExists is fine.
    #[track_caller]
    pub fn ensure_default_service_account(&self) {
        let out = self.kubectl_stdin(
            &["create", "-f", "-"],
            r#"{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}}"#,
        );
        assert!(
            out.success() || out.stderr.contains("AlreadyExists"),
            "creating the default ServiceAccount failed:\n{out}"
        );
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        // Not waiting: finalization may take a while and the next test does not need it.
        let _ = kubectl(&[
            "delete",
            "namespace",
            &self.name,
            "--wait=false",
            "--ignore-not-found",
        ]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_are_dns_labels_and_differ() {
        let a = unique_name("E2E_Some Label");
        let b = unique_name("E2E_Some Label");
        assert_ne!(a, b);
        for n in [&a, &b] {
            assert!(n.len() <= 63);
            assert!(
                n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            );
            assert!(n.starts_with("e2e-some-label-"), "{n}");
        }
    }
}
