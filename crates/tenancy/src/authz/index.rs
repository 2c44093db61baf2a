//! In-memory indexes of roles, bindings, groups and projects, fed by watch events (`apply_*`/`delete_*`).

use crate::kinds::{
    AggregationRoleTemplates, GlobalRole, GlobalRoleBinding, GroupBinding, RoleTemplate,
    WorkspaceRole, WorkspaceRoleBinding,
};
use crate::names;
use apimachinery::labels::Selector;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1 as k8s;
use kube::ResourceExt;
use rbac::PolicyRule;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Converts the wire form of a rule into the matcher's.
pub fn rule_from_k8s(r: &k8s::PolicyRule) -> PolicyRule {
    PolicyRule {
        verbs: r.verbs.clone(),
        api_groups: r.api_groups.clone().unwrap_or_default(),
        resources: r.resources.clone().unwrap_or_default(),
        resource_names: r.resource_names.clone().unwrap_or_default(),
        non_resource_urls: r.non_resource_urls.clone().unwrap_or_default(),
    }
}

/// Converts the matcher's rule back into the wire form.
pub fn rule_to_k8s(r: &PolicyRule) -> k8s::PolicyRule {
    let opt = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    k8s::PolicyRule {
        verbs: r.verbs.clone(),
        api_groups: opt(&r.api_groups),
        resources: opt(&r.resources),
        resource_names: opt(&r.resource_names),
        non_resource_urls: opt(&r.non_resource_urls),
    }
}

fn rules(list: &[k8s::PolicyRule]) -> Arc<[PolicyRule]> {
    list.iter().map(rule_from_k8s).collect()
}

/// Who a binding grants to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SubjectKey {
    User(String),
    Group(String),
}

impl SubjectKey {
    fn from_subject(s: &k8s::Subject) -> Option<SubjectKey> {
        match s.kind.as_str() {
            "User" => Some(SubjectKey::User(s.name.clone())),
            "Group" => Some(SubjectKey::Group(s.name.clone())),
            // ServiceAccounts are authorized by the kernel; KubeSphere scopes are for people.
            _ => None,
        }
    }
}

/// A KubeSphere role: its own rules plus the templates it aggregates.
#[derive(Debug, Clone, Default)]
pub struct RoleDef {
    pub rules: Arc<[PolicyRule]>,
    pub template_names: Vec<String>,
    pub selector: Option<Selector>,
}

impl RoleDef {
    fn new(rules_list: &[k8s::PolicyRule], agg: Option<&AggregationRoleTemplates>) -> RoleDef {
        let selector = agg
            .and_then(|a| a.role_selector.as_ref())
            .and_then(|s| serde_json::to_value(s).ok())
            .and_then(|v| Selector::from_label_selector(&v).ok());
        RoleDef {
            rules: rules(rules_list),
            template_names: agg.map(|a| a.template_names.clone()).unwrap_or_default(),
            selector,
        }
    }
}

/// A role template: its scope label, labels (for role selectors) and rules.
#[derive(Debug, Clone, Default)]
pub struct TemplateDef {
    pub scope: String,
    pub labels: BTreeMap<String, String>,
    pub rules: Arc<[PolicyRule]>,
}

/// Bindings of one kind, found by name (for updates and deletes) and by subject.
#[derive(Debug)]
pub struct Bindings<R: Clone + PartialEq> {
    by_name: HashMap<String, (Vec<SubjectKey>, String, R)>,
    /// subject → scope key (workspace, namespace or "") → role refs.
    by_subject: HashMap<SubjectKey, HashMap<String, Vec<R>>>,
}

impl<R: Clone + PartialEq> Default for Bindings<R> {
    fn default() -> Self {
        Bindings {
            by_name: HashMap::new(),
            by_subject: HashMap::new(),
        }
    }
}

impl<R: Clone + PartialEq> Bindings<R> {
    fn apply(&mut self, key: String, subjects: Vec<SubjectKey>, scope: String, role: R) {
        self.delete(&key);
        for s in &subjects {
            self.by_subject
                .entry(s.clone())
                .or_default()
                .entry(scope.clone())
                .or_default()
                .push(role.clone());
        }
        self.by_name.insert(key, (subjects, scope, role));
    }

    fn delete(&mut self, key: &str) -> bool {
        let Some((subjects, scope, role)) = self.by_name.remove(key) else {
            return false;
        };
        for s in subjects {
            if let Some(scopes) = self.by_subject.get_mut(&s) {
                if let Some(list) = scopes.get_mut(&scope) {
                    if let Some(pos) = list.iter().position(|r| *r == role) {
                        list.swap_remove(pos);
                    }
                    if list.is_empty() {
                        scopes.remove(&scope);
                    }
                }
                if scopes.is_empty() {
                    self.by_subject.remove(&s);
                }
            }
        }
        true
    }

