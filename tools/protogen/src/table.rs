//! Joins prost messages with Go field facts and renders the compact table.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::go_src::{self, GoPackage};
use crate::prost_src::{self, ProstMessage, ProstType, SERVED};

/// The joined table before rendering.
pub struct Generated {
    /// (apiVersion, kind, message).
    pub kinds: Vec<(String, String, String)>,
    /// Message name -> rendered body lines (or the `strings` marker).
    pub messages: BTreeMap<String, Vec<String>>,
    pub warnings: Vec<String>,
}

/// Reads `version = "..."` from k8s-pb's Cargo.toml.
pub fn crate_version(pb: &Path) -> Result<String> {
    let text = fs::read_to_string(pb.join("Cargo.toml"))?;
    text.lines()
        .find_map(|l| {
            l.strip_prefix("version = \"")
                .and_then(|v| v.strip_suffix('"'))
        })
        .map(str::to_string)
        .context("no version line")
}

/// Selects the served packages plus every message they reach and joins them with Go facts.
pub fn build(messages: &[ProstMessage], go_roots: &[PathBuf]) -> Result<Generated> {
    let index = prost_src::by_name(messages);
    let mut go_cache: BTreeMap<String, GoPackage> = BTreeMap::new();
    let mut out = Generated {
        kinds: Vec::new(),
        messages: BTreeMap::new(),
        warnings: Vec::new(),
    };
    let mut queue: VecDeque<String> = index
        .iter()
        .filter(|(_, m)| SERVED.iter().any(|(p, _)| *p == m.package))
        .map(|(n, _)| n.clone())
        .collect();
    let mut seen: BTreeSet<String> = queue.iter().cloned().collect();
    let mut canonical: BTreeMap<String, String> = BTreeMap::new();
    for (name, msg) in &index {
        let go = go_package(&mut go_cache, go_roots, &msg.package)?;
        let go_name = go
            .find(&msg.name)
            .map(|(n, _)| n)
            .or_else(|| go.string_list(&msg.name));
        if let Some(go_name) = go_name {
            canonical.insert(name.clone(), format!("{}.{go_name}", msg.package));
        }
    }
    let canon = |name: &str| {
        canonical
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_string())
    };
    while let Some(name) = queue.pop_front() {
        if protobuf::SPECIAL_MESSAGES
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&name))
        {
            continue;
        }
        let Some(msg) = index.get(&name) else {
            out.warnings
                .push(format!("{name} is referenced but not in k8s-pb"));
            continue;
        };
        let go = go_package(&mut go_cache, go_roots, &msg.package)?;
        if let Some(list) = go.string_list(&msg.name) {
            out.messages
                .insert(canon(&name), vec![format!("strings {list}")]);
            continue;
        }
        let Some((go_name, go_fields)) = go.find(&msg.name) else {
            out.warnings.push(format!("{name} has no Go struct"));
            continue;
        };
        let mut lines = Vec::new();
        for field in &msg.fields {
            let Some(gf) = go_fields.get(&field.tag) else {
                out.warnings
                    .push(format!("{name} tag {} has no Go field", field.tag));
                continue;
            };
            let json = if gf.json.is_empty() {
                "."
            } else {
                gf.json.as_str()
            };
            let (ty, scalar) = match &field.ty {
                ProstType::Scalar(s) => (s.clone(), true),
                ProstType::Message(m) => (special_or(m, &canon), false),
                ProstType::MapString => ("map:string".to_string(), false),
                ProstType::MapBytes => ("map:bytes".to_string(), false),
                ProstType::MapMessage(m) => (format!("map:{}", special_or(m, &canon)), false),
            };
            if let ProstType::Message(m) | ProstType::MapMessage(m) = &field.ty
                && seen.insert(m.clone())
            {
                queue.push_back(m.clone());
            }
            let mut line = format!("{} {json} {ty}", field.tag);
            if field.repeated {
                line.push_str(" r");
            }
            if scalar && !field.repeated && (gf.pointer || !gf.omitempty) {
                line.push_str(" z");
            }
            let is_map = matches!(
                field.ty,
                ProstType::MapString | ProstType::MapBytes | ProstType::MapMessage(_)
            );
            if !gf.omitempty && !gf.json.is_empty() && (field.repeated || is_map || gf.pointer) {
                line.push_str(" n");
            }
            lines.push(line);
        }
        let served = SERVED.iter().find(|(p, _)| *p == msg.package);
        if let Some((_, api_version)) = served
            && go.objects.contains(go_name)
        {
            out.kinds
                .push((api_version.to_string(), go_name.to_string(), canon(&name)));
        }
        out.messages.insert(canon(&name), lines);
    }
    out.kinds.sort();
    Ok(out)
}

