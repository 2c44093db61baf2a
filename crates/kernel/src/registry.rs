//! The set of resources the kernel serves: Kubernetes' built-in kinds plus the kinds
//! that CustomResourceDefinitions add at run time.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// Where a resource's type knowledge comes from.
#[derive(Debug, Clone)]
pub enum Source {
    Builtin(&'static builtin::ResourceInfo),
    Custom(Arc<CustomVersion>),
    /// Served but never stored: reviews, bindings, component statuses.
    Virtual(Virtual),
}

/// The resources the kernel answers without storing anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Virtual {
    Bindings,
    ComponentStatuses,
    TokenReviews,
    SelfSubjectReviews,
    SubjectAccessReviews,
    LocalSubjectAccessReviews,
    SelfSubjectAccessReviews,
    SelfSubjectRulesReviews,
}

impl Virtual {
    /// (group, plural, singular, kind, namespaced, short names, verbs)
    fn describe(
        self,
    ) -> (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        bool,
        &'static [&'static str],
        &'static [&'static str],
    ) {
        const CREATE: &[&str] = &["create"];
        match self {
            Virtual::Bindings => ("", "bindings", "binding", "Binding", true, &[], CREATE),
            Virtual::ComponentStatuses => (
                "",
                "componentstatuses",
                "componentstatus",
                "ComponentStatus",
                false,
                &["cs"],
                &["get", "list"],
            ),
            Virtual::TokenReviews => (
                "authentication.k8s.io",
                "tokenreviews",
                "tokenreview",
                "TokenReview",
                false,
                &[],
                CREATE,
            ),
            Virtual::SelfSubjectReviews => (
                "authentication.k8s.io",
                "selfsubjectreviews",
                "selfsubjectreview",
                "SelfSubjectReview",
                false,
                &[],
                CREATE,
            ),
            Virtual::SubjectAccessReviews => (
                "authorization.k8s.io",
                "subjectaccessreviews",
                "subjectaccessreview",
                "SubjectAccessReview",
                false,
                &[],
                CREATE,
            ),
            Virtual::LocalSubjectAccessReviews => (
                "authorization.k8s.io",
                "localsubjectaccessreviews",
                "localsubjectaccessreview",
                "LocalSubjectAccessReview",
                true,
                &[],
                CREATE,
            ),
            Virtual::SelfSubjectAccessReviews => (
                "authorization.k8s.io",
                "selfsubjectaccessreviews",
                "selfsubjectaccessreview",
                "SelfSubjectAccessReview",
                false,
                &[],
                CREATE,
            ),
            Virtual::SelfSubjectRulesReviews => (
                "authorization.k8s.io",
                "selfsubjectrulesreviews",
                "selfsubjectrulesreview",
                "SelfSubjectRulesReview",
                false,
                &[],
                CREATE,
            ),
        }
    }

    const ALL: [Virtual; 8] = [
        Virtual::Bindings,
        Virtual::ComponentStatuses,
        Virtual::TokenReviews,
        Virtual::SelfSubjectReviews,
        Virtual::SubjectAccessReviews,
        Virtual::LocalSubjectAccessReviews,
        Virtual::SelfSubjectAccessReviews,
        Virtual::SelfSubjectRulesReviews,
    ];
}

/// What a served CRD version needs at request time.
#[derive(Debug)]
pub struct CustomVersion {
    /// `<plural>.<group>`, the CRD object's name.
    pub crd_name: String,
    pub storage_version: String,
    pub schema: Option<structural::Schema>,
    /// The version's `openAPIV3Schema` as written, for OpenAPI documents.
    pub raw_schema: Option<serde_json::Value>,
    pub printer_columns: Vec<PrinterColumn>,
    /// `status` subresource enabled.
    pub status: bool,
    pub scale: Option<CustomScale>,
    /// `selectableFields` JSON paths usable in field selectors.
    pub selectable_fields: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct PrinterColumn {
    pub name: String,
    pub type_: String,
    pub format: String,
    pub description: String,
    pub priority: u32,
    pub json_path: String,
}

#[derive(Debug, Clone)]
pub struct CustomScale {
    pub spec_replicas: String,
    pub status_replicas: String,
    pub label_selector: Option<String>,
}

/// One served resource at one group version.
#[derive(Debug, Clone)]
pub struct Resource {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub singular: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub verbs: Vec<String>,
    pub source: Source,
}

impl Resource {
    fn from_builtin(info: &'static builtin::ResourceInfo) -> Self {
        Resource {
            group: info.group.to_string(),
            version: info.version.to_string(),
            kind: info.kind.to_string(),
            plural: info.plural.to_string(),
            singular: info.singular.to_string(),
            namespaced: info.namespaced,
            short_names: info.short_names.iter().map(|s| s.to_string()).collect(),
            categories: info.categories.iter().map(|s| s.to_string()).collect(),
            verbs: info.verbs.iter().map(|s| s.to_string()).collect(),
            source: Source::Builtin(info),
        }
    }

