//! The `/oauth` endpoints: token, discovery, keys, userinfo, logout, and login through external providers.

use apimachinery::UserInfo;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode};
use std::collections::HashMap;

use super::{bearer, client_info, oauth_error};
use crate::authcode::AuthorizeRequest;
use crate::clients;
use crate::jwt::{self, Claims, TokenType};
use crate::kinds::LoginRecordType;
use crate::login::LoginError;
use crate::service::Identity;

fn form(body: &[u8]) -> HashMap<String, String> {
    // Unknown fields (the KubeSphere console's `encrypt`, ...) are simply ignored.
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .map(|v| v.into_iter().collect())
        .unwrap_or_default()
}

fn login_error(e: LoginError) -> Response {
    oauth_error(e.status(), e.code(), &e.to_string())
}

/// `POST /oauth/token`.
pub async fn token(
    State(id): State<Identity>,
    conn: Option<Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f = form(&body);
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    let mut c = client_info(&id, &headers, conn.map(|e| e.0.0));
    if let Err(e) = id.admit(&c.source_ip) {
        return login_error(e);
    }
    // Scripts written for KubeSphere may omit client_id; the console client is public anyway.
    let client_id = match get("client_id") {
        "" => clients::BUILTIN_CLIENT,
        s => s,
    };
    let client = match clients::find(id.client(), client_id).await {
        Ok(Some(cl)) => cl,
        Ok(None) => {
            return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client");
        }
        Err(e) => {
            return oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                &e.to_string(),
            );
        }
    };
    let secret = f.get("client_secret").map(String::as_str);
    if !client.authenticates(secret) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        );
    }
    c.client_id = client.name.clone();
    let result = match get("grant_type") {
        "password" => {
            if !client.trusted {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "unauthorized_client",
                    "the password grant is allowed only for trusted clients",
                );
            }
            id.login_password(get("username"), get("password"), get("provider"), &c)
                .await
        }
        "refresh_token" => id.refresh(get("refresh_token")).await,
        "authorization_code" | "code" => {
            id.redeem_code(get("code"), &client, get("redirect_uri"))
                .await
        }
        "" => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type is required",
            );
        }
        other => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                &format!("unsupported grant type {other:?}"),
            );
        }
    };
    match result {
        Ok(t) => ([(http::header::CACHE_CONTROL, "no-store")], axum::Json(t)).into_response(),
        Err(e) => login_error(e),
    }
}

fn base_url(id: &Identity, headers: &HeaderMap) -> String {
    let iss = &id.options().issuer;
    if iss.starts_with("http://") || iss.starts_with("https://") {
        return iss.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "http" || *p == "https")
        .unwrap_or("https");
    format!("{proto}://{host}")
}

/// `GET /.well-known/openid-configuration` (and under `/oauth`).
pub async fn discovery(State(id): State<Identity>, headers: HeaderMap) -> Response {
    let base = base_url(&id, &headers);
    axum::Json(serde_json::json!({
        "issuer": id.options().issuer,
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "userinfo_endpoint": format!("{base}/oauth/userinfo"),
        "jwks_uri": format!("{base}/oauth/keys"),
        "end_session_endpoint": format!("{base}/oauth/logout"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["password", "refresh_token", "authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
        "scopes_supported": ["openid", "email", "profile"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "username", "token_type", "extra", "email", "name", "preferred_username"],
    }))
    .into_response()
}

/// `GET /oauth/keys`.
pub async fn keys(State(id): State<Identity>) -> Response {
    axum::Json(id.key().jwks()).into_response()
}

/// `GET /oauth/userinfo`.
pub async fn userinfo(State(id): State<Identity>, headers: HeaderMap) -> Response {
    let Some(tok) = bearer(&headers) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "a bearer token is required",
        );
    };
    let Some(u) = id.authenticator().authenticate(tok).await else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "invalid or expired token",
        );
    };
    let facts = id.users().get(&u.name).await;
    let email = facts.as_ref().map(|f| f.email.clone()).unwrap_or_default();
    let name = facts
        .and_then(|f| f.display_name)
        .unwrap_or_else(|| u.name.clone());
    axum::Json(serde_json::json!({
        "sub": u.name, "preferred_username": u.name, "name": name, "email": email,
    }))
    .into_response()
}

/// `GET|POST /oauth/logout`: revokes the bearer token's session.
pub async fn logout(
    State(id): State<Identity>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params: HashMap<String, String> = q
        .as_deref()
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .map(|v| v.into_iter().collect())
        .unwrap_or_default();
    if let Some(tok) = bearer(&headers)
        && let Err(e) = id.logout(tok).await
    {
        return oauth_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            &e.to_string(),
        );
    }
    // Redirects only to a relative path: an absolute URL would make this an open redirect.
    if let Some(to) = params.get("post_logout_redirect_uri")
        && to.starts_with('/')
        && !to.starts_with("//")
    {
        return Redirect::to(to).into_response();
    }
    axum::Json(serde_json::json!({"message": "success"})).into_response()
}

const STATE_TTL_SECS: i64 = 600;

fn state_claims(id: &Identity, idp: &str, redirect: &str) -> Claims {
    let now = id.now();
    Claims {
        iss: id.options().issuer.clone(),
        sub: idp.to_string(),
        aud: None,
        exp: now + STATE_TTL_SECS,
        iat: now,
        nbf: now,
        jti: crate::sessions::new_id(),
        username: String::new(),
        token_type: TokenType::LoginState,
        extra: Default::default(),
        scopes: vec![],
        nonce: Some(crate::sessions::new_id()),
        email: None,
        name: None,
        preferred_username: None,
        redirect_uri: Some(redirect.to_string()),
    }
}

