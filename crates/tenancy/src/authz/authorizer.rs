//! KubeSphere's scope authorizer: global → cluster → workspace → namespace rules, group membership and self-service.

use super::index::{Index, SubjectKey};
use super::request_info::{RequestInfo, Scope};
use crate::names;
use apimachinery::UserInfo;
use rbac::PolicyRule;
use std::collections::BTreeSet;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The outcome of one authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub reason: String,
}

impl Decision {
    fn allow(reason: impl Into<String>) -> Decision {
        Decision {
            allowed: true,
            reason: reason.into(),
        }
    }
}

/// The level at which a set of permissions is held or requested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Level {
    Global,
    Cluster,
    Workspace(String),
    Namespace(String),
}

impl Level {
    /// The level a role-template scope label names, with its workspace or namespace.
    pub fn from_scope(scope: &str, workspace: &str, namespace: &str) -> Option<Level> {
        match scope {
            "global" => Some(Level::Global),
            "cluster" => Some(Level::Cluster),
            "workspace" if !workspace.is_empty() => Some(Level::Workspace(workspace.into())),
            "namespace" if !namespace.is_empty() => Some(Level::Namespace(namespace.into())),
            _ => None,
        }
    }
}

/// Shared handle on the index; cheap to clone.
#[derive(Debug, Clone)]
pub struct Authorizer {
    index: Arc<RwLock<Index>>,
    synced: Arc<tokio::sync::watch::Sender<usize>>,
}

impl Default for Authorizer {
    fn default() -> Self {
        Authorizer {
            index: Arc::default(),
            synced: Arc::new(tokio::sync::watch::channel(0).0),
        }
    }
}

impl Authorizer {
    pub fn new() -> Authorizer {
        Authorizer::default()
    }

    /// Called by the feed when one watched kind has listed for the first time.
    pub(crate) fn mark_synced(&self) {
        self.synced.send_modify(|n| *n += 1);
    }

    /// Waits until every watched kind has been listed once (the index is complete).
    pub async fn wait_synced(&self) {
        let mut rx = self.synced.subscribe();
        // The sender lives in self, so the channel cannot close while we wait.
        let _ = rx.wait_for(|n| *n >= super::feed::FEED_KINDS).await;
    }