    fn from_virtual(v: Virtual) -> Self {
        let (group, plural, singular, kind, namespaced, short, verbs) = v.describe();
        Resource {
            group: group.to_string(),
            version: "v1".to_string(),
            kind: kind.to_string(),
            plural: plural.to_string(),
            singular: singular.to_string(),
            namespaced,
            short_names: short.iter().map(|s| s.to_string()).collect(),
            categories: Vec::new(),
            verbs: verbs.iter().map(|s| s.to_string()).collect(),
            source: Source::Virtual(v),
        }
    }

    pub fn is_virtual(&self) -> bool {
        matches!(self.source, Source::Virtual(_))
    }

    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The version objects of this resource are stored at.
    pub fn storage_version(&self) -> &str {
        match &self.source {
            Source::Builtin(_) | Source::Virtual(_) => &self.version,
            Source::Custom(c) => &c.storage_version,
        }
    }

    /// The storage key prefix shared by every version of this resource.
    pub fn key_prefix(&self) -> String {
        let g = if self.group.is_empty() {
            "core"
        } else {
            &self.group
        };
        format!("/{}/{}/", g, self.plural)
    }

    /// The key of one object.
    pub fn key(&self, namespace: &str, name: &str) -> String {
        if self.namespaced {
            format!("{}{}/{}", self.key_prefix(), namespace, name)
        } else {
            format!("{}{}", self.key_prefix(), name)
        }
    }

    /// The key range of a namespace (or of everything for cluster-wide requests).
    pub fn range(&self, namespace: Option<&str>) -> (String, String) {
        let start = match namespace {
            Some(ns) if self.namespaced => format!("{}{}/", self.key_prefix(), ns),
            _ => self.key_prefix(),
        };
        let end = prefix_end(&start);
        (start, end)
    }

    pub fn has_status(&self) -> bool {
        match &self.source {
            Source::Builtin(i) => i.status,
            Source::Custom(c) => c.status,
            Source::Virtual(_) => false,
        }
    }

    pub fn has_scale(&self) -> bool {
        match &self.source {
            Source::Builtin(i) => i.scale.is_some(),
            Source::Custom(c) => c.scale.is_some(),
            Source::Virtual(_) => false,
        }
    }

    pub fn is_custom(&self) -> bool {
        matches!(self.source, Source::Custom(_))
    }

    pub fn builtin(&self) -> Option<&'static builtin::ResourceInfo> {
        match &self.source {
            Source::Builtin(i) => Some(i),
            Source::Custom(_) | Source::Virtual(_) => None,
        }
    }

