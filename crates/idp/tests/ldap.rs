//! LDAPIdentityProvider against a real OpenLDAP slapd started by each test.
#![allow(clippy::unwrap_used)]

#[path = "support/slapd.rs"]
mod slapd;

use base64::Engine;
use idp::{IdpError, PasswordProvider, Provider, ProviderConfig};
use serde_json::{Value, json};
use slapd::{ROOT_DN, ROOT_PW, Slapd, Tls};

const LDIF: &str = "\
dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=example,dc=org
objectClass: organizationalUnit
ou: groups

dn: uid=alice,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: alice
cn: Alice Liddell
sn: Liddell
displayName: Alice L.
mail: alice@example.org
userPassword: alice-secret-1

dn: uid=Bob,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: Bob
cn: Bob
sn: Builder
mail: bob@example.org
userPassword: bob-secret-1

dn: uid=star*user,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: star*user
cn: Star
sn: User
userPassword: star-secret-1

dn: uid=svc,ou=people,dc=example,dc=org
objectClass: account
objectClass: simpleSecurityObject
uid: svc
userPassword: svc-secret-1

dn: cn=developers,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: developers
member: uid=alice,ou=people,dc=example,dc=org

dn: cn=ops,ou=groups,dc=example,dc=org
objectClass: groupOfNames
cn: ops
member: uid=alice,ou=people,dc=example,dc=org
member: uid=Bob,ou=people,dc=example,dc=org

dn: cn=staff,ou=groups,dc=example,dc=org
objectClass: posixGroup
cn: staff
gidNumber: 5000
memberUid: Bob
";

fn options(host: String) -> Value {
    json!({
        "host": host,
        "managerDN": ROOT_DN,
        "managerPassword": ROOT_PW,
        "userSearchBase": "ou=people,dc=example,dc=org",
        "userSearchFilter": "(objectClass=inetOrgPerson)",
        "groupSearchBase": "ou=groups,dc=example,dc=org",
        "groupSearchFilter": "(objectClass=groupOfNames)",
        "loginAttribute": "uid",
        "mailAttribute": "mail",
        "displayNameAttribute": "displayName",
        "readTimeout": 5000,
    })
}

fn provider(provider: Value) -> std::sync::Arc<dyn PasswordProvider> {
    let cfg = ProviderConfig::from_value(json!({
        "name": "corp-ldap",
        "type": "LDAPIdentityProvider",
        "mappingMethod": "auto",
        "provider": provider,
    }))
    .unwrap();
    match idp::build(&cfg).unwrap() {
        Provider::Password(p) => p,
        Provider::OAuth(_) => panic!("LDAP must be a password provider"),
    }
}

fn plain(server: &Slapd) -> std::sync::Arc<dyn PasswordProvider> {
    provider(options(format!("127.0.0.1:{}", server.port)))
}

#[tokio::test]
async fn good_login_returns_identity_and_groups() {
    let server = Slapd::start(LDIF, None);
    let ldap = plain(&server);
    let alice = ldap.authenticate("alice", "alice-secret-1").await.unwrap();
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.uid, "alice");
    assert_eq!(alice.email, "alice@example.org");
    assert_eq!(alice.display_name, "Alice L.");
    assert_eq!(alice.groups, ["developers", "ops"]);
    assert_eq!(alice.provider, "corp-ldap");
    assert_eq!(
        alice.user_label_selector().unwrap(),
        "iam.kubesphere.io/identify-provider=corp-ldap,iam.kubesphere.io/origin-uid=alice"
    );

    // Directory matching is case-insensitive; the local name is lowercased.
    let bob = ldap.authenticate("BOB", "bob-secret-1").await.unwrap();
    assert_eq!(bob.username, "bob");
    assert_eq!(bob.uid, "Bob");
    assert_eq!(bob.display_name, "");
    assert_eq!(bob.groups, ["ops"]);
}

#[tokio::test]
async fn posix_groups_by_member_uid_and_member_of_style_attribute() {
    let server = Slapd::start(LDIF, None);
    let mut opts = options(format!("127.0.0.1:{}", server.port));
    opts["groupSearchFilter"] = json!("(objectClass=posixGroup)");
    opts["groupMemberAttribute"] = json!("memberUid");
    let bob = provider(opts)
        .authenticate("bob", "bob-secret-1")
        .await
        .unwrap();
    assert_eq!(bob.groups, ["staff"]);
}

#[tokio::test]
async fn wrong_unknown_and_empty_credentials_are_bad_credentials() {
    let server = Slapd::start(LDIF, None);
    let ldap = plain(&server);
    for (user, password) in [
        ("alice", "wrong"),
        ("alice", "bob-secret-1"),
        ("nobody", "alice-secret-1"),
        // The server allows DN + empty password as an anonymous bind (bind_anon_dn):
        // only the provider's own check stands between this and a login.
        ("alice", ""),
        ("", "alice-secret-1"),
    ] {
        let err = ldap.authenticate(user, password).await.unwrap_err();
        assert!(err.is_bad_credentials(), "{user:?}/{password:?}: {err:?}");
        assert_eq!(err.oauth_error(), "invalid_grant");
    }
}

