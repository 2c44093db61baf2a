//! Who is calling: a client certificate verified by the TLS front, or a bearer token
//! accepted by one of the configured authenticators (the platform's OAuth tokens,
//! ServiceAccount tokens through TokenReview).

use apimachinery::UserInfo;
use futures::future::BoxFuture;
use http::HeaderMap;
use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Accepts or declines a bearer token.
pub trait BearerAuthenticator: Send + Sync + 'static {
    /// The token's user, or None when this authenticator does not accept it.
    fn authenticate<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Option<UserInfo>>;
}

/// The bearer token of a request, if it has one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The authenticators tried in order; the first that accepts a token wins.
#[derive(Clone, Default)]
pub struct Authn {
    chain: Vec<Arc<dyn BearerAuthenticator>>,
}

impl Authn {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, a: Arc<dyn BearerAuthenticator>) -> Self {
        self.chain.push(a);
        self
    }

    /// The caller of a request: the client certificate's identity (put into the
    /// extensions by the TLS front) wins, then the bearer token.
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        cert_user: Option<&UserInfo>,
    ) -> Option<UserInfo> {
        if let Some(u) = cert_user {
            return Some(u.clone());
        }
        let token = bearer(headers)?;
        for a in &self.chain {
            if let Some(u) = a.authenticate(token).await {
                return Some(with_authenticated(u));
            }
        }
        None
    }
}

fn with_authenticated(mut u: UserInfo) -> UserInfo {
    if !u.groups.iter().any(|g| g == "system:authenticated") {
        u.groups.push("system:authenticated".into());
    }
    u
}

/// ServiceAccount (and any other cluster-issued) tokens, checked with a TokenReview
/// against the cluster, with positive and negative answers cached briefly as
/// kube-apiserver's webhook token authenticator does.
pub struct TokenReviewAuthenticator {
    client: kube::Client,
    ttl: Duration,
    cache: Mutex<HashMap<String, (Instant, Option<UserInfo>)>>,
}

/// Cached answers kept at most; beyond this the cache is cleared (tokens are cheap
/// to review again, memory under a token flood is not).
const REVIEW_CACHE_MAX: usize = 10_000;

impl TokenReviewAuthenticator {
    pub fn new(client: kube::Client, ttl: Duration) -> Self {
        TokenReviewAuthenticator {
            client,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    async fn review(&self, token: &str) -> Option<UserInfo> {
        let api: kube::Api<TokenReview> = kube::Api::all(self.client.clone());
        let review = TokenReview {
            spec: TokenReviewSpec {
                token: token.to_string(),
                audiences: None,
            },
            ..Default::default()
        };
        let out = match api.create(&Default::default(), &review).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "TokenReview failed");
                return None;
            }
        };
        let status = out.status?;
        if status.authenticated != Some(true) {
            return None;
        }
        let u = status.user?;
        Some(UserInfo {
            name: u.username.unwrap_or_default(),
            uid: u.uid.unwrap_or_default(),
            groups: u.groups.unwrap_or_default(),
            extra: u.extra.unwrap_or_default().into_iter().collect(),
        })
    }
}

impl BearerAuthenticator for TokenReviewAuthenticator {
    fn authenticate<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Option<UserInfo>> {
        Box::pin(async move {
            let now = Instant::now();
            if let Ok(cache) = self.cache.lock()
                && let Some((at, answer)) = cache.get(token)
                && now.duration_since(*at) < self.ttl
            {
                return answer.clone();
            }
            let answer = self.review(token).await;
            if let Ok(mut cache) = self.cache.lock() {
                if cache.len() >= REVIEW_CACHE_MAX {
                    cache.clear();
                }
                cache.insert(token.to_string(), (now, answer.clone()));
            }
            answer
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    struct Fixed(&'static str, &'static str);
    impl BearerAuthenticator for Fixed {
        fn authenticate<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Option<UserInfo>> {
            Box::pin(async move { (token == self.0).then(|| UserInfo::new(self.1, vec![])) })
        }
    }

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::AUTHORIZATION, auth.parse().unwrap());
        h
    }

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer(&headers("Bearer abc")), Some("abc"));
        assert_eq!(bearer(&headers("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(&headers("Basic abc")), None);
        assert_eq!(bearer(&headers("Bearer ")), None);
        assert_eq!(bearer(&HeaderMap::new()), None);
    }

    #[tokio::test]
    async fn chain_order_and_certificate_precedence() {
        let a = Authn::new()
            .with(Arc::new(Fixed("t1", "alice")))
            .with(Arc::new(Fixed("t2", "bob")));
        let u = a.authenticate(&headers("Bearer t2"), None).await.unwrap();
        assert_eq!(u.name, "bob");
        assert!(u.groups.contains(&"system:authenticated".to_string()));
        assert!(
            a.authenticate(&headers("Bearer nope"), None)
                .await
                .is_none()
        );
        let cert = UserInfo::new("carol", vec!["dev".into()]);
        let u = a
            .authenticate(&headers("Bearer t1"), Some(&cert))
            .await
            .unwrap();
        assert_eq!(u.name, "carol");
    }
}
