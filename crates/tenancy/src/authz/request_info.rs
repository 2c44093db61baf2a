//! KubeSphere's request info: what a request to `/api`, `/apis` or `/kapis` acts on, and at which scope.

/// The level a request is authorized at, most general first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Platform-wide objects: users, global roles and bindings, role templates, clusters, workspace templates.
    Global,
    /// Cluster-scoped objects and non-resource paths.
    Cluster,
    /// A request under `workspaces/{ws}`.
    Workspace,
    /// A request under `namespaces/{ns}`.
    Namespace,
}

/// The parsed request, as KubeSphere's `RequestInfoFactory` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInfo {
    pub is_resource_request: bool,
    pub path: String,
    /// `get|list|watch|create|update|patch|delete|deletecollection`, or the lower-cased method for non-resource paths.
    pub verb: String,
    /// `api`, `apis` or `kapis`; empty for non-resource paths.
    pub api_prefix: String,
    pub api_group: String,
    pub api_version: String,
    pub cluster: String,
    pub workspace: String,
    pub namespace: String,
    pub resource: String,
    pub subresource: String,
    pub name: String,
    pub scope: Scope,
}

/// `(api group, resource)` pairs that are platform-wide whatever the path says.
const GLOBAL_RESOURCES: &[(&str, &str)] = &[
    ("iam.kubesphere.io", "users"),
    ("iam.kubesphere.io", "globalroles"),
    ("iam.kubesphere.io", "globalrolebindings"),
    ("iam.kubesphere.io", "roletemplates"),
    ("iam.kubesphere.io", "loginrecords"),
    ("tenant.kubesphere.io", "clusters"),
    ("cluster.kubesphere.io", "clusters"),
];

impl RequestInfo {
    /// Parses `method`, `path` and the raw `query` string (without `?`).
    pub fn parse(method: &str, path: &str, query: &str) -> RequestInfo {
        let method = method.to_ascii_uppercase();
        let mut info = RequestInfo {
            is_resource_request: false,
            path: path.to_string(),
            verb: method.to_ascii_lowercase(),
            api_prefix: String::new(),
            api_group: String::new(),
            api_version: String::new(),
            cluster: String::new(),
            workspace: String::new(),
            namespace: String::new(),
            resource: String::new(),
            subresource: String::new(),
            name: String::new(),
            scope: Scope::Cluster,
        };
        let mut parts: Vec<&str> = path
            .trim_matches('/')
            .split('/')
            .filter(|p| !p.is_empty())
            .collect();
        if parts.len() >= 2
            && parts[0] == "clusters"
            && matches!(parts.get(2), Some(&("api" | "apis" | "kapis")))
        {
            info.cluster = parts[1].to_string();
            parts.drain(..2);
        }
        let Some(prefix) = parts.first().copied() else {
            return info;
        };
        if !matches!(prefix, "api" | "apis" | "kapis") {
            return info;
        }
        info.api_prefix = prefix.to_string();
        let mut rest = &parts[1..];
        if prefix == "api" {
            let Some(version) = rest.first() else {
                return info;
            };
            info.api_version = version.to_string();
            rest = &rest[1..];
        } else {
            if rest.len() < 2 {
                // `/apis` and `/apis/{group}` are discovery: non-resource paths.
                return info;
            }
            info.api_group = rest[0].to_string();
            info.api_version = rest[1].to_string();
            rest = &rest[2..];
        }
        if rest.is_empty() {
            return info;
        }
        info.is_resource_request = true;
        let mut parts = rest.to_vec();
        // `/watch/...` is the deprecated watch form Kubernetes still accepts.
        let mut watch_prefix = false;
        if parts.first() == Some(&"watch") {
            watch_prefix = true;
            parts.remove(0);
        }
        if parts.first() == Some(&"workspaces") && parts.len() > 1 {
            info.workspace = parts[1].to_string();
            if parts.len() > 2 {
                parts.drain(..2);
            }
        }
        if parts.first() == Some(&"namespaces") && parts.len() > 1 {
            info.namespace = parts[1].to_string();
            if parts.len() > 2 && !matches!(parts[2], "status" | "finalize") {
                parts.drain(..2);
            }
        }
        if let Some(r) = parts.first() {
            info.resource = r.to_string();
        }
        if let Some(n) = parts.get(1) {
            info.name = n.to_string();
        }
        if let Some(s) = parts.get(2) {
            info.subresource = s.to_string();
        }
        let watch = watch_prefix || query_flag(query, "watch");
        info.verb = match method.as_str() {
            "GET" | "HEAD" if watch => "watch",
            "GET" | "HEAD" if info.name.is_empty() => "list",
            "GET" | "HEAD" => "get",
            "POST" => "create",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" if info.name.is_empty() => "deletecollection",
            "DELETE" => "delete",
            _ => {
                return RequestInfo {
                    verb: method.to_ascii_lowercase(),
                    ..info
                };
            }
        }
        .to_string();
        // A workspace template is the workspace itself in another form; authorizing it
        // at the workspace's scope lets workspace roles manage their own settings.
        if info.api_group == "tenant.kubesphere.io"
            && info.resource == "workspacetemplates"
            && !info.name.is_empty()
        {
            info.workspace = info.name.clone();
        }
        info.scope = if GLOBAL_RESOURCES
            .contains(&(info.api_group.as_str(), info.resource.as_str()))
        {
            Scope::Global
        } else if !info.namespace.is_empty() {
            Scope::Namespace
        } else if !info.workspace.is_empty() {
            Scope::Workspace
        } else if info.api_group == "tenant.kubesphere.io" && info.resource == "workspacetemplates"
        {
            Scope::Global
        } else {
            Scope::Cluster
        };
        info
    }
}