    /// The roles `subject` is bound to at `scope`.
    pub fn roles(&self, subject: &SubjectKey, scope: &str) -> &[R] {
        self.by_subject
            .get(subject)
            .and_then(|m| m.get(scope))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Every scope key where `subject` has a binding.
    pub fn scopes_of(&self, subject: &SubjectKey) -> impl Iterator<Item = &str> {
        self.by_subject
            .get(subject)
            .into_iter()
            .flat_map(|m| m.keys().map(String::as_str))
    }

    /// Every subject bound at `scope`, with their roles (a scan: for member listings, not decisions).
    pub fn at_scope<'a>(
        &'a self,
        scope: &'a str,
    ) -> impl Iterator<Item = (&'a SubjectKey, &'a [R])> + 'a {
        self.by_subject
            .iter()
            .filter_map(move |(s, m)| m.get(scope).map(|r| (s, r.as_slice())))
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// What a Kubernetes RoleBinding refers to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum K8sRoleRef {
    Role(String),
    ClusterRole(String),
}

/// Everything the authorizer decides from.
#[derive(Debug, Default)]
pub struct Index {
    pub templates: HashMap<String, TemplateDef>,
    pub global_roles: HashMap<String, RoleDef>,
    /// WorkspaceRole name → (workspace, role).
    pub workspace_roles: HashMap<String, (String, RoleDef)>,
    pub cluster_roles: HashMap<String, Arc<[PolicyRule]>>,
    pub roles: HashMap<(String, String), Arc<[PolicyRule]>>,
    pub global_bindings: Bindings<String>,
    /// Scope key: workspace; role: WorkspaceRole name.
    pub workspace_bindings: Bindings<String>,
    pub cluster_bindings: Bindings<String>,
    /// Scope key: namespace.
    pub role_bindings: Bindings<K8sRoleRef>,
    /// Project → workspace.
    pub namespace_workspace: HashMap<String, String>,
    pub workspace_namespaces: HashMap<String, BTreeSet<String>>,
    pub all_namespaces: BTreeSet<String>,
    pub workspaces: BTreeSet<String>,
    /// GroupBinding name → (group, users).
    group_bindings: HashMap<String, (String, Vec<String>)>,
    /// user → groups from GroupBindings.
    pub user_groups: HashMap<String, BTreeSet<String>>,
}

fn subjects(list: &[k8s::Subject]) -> Vec<SubjectKey> {
    let mut out: Vec<SubjectKey> = list.iter().filter_map(SubjectKey::from_subject).collect();
    out.sort();
    out.dedup();
    out
}

/// Whether `name` is a valid Group object name (a DNS-1123 subdomain).
fn is_group_object_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 253 && name.split('.').all(names::is_dns_label)
}

fn label(labels: &BTreeMap<String, String>, key: &str) -> String {
    labels.get(key).cloned().unwrap_or_default()
}

impl Index {
    pub fn new() -> Index {
        Index::default()
    }

    pub fn apply_template(&mut self, t: &RoleTemplate) {
        let labels = t.labels().clone();
        self.templates.insert(
            t.name_any(),
            TemplateDef {
                scope: label(&labels, names::SCOPE_LABEL),
                labels,
                rules: rules(&t.spec.rules),
            },
        );
    }

    pub fn delete_template(&mut self, name: &str) {
        self.templates.remove(name);
    }

    pub fn apply_global_role(&mut self, r: &GlobalRole) {
        let def = RoleDef::new(&r.spec.rules, r.spec.aggregation_role_templates.as_ref());
        self.global_roles.insert(r.name_any(), def);
    }

    pub fn delete_global_role(&mut self, name: &str) {
        self.global_roles.remove(name);
    }

    pub fn apply_workspace_role(&mut self, r: &WorkspaceRole) {
        let ws = label(r.labels(), names::WORKSPACE_LABEL);
        let def = RoleDef::new(&r.spec.rules, r.spec.aggregation_role_templates.as_ref());
        self.workspace_roles.insert(r.name_any(), (ws, def));
    }

    pub fn delete_workspace_role(&mut self, name: &str) {
        self.workspace_roles.remove(name);
    }

    pub fn apply_cluster_role(&mut self, r: &k8s::ClusterRole) {
        self.cluster_roles
            .insert(r.name_any(), rules(r.rules.as_deref().unwrap_or_default()));
    }