    /// Read access to the index (a poisoned lock still holds consistent data: every
    /// writer finishes its update before it could panic).
    pub fn read(&self) -> RwLockReadGuard<'_, Index> {
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, Index> {
        self.index.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The user's groups: those authentication gave plus KubeSphere GroupBindings, so
    /// the gateway can impersonate with them and the kernel sees the same membership.
    pub fn groups_of(&self, user: &UserInfo) -> Vec<String> {
        let idx = self.read();
        let mut set: BTreeSet<String> = user.groups.iter().cloned().collect();
        if let Some(g) = idx.user_groups.get(&user.name) {
            set.extend(g.iter().cloned());
        }
        set.into_iter().collect()
    }

    fn subjects(idx: &Index, user: &UserInfo) -> Vec<SubjectKey> {
        let mut out = Vec::with_capacity(1 + user.groups.len());
        out.push(SubjectKey::User(user.name.clone()));
        for g in &user.groups {
            out.push(SubjectKey::Group(g.clone()));
        }
        if let Some(gs) = idx.user_groups.get(&user.name) {
            for g in gs {
                if !user.groups.contains(g) {
                    out.push(SubjectKey::Group(g.clone()));
                }
            }
        }
        out
    }

    /// Decides `req` for `user` with KubeSphere's scope resolution.
    pub fn authorize(&self, user: &UserInfo, req: &RequestInfo) -> Decision {
        if user.in_group("system:masters") {
            return Decision::allow("member of system:masters");
        }
        if let Some(why) = self_service(user, req) {
            return Decision::allow(why);
        }
        let idx = self.read();
        let subjects = Self::subjects(&idx, user);
        let matches = |r: &PolicyRule| {
            if req.is_resource_request {
                r.allows_resource(
                    &req.verb,
                    &req.api_group,
                    &req.resource,
                    &req.subresource,
                    &req.name,
                )
            } else {
                r.allows_url(&req.verb, &req.path)
            }
        };
        for s in &subjects {
            for role in idx.global_bindings.roles(s, "") {
                if let Some(def) = idx.global_roles.get(role)
                    && idx.for_each_role_rule(def, &matches)
                {
                    return Decision::allow(format!("allowed by GlobalRole {role:?}"));
                }
            }
        }
        if req.scope == Scope::Global {
            return deny(user, req);
        }
        if matches!(req.scope, Scope::Cluster | Scope::Namespace) {
            for s in &subjects {
                for role in idx.cluster_bindings.roles(s, "") {
                    if idx
                        .cluster_roles
                        .get(role)
                        .is_some_and(|rs| rs.iter().any(matches))
                    {
                        return Decision::allow(format!("allowed by ClusterRole {role:?}"));
                    }
                }
            }
        }
        if req.scope == Scope::Cluster {
            return deny(user, req);
        }
        let ws = if req.workspace.is_empty() {
            idx.namespace_workspace
                .get(&req.namespace)
                .cloned()
                .unwrap_or_default()
        } else {
            req.workspace.clone()
        };
        // A namespace request naming a workspace it is not in is not covered by that workspace's roles.
        let ns_in_ws = req.namespace.is_empty()
            || idx
                .namespace_workspace
                .get(&req.namespace)
                .is_some_and(|w| *w == ws);
        if !ws.is_empty() && ns_in_ws {
            for s in &subjects {
                for role in idx.workspace_bindings.roles(s, &ws) {
                    if let Some((role_ws, def)) = idx.workspace_roles.get(role)
                        && *role_ws == ws
                        && idx.for_each_role_rule(def, &matches)
                    {
                        return Decision::allow(format!("allowed by WorkspaceRole {role:?}"));
                    }
                }
            }
        }
        if req.scope == Scope::Namespace {
            for s in &subjects {
                for role in idx.role_bindings.roles(s, &req.namespace) {
                    if idx
                        .k8s_ref_rules(&req.namespace, role)
                        .is_some_and(|rs| rs.iter().any(matches))
                    {
                        return Decision::allow(format!(
                            "allowed by {role:?} in namespace {:?}",
                            req.namespace
                        ));
                    }
                }
            }
        }
        deny(user, req)
    }

    /// Every rule `user` holds at `level` (what escalation checks compare against).
    pub fn rules_at(&self, user: &UserInfo, level: &Level) -> Vec<PolicyRule> {
        if user.in_group("system:masters") {
            return rbac::full_authority();
        }
        let idx = self.read();
        let subjects = Self::subjects(&idx, user);
        let mut out = Vec::new();
        for s in &subjects {
            for role in idx.global_bindings.roles(s, "") {
                if let Some(def) = idx.global_roles.get(role) {
                    out.extend(idx.effective_rules(def));
                }
            }
        }
        if matches!(level, Level::Cluster | Level::Namespace(_)) {
            for s in &subjects {
                for role in idx.cluster_bindings.roles(s, "") {
                    if let Some(rs) = idx.cluster_roles.get(role) {
                        out.extend(rs.iter().cloned());
                    }
                }
            }
        }
        let ws = match level {
            Level::Workspace(ws) => ws.clone(),
            Level::Namespace(ns) => idx.namespace_workspace.get(ns).cloned().unwrap_or_default(),
            _ => String::new(),
        };
        if !ws.is_empty() {
            for s in &subjects {
                for role in idx.workspace_bindings.roles(s, &ws) {
                    if let Some((role_ws, def)) = idx.workspace_roles.get(role)
                        && *role_ws == ws
                    {
                        out.extend(idx.effective_rules(def));
                    }
                }
            }
        }
        if let Level::Namespace(ns) = level {
            for s in &subjects {
                for role in idx.role_bindings.roles(s, ns) {
                    if let Some(rs) = idx.k8s_ref_rules(ns, role) {
                        out.extend(rs.iter().cloned());
                    }
                }
            }
        }
        out
    }

    /// Names of the role templates of `scope` whose every rule `user` holds at `level`:
    /// what `users/{u}/roletemplates?scope=` returns and the console builds menus from.
    pub fn role_templates_held(&self, user: &UserInfo, scope: &str, level: &Level) -> Vec<String> {
        let held = self.rules_at(user, level);
        let idx = self.read();
        let mut out: Vec<String> = idx
            .templates
            .iter()
            .filter(|(_, t)| t.scope == scope && rbac::covers(&held, &t.rules).is_ok())
            .map(|(n, _)| n.clone())
            .collect();
        out.sort();
        out
    }

    /// The workspaces `user` may see: all of them for a holder of a global rule to list
    /// workspaces, else those where the user (or a group) has a binding or a project role.
    pub fn visible_workspaces(&self, user: &UserInfo) -> Option<BTreeSet<String>> {
        let all = RequestInfo::parse("GET", "/apis/tenant.kubesphere.io/v1beta1/workspaces", "");
        if self.global_allows(user, &all) {
            return None;
        }
        let idx = self.read();
        let mut out = BTreeSet::new();
        for s in Self::subjects(&idx, user) {
            out.extend(idx.workspace_bindings.scopes_of(&s).map(str::to_string));
            for ns in idx.role_bindings.scopes_of(&s) {
                if let Some(ws) = idx.namespace_workspace.get(ns) {
                    out.insert(ws.clone());
                }
            }
        }
        Some(out)
    }

    /// The namespaces `user` may see without scanning them all: every namespace for
    /// holders of a global or cluster rule to list namespaces (None), else the projects of
    /// the user's workspaces (when the workspace role may list namespaces) and the
    /// namespaces where the user has a RoleBinding.
    pub fn visible_namespaces(&self, user: &UserInfo) -> Option<BTreeSet<String>> {
        let all = RequestInfo::parse("GET", "/api/v1/namespaces", "");
        if self.authorize_without_self(user, &all) {
            return None;
        }
        let idx = self.read();
        let mut out = BTreeSet::new();
        for s in Self::subjects(&idx, user) {
            out.extend(idx.role_bindings.scopes_of(&s).map(str::to_string));
            for ws in idx.workspace_bindings.scopes_of(&s) {
                let req = RequestInfo::parse(
                    "GET",
                    &format!("/kapis/tenant.kubesphere.io/v1beta1/workspaces/{ws}/namespaces"),
                    "",
                );
                let lists = idx.workspace_bindings.roles(&s, ws).iter().any(|role| {
                    idx.workspace_roles.get(role).is_some_and(|(_, def)| {
                        idx.for_each_role_rule(def, |r| {
                            r.allows_resource(&req.verb, &req.api_group, &req.resource, "", "")
                        })
                    })
                });
                if lists && let Some(set) = idx.workspace_namespaces.get(ws) {
                    out.extend(set.iter().cloned());
                }
            }
        }
        Some(out)
    }

    /// Whether `user` may list a cluster-scoped kind (`group`, `resource`).
    pub fn may_list_cluster_scoped(&self, user: &UserInfo, group: &str, resource: &str) -> bool {
        let path = if group.is_empty() {
            format!("/api/v1/{resource}")
        } else {
            format!("/apis/{group}/v1/{resource}")
        };
        self.authorize_without_self(user, &RequestInfo::parse("GET", &path, ""))
    }

    fn authorize_without_self(&self, user: &UserInfo, req: &RequestInfo) -> bool {
        self_service(user, req).is_none() && self.authorize(user, req).allowed
    }

    fn global_allows(&self, user: &UserInfo, req: &RequestInfo) -> bool {
        if user.in_group("system:masters") {
            return true;
        }
        let idx = self.read();
        Self::subjects(&idx, user).iter().any(|s| {
            idx.global_bindings.roles(s, "").iter().any(|role| {
                idx.global_roles.get(role).is_some_and(|def| {
                    idx.for_each_role_rule(def, |r| {
                        r.allows_resource(
                            &req.verb,
                            &req.api_group,
                            &req.resource,
                            &req.subresource,
                            &req.name,
                        )
                    })
                })
            })
        })
    }

    /// Whether `user` is bound to platform-admin (directly or through a group).
    pub fn is_platform_admin(&self, user: &UserInfo) -> bool {
        if user.in_group("system:masters") {
            return true;
        }
        let idx = self.read();
        Self::subjects(&idx, user).iter().any(|s| {
            idx.global_bindings
                .roles(s, "")
                .iter()
                .any(|r| r == names::PLATFORM_ADMIN)
        })
    }
}

fn deny(user: &UserInfo, req: &RequestInfo) -> Decision {
    let what = if req.is_resource_request {
        let mut w = format!("{} {}", req.verb, req.resource);
        if !req.subresource.is_empty() {
            w.push('/');
            w.push_str(&req.subresource);
        }
        if !req.api_group.is_empty() {
            w.push_str(&format!(" in API group {:?}", req.api_group));
        }
        if !req.name.is_empty() {
            w.push_str(&format!(" named {:?}", req.name));
        }
        if !req.namespace.is_empty() {
            w.push_str(&format!(" in namespace {:?}", req.namespace));
        } else if !req.workspace.is_empty() {
            w.push_str(&format!(" in workspace {:?}", req.workspace));
        }
        w
    } else {
        format!("{} {}", req.verb, req.path)
    };
    Decision {
        allowed: false,
        reason: format!("user {:?} cannot {what}", user.name),
    }
}

/// The `authenticated` role's self-service rules, which need the caller's own name and
/// so cannot be static PolicyRules: read and update one's own user and password, read
/// one's own memberships and role templates, and list the (filtered) workspaces,
/// projects and clusters. Everything here is read-only except one's own profile and
/// password, as KubeSphere's security fix #52 requires.
fn self_service(user: &UserInfo, req: &RequestInfo) -> Option<&'static str> {
    if !req.is_resource_request || user.name.is_empty() || user.name == "system:anonymous" {
        return None;
    }
    let me = req.name == user.name;
    let read = matches!(req.verb.as_str(), "get" | "list" | "watch");
    match (
        req.api_group.as_str(),
        req.resource.as_str(),
        req.subresource.as_str(),
    ) {
        ("iam.kubesphere.io", "users", "")
            if me && matches!(req.verb.as_str(), "get" | "update" | "patch") =>
        {
            Some("self-service: own user")
        }
        ("iam.kubesphere.io", "users", "password") if me && req.verb == "update" => {
            Some("self-service: own password")
        }
        ("iam.kubesphere.io", "users", "roletemplates" | "loginrecords" | "globalroles")
            if me && read =>
        {
            Some("self-service: own user details")
        }
        ("iam.kubesphere.io", "clustermembers" | "workspacemembers" | "namespacemembers", _)
            if me && read =>
        {
            Some("self-service: own membership")
        }
        ("iam.kubesphere.io", "subjectaccessreviews", "") if req.verb == "create" => {
            Some("self-service: access review (answered for the caller only)")
        }
        ("tenant.kubesphere.io", "workspaces" | "workspacetemplates" | "namespaces", "")
            if req.verb == "list" && req.workspace.is_empty() && req.namespace.is_empty() =>
        {
            Some("self-service: list filtered to what the caller may see")
        }
        ("tenant.kubesphere.io", "clusters", "") if read => Some("self-service: clusters"),
        // What the console needs to draw itself; neither holds a secret.
        ("config.kubesphere.io", "configs", "")
            if req.verb == "get" && matches!(req.name.as_str(), "configz" | "oauth") =>
        {
            Some("self-service: public configuration")
        }
        _ => None,
    }
}

#[cfg(test)]
#[path = "authorizer_tests.rs"]
mod tests;
