//! What a request is about, read from its method and path the way kube-apiserver's
//! and KubeSphere's RequestInfo resolvers read it: for audit records.

use http::Method;

/// The object a request addresses and the Kubernetes verb it performs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection`, or the lowercase HTTP method for non-resource paths.
    pub verb: String,
    pub api_group: String,
    pub api_version: String,
    pub workspace: String,
    pub namespace: String,
    pub resource: String,
    pub name: String,
    pub subresource: String,
    /// False for paths that are not resources (/healthz, /oauth/token, ...).
    pub is_resource: bool,
}

impl RequestInfo {
    pub fn parse(method: &Method, path: &str, query: &str) -> RequestInfo {
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let (group, version, rest) = match segs.as_slice() {
            ["api", v, rest @ ..] => ("", *v, rest),
            ["apis", g, v, rest @ ..] | ["kapis", g, v, rest @ ..] => (*g, *v, rest),
            _ => return non_resource(method),
        };
        let mut info = RequestInfo {
            api_group: group.to_string(),
            api_version: version.to_string(),
            is_resource: !rest.is_empty(),
            ..Default::default()
        };
        let mut rest = rest;
        let mut watch_path = false;
        if let ["watch", tail @ ..] = rest {
            watch_path = true;
            rest = tail;
        }
        if let ["workspaces", ws, tail @ ..] = rest
            && !tail.is_empty()
        {
            info.workspace = ws.to_string();
            rest = tail;
        }
        if let ["namespaces", ns, tail @ ..] = rest
            && !tail.is_empty()
        {
            info.namespace = ns.to_string();
            rest = tail;
        }
        match rest {
            [] => return non_resource(method),
            [res] => info.resource = res.to_string(),
            [res, name] => {
                info.resource = res.to_string();
                info.name = name.to_string();
            }
            [res, name, sub, ..] => {
                info.resource = res.to_string();
                info.name = name.to_string();
                info.subresource = sub.to_string();
            }
        }
        // `namespaces/NAME` addresses the namespace object itself.
        if info.resource.is_empty() && !info.namespace.is_empty() {
            info.resource = "namespaces".into();
            info.name = std::mem::take(&mut info.namespace);
        }
        let watch = watch_path
            || query.split('&').any(|p| {
                matches!(
                    p,
                    "watch=true" | "watch=1" | "watch=t" | "watch=True" | "watch=TRUE"
                )
            });
        info.verb = match *method {
            Method::GET | Method::HEAD if watch => "watch",
            Method::GET | Method::HEAD if info.name.is_empty() => "list",
            Method::GET | Method::HEAD => "get",
            Method::POST => "create",
            Method::PUT => "update",
            Method::PATCH => "patch",
            Method::DELETE if info.name.is_empty() => "deletecollection",
            Method::DELETE => "delete",
            _ => "",
        }
        .to_string();
        if info.verb.is_empty() {
            info.verb = method.as_str().to_ascii_lowercase();
        }
        info
    }
}

fn non_resource(method: &Method) -> RequestInfo {
    RequestInfo {
        verb: method.as_str().to_ascii_lowercase(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(m: Method, path: &str, q: &str) -> RequestInfo {
        RequestInfo::parse(&m, path, q)
    }

    #[test]
    fn kubernetes_paths() {
        let i = p(Method::GET, "/api/v1/namespaces/ns1/pods/p1/log", "");
        assert_eq!(
            (
                i.verb.as_str(),
                i.namespace.as_str(),
                i.resource.as_str(),
                i.name.as_str(),
                i.subresource.as_str()
            ),
            ("get", "ns1", "pods", "p1", "log")
        );
        let i = p(Method::GET, "/apis/apps/v1/deployments", "watch=true");
        assert_eq!((i.verb.as_str(), i.api_group.as_str()), ("watch", "apps"));
        let i = p(Method::DELETE, "/api/v1/namespaces/ns1/configmaps", "");
        assert_eq!(i.verb, "deletecollection");
        let i = p(Method::DELETE, "/api/v1/namespaces/ns1", "");
        assert_eq!(
            (i.verb.as_str(), i.resource.as_str(), i.name.as_str()),
            ("delete", "namespaces", "ns1")
        );
        assert!(!p(Method::GET, "/healthz", "").is_resource);
        assert!(!p(Method::GET, "/api/v1", "").is_resource);
    }

    #[test]
    fn kubesphere_paths() {
        let i = p(
            Method::POST,
            "/kapis/tenant.kubesphere.io/v1beta1/workspaces/ws1/namespaces",
            "",
        );
        assert_eq!(
            (i.verb.as_str(), i.workspace.as_str(), i.resource.as_str()),
            ("create", "ws1", "namespaces")
        );
        let i = p(
            Method::GET,
            "/kapis/tenant.kubesphere.io/v1beta1/workspaces/ws1",
            "",
        );
        assert_eq!(
            (i.verb.as_str(), i.resource.as_str(), i.name.as_str()),
            ("get", "workspaces", "ws1")
        );
        let i = p(
            Method::PUT,
            "/kapis/iam.kubesphere.io/v1beta1/users/bob/password",
            "",
        );
        assert_eq!(
            (
                i.verb.as_str(),
                i.resource.as_str(),
                i.name.as_str(),
                i.subresource.as_str()
            ),
            ("update", "users", "bob", "password")
        );
    }
}
