//! Bad input, what members see, data values of Secrets and ConfigMaps, the users filters, and caches following changes.

use super::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Bad paging, selectors and sort fields: 400 with a Kubernetes Status naming the problem.
pub(crate) fn bad_input(s: &Server, admin: &str) {
    for (query, mention) in [
        ("page=-1", "page"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("page=99999999999999999999", "page"),
        ("limit=-3", "limit"),
        ("limit=ten", "limit"),
        ("limit=99999999999999999999", "limit"),
        ("page=9223372036854775807&limit=10", "out of range"),
        ("labelSelector=a%20in%20(b", "labelSelector"),
        ("labelSelector=%3D%3Dx", "labelSelector"),
        ("fieldSelector=a%3D%3D%3Db%3D", "fieldSelector"),
        ("sortBy=color", "sortBy"),
    ] {
        for path in [
            format!("{V1ALPHA3}/configmaps?{query}"),
            format!("{V1ALPHA3}/namespaces/rs-a1/pods?{query}"),
        ] {
            let (status, body) = get_json(s, admin, &path);
            assert_eq!(status, 400, "GET {path}: {body}");
            assert_eq!(body["kind"], "Status", "GET {path}: {body}");
            assert_eq!(body["code"], 400, "GET {path}: {body}");
            let message = body["message"].as_str().unwrap_or("");
            assert!(
                message.contains(mention),
                "GET {path}: message {message:?} does not mention {mention:?}"
            );
        }
    }
    // Unknown filter keys are ignored (KubeSphere v4); unknown resources are 404.
    let (with_unknown, _) = list(
        s,
        admin,
        &format!("{V1ALPHA3}/configmaps?labelSelector={MINE}&no-such-filter=x"),
    );
    let (plain, _) = list(
        s,
        admin,
        &format!("{V1ALPHA3}/configmaps?labelSelector={MINE}"),
    );
    assert_eq!(set(&with_unknown), set(&plain));
    let (status, body) = get_json(s, admin, &format!("{V1ALPHA3}/nosuchthings"));
    assert_eq!(status, 404, "{body}");
}

/// Secret and ConfigMap data: never in lists, in a single GET only for who may read it.
pub(crate) fn data_values(s: &Server, admin: &str, proj: &str, ws: &str, none: &str) {
    let encoded = STANDARD.encode(SECRET_VALUE);
    for path in [
        format!("{V1ALPHA3}/secrets?labelSelector={MINE}"),
        format!("{V1ALPHA3}/namespaces/rs-a1/secrets"),
        format!("{V1ALPHA3}/workspaces/rs-wa/secrets"),
        format!("{V1ALPHA3}/configmaps?labelSelector={MINE}"),
    ] {
        let r = s.get(admin, &path);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        let text = r.text();
        let token_encoded = STANDARD.encode(TOKEN_VALUE);
        for leak in [
            SECRET_VALUE,
            encoded.as_str(),
            TOKEN_VALUE,
            token_encoded.as_str(),
            CM_VALUE,
        ] {
            assert!(!text.contains(leak), "{path} leaks {leak}: {text}");
        }
        for item in r.json().unwrap()["items"].as_array().unwrap() {
            for field in ["data", "stringData", "binaryData"] {
                if let Some(data) = item[field].as_object() {
                    assert!(data.values().all(|v| v == ""), "{path}: {item}");
                }
            }
        }
    }
    let (names, _) = list(
        s,
        admin,
        &format!("{V1ALPHA3}/secrets?labelSelector={MINE}&fieldSelector=type%3Dexample.com/custom"),
    );
    assert_eq!(names, refs(&["rs-a1/sec-one"]));
    let (sec, _) = list(
        s,
        admin,
        &format!("{V1ALPHA3}/namespaces/rs-a1/secrets?names=sec-one"),
    );
    assert_eq!(sec, refs(&["rs-a1/sec-one"]));

    let one = format!("{V1ALPHA3}/namespaces/rs-a1/secrets/sec-one");
    let (status, body) = get_json(s, admin, &one);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["password"], json!(encoded), "{body}");
    let (status, body) = get_json(
        s,
        admin,
        &format!("{V1ALPHA3}/namespaces/rs-a1/configmaps/cfg-alpha"),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["color"], CM_VALUE, "{body}");
    // The project admin may read the secret; a user without membership may not.
    let (status, body) = get_json(s, proj, &one);
    assert_eq!(status, 200, "rs-proj GET secret: {body}\n{}", s.logs());
    assert_eq!(body["data"]["password"], json!(encoded), "{body}");
    let r = s.get(none, &one);
    assert_eq!(r.status, 403, "rs-none GET secret: {}", r.text());
    assert!(!r.text().contains(&encoded), "{}", r.text());
    // The workspace viewer gets exactly what Kubernetes RBAC says.
    let can = s.kubectl(ws, &["auth", "can-i", "get", "secrets", "-n", "rs-a1"]);
    let r = s.get(ws, &one);
    let expected = if can.stdout.trim() == "yes" { 200 } else { 403 };
    assert_eq!(r.status, expected, "rs-ws GET secret ({can}): {}", r.text());
    // The users API never shows password hashes.
    let r = s.get(admin, &format!("{V1ALPHA3}/users/rs-ws"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.json().unwrap()["spec"].get("password").is_none(),
        "{}",
        r.text()
    );
    let r = s.get(admin, &format!("{V1ALPHA3}/users"));
    assert!(!r.text().contains("$argon2"), "{}", r.text());
}

/// What members see: their projects' objects and nothing else.
pub(crate) fn members(s: &Server, proj: &str, ws: &str) {
    let asc = "sortBy=name&ascending=true";
    // Bindings reach the authorizer asynchronously.
    wait_list(
        s,
        proj,
        &format!("{V1ALPHA3}/namespaces/rs-a1/configmaps?labelSelector={MINE}&{asc}"),
        &["rs-a1/cfg-alpha", "rs-a1/cfg-beta"],
        SETTLE,
    );
    wait_list(
        s,
        ws,
        &format!("{V1ALPHA3}/workspaces/rs-wa/configmaps?labelSelector={MINE}&{asc}"),
        &["rs-a1/cfg-alpha", "rs-a2/cfg-alpha", "rs-a1/cfg-beta"],
        SETTLE,
    );
    let (names, total) = list(
        s,
        ws,
        &format!("{V1ALPHA3}/workspaces/rs-wa/deployments?labelSelector={MINE}&{asc}"),
    );
    assert_eq!(
        (names, total),
        (refs(&["rs-a1/api", "rs-a1/web", "rs-a2/worker"]), 3)
    );
    for path in [
        format!("{V1ALPHA3}/configmaps?labelSelector={MINE}"),
        format!("{V1ALPHA3}/workspaces/rs-wa/configmaps?labelSelector={MINE}"),
        format!("{V1ALPHA3}/namespaces/rs-a2/configmaps"),
        format!("{V1ALPHA3}/namespaces/rs-b1/configmaps"),
        format!("{V1ALPHA3}/workspaces/rs-wb/configmaps"),
        format!("{V1ALPHA3}/pods?labelSelector={MINE}"),
    ] {
        assert_confined(s, proj, &path, &["rs-a1"]);
    }
    for path in [
        format!("{V1ALPHA3}/configmaps?labelSelector={MINE}"),
        format!("{V1ALPHA3}/namespaces/rs-b1/configmaps"),
        format!("{V1ALPHA3}/workspaces/rs-wb/configmaps"),
        format!("{TENANT}/workspaces/rs-wb/namespaces/rs-b1/configmaps"),
        format!("{V1ALPHA3}/deployments?labelSelector={MINE}"),
    ] {
        assert_confined(s, ws, &path, &["rs-a1", "rs-a2"]);
    }
    let (status, body) = get_json(
        s,
        proj,
        &format!("{V1ALPHA3}/namespaces/rs-b1/configmaps/cfg-b"),
    );
    assert!(
        matches!(status, 403 | 404),
        "rs-proj GET rs-b1/cfg-b: {status} {body}"
    );
}

/// The users filters that follow role bindings.
pub(crate) fn user_queries(s: &Server, admin: &str) {
    let users = |query: &str| {
        let (names, _) = list(
            s,
            admin,
            &format!("{V1ALPHA3}/users?sortBy=name&ascending=true&{query}"),
        );
        names
            .into_iter()
            .filter(|n| n.starts_with("rs-"))
            .collect::<Vec<_>>()
    };
    e2e::eventually(
        "users by workspace",
        SETTLE,
        &[(s.name, &s.process)],
        || {
            let got = users("workspace=rs-wa");
            (got == ["rs-ws"]).then_some(()).ok_or(format!("{got:?}"))
        },
    );
    e2e::eventually(
        "users by global role",
        SETTLE,
        &[(s.name, &s.process)],
        || {
            let got = users("globalrole=platform-regular");
            (got == ["rs-none", "rs-proj", "rs-ws"])
                .then_some(())
                .ok_or(format!("{got:?}"))
        },
    );
    assert_eq!(users("globalrole=platform-admin"), Vec::<String>::new());
    let (admins, _) = list(
        s,
        admin,
        &format!("{V1ALPHA3}/users?globalrole=platform-admin"),
    );
    assert!(admins.contains(&"admin".to_owned()), "{admins:?}");
    assert_eq!(users("name=proj"), refs(&["rs-proj"]));
    assert_eq!(users("workspace=rs-wb"), Vec::<String>::new());
}

/// Updates and deletes reach the caches (eventually: they follow watches).
pub(crate) fn follows_changes(s: &Server, admin: &str, controllers: bool) {
    kubectl_ok(
        s,
        admin,
        &[
            "label",
            "configmap",
            "cfg-alpha",
            "-n",
            "rs-a2",
            "stage=two",
        ],
    );
    wait_list(
        s,
        admin,
        &format!("{V1ALPHA3}/configmaps?labelSelector=stage%3Dtwo"),
        &["rs-a2/cfg-alpha"],
        SETTLE,
    );
    kubectl_ok(
        s,
        admin,
        &[
            "annotate",
            "configmap",
            "cfg-b",
            "-n",
            "rs-b1",
            "kubesphere.io/alias-name=Bravo",
        ],
    );
    wait_list(
        s,
        admin,
        &format!("{V1ALPHA3}/configmaps?labelSelector={MINE}&name=Bravo"),
        &["rs-b1/cfg-b"],
        SETTLE,
    );
    kubectl_ok(s, admin, &["delete", "configmap", "cfg-b", "-n", "rs-b1"]);
    wait_list(
        s,
        admin,
        &format!("{V1ALPHA3}/configmaps?names=cfg-b"),
        &[],
        SETTLE,
    );
    if controllers {
        // Scaled up, the controller reports replicas: no longer `stopped`.
        kubectl_ok(
            s,
            admin,
            &["scale", "deployment", "api", "-n", "rs-a1", "--replicas=1"],
        );
        wait_list(
            s,
            admin,
            &format!("{V1ALPHA3}/deployments?labelSelector={MINE}&status=stopped"),
            &[],
            SETTLE,
        );
    }
    kubectl_ok(
        s,
        admin,
        &[
            "delete",
            "pod",
            "solo",
            "-n",
            "rs-a1",
            "--grace-period=0",
            "--force",
        ],
    );
    wait_list(
        s,
        admin,
        &format!("{V1ALPHA3}/pods?labelSelector={MINE}&nodeName=rs-node-x"),
        &[],
        SETTLE,
    );
}
