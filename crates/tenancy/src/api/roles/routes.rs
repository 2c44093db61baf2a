//! The role and role binding routes: list, create, get, update, merge-patch and delete at each level.

use super::{At, Kind, do_create, do_delete, do_get, do_list, do_patch, do_write};
use crate::api::{ApiError, IAM, State};
use apimachinery::UserInfo;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as S};
use axum::routing::get;
use axum::{Extension, Json, Router};
use http::HeaderMap;
use serde_json::Value;

fn content_type(h: &HeaderMap) -> Option<&str> {
    h.get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
}

fn patch_body(b: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(b)
        .map_err(|e| ApiError::bad_request(format!("the patch is not JSON: {e}")))
}

macro_rules! handlers {
    ($list:ident, $create:ident, $get:ident, $update:ident, $patch:ident, $delete:ident, $kind:expr, global) => {
        async fn $list(
            S(s): S<State>,
            Extension(u): Extension<UserInfo>,
            RawQuery(q): RawQuery,
        ) -> Result<Json<Value>, ApiError> {
            do_list(&s, &u, $kind, At::Global, q).await
        }
        async fn $create(
            S(s): S<State>,
            Extension(u): Extension<UserInfo>,
            Json(b): Json<Value>,
        ) -> Result<Json<Value>, ApiError> {
            do_create(&s, &u, $kind, At::Global, b).await
        }
        async fn $get(
            S(s): S<State>,
            Extension(u): Extension<UserInfo>,
            Path(n): Path<String>,
        ) -> Result<Json<Value>, ApiError> {
            do_get(&s, &u, $kind, At::Global, &n).await
        }
        async fn $update(
            S(s): S<State>,
            Extension(u): Extension<UserInfo>,
            Path(n): Path<String>,
            Json(b): Json<Value>,
        ) -> Result<Json<Value>, ApiError> {
            do_write(&s, &u, $kind, At::Global, Some(&n), b).await
        }
        async fn $patch(
            S(s): S<State>,
            Extension(u): Extension<UserInfo>,
            Path(n): Path<String>,
            h: HeaderMap,
            b: Bytes,
        ) -> Result<Json<Value>, ApiError> {
            do_patch(
                &s,
                &u,
                $kind,
                At::Global,
                &n,
                content_type(&h),
                patch_body(&b)?,
            )
            .await
        }
        async fn $delete(
            S(s): S<State>,
            Extension(u): Extension<UserInfo>,
            Path(n): Path<String>,
        ) -> Result<Json<Value>, ApiError> {
            do_delete(&s, &u, $kind, At::Global, &n).await
        }
    };
    ($list:ident, $create:ident, $get:ident, $update:ident, $patch:ident, $delete:ident, $kind:expr, $at:ident) => {
        async fn $list(
            S(s): S<State>,
            Extension(u): Extension<UserInfo>,
            Path(x): Path<String>,
            RawQuery(q): RawQuery,
        ) -> Result<Json<Value>, ApiError> {
            do_list(&s, &u, $kind, At::$at(x), q).await
        }
        async fn $create(
            S(s): S<State>,
            Extension(u): Extension<UserInfo>,
            Path(x): Path<String>,
            Json(b): Json<Value>,
        ) -> Result<Json<Value>, ApiError> {
            do_create(&s, &u, $kind, At::$at(x), b).await
        }
        async fn $get(
            S(s): S<State>,
            Extension(u): Extension<UserInfo>,
            Path((x, n)): Path<(String, String)>,
        ) -> Result<Json<Value>, ApiError> {
            do_get(&s, &u, $kind, At::$at(x), &n).await
        }
        async fn $update(
            S(s): S<State>,
            Extension(u): Extension<UserInfo>,
            Path((x, n)): Path<(String, String)>,
            Json(b): Json<Value>,
        ) -> Result<Json<Value>, ApiError> {
            do_write(&s, &u, $kind, At::$at(x), Some(&n), b).await
        }
        async fn $patch(
            S(s): S<State>,
            Extension(u): Extension<UserInfo>,
            Path((x, n)): Path<(String, String)>,
            h: HeaderMap,
            b: Bytes,
        ) -> Result<Json<Value>, ApiError> {
            do_patch(
                &s,
                &u,
                $kind,
                At::$at(x),
                &n,
                content_type(&h),
                patch_body(&b)?,
            )
            .await
        }
        async fn $delete(
            S(s): S<State>,
            Extension(u): Extension<UserInfo>,
            Path((x, n)): Path<(String, String)>,
        ) -> Result<Json<Value>, ApiError> {
            do_delete(&s, &u, $kind, At::$at(x), &n).await
        }
    };
}

