//! The identity routes under `/kapis`: password change, login records, and the redacted OAuth configuration.

use apimachinery::UserInfo;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams};
use serde::Deserialize;

use super::{bearer, status_error};
use crate::clock::rfc3339;
use crate::jwt::{self, TokenType};
use crate::kinds::{
    ANNOTATION_LAST_PASSWORD_CHANGE, ANNOTATION_UNINITIALIZED, LABEL_USER_REF, LoginRecord, User,
};
use crate::service::Identity;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PasswordChange {
    #[serde(default)]
    current_password: String,
    password: String,
}

fn kube_error(e: kube::Error) -> Response {
    match e {
        kube::Error::Api(s) => {
            let code = StatusCode::from_u16(s.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            status_error(code, &s.reason, &s.message)
        }
        other => status_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            &other.to_string(),
        ),
    }
}

/// `PUT /kapis/iam.kubesphere.io/v1beta1/users/{user}/password`.
///
/// A user changing their own password proves it with `currentPassword`; the
/// identity service then writes only the hash and the password annotations with
/// its own client, because granting users update on their own User object would
/// also let them edit their groups. Resetting someone else's password is written
/// as the caller, so Kubernetes RBAC decides.
pub async fn password(
    State(id): State<Identity>,
    Path(username): Path<String>,
    caller: Option<Extension<UserInfo>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(Extension(caller)) = caller else {
        return status_error(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
    };
    let Ok(req) = serde_json::from_slice::<PasswordChange>(&body) else {
        return status_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the body must be JSON with currentPassword and password",
        );
    };
    if let Err(e) = crate::password::check_policy(&username, &req.password) {
        return status_error(StatusCode::BAD_REQUEST, "BadRequest", &e.to_string());
    }
    let platform_users: Api<User> = Api::all(id.client().clone());
    let user = match platform_users.get_opt(&username).await {
        Ok(Some(u)) => u,
        Ok(None) => {
            return status_error(
                StatusCode::NOT_FOUND,
                "NotFound",
                &format!("users.iam.kubesphere.io \"{username}\" not found"),
            );
        }
        Err(e) => return kube_error(e),
    };
    let is_self = caller.name == username;
    if is_self {
        let stored = user.spec.password.clone().unwrap_or_default();
        let current = req.current_password.clone();
        let ok = tokio::task::spawn_blocking(move || crate::password::verify(&current, &stored))
            .await
            .unwrap_or(false);
        if !ok {
            return status_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "the current password is incorrect",
            );
        }
    }
    let plain = req.password.clone();
    let hash = match tokio::task::spawn_blocking(move || crate::password::hash(&plain)).await {
        Ok(Ok(h)) => h,
        _ => {
            return status_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "cannot hash the password",
            );
        }
    };
    let patch = serde_json::json!({
        "metadata": {"annotations": {
            ANNOTATION_UNINITIALIZED: null,
            ANNOTATION_LAST_PASSWORD_CHANGE: rfc3339(id.now()),
        }},
        "spec": {"password": hash},
    });
    let writer: Api<User> = if is_self {
        platform_users
    } else {
        Api::all(kubeclient::as_user(id.client(), &caller))
    };
    let updated = match writer
        .patch(&username, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(u) => u,
        Err(e) => return kube_error(e),
    };
    id.users().remember(&updated);
    // Every other session of the user ends; the caller's own session survives a
    // self-service change so the console stays logged in.
    let keep = if is_self {
        bearer(&headers).and_then(|t| {
            jwt::decode(
                id.key(),
                &id.options().issuer,
                t,
                id.now(),
                TokenType::AccessToken,
            )
            .ok()
            .map(|c| c.jti)
        })
    } else {
        None
    };
    let uid = updated.metadata.uid.clone().unwrap_or_default();
    if let Err(e) = id.sessions().revoke_user(&uid, keep.as_deref()).await {
        tracing::warn!(error = %e, user = %username, "cannot revoke sessions after password change");
    }
    axum::Json(serde_json::json!({"message": "success"})).into_response()
}

/// `GET /kapis/iam.kubesphere.io/v1beta1/users/{user}/loginrecords`, read as the caller.
pub async fn loginrecords(
    State(id): State<Identity>,
    Path(username): Path<String>,
    caller: Option<Extension<UserInfo>>,
    RawQuery(q): RawQuery,
) -> Response {
    let Some(Extension(caller)) = caller else {
        return status_error(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
    };
    let query = match resources::Query::parse(q.as_deref().unwrap_or("")) {
        Ok(q) => q,
        Err(e) => return status_error(StatusCode::BAD_REQUEST, "BadRequest", &e.to_string()),
    };
    let api: Api<LoginRecord> = Api::all(kubeclient::as_user(id.client(), &caller));
    let Ok(selector) = label_selector(&username) else {
        return status_error(StatusCode::BAD_REQUEST, "BadRequest", "invalid user name");
    };
    let list = match api.list(&ListParams::default().labels(&selector)).await {
        Ok(l) => l,
        Err(e) => return kube_error(e),
    };
    let items: Vec<serde_json::Value> = list
        .items
        .iter()
        .filter_map(|r| serde_json::to_value(r).ok())
        .collect();
    axum::Json(resources::query::apply(&query, items)).into_response()
}

fn label_selector(username: &str) -> Result<String, ()> {
    // A name with selector syntax in it would widen the selector.
    if username.is_empty()
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(());
    }
    Ok(format!("{LABEL_USER_REF}={username}"))
}

fn go_duration(secs: i64) -> String {
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// `GET /kapis/config.kubesphere.io/v1alpha2/configs/oauth`: what the login page
/// needs, with every secret of every identity provider removed.
pub async fn oauth_config(State(id): State<Identity>) -> Response {
    let providers: Vec<serde_json::Value> = id
        .providers()
        .entries()
        .filter_map(|e| serde_json::to_value(e.config.redacted()).ok())
        .collect();
    let o = id.options();
    axum::Json(serde_json::json!({
        "identityProviders": providers,
        "accessTokenMaxAge": go_duration(o.access_token_max_age_secs),
        "accessTokenInactivityTimeout": go_duration(o.refresh_token_max_age_secs),
        "multipleLogin": o.multiple_login,
    }))
    .into_response()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_go() {
        assert_eq!(go_duration(7200), "2h0m0s");
        assert_eq!(go_duration(1800), "30m0s");
        assert_eq!(go_duration(5), "5s");
        assert!(label_selector("a,b=c").is_err());
        assert_eq!(
            label_selector("alice").unwrap(),
            "iam.kubesphere.io/user-ref=alice"
        );
    }
}