    pub fn delete_cluster_role(&mut self, name: &str) {
        self.cluster_roles.remove(name);
    }

    pub fn apply_role(&mut self, r: &k8s::Role) {
        let key = (r.namespace().unwrap_or_default(), r.name_any());
        self.roles
            .insert(key, rules(r.rules.as_deref().unwrap_or_default()));
    }

    pub fn delete_role(&mut self, namespace: &str, name: &str) {
        self.roles
            .remove(&(namespace.to_string(), name.to_string()));
    }

    pub fn apply_global_role_binding(&mut self, b: &GlobalRoleBinding) {
        self.global_bindings.apply(
            b.name_any(),
            subjects(&b.spec.subjects),
            String::new(),
            b.spec.role_ref.name.clone(),
        );
    }

    pub fn delete_global_role_binding(&mut self, name: &str) {
        self.global_bindings.delete(name);
    }

    pub fn apply_workspace_role_binding(&mut self, b: &WorkspaceRoleBinding) {
        let mut ws = label(b.labels(), names::WORKSPACE_LABEL);
        if ws.is_empty() {
            // Older objects carry no label; the role names the workspace.
            ws = self
                .workspace_roles
                .get(&b.spec.role_ref.name)
                .map(|(w, _)| w.clone())
                .unwrap_or_default();
        }
        self.workspace_bindings.apply(
            b.name_any(),
            subjects(&b.spec.subjects),
            ws,
            b.spec.role_ref.name.clone(),
        );
    }

    pub fn delete_workspace_role_binding(&mut self, name: &str) {
        self.workspace_bindings.delete(name);
    }

    pub fn apply_cluster_role_binding(&mut self, b: &k8s::ClusterRoleBinding) {
        self.cluster_bindings.apply(
            b.name_any(),
            subjects(b.subjects.as_deref().unwrap_or_default()),
            String::new(),
            b.role_ref.name.clone(),
        );
    }

    pub fn delete_cluster_role_binding(&mut self, name: &str) {
        self.cluster_bindings.delete(name);
    }

    pub fn apply_role_binding(&mut self, b: &k8s::RoleBinding) {
        let ns = b.namespace().unwrap_or_default();
        let role = if b.role_ref.kind == "ClusterRole" {
            K8sRoleRef::ClusterRole(b.role_ref.name.clone())
        } else {
            K8sRoleRef::Role(b.role_ref.name.clone())
        };
        let key = format!("{ns}/{}", b.name_any());
        self.role_bindings.apply(
            key,
            subjects(b.subjects.as_deref().unwrap_or_default()),
            ns,
            role,
        );
    }

    pub fn delete_role_binding(&mut self, namespace: &str, name: &str) {
        self.role_bindings.delete(&format!("{namespace}/{name}"));
    }

    pub fn apply_namespace(&mut self, ns: &Namespace) {
        let name = ns.name_any();
        self.delete_namespace(&name);
        self.all_namespaces.insert(name.clone());
        let ws = label(ns.labels(), names::WORKSPACE_LABEL);
        if !ws.is_empty() {
            self.workspace_namespaces
                .entry(ws.clone())
                .or_default()
                .insert(name.clone());
            self.namespace_workspace.insert(name, ws);
        }
    }

    pub fn delete_namespace(&mut self, name: &str) {
        self.all_namespaces.remove(name);
        if let Some(ws) = self.namespace_workspace.remove(name)
            && let Some(set) = self.workspace_namespaces.get_mut(&ws)
        {
            set.remove(name);
            if set.is_empty() {
                self.workspace_namespaces.remove(&ws);
            }
        }
    }

    pub fn apply_workspace(&mut self, name: &str) {
        self.workspaces.insert(name.to_string());
    }

    pub fn delete_workspace(&mut self, name: &str) {
        self.workspaces.remove(name);
    }

    pub fn apply_group_binding(&mut self, b: &GroupBinding) {
        let name = b.name_any();
        self.delete_group_binding(&name);
        let group = b.spec.group_ref.name.clone();
        // Only names a Group object can have: a binding naming `system:masters` (or any
        // other group Kubernetes gives meaning to) must not become an impersonated group.
        if !is_group_object_name(&group) {
            return;
        }
        for u in &b.spec.users {
            self.user_groups
                .entry(u.clone())
                .or_default()
                .insert(group.clone());
        }
        self.group_bindings
            .insert(name, (group, b.spec.users.clone()));
    }