impl RequestInfo {
    /// The same request with another verb (non-resource access reviews name their own).
    pub fn with_verb(mut self, verb: String) -> RequestInfo {
        self.verb = verb;
        self
    }
}

fn query_flag(query: &str, key: &str) -> bool {
    query.split('&').any(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        k == key && matches!(v, "1" | "true" | "True")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(m: &str, path: &str) -> RequestInfo {
        RequestInfo::parse(m, path, "")
    }

    #[test]
    fn kubernetes_paths() {
        let r = p("GET", "/api/v1/namespaces/dev/pods");
        assert_eq!(
            (r.verb.as_str(), r.namespace.as_str(), r.resource.as_str()),
            ("list", "dev", "pods")
        );
        assert_eq!(r.scope, Scope::Namespace);
        let r = p("GET", "/api/v1/namespaces/dev/pods/web/log");
        assert_eq!((r.name.as_str(), r.subresource.as_str()), ("web", "log"));
        let r = p("GET", "/api/v1/namespaces/dev");
        assert_eq!(
            (r.resource.as_str(), r.name.as_str(), r.namespace.as_str()),
            ("namespaces", "dev", "dev")
        );
        let r = p("PUT", "/api/v1/namespaces/dev/finalize");
        assert_eq!(
            (r.resource.as_str(), r.subresource.as_str()),
            ("namespaces", "finalize")
        );
        let r = p("DELETE", "/apis/apps/v1/namespaces/dev/deployments");
        assert_eq!(
            (r.verb.as_str(), r.api_group.as_str()),
            ("deletecollection", "apps")
        );
        let r = RequestInfo::parse("GET", "/apis/apps/v1/deployments", "watch=true");
        assert_eq!((r.verb.as_str(), r.scope), ("watch", Scope::Cluster));
        assert!(!p("GET", "/apis/apps").is_resource_request);
        assert!(!p("GET", "/version").is_resource_request);
        assert!(!p("GET", "/api").is_resource_request);
    }

    #[test]
    fn kapis_scopes() {
        let r = p(
            "GET",
            "/kapis/iam.kubesphere.io/v1beta1/workspaces/ws1/workspacemembers",
        );
        assert_eq!(
            (r.workspace.as_str(), r.resource.as_str(), r.verb.as_str()),
            ("ws1", "workspacemembers", "list")
        );
        assert_eq!(r.scope, Scope::Workspace);
        let r = p(
            "GET",
            "/kapis/iam.kubesphere.io/v1beta1/workspaces/ws1/workspacemembers/bob/namespaces",
        );
        assert_eq!(
            (r.name.as_str(), r.subresource.as_str()),
            ("bob", "namespaces")
        );
        let r = p("GET", "/kapis/tenant.kubesphere.io/v1beta1/workspaces/ws1");
        assert_eq!(
            (r.resource.as_str(), r.name.as_str(), r.workspace.as_str()),
            ("workspaces", "ws1", "ws1")
        );
        assert_eq!(r.scope, Scope::Workspace);
        let r = p("GET", "/kapis/tenant.kubesphere.io/v1beta1/workspaces");
        assert_eq!(r.scope, Scope::Cluster);
        let r = p(
            "PUT",
            "/kapis/iam.kubesphere.io/v1beta1/users/alice/password",
        );
        assert_eq!(
            (
                r.verb.as_str(),
                r.name.as_str(),
                r.subresource.as_str(),
                r.scope
            ),
            ("update", "alice", "password", Scope::Global)
        );
        let r = p(
            "GET",
            "/kapis/iam.kubesphere.io/v1beta1/namespaces/dev/namespacemembers",
        );
        assert_eq!((r.scope, r.namespace.as_str()), (Scope::Namespace, "dev"));
        let r = p(
            "GET",
            "/clusters/host/kapis/tenant.kubesphere.io/v1beta1/workspaces/ws1/namespaces",
        );
        assert_eq!(
            (
                r.cluster.as_str(),
                r.workspace.as_str(),
                r.resource.as_str()
            ),
            ("host", "ws1", "namespaces")
        );
        let r = p(
            "PATCH",
            "/kapis/tenant.kubesphere.io/v1beta1/workspacetemplates/ws1",
        );
        assert_eq!((r.scope, r.workspace.as_str()), (Scope::Workspace, "ws1"));
        let r = p(
            "POST",
            "/kapis/tenant.kubesphere.io/v1beta1/workspacetemplates",
        );
        assert_eq!((r.scope, r.verb.as_str()), (Scope::Global, "create"));
    }
}