/// The Go-cased name of a referenced message: the special list's spelling for special types
/// (which have no Go struct fields), the Go struct's otherwise.
fn special_or(name: &str, canon: &dyn Fn(&str) -> String) -> String {
    protobuf::SPECIAL_MESSAGES
        .iter()
        .find(|s| s.eq_ignore_ascii_case(name))
        .map_or_else(|| canon(name), |s| s.to_string())
}

fn go_package<'a>(
    cache: &'a mut BTreeMap<String, GoPackage>,
    roots: &[PathBuf],
    package: &str,
) -> Result<&'a GoPackage> {
    if !cache.contains_key(package) {
        let pkg = match go_src::go_dir(package) {
            Some((root, rel)) => match roots.get(root) {
                // Packages dropped from Kubernetes (old betas) have no Go source any more.
                Some(dir) if dir.join(&rel).is_dir() => go_src::read_package(&dir.join(rel))?,
                Some(_) => GoPackage::default(),
                None => GoPackage::default(),
            },
            None => GoPackage::default(),
        };
        cache.insert(package.to_string(), pkg);
    }
    cache.get(package).context("Go package cache")
}

/// Renders the table: a header, the kinds, then one line per message and per field.
pub fn render(generated: &Generated, version: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# @generated by tools/protogen from k8s-pb {version} (prost bindings of the Kubernetes .proto files)\n\
         # and the Kubernetes Go types (JSON names, pointers, omitempty). Do not edit; regenerate with\n\
         # cargo run -p protogen -- <k8s-pb-{version} dir> <k8s.io/api> <k8s.io/apimachinery> <k8s.io/apiextensions-apiserver> \\\n\
         #   > crates/protobuf/src/messages.txt\n\
         # Lines: `kind <apiVersion> <Kind> <message>`; `message <name>`, then its fields as\n\
         # ` <tag> <json name or . for inline> <type> [r = repeated] [z = keep zero values]\n\
         #   [n = null when absent: a Go slice, map or pointer without omitempty]`;\n\
         # `message <name> strings <GoName>` is a Go []string wrapped in a message."
    );
    for (api_version, kind, message) in &generated.kinds {
        let _ = writeln!(s, "kind {api_version} {kind} {message}");
    }
    for (name, lines) in &generated.messages {
        match lines.first().and_then(|l| l.strip_prefix("strings ")) {
            Some(go) if lines.len() == 1 => {
                let _ = writeln!(s, "message {name} strings {go}");
            }
            _ => {
                let _ = writeln!(s, "message {name}");
                for line in lines {
                    let _ = writeln!(s, " {line}");
                }
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks the committed table against a fresh generation when the inputs are on this
    /// machine: k8s-pb in the cargo registry and the Go sources under $PROTOGEN_GO_SOURCES
    /// (with api/, apimachinery/ and apiextensions-apiserver/ inside).
    #[test]
    fn committed_table_is_up_to_date_when_sources_are_present() {
        let Some(go) = std::env::var_os("PROTOGEN_GO_SOURCES").map(PathBuf::from) else {
            eprintln!("skipped: PROTOGEN_GO_SOURCES is not set");
            return;
        };
        let registry = PathBuf::from(std::env::var_os("CARGO_HOME").unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cargo")
                .into_os_string()
        }))
        .join("registry/src");
        let Some(pb) = fs::read_dir(&registry)
            .into_iter()
            .flatten()
            .flatten()
            .map(|index| index.path().join("k8s-pb-0.9.0"))
            .find(|p| p.is_dir())
        else {
            eprintln!(
                "skipped: k8s-pb 0.9.0 source is not in {}",
                registry.display()
            );
            return;
        };
        let messages = prost_src::read_all(&pb.join("src")).unwrap();
        let roots = ["api", "apimachinery", "apiextensions-apiserver"].map(|d| go.join(d));
        let generated = build(&messages, &roots).unwrap();
        let committed = include_str!("../../../crates/protobuf/src/messages.txt");
        assert!(
            render(&generated, "0.9.0") == committed,
            "messages.txt is stale: rerun protogen"
        );
    }
}
