//! `GET /kapis/config.kubesphere.io/v1alpha2/configs/configz`: which KubeSphere components this platform serves, in KubeSphere's `map[string]bool` shape.

use axum::Router;
use axum::routing::get;
use std::collections::BTreeMap;

/// The path KubeSphere serves the component map at.
pub const PATH: &str = "/kapis/config.kubesphere.io/v1alpha2/configs/configz";

/// KubeSphere's component keys (the JSON names of its `Config` sections, with the
/// network section split into `network`, `network.ippool` and `network.topology`) and
/// whether this platform provides each. The console hides the menus of a `false` one.
pub fn components() -> BTreeMap<&'static str, bool> {
    let served = ["kubernetes", "authentication", "authorization", "auditing"];
    let known = [
        "alerting",
        "auditing",
        "authentication",
        "authorization",
        "devops",
        "edgeruntime",
        "events",
        "gateway",
        "gpu",
        "kubeedge",
        "kubernetes",
        "logging",
        "metering",
        "monitoring",
        "multicluster",
        "network",
        "network.ippool",
        "network.topology",
        "notification",
        "openpitrix",
        "redis",
        "s3",
        "servicemesh",
        "sonarqube",
        "terminal",
    ];
    known
        .into_iter()
        .map(|k| (k, served.contains(&k)))
        .collect()
}

/// The configz route, with its full path.
pub fn router() -> Router {
    Router::new().route(PATH, get(|| async { axum::Json(components()) }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    #[tokio::test]
    async fn configz_is_a_map_of_component_to_bool() {
        let resp = router()
            .oneshot(
                http::Request::get(PATH)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let m = v.as_object().unwrap();
        assert!(m.values().all(serde_json::Value::is_boolean), "{v}");
        assert_eq!(v["kubernetes"], true);
        assert_eq!(v["authentication"], true);
        assert_eq!(v["auditing"], true);
        // Nothing is claimed that this binary does not run.
        assert_eq!(v["devops"], false);
        assert_eq!(v["multicluster"], false);
        assert_eq!(v["network.ippool"], false);
    }
}
