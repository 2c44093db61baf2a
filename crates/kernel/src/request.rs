//! Turns an HTTP request path and method into what Kubernetes calls `RequestInfo`:
//! verb, API group/version, namespace, resource, name and subresource.

use http::Method;

/// A request on a resource (`/api/...` or `/apis/...` below the group version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRequest {
    pub verb: Verb,
    pub group: String,
    pub version: String,
    pub namespace: Option<String>,
    pub resource: String,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
    DeleteCollection,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Watch => "watch",
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
            Verb::DeleteCollection => "deletecollection",
        }
    }
}

/// Every request the kernel answers, by path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/api`
    CoreVersions,
    /// `/apis`
    Groups,
    /// `/apis/{group}`
    Group(String),
    /// `/api/v1`, `/apis/{group}/{version}`
    GroupVersion {
        group: String,
        version: String,
    },
    Resource(ResourceRequest),
}

/// Why a path is not a resource path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    NotFound,
    MethodNotAllowed,
}

/// Parses `/api/...` and `/apis/...` paths. `watch` is the `watch` query parameter.
pub fn parse(method: &Method, path: &str, watch: bool) -> Result<Route, RouteError> {
    let parts: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    let (group, version, rest) = match parts.as_slice() {
        ["api"] => return only_get(method, Route::CoreVersions),
        ["apis"] => return only_get(method, Route::Groups),
        ["apis", g] => return only_get(method, Route::Group(g.to_string())),
        ["api", v] => {
            return only_get(
                method,
                Route::GroupVersion {
                    group: String::new(),
                    version: v.to_string(),
                },
            );
        }
        ["apis", g, v] => {
            return only_get(
                method,
                Route::GroupVersion {
                    group: g.to_string(),
                    version: v.to_string(),
                },
            );
        }
        ["api", v, rest @ ..] => (String::new(), v.to_string(), rest),
        ["apis", g, v, rest @ ..] => (g.to_string(), v.to_string(), rest),
        _ => return Err(RouteError::NotFound),
    };
    let mut rest: Vec<&str> = rest.to_vec();
    // The deprecated `/watch/` path prefix means the same as `?watch=true`.
    let mut watch = watch;
    if rest.first() == Some(&"watch") {
        watch = true;
        rest.remove(0);
    }
    let mut namespace = None;
    let current: Vec<&str> = if rest.len() >= 2 && rest[0] == "namespaces" {
        namespace = Some(rest[1].to_string());
        if rest.len() > 2 && rest[2] != "status" && rest[2] != "finalize" {
            rest[2..].to_vec()
        } else {
            // `/namespaces/{name}[/status|/finalize]` addresses the namespace object itself.
            namespace = None;
            rest.clone()
        }
    } else {
        rest.clone()
    };
    let (resource, name, subresource) = match current.as_slice() {
        [r] => (r.to_string(), None, None),
        [r, n] => (r.to_string(), Some(n.to_string()), None),
        [r, n, s] => (r.to_string(), Some(n.to_string()), Some(s.to_string())),
        _ => return Err(RouteError::NotFound),
    };
    let verb = match (method.as_str(), name.is_some()) {
        ("GET" | "HEAD", true) if watch => Verb::Watch,
        ("GET" | "HEAD", true) => Verb::Get,
        ("GET" | "HEAD", false) if watch => Verb::Watch,
        ("GET" | "HEAD", false) => Verb::List,
        // POST names no object except through a subresource (pods/x/binding).
        ("POST", true) if subresource.is_none() => return Err(RouteError::MethodNotAllowed),
        ("POST", _) => Verb::Create,
        ("PUT" | "PATCH", false) => return Err(RouteError::MethodNotAllowed),
        ("PUT", true) => Verb::Update,
        ("PATCH", true) => Verb::Patch,
        ("DELETE", true) => Verb::Delete,
        ("DELETE", false) => Verb::DeleteCollection,
        _ => return Err(RouteError::MethodNotAllowed),
    };
    Ok(Route::Resource(ResourceRequest {
        verb,
        group,
        version,
        namespace,
        resource,
        name,
        subresource,
    }))
}

fn only_get(method: &Method, r: Route) -> Result<Route, RouteError> {
    if method == Method::GET || method == Method::HEAD {
        Ok(r)
    } else {
        Err(RouteError::MethodNotAllowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(m: Method, p: &str) -> ResourceRequest {
        match parse(&m, p, false) {
            Ok(Route::Resource(r)) => r,
            other => panic!("{p}: {other:?}"),
        }
    }

    #[test]
    fn namespaced_and_cluster_paths() {
        let r = res(Method::GET, "/api/v1/namespaces/default/configmaps/x");
        assert_eq!(
            (
                r.verb,
                r.namespace.as_deref(),
                r.resource.as_str(),
                r.name.as_deref()
            ),
            (Verb::Get, Some("default"), "configmaps", Some("x"))
        );
        let r = res(Method::GET, "/api/v1/namespaces/default");
        assert_eq!(
            (r.resource.as_str(), r.name.as_deref(), r.namespace),
            ("namespaces", Some("default"), None)
        );
        let r = res(Method::PUT, "/api/v1/namespaces/default/finalize");
        assert_eq!(
            (r.resource.as_str(), r.subresource.as_deref()),
            ("namespaces", Some("finalize"))
        );
        let r = res(
            Method::GET,
            "/apis/apps/v1/namespaces/a/deployments/d/scale",
        );
        assert_eq!(
            (r.group.as_str(), r.subresource.as_deref()),
            ("apps", Some("scale"))
        );
        let r = res(Method::GET, "/apis/apps/v1/deployments");
        assert_eq!((r.verb, r.namespace), (Verb::List, None));
        let r = res(Method::DELETE, "/api/v1/namespaces/a/pods");
        assert_eq!(r.verb, Verb::DeleteCollection);
        let r = res(Method::GET, "/api/v1/watch/namespaces/a/pods");
        assert_eq!(r.verb, Verb::Watch);
        assert_eq!(
            parse(&Method::GET, "/apis/apps", false),
            Ok(Route::Group("apps".into()))
        );
        assert_eq!(
            parse(&Method::POST, "/apis", false),
            Err(RouteError::MethodNotAllowed)
        );
        assert_eq!(
            parse(&Method::GET, "/api/v1/a/b/c/d", false),
            Err(RouteError::NotFound)
        );
        assert_eq!(
            parse(&Method::PUT, "/api/v1/namespaces/a/configmaps", false),
            Err(RouteError::MethodNotAllowed)
        );
        assert_eq!(
            parse(&Method::POST, "/api/v1/namespaces/a/configmaps/x", false),
            Err(RouteError::MethodNotAllowed)
        );
        assert!(parse(&Method::POST, "/api/v1/namespaces/a/pods/x/binding", false).is_ok());
    }
}
