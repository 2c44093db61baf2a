//! Which requests are long-running (watches, logs, exec, proxies, upgrades): shutdown
//! cuts them instead of waiting for them, as kube-apiserver's long-running check does.

use http::Request;

/// Subresources kube-apiserver treats as long-running.
const LONG_RUNNING_SUBRESOURCES: &[&str] = &["attach", "exec", "proxy", "log", "portforward"];

/// True when `req` may stay open indefinitely.
pub fn is_long_running<B>(req: &Request<B>) -> bool {
    if req.headers().contains_key(http::header::UPGRADE) {
        return true;
    }
    if query_says_watch(req.uri().query().unwrap_or("")) {
        return true;
    }
    path_is_long_running(req.uri().path())
}

fn query_says_watch(query: &str) -> bool {
    query.split('&').any(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        // Go's strconv.ParseBool, which kube-apiserver uses for `watch`.
        key == "watch" && matches!(value, "1" | "t" | "T" | "true" | "TRUE" | "True")
    })
}

fn path_is_long_running(path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let rest = match segments.as_slice() {
        ["api", _version, rest @ ..] => rest,
        ["apis", _group, _version, rest @ ..] => rest,
        _ => return false,
    };
    match rest {
        ["watch" | "proxy", ..] => return true,
        [] => return false,
        _ => {}
    }
    // A namespaced object path is namespaces/NS/RESOURCE/NAME/...; anything shorter
    // addresses the namespace object itself.
    let object = match rest {
        ["namespaces", _ns, _resource, _name, ..] => &rest[2..],
        _ => rest,
    };
    match object {
        [_resource, _name, subresource, ..] => LONG_RUNNING_SUBRESOURCES.contains(subresource),
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn get(uri: &str) -> Request<()> {
        Request::get(uri).body(()).unwrap()
    }

    #[test]
    fn watches_are_long_running() {
        assert!(is_long_running(&get("/api/v1/pods?watch=true")));
        assert!(is_long_running(&get(
            "/apis/apps/v1/namespaces/a/deployments?labelSelector=x&watch=1"
        )));
        assert!(is_long_running(&get("/api/v1/watch/namespaces/a/pods")));
        assert!(!is_long_running(&get("/api/v1/pods?watch=false")));
        assert!(!is_long_running(&get("/api/v1/pods?watchx=true")));
    }

    #[test]
    fn streaming_subresources_are_long_running() {
        assert!(is_long_running(&get("/api/v1/namespaces/a/pods/p/log")));
        assert!(is_long_running(&get("/api/v1/namespaces/a/pods/p/exec")));
        assert!(is_long_running(&get("/api/v1/nodes/n/proxy/metrics")));
        assert!(is_long_running(&get(
            "/api/v1/namespaces/a/services/s/proxy/x"
        )));
        assert!(!is_long_running(&get("/api/v1/namespaces/a/pods/p/status")));
        assert!(!is_long_running(&get("/api/v1/namespaces/a/status")));
        assert!(!is_long_running(&get("/api/v1/namespaces/log")));
        assert!(!is_long_running(&get("/api/v1/namespaces/a/pods/log")));
    }

    #[test]
    fn plain_requests_are_not() {
        assert!(!is_long_running(&get("/healthz")));
        assert!(!is_long_running(&get("/api/v1/namespaces")));
        assert!(!is_long_running(&get("/apis")));
    }

    #[test]
    fn upgrades_are_long_running() {
        let req = Request::get("/kapis/terminal")
            .header("upgrade", "websocket")
            .body(())
            .unwrap();
        assert!(is_long_running(&req));
    }
}