handlers!(
    list_gr,
    create_gr,
    get_gr,
    update_gr,
    patch_gr,
    delete_gr,
    Kind::GlobalRole,
    global
);
handlers!(
    list_grb,
    create_grb,
    get_grb,
    update_grb,
    patch_grb,
    delete_grb,
    Kind::GlobalRoleBinding,
    global
);
handlers!(
    list_wr,
    create_wr,
    get_wr,
    update_wr,
    patch_wr,
    delete_wr,
    Kind::WorkspaceRole,
    Workspace
);
handlers!(
    list_wrb,
    create_wrb,
    get_wrb,
    update_wrb,
    patch_wrb,
    delete_wrb,
    Kind::WorkspaceRoleBinding,
    Workspace
);
handlers!(
    list_r,
    create_r,
    get_r,
    update_r,
    patch_r,
    delete_r,
    Kind::Role,
    Namespace
);
handlers!(
    list_rb,
    create_rb,
    get_rb,
    update_rb,
    patch_rb,
    delete_rb,
    Kind::RoleBinding,
    Namespace
);

/// Every role and binding route, with full paths.
pub(in crate::api) fn routes() -> Router<State> {
    Router::new()
        .route(&format!("{IAM}/globalroles"), get(list_gr).post(create_gr))
        .route(
            &format!("{IAM}/globalroles/{{name}}"),
            get(get_gr).put(update_gr).patch(patch_gr).delete(delete_gr),
        )
        .route(
            &format!("{IAM}/globalrolebindings"),
            get(list_grb).post(create_grb),
        )
        .route(
            &format!("{IAM}/globalrolebindings/{{name}}"),
            get(get_grb)
                .put(update_grb)
                .patch(patch_grb)
                .delete(delete_grb),
        )
        .route(
            &format!("{IAM}/workspaces/{{ws}}/workspaceroles"),
            get(list_wr).post(create_wr),
        )
        .route(
            &format!("{IAM}/workspaces/{{ws}}/workspaceroles/{{name}}"),
            get(get_wr).put(update_wr).patch(patch_wr).delete(delete_wr),
        )
        .route(
            &format!("{IAM}/workspaces/{{ws}}/workspacerolebindings"),
            get(list_wrb).post(create_wrb),
        )
        .route(
            &format!("{IAM}/workspaces/{{ws}}/workspacerolebindings/{{name}}"),
            get(get_wrb)
                .put(update_wrb)
                .patch(patch_wrb)
                .delete(delete_wrb),
        )
        .route(
            &format!("{IAM}/namespaces/{{ns}}/roles"),
            get(list_r).post(create_r),
        )
        .route(
            &format!("{IAM}/namespaces/{{ns}}/roles/{{name}}"),
            get(get_r).put(update_r).patch(patch_r).delete(delete_r),
        )
        .route(
            &format!("{IAM}/namespaces/{{ns}}/rolebindings"),
            get(list_rb).post(create_rb),
        )
        .route(
            &format!("{IAM}/namespaces/{{ns}}/rolebindings/{{name}}"),
            get(get_rb).put(update_rb).patch(patch_rb).delete(delete_rb),
        )
}