    pub fn allows(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    /// The group used in messages: `deployments.apps`.
    pub fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

/// The end of the key range that starts with `prefix`.
pub fn prefix_end(prefix: &str) -> String {
    // Keys are ASCII paths; '/' + 1 = '0', so bumping the last byte bounds the prefix.
    let mut bytes = prefix.as_bytes().to_vec();
    if let Some(last) = bytes.last_mut() {
        *last += 1;
    }
    String::from_utf8(bytes).unwrap_or_default()
}

/// All resources, keyed by (group, version, plural); thread-safe and cheap to read.
#[derive(Debug, Default)]
pub struct Registry {
    inner: RwLock<BTreeMap<(String, String, String), Arc<Resource>>>,
    /// The resourceVersion of each CRD as last registered.
    custom_versions: RwLock<std::collections::HashMap<String, String>>,
    /// Bumped on every change so discovery and OpenAPI caches know when to rebuild.
    generation: std::sync::atomic::AtomicU64,
}

impl Registry {
    pub fn with_builtins() -> Self {
        let r = Registry::default();
        {
            let mut m = r.inner.write().unwrap_or_else(|e| e.into_inner());
            for info in builtin::resources() {
                let res = Resource::from_builtin(info);
                m.insert(
                    (res.group.clone(), res.version.clone(), res.plural.clone()),
                    Arc::new(res),
                );
            }
            for v in Virtual::ALL {
                let res = Resource::from_virtual(v);
                m.insert(
                    (res.group.clone(), res.version.clone(), res.plural.clone()),
                    Arc::new(res),
                );
            }
        }
        r
    }

    pub fn get(&self, group: &str, version: &str, plural: &str) -> Option<Arc<Resource>> {
        let m = self.inner.read().unwrap_or_else(|e| e.into_inner());
        m.get(&(group.to_string(), version.to_string(), plural.to_string()))
            .cloned()
    }

    /// Finds the resource serving `kind` in `group/version`.
    pub fn by_kind(&self, group: &str, version: &str, kind: &str) -> Option<Arc<Resource>> {
        let m = self.inner.read().unwrap_or_else(|e| e.into_inner());
        m.values()
            .find(|r| r.group == group && r.version == version && r.kind == kind)
            .cloned()
    }

    /// Any served version of `group`'s `kind`, preferring `version`.
    pub fn by_group_kind(&self, group: &str, kind: &str) -> Option<Arc<Resource>> {
        let m = self.inner.read().unwrap_or_else(|e| e.into_inner());
        m.values()
            .find(|r| r.group == group && r.kind == kind)
            .cloned()
    }

    /// Every resource, in (group, version, plural) order.
    pub fn all(&self) -> Vec<Arc<Resource>> {
        let m = self.inner.read().unwrap_or_else(|e| e.into_inner());
        m.values().cloned().collect()
    }

    /// One resource per storage key prefix (a resource served at several versions counts once).
    pub fn storage_resources(&self) -> Vec<Arc<Resource>> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for r in self.all() {
            if !r.is_virtual() && r.version == r.storage_version() && seen.insert(r.key_prefix()) {
                out.push(r);
            }
        }
        out
    }

    /// Replaces every resource of a CRD (all its versions) with `resources`.
    pub fn set_custom(&self, crd_name: &str, resources: Vec<Resource>) {
        let mut m = self.inner.write().unwrap_or_else(|e| e.into_inner());
        m.retain(|_, r| !matches!(&r.source, Source::Custom(c) if c.crd_name == crd_name));
        for res in resources {
            m.insert(
                (res.group.clone(), res.version.clone(), res.plural.clone()),
                Arc::new(res),
            );
        }
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn remove_custom(&self, crd_name: &str) {
        self.set_custom(crd_name, Vec::new());
        self.custom_versions
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(crd_name);
    }

    /// The CRD resourceVersion its resources were last registered from.
    pub fn custom_version(&self, crd_name: &str) -> Option<String> {
        self.custom_versions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(crd_name)
            .cloned()
    }

    pub fn set_custom_version(&self, crd_name: &str, rv: &str) {
        self.custom_versions
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(crd_name.to_string(), rv.to_string());
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_ranges() {
        let reg = Registry::with_builtins();
        let cm = reg.get("", "v1", "configmaps").expect("configmaps served");
        assert_eq!(cm.key("default", "a"), "/core/configmaps/default/a");
        let (s, e) = cm.range(Some("default"));
        assert_eq!(s, "/core/configmaps/default/");
        assert_eq!(e, "/core/configmaps/default0");
        let ns = reg.get("", "v1", "namespaces").expect("namespaces served");
        assert_eq!(ns.key("", "kube-system"), "/core/namespaces/kube-system");
        let d = reg
            .get("apps", "v1", "deployments")
            .expect("deployments served");
        assert_eq!(d.group_resource(), "deployments.apps");
    }
}
