//! Reader of the Kubernetes Go types: JSON names, pointers and `omitempty` by protobuf tag.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use regex::Regex;

/// What the Go struct field behind one protobuf tag looks like.
#[derive(Debug, Clone)]
pub struct GoField {
    /// The JSON name; empty for a field embedded with `json:",inline"`.
    pub json: String,
    /// The Go type is a pointer, so a present zero value is kept.
    pub pointer: bool,
    /// The JSON tag has `omitempty`.
    pub omitempty: bool,
}

/// The Go types of one package.
#[derive(Debug, Default)]
pub struct GoPackage {
    /// Struct name -> protobuf tag -> field.
    pub structs: BTreeMap<String, BTreeMap<u32, GoField>>,
    /// Named `[]string` types (`ExtraValue`), which protobuf wraps in a message.
    pub string_lists: BTreeSet<String>,
    /// Structs marked as `runtime.Object`: the kinds of the package.
    pub objects: BTreeSet<String>,
}

impl GoPackage {
    /// Finds a struct by the prost name, which differs only in letter case (`JsonSchemaProps`).
    pub fn find(&self, prost_name: &str) -> Option<(&str, &BTreeMap<u32, GoField>)> {
        self.structs
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(prost_name))
            .map(|(n, f)| (n.as_str(), f))
    }

    /// The exact Go name of a named string list, if `prost_name` is one.
    pub fn string_list(&self, prost_name: &str) -> Option<&str> {
        self.string_lists
            .iter()
            .find(|n| n.eq_ignore_ascii_case(prost_name))
            .map(String::as_str)
    }
}

/// Reads all non-test `.go` files of one directory.
pub fn read_package(dir: &Path) -> Result<GoPackage> {
    let struct_re = Regex::new(r"^type (\w+) struct ?\{")?;
    let list_re = Regex::new(r"^type (\w+) \[\]string\b")?;
    let field_re = Regex::new(r"^(?:(\w+)\s+)?(\S+)\s+`([^`]*)`")?;
    let proto_re = Regex::new(r#"protobuf:"\w+,(\d+),"#)?;
    let json_re = Regex::new(r#"json:"([^"]*)""#)?;
    let mut pkg = GoPackage::default();
    let mut names: Vec<_> = fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e == "go")
                && !p.to_string_lossy().ends_with("_test.go")
                && !p.to_string_lossy().ends_with(".pb.go")
        })
        .collect();
    names.sort();
    for file in names {
        let text =
            fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        let mut current: Option<(String, BTreeMap<u32, GoField>)> = None;
        let mut marked_object = false;
        for raw in text.lines() {
            if current.is_none() {
                if raw
                    .contains("+k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object")
                {
                    marked_object = true;
                } else if !raw.is_empty() && !raw.starts_with("//") && !struct_re.is_match(raw) {
                    marked_object = false;
                }
            }
            if let Some(c) = list_re.captures(raw) {
                pkg.string_lists.insert(c[1].to_string());
            }
            if let Some(c) = struct_re.captures(raw) {
                if std::mem::take(&mut marked_object) {
                    pkg.objects.insert(c[1].to_string());
                }
                if raw.ends_with("{}") {
                    pkg.structs.insert(c[1].to_string(), BTreeMap::new());
                    continue;
                }
                current = Some((c[1].to_string(), BTreeMap::new()));
                continue;
            }
            if raw == "}" {
                if let Some((name, fields)) = current.take() {
                    pkg.structs.insert(name, fields);
                }
                continue;
            }
            let Some((_, fields)) = current.as_mut() else {
                continue;
            };
            let line = raw.trim();
            if line.starts_with("//") {
                continue;
            }
            let Some(c) = field_re.captures(line) else {
                continue;
            };
            let tags = &c[3];
            let Some(tag) = proto_re
                .captures(tags)
                .and_then(|p| p[1].parse::<u32>().ok())
            else {
                continue;
            };
            let (json, opts) = match json_re.captures(tags) {
                Some(j) => {
                    let full = j[1].to_string();
                    match full.split_once(',') {
                        Some((n, o)) => (n.to_string(), o.to_string()),
                        None => (full, String::new()),
                    }
                }
                None => continue,
            };
            if json == "-" {
                continue;
            }
            let inline = opts.split(',').any(|o| o == "inline");
            fields.insert(
                tag,
                GoField {
                    json: if inline { String::new() } else { json },
                    pointer: c[2].starts_with('*'),
                    omitempty: opts.split(',').any(|o| o == "omitempty"),
                },
            );
        }
    }
    Ok(pkg)
}

/// Where the Go source of a table package lives below the three Go source roots.
pub fn go_dir(package: &str) -> Option<(usize, String)> {
    let rest = |p: &str| package.strip_prefix(p).map(|r| r.replace('.', "/"));
    if let Some(r) = rest("api.") {
        return Some((0, r));
    }
    if let Some(r) = rest("apimachinery.") {
        return Some((1, r));
    }
    rest("apiextensions-apiserver.").map(|r| (2, r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_json_names_pointers_omitempty_inline_and_objects() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("types.go"),
            "package v1\n\n// +genclient\n// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object\n\n\
             // Thing is a kind.\ntype Thing struct {\n\tmetav1.TypeMeta `json:\",inline\"`\n\
             \tReplicas *int32 `json:\"replicas,omitempty\" protobuf:\"varint,1,opt,name=replicas\"`\n\
             \tName string `json:\"name\" protobuf:\"bytes,2,opt,name=name\"`\n\
             \tProbeHandler `json:\",inline\" protobuf:\"bytes,3,opt,name=handler\"`\n\
             \tPaused bool `json:\"paused,omitempty\" protobuf:\"varint,4,opt,name=paused\"`\n}\n\n\
             type Part struct{}\n\ntype ExtraValue []string\n",
        )
        .unwrap();
        let pkg = read_package(dir.path()).unwrap();
        let (name, fields) = pkg.find("thing").unwrap();
        assert_eq!(name, "Thing");
        assert!(fields[&1].pointer && fields[&1].omitempty && fields[&1].json == "replicas");
        assert!(!fields[&2].pointer && !fields[&2].omitempty);
        assert_eq!(fields[&3].json, "");
        assert!(!fields[&4].pointer && fields[&4].omitempty);
        assert!(pkg.objects.contains("Thing") && !pkg.objects.contains("Part"));
        assert!(pkg.find("Part").is_some());
        assert_eq!(pkg.string_list("extravalue"), Some("ExtraValue"));
    }
}
