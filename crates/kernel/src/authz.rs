//! The authorization seam: every request is checked by an `Authorizer` before it
//! touches anything. RBAC plugs in here; until then only `system:masters` passes.

use apimachinery::UserInfo;

/// What is being asked, in Kubernetes' authorizer terms.
#[derive(Debug, Clone, Default)]
pub struct Attributes {
    pub verb: String,
    pub group: String,
    pub version: String,
    pub resource: String,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
    /// Set for non-resource requests (`/version`, `/openapi/v2`, ...).
    pub path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny(String),
}

pub trait Authorizer: Send + Sync + 'static {
    fn authorize(&self, user: &UserInfo, attrs: &Attributes) -> Decision;

    /// The rules `user` holds in `namespace` as SelfSubjectRulesReview reports
    /// them: (resourceRules, nonResourceRules, incomplete).
    fn rules(
        &self,
        user: &UserInfo,
        namespace: &str,
    ) -> (Vec<serde_json::Value>, Vec<serde_json::Value>, bool);
}

/// Allows members of `system:masters` everything and everyone else nothing, which
/// is what kube-apiserver's RBAC gives a cluster with no bindings but the
/// superuser group.
#[derive(Debug, Default)]
pub struct MastersOnly;

impl Authorizer for MastersOnly {
    fn authorize(&self, user: &UserInfo, _attrs: &Attributes) -> Decision {
        if user.in_group("system:masters") {
            Decision::Allow
        } else {
            Decision::Deny(String::new())
        }
    }

    fn rules(
        &self,
        user: &UserInfo,
        _namespace: &str,
    ) -> (Vec<serde_json::Value>, Vec<serde_json::Value>, bool) {
        if user.in_group("system:masters") {
            (
                vec![serde_json::json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]})],
                vec![serde_json::json!({"verbs": ["*"], "nonResourceURLs": ["*"]})],
                false,
            )
        } else {
            (Vec::new(), Vec::new(), false)
        }
    }
}

/// The 403 message kube-apiserver writes.
pub fn forbidden_message(user: &UserInfo, a: &Attributes, reason: &str) -> String {
    let mut msg = if let Some(path) = &a.path {
        format!(
            "forbidden: User {:?} cannot {} path {:?}",
            user.name, a.verb, path
        )
    } else {
        let what = if a.subresource.is_empty() {
            a.resource.clone()
        } else {
            format!("{}/{}", a.resource, a.subresource)
        };
        let subject = if a.name.is_empty() {
            what.clone()
        } else {
            format!("{what} {:?}", a.name)
        };
        let scope = if a.namespace.is_empty() {
            "at the cluster scope".to_string()
        } else {
            format!("in the namespace {:?}", a.namespace)
        };
        format!(
            "{} is forbidden: User {:?} cannot {} resource {:?} in API group {:?} {}",
            subject, user.name, a.verb, what, a.group, scope
        )
    };
    if !reason.is_empty() {
        msg.push_str(": ");
        msg.push_str(reason);
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_matches_golden() {
        let u = UserInfo::new("alice", vec![]);
        let a = Attributes {
            verb: "list".into(),
            resource: "secrets".into(),
            namespace: "golden".into(),
            ..Default::default()
        };
        assert_eq!(
            forbidden_message(&u, &a, ""),
            "secrets is forbidden: User \"alice\" cannot list resource \"secrets\" in API group \"\" in the namespace \"golden\""
        );
        assert_eq!(MastersOnly.authorize(&u, &a), Decision::Deny(String::new()));
    }
}
