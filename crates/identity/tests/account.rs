//! First start, the uninitialized-password flow, password changes and login records, against an in-process kernel.
#![allow(clippy::unwrap_used)]

mod common;

use apimachinery::UserInfo;
use axum::body::Body;
use common::*;
use http::Request;
use identity::OAuthOptions;
use identity::clock::ManualClock;
use kube::Api;
use kube::api::DynamicObject;

fn put_password(user: &str, caller: &str, token: &str, body: serde_json::Value) -> Request<Body> {
    let mut req = Request::put(format!(
        "/kapis/iam.kubesphere.io/v1beta1/users/{user}/password"
    ))
    .header("authorization", format!("Bearer {token}"))
    .header("content-type", "application/json")
    .body(Body::from(body.to_string()))
    .unwrap();
    // What the gateway does after authenticating the request.
    let groups = if caller == "admin" {
        vec![
            "system:masters".to_string(),
            "system:authenticated".to_string(),
        ]
    } else {
        vec!["system:authenticated".to_string()]
    };
    req.extensions_mut().insert(UserInfo::new(caller, groups));
    req
}

#[tokio::test]
async fn first_start_admin_must_change_the_generated_password() {
    let c = cluster().await;
    let clock = ManualClock::new();
    let id = replica(&c, &clock, OAuthOptions::default()).await;
    let r = identity::router(id.clone());

    let pw = identity::bootstrap::ensure_admin(c.client.clone(), c.dir.path(), None)
        .await
        .unwrap()
        .expect("a generated password on first start");
    assert!(pw.len() >= 16);
    let file = c.dir.path().join("initial-admin-password");
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), pw);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // Idempotent, including when run again concurrently.
    let (x, y) = tokio::join!(
        identity::bootstrap::ensure_admin(c.client.clone(), c.dir.path(), None),
        identity::bootstrap::ensure_admin(c.client.clone(), c.dir.path(), None)
    );
    assert_eq!((x.unwrap(), y.unwrap()), (None, None));
    let admin = user(&c, "admin").await;
    assert!(admin.uninitialized());
    assert_eq!(
        admin.metadata.annotations.as_ref().unwrap()["iam.kubesphere.io/globalrole"],
        "platform-admin"
    );
    let grb_ar = kube::api::ApiResource::from_gvk_with_plural(
        &kube::api::GroupVersionKind::gvk("iam.kubesphere.io", "v1beta1", "GlobalRoleBinding"),
        "globalrolebindings",
    );
    let grb = Api::<DynamicObject>::all_with(c.client.clone(), &grb_ar)
        .get("admin")
        .await
        .unwrap();
    assert_eq!(grb.data["roleRef"]["name"], "platform-admin");
    assert_eq!(grb.data["subjects"][0]["name"], "admin");

    let (code, t) = login(&r, "admin", &pw).await;
    assert_eq!(code, 200);
    let access = t["access_token"].as_str().unwrap().to_string();
    assert_eq!(claims(&access)["extra"]["uninitialized"][0], "true");
    let (_, other) = login(&r, "admin", &pw).await;
    let other = other["access_token"].as_str().unwrap().to_string();

    // Policy and current password are enforced for self-service.
    let (code, e) = call(
        &r,
        put_password(
            "admin",
            "admin",
            &access,
            serde_json::json!({"currentPassword": pw, "password": "short"}),
        ),
    )
    .await;
    assert_eq!((code, e["reason"].as_str()), (400, Some("BadRequest")));
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("at least 8 characters")
    );
    let (code, e) = call(
        &r,
        put_password(
            "admin",
            "admin",
            &access,
            serde_json::json!({"currentPassword": pw, "password": "admin"}),
        ),
    )
    .await;
    assert_eq!(code, 400, "{e}");
    let (code, e) = call(
        &r,
        put_password(
            "admin",
            "admin",
            &access,
            serde_json::json!({"currentPassword": "wrong", "password": "N3w-Admin-pass"}),
        ),
    )
    .await;
    assert_eq!(
        (code, e["message"].as_str()),
        (400, Some("the current password is incorrect"))
    );
    let (code, e) = call(
        &r,
        put_password(
            "admin",
            "admin",
            &access,
            serde_json::json!({"currentPassword": pw, "password": "N3w-Admin-pass"}),
        ),
    )
    .await;
    assert_eq!(code, 200, "{e}");

    let admin = user(&c, "admin").await;
    assert!(!admin.uninitialized());
    assert!(
        admin
            .metadata
            .annotations
            .unwrap()
            .contains_key("iam.kubesphere.io/last-password-change-time")
    );
    // The other session ended; the caller's own survives.
    assert!(id.authenticator().authenticate(&other).await.is_none());
    assert!(id.authenticator().authenticate(&access).await.is_some());
    assert_eq!(login(&r, "admin", &pw).await.0, 400);
    let (code, t) = login(&r, "admin", "N3w-Admin-pass").await;
    assert_eq!(code, 200);
    assert!(
        claims(t["access_token"].as_str().unwrap())
            .get("extra")
            .is_none()
    );

    // An admin resets another user's password without knowing it (written as the caller).
    create_user(
        &c,
        "henry",
        &identity::password::hash("henry-pass-1").unwrap(),
    )
    .await;
    let admin_token = t["access_token"].as_str().unwrap();
    let (code, e) = call(
        &r,
        put_password(
            "henry",
            "admin",
            admin_token,
            serde_json::json!({"password": "henry-pass-2"}),
        ),
    )
    .await;
    assert_eq!(code, 200, "{e}");
    assert_eq!(login(&r, "henry", "henry-pass-2").await.0, 200);

    // Login records, listed with the resources query parameters.
    let mut req = Request::get(
        "/kapis/iam.kubesphere.io/v1beta1/users/admin/loginrecords?limit=2&sortBy=createTime",
    )
    .body(Body::empty())
    .unwrap();
    req.extensions_mut()
        .insert(UserInfo::new("admin", vec!["system:masters".into()]));
    let (code, list) = call(&r, req).await;
    assert_eq!(code, 200, "{list}");
    // admin: 2 successes, 1 failure, 1 success.
    assert_eq!(list["totalItems"], 4);
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert_eq!(list["items"][0]["spec"]["type"], "Token");

    // Retention: at most N per user.
    let opts = OAuthOptions {
        login_history_maximum_entries: 1,
        ..Default::default()
    };
    let strict = replica(&c, &clock, opts).await;
    strict.housekeeping().await.unwrap();
    let records: Api<identity::LoginRecord> = Api::all(c.client.clone());
    let left = records
        .list(&kube::api::ListParams::default().labels("iam.kubesphere.io/user-ref=admin"))
        .await
        .unwrap();
    assert_eq!(left.items.len(), 1);
}

#[tokio::test]
async fn admin_password_from_a_file_is_not_written_back() {
    let c = cluster().await;
    let pwfile = c.dir.path().join("pw");
    std::fs::write(&pwfile, "Given-Passw0rd\n").unwrap();
    let out = identity::bootstrap::ensure_admin(c.client.clone(), c.dir.path(), Some(&pwfile))
        .await
        .unwrap();
    assert_eq!(out, None);
    assert!(!c.dir.path().join("initial-admin-password").exists());
    let clock = ManualClock::new();
    let id = replica(&c, &clock, OAuthOptions::default()).await;
    assert_eq!(
        login(&identity::router(id), "admin", "Given-Passw0rd")
            .await
            .0,
        200
    );

    let c2 = cluster().await;
    std::fs::write(&pwfile, "admin\n").unwrap();
    let err =
        identity::bootstrap::ensure_admin(c2.client.clone(), c2.dir.path(), Some(&pwfile)).await;
    assert!(err.is_err());
}
