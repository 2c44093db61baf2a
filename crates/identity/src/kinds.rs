//! The identity kinds, `iam.kubesphere.io/v1beta1` User and LoginRecord, their well-known names and CRDs.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, CustomResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The platform's system namespace, where sessions, keys and OAuth clients live.
pub const SYSTEM_NAMESPACE: &str = "kubesphere-system";
/// Set on a User who must change the password at the next login.
pub const ANNOTATION_UNINITIALIZED: &str = "iam.kubesphere.io/uninitialized";
/// The GlobalRole the users API binds a User to.
pub const ANNOTATION_GLOBALROLE: &str = "iam.kubesphere.io/globalrole";
/// When the password was last changed (RFC 3339).
pub const ANNOTATION_LAST_PASSWORD_CHANGE: &str = "iam.kubesphere.io/last-password-change-time";
/// The identity provider a User was created from (mappingMethod auto).
pub const ANNOTATION_IDENTITY_PROVIDER: &str = "iam.kubesphere.io/identity-provider";
/// Recent login attempts (reservations and failures) used by the lockout; see `lockout`.
pub const ANNOTATION_LOGIN_ATTEMPTS: &str = "iam.kubesphere.io/login-attempts";
/// The user a LoginRecord belongs to.
pub const LABEL_USER_REF: &str = "iam.kubesphere.io/user-ref";

/// A platform user (cluster-scoped).
#[derive(CustomResource, Serialize, Deserialize, Debug, Clone, Default, PartialEq, JsonSchema)]
#[kube(
    group = "iam.kubesphere.io",
    version = "v1beta1",
    kind = "User",
    plural = "users",
    status = "UserStatus",
    printcolumn = r#"{"name":"Email","type":"string","jsonPath":".spec.email"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.state"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct UserSpec {
    /// The user's email address.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub email: String,
    /// Preferred console language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The name shown in the console.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Groups the user belongs to; they become the user's Kubernetes groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// The password hash (argon2id PHC string, or bcrypt imported from KubeSphere).
    /// No API returns it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// A User's state, as KubeSphere names it.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
pub enum UserState {
    /// May log in.
    Active,
    /// May not log in; existing tokens stop working.
    Disabled,
    /// Too many failed logins within the window; logins get 429 until it passes.
    AuthLimitExceeded,
}

/// Observed state of a User.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserStatus {
    /// Active, Disabled or AuthLimitExceeded; absent means Active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<UserState>,
    /// Why the state is what it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the state last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Time>,
    /// When the user last logged in successfully.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_login_time: Option<Time>,
}

/// How a login happened, as KubeSphere records it.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
pub enum LoginRecordType {
    /// HTTP basic authentication with a password.
    Password,
    /// A login through an external OAuth/OIDC provider.
    OAuth,
    /// A token requested from `/oauth/token`.
    Token,
}

/// One login attempt of a user (cluster-scoped, labelled `iam.kubesphere.io/user-ref`).
#[derive(CustomResource, Serialize, Deserialize, Debug, Clone, PartialEq, JsonSchema)]
#[kube(
    group = "iam.kubesphere.io",
    version = "v1beta1",
    kind = "LoginRecord",
    plural = "loginrecords",
    printcolumn = r#"{"name":"Type","type":"string","jsonPath":".spec.type"}"#,
    printcolumn = r#"{"name":"Provider","type":"string","jsonPath":".spec.provider"}"#,
    printcolumn = r#"{"name":"From","type":"string","jsonPath":".spec.sourceIP"}"#,
    printcolumn = r#"{"name":"Success","type":"string","jsonPath":".spec.success"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".spec.reason"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct LoginRecordSpec {
    /// Password, OAuth or Token.
    #[serde(rename = "type")]
    pub type_: LoginRecordType,
    /// The identity provider, empty for local passwords.
    #[serde(default)]
    pub provider: String,
    /// The client's address.
    #[serde(rename = "sourceIP", default)]
    pub source_ip: String,
    /// The client's User-Agent header.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user_agent: String,
    /// Whether the login succeeded.
    pub success: bool,
    /// Why it failed, or "Successful login".
    #[serde(default)]
    pub reason: String,
}

impl User {
    /// The user's state; a User without a status is Active.
    pub fn state(&self) -> UserState {
        self.status
            .as_ref()
            .and_then(|s| s.state)
            .unwrap_or(UserState::Active)
    }

    /// Whether the user must change the password before doing anything else.
    pub fn uninitialized(&self) -> bool {
        self.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(ANNOTATION_UNINITIALIZED))
            .is_some_and(|v| v == "true")
    }
}

/// Every CRD this crate owns, in a stable order.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![User::crd(), LoginRecord::crd()]
}

/// The CRDs as one multi-document YAML stream, the form committed under `crds/`.
pub fn crds_yaml() -> Result<String, serde_saphyr::ser::Error> {
    let mut out = String::new();
    for crd in crds() {
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(&crd)?);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn committed_crds_match_the_rust_types() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/crds/identity.yaml");
        let generated = crds_yaml().unwrap();
        if std::env::var_os("UPDATE_CRDS").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "{path} is out of date; regenerate it with UPDATE_CRDS=1 cargo test -p identity committed_crds"
        );
    }

    #[test]
    fn kinds_are_cluster_scoped_with_status_on_users() {
        let crds = crds();
        for crd in &crds {
            assert_eq!(crd.spec.scope, "Cluster");
            assert_eq!(crd.spec.group, "iam.kubesphere.io");
            assert_eq!(crd.spec.versions[0].name, "v1beta1");
        }
        assert_eq!(
            crds[0].metadata.name.as_deref(),
            Some("users.iam.kubesphere.io")
        );
        assert!(crds[0].spec.versions[0].subresources.is_some());
        assert_eq!(
            crds[1].metadata.name.as_deref(),
            Some("loginrecords.iam.kubesphere.io")
        );
    }

    #[test]
    fn kubesphere_user_json_round_trips() {
        let u: User = serde_json::from_value(serde_json::json!({
            "apiVersion": "iam.kubesphere.io/v1beta1", "kind": "User",
            "metadata": {"name": "admin", "annotations": {"iam.kubesphere.io/uninitialized": "true"}},
            "spec": {"email": "admin@kubesphere.io", "password": "$2a$10$x", "lang": "zh"},
            "status": {"state": "AuthLimitExceeded", "lastLoginTime": "2024-01-02T03:04:05Z"}
        }))
        .unwrap();
        assert_eq!(u.state(), UserState::AuthLimitExceeded);
        assert!(u.uninitialized());
        let back = serde_json::to_value(&u).unwrap();
        assert_eq!(back["spec"]["email"], "admin@kubesphere.io");
        assert_eq!(back["status"]["lastLoginTime"], "2024-01-02T03:04:05Z");
        let r: LoginRecord = serde_json::from_value(serde_json::json!({
            "apiVersion": "iam.kubesphere.io/v1beta1", "kind": "LoginRecord",
            "metadata": {"name": "admin-x"},
            "spec": {"type": "Token", "provider": "", "sourceIP": "10.0.0.1", "success": false, "reason": "bad"}
        }))
        .unwrap();
        assert_eq!(r.spec.type_, LoginRecordType::Token);
        assert_eq!(
            serde_json::to_value(&r).unwrap()["spec"]["sourceIP"],
            "10.0.0.1"
        );
    }
}
