//! KubeSphere's iam and tenant REST APIs (`/kapis/iam.kubesphere.io/v1beta1`, `/kapis/tenant.kubesphere.io/v1beta1`).

mod error;
mod groups;
mod members;
mod reviews;
mod roles;
mod tenant;
mod users;

pub use error::ApiError;
pub use groups::GROUP_PARENT_LABEL;

use crate::authz::{Authorizer, RequestInfo};
use apimachinery::UserInfo;
use axum::Router;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// What the handlers share: the platform's client (cluster-admin, may impersonate; used
/// for reads filtered by the authorizer and for writes Kubernetes RBAC cannot express)
/// and the authorizer's index.
#[derive(Clone)]
pub struct State {
    pub client: kube::Client,
    pub authz: Authorizer,
}

impl State {
    pub fn new(client: kube::Client, authz: Authorizer) -> State {
        State { client, authz }
    }

    /// A client acting as the caller, so Kubernetes RBAC makes the final decision.
    pub fn as_caller(&self, user: &UserInfo) -> kube::Client {
        let mut u = user.clone();
        u.groups = self.authz.groups_of(user);
        kubeclient::as_user(&self.client, &u)
    }
}

const IAM: &str = "/kapis/iam.kubesphere.io/v1beta1";
const TENANT: &str = "/kapis/tenant.kubesphere.io/v1beta1";

/// Every iam and tenant route, with full paths. The gateway authenticates (puts
/// `UserInfo` in the extensions) and authorizes before these run; [`authorize`] is the
/// middleware that does the latter for embedders and tests.
pub fn router(state: State) -> Router {
    Router::new()
        .merge(users::routes())
        .merge(groups::routes())
        .merge(members::routes())
        .merge(reviews::routes())
        .merge(roles::routes())
        .merge(tenant::routes())
        .with_state(state)
}

/// Axum middleware: authorizes the request with KubeSphere's scope rules, answering 403
/// with a Status when denied and 401 when no identity was attached.
pub async fn authorize(authz: Authorizer, req: Request, next: Next) -> Response {
    let Some(user) = req.extensions().get::<UserInfo>().cloned() else {
        return ApiError::unauthorized().into_response();
    };
    let info = RequestInfo::parse(
        req.method().as_str(),
        req.uri().path(),
        req.uri().query().unwrap_or(""),
    );
    let d = authz.authorize(&user, &info);
    if !d.allowed {
        return ApiError::forbidden(d.reason).into_response();
    }
    next.run(req).await
}

/// Splits a raw query string into decoded pairs.
pub(crate) fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| {
        q.split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            })
            .collect()
    })
    .unwrap_or_default()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Takes this API's own filter keys out of the query and applies the rest with
/// `resources::query` (paging, sorting, name/label filters), answering `{items,totalItems}`.
pub(crate) fn list(
    raw: Option<&str>,
    own: &[&str],
    items: Vec<Value>,
) -> Result<(Vec<(String, String)>, Value), ApiError> {
    let all = pairs(raw);
    let (mine, rest): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|(k, _)| own.contains(&k.as_str()));
    let q = resources::query::Query::from_pairs(&rest)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let result = resources::query::apply(&q, items);
    let v = serde_json::to_value(result).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok((mine, v))
}

/// The value of `key` among `pairs`.
pub(crate) fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}