/// `GET /oauth/authorize`: with `identity_provider=NAME`, starts a login through
/// an external OAuth/OIDC provider (redirect to it; it returns to
/// `/oauth/callback/NAME`); with `response_type=code`, issues an authorization
/// code to a registered client for the authenticated caller.
pub async fn authorize(
    State(id): State<Identity>,
    caller: Option<Extension<UserInfo>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params: HashMap<String, String> = q
        .as_deref()
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .map(|v| v.into_iter().collect())
        .unwrap_or_default();
    let Some(idp) = params
        .get("identity_provider")
        .or_else(|| params.get("idp"))
        .filter(|s| !s.is_empty())
    else {
        return authorize_code(&id, caller.map(|e| e.0), &params, &headers).await;
    };
    let registry = id.providers();
    let provider = match registry.oauth(idp) {
        Ok((_, p)) => p,
        Err(e) => return oauth_error(e.http_status(), e.oauth_error(), &e.to_string()),
    };
    let callback = format!("{}/oauth/callback/{idp}", base_url(&id, &headers));
    let claims = state_claims(&id, idp, &callback);
    let nonce = claims.nonce.clone().unwrap_or_default();
    let state = match jwt::encode(id.key(), &claims) {
        Ok(s) => s,
        Err(e) => {
            return oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                &e.to_string(),
            );
        }
    };
    match provider.authorize_url(&state, &nonce, &callback).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => oauth_error(e.http_status(), e.oauth_error(), &e.to_string()),
    }
}

/// `GET /oauth/callback/{idp}?code=..&state=..`: finishes an external login and
/// answers with the token response (KubeSphere v3's behaviour).
pub async fn callback(
    State(id): State<Identity>,
    Path(idp_name): Path<String>,
    conn: Option<Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params: HashMap<String, String> = q
        .as_deref()
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .map(|v| v.into_iter().collect())
        .unwrap_or_default();
    let mut c = client_info(&id, &headers, conn.map(|e| e.0.0));
    if let Err(e) = id.admit(&c.source_ip) {
        return login_error(e);
    }
    c.client_id = clients::BUILTIN_CLIENT.into();
    let state = params.get("state").map(String::as_str).unwrap_or("");
    let claims = match jwt::decode(
        id.key(),
        &id.options().issuer,
        state,
        id.now(),
        TokenType::LoginState,
    ) {
        Ok(cl) if cl.sub == idp_name => cl,
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "invalid or expired state",
            );
        }
    };
    let registry = id.providers();
    let (cfg, provider) = match registry.oauth(&idp_name) {
        Ok(x) => x,
        Err(e) => return oauth_error(e.http_status(), e.oauth_error(), &e.to_string()),
    };
    let code = params.get("code").map(String::as_str).unwrap_or("");
    let redirect = claims.redirect_uri.unwrap_or_default();
    let nonce = claims.nonce.unwrap_or_default();
    let ident = match provider.exchange(code, &redirect, &nonce).await {
        Ok(i) => i,
        Err(e) => return oauth_error(e.http_status(), e.oauth_error(), &e.to_string()),
    };
    let user = match id.map_identity(&ident, cfg.mapping_method).await {
        Ok(u) => u,
        Err(e) => return login_error(e),
    };
    match id
        .finish_external(&user, LoginRecordType::OAuth, &idp_name, &c)
        .await
    {
        Ok(t) => axum::Json(t).into_response(),
        Err(e) => login_error(e),
    }
}

async fn authorize_code(
    id: &Identity,
    caller: Option<UserInfo>,
    params: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Response {
    let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
    if get("response_type") != "code" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_response_type",
            "response_type must be code",
        );
    }
    let client = match clients::find(id.client(), get("client_id")).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_client", "unknown client");
        }
        Err(e) => {
            return oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                &e.to_string(),
            );
        }
    };
    // Errors before the redirect URI is validated must not redirect (RFC 6749 4.1.2.1).
    if !client.allows_redirect(get("redirect_uri")) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "redirect_uri is not registered for this client",
        );
    }
    let authenticated = match caller.filter(|u| u.name != "system:anonymous" && !u.name.is_empty())
    {
        Some(u) => Some(u),
        None => match bearer(headers) {
            Some(t) => id.authenticator().authenticate(t).await,
            None => None,
        },
    };
    let Some(user) = authenticated else {
        return oauth_error(StatusCode::UNAUTHORIZED, "login_required", "log in first");
    };
    let Some(facts) = id.users().get(&user.name).await else {
        return oauth_error(
            StatusCode::FORBIDDEN,
            "access_denied",
            "only platform users can authorize clients",
        );
    };
    let req = AuthorizeRequest {
        redirect_uri: get("redirect_uri").to_string(),
        scope: get("scope").to_string(),
        nonce: params.get("nonce").cloned(),
    };
    let code = match id.issue_code(&facts, &client, &req).await {
        Ok(c) => c,
        Err(e) => return login_error(e),
    };
    let mut target = req.redirect_uri.clone();
    target.push(if target.contains('?') { '&' } else { '?' });
    let mut q = vec![("code", code.as_str())];
    if !get("state").is_empty() {
        q.push(("state", get("state")));
    }
    target.push_str(&serde_urlencoded::to_string(&q).unwrap_or_default());
    Redirect::to(&target).into_response()
}