    pub fn delete_group_binding(&mut self, name: &str) {
        let Some((group, users)) = self.group_bindings.remove(name) else {
            return;
        };
        for u in users {
            // Another binding may add the same user to the same group.
            let still = self
                .group_bindings
                .values()
                .any(|(g, us)| *g == group && us.contains(&u));
            if !still && let Some(set) = self.user_groups.get_mut(&u) {
                set.remove(&group);
                if set.is_empty() {
                    self.user_groups.remove(&u);
                }
            }
        }
    }

    /// Rules of a KubeSphere role: its own plus those of the templates it aggregates.
    pub fn for_each_role_rule<'a>(
        &'a self,
        def: &'a RoleDef,
        mut f: impl FnMut(&'a PolicyRule) -> bool,
    ) -> bool {
        for r in def.rules.iter() {
            if f(r) {
                return true;
            }
        }
        for t in &def.template_names {
            if let Some(t) = self.templates.get(t) {
                for r in t.rules.iter() {
                    if f(r) {
                        return true;
                    }
                }
            }
        }
        if let Some(sel) = &def.selector {
            for t in self.templates.values() {
                if sel.matches(&t.labels) {
                    for r in t.rules.iter() {
                        if f(r) {
                            return true;
                        }
                    }
                }
            }
        }
        false
    }

    /// The rules of a KubeSphere role, flattened (for escalation checks and derived ClusterRoles).
    pub fn effective_rules(&self, def: &RoleDef) -> Vec<PolicyRule> {
        let mut out = Vec::new();
        self.for_each_role_rule(def, |r| {
            out.push(r.clone());
            false
        });
        out
    }

    /// The effective rules of a role object read from the API (when the watch has not
    /// delivered it yet): its rules plus its templates' rules.
    pub fn rules_of_role_object(
        &self,
        rules_list: &[k8s::PolicyRule],
        agg: Option<&AggregationRoleTemplates>,
    ) -> Vec<PolicyRule> {
        self.effective_rules(&RoleDef::new(rules_list, agg))
    }

    /// The rules of a Kubernetes RoleBinding's target in `namespace`.
    pub fn k8s_ref_rules(&self, namespace: &str, r: &K8sRoleRef) -> Option<&Arc<[PolicyRule]>> {
        match r {
            K8sRoleRef::Role(n) => self.roles.get(&(namespace.to_string(), n.clone())),
            K8sRoleRef::ClusterRole(n) => self.cluster_roles.get(n),
        }
    }

    /// Rough bytes held by the index (keys, rules and bindings), for the benchmark.
    pub fn approx_bytes(&self) -> usize {
        let rule_bytes = |rs: &[PolicyRule]| -> usize {
            rs.iter()
                .map(|r| {
                    std::mem::size_of::<PolicyRule>()
                        + [
                            &r.verbs,
                            &r.api_groups,
                            &r.resources,
                            &r.resource_names,
                            &r.non_resource_urls,
                        ]
                        .iter()
                        .map(|l| l.iter().map(|s| s.capacity() + 24).sum::<usize>())
                        .sum::<usize>()
                })
                .sum()
        };
        let bindings = |n: usize| n * 160;
        let mut total = 0;
        total += self
            .templates
            .iter()
            .map(|(k, v)| k.len() + 64 + rule_bytes(&v.rules))
            .sum::<usize>();
        total += self
            .global_roles
            .iter()
            .map(|(k, v)| k.len() + 96 + rule_bytes(&v.rules))
            .sum::<usize>();
        total += self
            .workspace_roles
            .iter()
            .map(|(k, (w, v))| {
                k.len()
                    + w.len()
                    + 96
                    + rule_bytes(&v.rules)
                    + v.template_names.iter().map(|t| t.len() + 24).sum::<usize>()
            })
            .sum::<usize>();
        total += self
            .cluster_roles
            .iter()
            .map(|(k, v)| k.len() + 48 + rule_bytes(v))
            .sum::<usize>();
        total += self
            .roles
            .iter()
            .map(|((n, k), v)| n.len() + k.len() + 64 + rule_bytes(v))
            .sum::<usize>();
        total += bindings(
            self.global_bindings.len()
                + self.workspace_bindings.len()
                + self.cluster_bindings.len()
                + self.role_bindings.len(),
        );
        total += self
            .namespace_workspace
            .iter()
            .map(|(k, v)| k.len() + v.len() + 64)
            .sum::<usize>()
            * 2;
        total += self.workspaces.iter().map(|w| w.len() + 32).sum::<usize>();
        total
    }
}
