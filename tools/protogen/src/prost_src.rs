//! Reader of k8s-pb's prost-generated source: messages, their fields and their kinds.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use regex::Regex;

/// The wire shape of one field as prost declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProstType {
    /// A scalar: `string`, `bytes`, `bool`, `int32`, `int64`, `double`.
    Scalar(String),
    /// A nested message, by its full name (`api.core.v1.Container`).
    Message(String),
    /// `map<string, string>`.
    MapString,
    /// `map<string, bytes>`.
    MapBytes,
    /// `map<string, message>`, by the message's full name.
    MapMessage(String),
}

/// One field of a prost message.
#[derive(Debug, Clone)]
pub struct ProstField {
    pub tag: u32,
    pub ty: ProstType,
    pub repeated: bool,
}

/// One prost message with its fields in declaration order.
#[derive(Debug, Clone)]
pub struct ProstMessage {
    /// The package, as `api.core.v1` (the Kubernetes Go package under `k8s.io/`).
    pub package: String,
    /// The Rust struct name, which is the Go type name up to letter case.
    pub name: String,
    pub fields: Vec<ProstField>,
}

/// Reads every `mod.rs` under `src` of k8s-pb.
pub fn read_all(src: &Path) -> Result<Vec<ProstMessage>> {
    let mut files = Vec::new();
    collect(src, &mut files)?;
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(src)
            .context("file outside the source dir")?;
        let mut module: Vec<String> = rel
            .parent()
            .map(|p| p.iter().map(|s| s.to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        if module.is_empty() {
            continue;
        }
        let text =
            fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        let parsed =
            parse_module(&text, &module).with_context(|| format!("parsing {}", file.display()))?;
        out.extend(parsed);
        module.clear();
    }
    Ok(out)
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.file_name().is_some_and(|n| n == "mod.rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// Maps a Rust module path of k8s-pb to the Kubernetes package name used in the table.
pub fn package_name(module: &[String]) -> String {
    module
        .iter()
        .map(|s| s.replace('_', "-"))
        .collect::<Vec<_>>()
        .join(".")
}

fn parse_module(text: &str, module: &[String]) -> Result<Vec<ProstMessage>> {
    let struct_re = Regex::new(r"^pub struct (\w+) \{")?;
    let attr_re = Regex::new(
        r#"^#\[prost\((?:(string|bytes = "vec"|bool|int32|int64|double|message)(?:, (optional|repeated|required))?(?:, boxed)?(?:, packed = "false")?|btree_map = "string, (string|bytes|message)"), tag = "(\d+)"\)\]$"#,
    )?;
    let path_re = Regex::new(r"((?:super::|[a-z_0-9]+::)*)([A-Z]\w*)")?;
    let package = package_name(module);
    let mut messages = Vec::new();
    let mut current: Option<ProstMessage> = None;
    let mut pending: Option<(String, bool, u32)> = None;
    let mut type_text = String::new();
    for raw in text.lines() {
        if let Some(c) = struct_re.captures(raw) {
            if raw.ends_with("{}") {
                messages.push(ProstMessage {
                    package: package.clone(),
                    name: c[1].to_string(),
                    fields: Vec::new(),
                });
                continue;
            }
            current = Some(ProstMessage {
                package: package.clone(),
                name: c[1].to_string(),
                fields: Vec::new(),
            });
            continue;
        }
        if raw == "}" {
            if let Some(m) = current.take() {
                messages.push(m);
            }
            continue;
        }
        let Some(msg) = current.as_mut() else {
            continue;
        };
        let line = raw.trim();
        if line.starts_with("#[prost(") {
            let Some(c) = attr_re.captures(line) else {
                bail!("unrecognised prost attribute `{line}` in {}", msg.name)
            };
            let tag: u32 = c[4].parse()?;
            let (kind, repeated) = match (c.get(1), c.get(3)) {
                (Some(k), _) => (
                    k.as_str().replace(" = \"vec\"", ""),
                    c.get(2).is_some_and(|r| r.as_str() == "repeated"),
                ),
                (None, Some(v)) => (format!("map:{}", v.as_str()), false),
                (None, None) => bail!("prost attribute without a type: `{line}`"),
            };
            pending = Some((kind, repeated, tag));
            type_text.clear();
            continue;
        }
        let Some((kind, repeated, tag)) = pending.as_ref() else {
            continue;
        };
        if line.starts_with("///") {
            continue;
        }
        type_text.push_str(line);
        let open = type_text.matches('<').count();
        if !line.ends_with(',') || open != type_text.matches('>').count() {
            continue;
        }
        let ty = match kind.as_str() {
            "message" | "map:message" => {
                let target = path_re
                    .captures_iter(type_text.split_once(':').map_or("", |(_, t)| t))
                    .filter(|c| !matches!(&c[2], "Option" | "Vec" | "Box" | "String" | "BTreeMap"))
                    .last()
                    .map(|c| resolve(module, &c[1], &c[2]))
                    .with_context(|| format!("no message type in `{type_text}`"))?;
                if kind == "message" {
                    ProstType::Message(target)
                } else {
                    ProstType::MapMessage(target)
                }
            }
            "map:string" => ProstType::MapString,
            "map:bytes" => ProstType::MapBytes,
            other => ProstType::Scalar(other.to_string()),
        };
        msg.fields.push(ProstField {
            tag: *tag,
            ty,
            repeated: *repeated,
        });
        pending = None;
    }
    Ok(messages)
}

/// Resolves a possibly `super::`-relative Rust path to a full message name.
fn resolve(module: &[String], prefix: &str, name: &str) -> String {
    let mut path: Vec<String> = module.to_vec();
    for seg in prefix.split("::").filter(|s| !s.is_empty()) {
        if seg == "super" {
            path.pop();
        } else {
            path.push(seg.to_string());
        }
    }
    format!("{}.{name}", package_name(&path))
}

/// The `apiVersion` each served package has; packages not listed are not served.
pub const SERVED: &[(&str, &str)] = &[
    ("api.core.v1", "v1"),
    ("api.apps.v1", "apps/v1"),
    ("api.batch.v1", "batch/v1"),
    ("api.networking.v1", "networking.k8s.io/v1"),
    ("api.storage.v1", "storage.k8s.io/v1"),
    ("api.coordination.v1", "coordination.k8s.io/v1"),
    ("api.events.v1", "events.k8s.io/v1"),
    ("api.discovery.v1", "discovery.k8s.io/v1"),
    ("api.policy.v1", "policy/v1"),
    ("api.autoscaling.v1", "autoscaling/v1"),
    ("api.autoscaling.v2", "autoscaling/v2"),
    ("api.rbac.v1", "rbac.authorization.k8s.io/v1"),
    (
        "apiextensions-apiserver.pkg.apis.apiextensions.v1",
        "apiextensions.k8s.io/v1",
    ),
    (
        "api.admissionregistration.v1",
        "admissionregistration.k8s.io/v1",
    ),
    ("api.authentication.v1", "authentication.k8s.io/v1"),
    ("api.authorization.v1", "authorization.k8s.io/v1"),
    ("api.scheduling.v1", "scheduling.k8s.io/v1"),
    ("apimachinery.pkg.apis.meta.v1", "meta.k8s.io/v1"),
];

/// Indexes messages by full name.
pub fn by_name(messages: &[ProstMessage]) -> BTreeMap<String, &ProstMessage> {
    messages
        .iter()
        .map(|m| (format!("{}.{}", m.package, m.name), m))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_maps_and_relative_message_paths() {
        let src = r#"
/// Doc.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct PodSpec {
    /// +optional
    #[prost(message, repeated, tag = "2")]
    pub containers: ::prost::alloc::vec::Vec<Container>,
    #[prost(int64, optional, tag = "4")]
    pub active_deadline_seconds: ::core::option::Option<i64>,
    #[prost(btree_map = "string, message", tag = "3")]
    pub overhead: ::prost::alloc::collections::BTreeMap<
        ::prost::alloc::string::String,
        super::super::super::apimachinery::pkg::api::resource::Quantity,
    >,
    #[prost(int32, repeated, packed = "false", tag = "5")]
    pub codes: ::prost::alloc::vec::Vec<i32>,
}
pub struct Empty {}
"#;
        let module = ["api", "core", "v1"].map(String::from);
        let msgs = parse_module(src, &module).unwrap();
        assert_eq!(msgs.len(), 2);
        let f = &msgs[0].fields;
        assert_eq!(
            (f[0].tag, &f[0].ty, f[0].repeated),
            (2, &ProstType::Message("api.core.v1.Container".into()), true)
        );
        assert_eq!(f[1].ty, ProstType::Scalar("int64".into()));
        assert_eq!(
            f[2].ty,
            ProstType::MapMessage("apimachinery.pkg.api.resource.Quantity".into())
        );
        assert!(f[3].repeated);
        assert!(msgs[1].fields.is_empty());
    }

    #[test]
    fn refuses_an_attribute_it_does_not_understand() {
        let src =
            "pub struct A {\n    #[prost(sint32, optional, tag = \"1\")]\n    pub a: i32,\n}\n";
        assert!(parse_module(src, &["x".to_string()]).is_err());
    }
}