#[tokio::test]
async fn user_search_filter_limits_who_may_log_in() {
    let server = Slapd::start(LDIF, None);
    let err = plain(&server)
        .authenticate("svc", "svc-secret-1")
        .await
        .unwrap_err();
    assert!(err.is_bad_credentials(), "{err:?}");
    let mut opts = options(format!("127.0.0.1:{}", server.port));
    opts["userSearchFilter"] = json!("");
    opts["groupSearchBase"] = json!("");
    let svc = provider(opts)
        .authenticate("svc", "svc-secret-1")
        .await
        .unwrap();
    assert_eq!(svc.username, "svc");
    assert!(svc.groups.is_empty());
}

#[tokio::test]
async fn filter_injection_is_escaped() {
    let server = Slapd::start(LDIF, None);
    let ldap = plain(&server);
    for user in [
        "*)(uid=*",
        "*",
        "ali*",
        "alice)(|(uid=*",
        "alice)(objectClass=*",
    ] {
        let err = ldap.authenticate(user, "alice-secret-1").await.unwrap_err();
        assert!(
            err.is_bad_credentials(),
            "{user:?} was not refused: {err:?}"
        );
    }
    // Escaping, not refusing: a name with a literal `*` still logs in as itself.
    let star = ldap
        .authenticate("star*user", "star-secret-1")
        .await
        .unwrap();
    assert_eq!(star.uid, "star*user");
    let err = ldap
        .authenticate("star*", "star-secret-1")
        .await
        .unwrap_err();
    assert!(err.is_bad_credentials());
}

#[tokio::test]
async fn server_down_is_unavailable_not_bad_credentials() {
    let mut server = Slapd::start(LDIF, None);
    let ldap = plain(&server);
    ldap.authenticate("alice", "alice-secret-1").await.unwrap();
    server.stop();
    let err = ldap
        .authenticate("alice", "alice-secret-1")
        .await
        .unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert!(!err.is_bad_credentials());
    assert_eq!(err.http_status(), http::StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn wrong_manager_password_is_a_configuration_error() {
    let server = Slapd::start(LDIF, None);
    let mut opts = options(format!("127.0.0.1:{}", server.port));
    opts["managerPassword"] = json!("not-it");
    let err = provider(opts)
        .authenticate("alice", "alice-secret-1")
        .await
        .unwrap_err();
    assert!(matches!(err, IdpError::Config(_)), "{err:?}");
    assert!(!err.is_bad_credentials());
}

fn tls_material() -> Tls {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    Tls {
        ca_pem: ca.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

#[tokio::test]
async fn ldaps_and_starttls_check_the_configured_ca() {
    let tls = tls_material();
    let server = Slapd::start(LDIF, Some(&tls));
    let ca_data = base64::engine::general_purpose::STANDARD.encode(&tls.ca_pem);
    let tls_port = server.tls_port.unwrap();

    // KubeSphere's startTLS with a bare host:port means ldaps.
    let mut opts = options(format!("127.0.0.1:{tls_port}"));
    opts["startTLS"] = json!(true);
    opts["rootCAData"] = json!(ca_data);
    let alice = provider(opts.clone())
        .authenticate("alice", "alice-secret-1")
        .await
        .unwrap();
    assert_eq!(alice.email, "alice@example.org");

    // With an explicit ldap:// URL, startTLS is the StartTLS operation on the plain port.
    opts["host"] = json!(format!("ldap://127.0.0.1:{}", server.port));
    provider(opts.clone())
        .authenticate("alice", "alice-secret-1")
        .await
        .unwrap();

    // A server whose certificate the configured CA did not sign is unavailable.
    let mut wrong = opts.clone();
    let other = tls_material();
    wrong["host"] = json!(format!("127.0.0.1:{tls_port}"));
    wrong["rootCAData"] = json!(base64::engine::general_purpose::STANDARD.encode(&other.ca_pem));
    let err = provider(wrong.clone())
        .authenticate("alice", "alice-secret-1")
        .await
        .unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");

    wrong["insecureSkipVerify"] = json!(true);
    provider(wrong)
        .authenticate("alice", "alice-secret-1")
        .await
        .unwrap();
}

/// A server that accepts connections and never answers: the login must give up
/// (paused clock, so the 15 s default timeout passes instantly) rather than hang.
#[tokio::test(start_paused = true)]
async fn silent_server_times_out_as_unavailable() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let mut opts = options(format!("127.0.0.1:{port}"));
    opts.as_object_mut().unwrap().remove("readTimeout");
    let err = provider(opts)
        .authenticate("alice", "alice-secret-1")
        .await
        .unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
}
