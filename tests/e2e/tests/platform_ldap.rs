//! `sphere up` with a real OpenLDAP: LDAP logins through `/oauth/token` (auto and lookup mapping), the redacted OAuth configuration, configz, and disabling a user.
#![allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure, which is the point

// The idp crate's own slapd harness; this test does not use its TLS listener.
#[allow(dead_code)]
#[path = "../../../crates/idp/tests/support/slapd.rs"]
mod slapd;

use std::time::Duration;

use e2e::{PlatformServer as Server, eventually, initial_admin_password, json_str};
use http::Method;
use serde_json::{Value, json};
use slapd::{ROOT_DN, ROOT_PW, Slapd};

const IAM: &str = "/kapis/iam.kubesphere.io/v1beta1";
const CONFIG: &str = "/kapis/config.kubesphere.io/v1alpha2/configs";
/// Watches (providers, users) settle within seconds; a loaded 2-core CI box gets slack.
const SETTLE: Duration = Duration::from_secs(60);

const LDIF: &str = "\
dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: uid=alice,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: alice
cn: Alice Liddell
sn: Liddell
displayName: Alice L.
mail: alice@example.org
userPassword: alice-secret-1

dn: uid=carol,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: carol
cn: Carol
sn: Carroll
mail: carol@example.org
userPassword: carol-secret-1
";

/// An identity provider Secret as KubeSphere v4 stores it: type
/// `config.kubesphere.io/identityprovider`, one entry in `configuration.yaml`.
fn provider_secret(name: &str, mapping: &str, port: u16) -> Value {
    let yaml = format!(
        "name: {name}\ntype: LDAPIdentityProvider\nmappingMethod: {mapping}\nprovider:\n  host: 127.0.0.1:{port}\n  managerDN: {ROOT_DN}\n  managerPassword: {ROOT_PW}\n  userSearchBase: ou=people,dc=example,dc=org\n  userSearchFilter: (objectClass=inetOrgPerson)\n  loginAttribute: uid\n  mailAttribute: mail\n  displayNameAttribute: displayName\n"
    );
    json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {
            "name": format!("identityprovider-{name}"),
            "namespace": "kubesphere-system",
            "labels": {"config.kubesphere.io/type": "identityprovider"},
        },
        "type": "config.kubesphere.io/identityprovider",
        "stringData": {"configuration.yaml": yaml},
    })
}

fn ldap_login(server: &Server, provider: &str, user: &str, password: &str) -> e2e::RawResponse {
    server
        .anon
        .form(
            "/oauth/token",
            &[
                ("grant_type", "password"),
                ("username", user),
                ("password", password),
                ("provider", provider),
                ("client_id", e2e::CONSOLE_CLIENT),
            ],
        )
        .unwrap()
}

#[test]
fn ldap_logins_redacted_oauth_config_configz_and_disabling_a_user() {
    let ldap = Slapd::start(LDIF, None);
    let dir = tempfile::tempdir().unwrap();
    let up = Server::start("up", &["up"], &dir.path().join("up"));
    let servers = [(up.name, &up.process)];
    let password = initial_admin_password(up.process.data_dir()).unwrap();
    let admin = up.login("admin", &password)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let as_admin = up.as_token(&admin);
    for (name, mapping) in [("ldap", "auto"), ("ldap-lookup", "lookup")] {
        let r = as_admin
            .json(
                Method::POST,
                "/api/v1/namespaces/kubesphere-system/secrets",
                Some(&provider_secret(name, mapping, ldap.port)),
            )
            .unwrap();
        assert_eq!(r.status, 201, "{}\n{}", r.text(), up.logs());
    }

    // The login page's view of the providers: anonymous, and without any secret.
    let cfg = eventually("both providers in configs/oauth", SETTLE, &servers, || {
        let r = up.anon.get(&format!("{CONFIG}/oauth")).unwrap();
        let v = r.json().map_err(|e| format!("{} {e}", r.status))?;
        let n = v["identityProviders"].as_array().map_or(0, Vec::len);
        (r.status == 200 && n == 2)
            .then_some(v.clone())
            .ok_or_else(|| format!("{} {v}", r.status))
    });
    let text = cfg.to_string();
    assert!(
        !text.contains(ROOT_PW) && !text.contains("managerPassword"),
        "configs/oauth leaks the LDAP manager password: {cfg}"
    );
    assert_eq!(cfg["identityProviders"][0]["type"], "LDAPIdentityProvider");

    // mappingMethod auto: the first LDAP login creates the User.
    let r = ldap_login(&up, "ldap", "alice", "wrong-password-1");
    assert_eq!(r.status, 400, "bad LDAP password: {}", r.text());
    assert_eq!(json_str(&r, "error").as_deref(), Some("invalid_grant"));
    let r = ldap_login(&up, "ldap", "alice", "alice-secret-1");
    assert_eq!(r.status, 200, "{}\n{}", r.text(), up.logs());
    let alice = json_str(&r, "access_token").unwrap();
    let r = up.get(&admin, &format!("{IAM}/users/alice"));
    assert_eq!(r.status, 200, "{}", r.text());
    let u = r.json().unwrap();
    assert_eq!(u["spec"]["email"], "alice@example.org", "{u}");
    assert_eq!(
        u["metadata"]["annotations"]["iam.kubesphere.io/identity-provider"], "ldap",
        "{u}"
    );
    let r = up.get(&alice, &format!("{IAM}/users/alice"));
    assert_eq!(r.status, 200, "alice's token: {}", r.text());

    // configz: which components run, for any signed-in user.
    let r = up.get(&alice, &format!("{CONFIG}/configz"));
    assert_eq!(r.status, 200, "{}", r.text());
    let configz = r.json().unwrap();
    assert_eq!(configz["authentication"], true, "{configz}");
    assert!(
        configz.as_object().unwrap().values().all(Value::is_boolean),
        "{configz}"
    );

    // mappingMethod lookup: a valid LDAP login without a User here is refused, and
    // nothing is created.
    let r = ldap_login(&up, "ldap-lookup", "carol", "carol-secret-1");
    assert_eq!(r.status, 400, "unmapped lookup login: {}", r.text());
    assert_eq!(json_str(&r, "error").as_deref(), Some("invalid_grant"));
    assert_eq!(up.get(&admin, &format!("{IAM}/users/carol")).status, 404);

    // Disabling alice the console's way (PUT the User with status.state) ends her
    // sessions and refuses her logins.
    let mut body = up
        .get(&admin, &format!("{IAM}/users/alice"))
        .json()
        .unwrap();
    body["status"] = json!({"state": "Disabled"});
    let r = as_admin
        .json(Method::PUT, &format!("{IAM}/users/alice"), Some(&body))
        .unwrap();
    assert_eq!(r.status, 200, "{}\n{}", r.text(), up.logs());
    assert_eq!(r.json().unwrap()["status"]["state"], "Disabled");
    eventually("alice's token refused", SETTLE, &servers, || {
        match (
            up.get(&alice, &format!("{IAM}/users/alice")).status,
            up.get(&alice, "/api/v1/namespaces/default/configmaps")
                .status,
        ) {
            (401, 401) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
    let r = ldap_login(&up, "ldap", "alice", "alice-secret-1");
    assert_eq!(r.status, 400, "login while disabled: {}", r.text());
    assert_eq!(
        json_str(&r, "error_description").as_deref(),
        Some("Account suspended.")
    );
    let stored = up
        .get(&admin, &format!("{IAM}/users/alice"))
        .json()
        .unwrap();
    assert_eq!(stored["status"]["state"], "Disabled", "{stored}");
}
