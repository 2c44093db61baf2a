//! The identity an external provider vouches for, and the labels that tie a User to it.

use std::collections::BTreeMap;

/// Label on a `User` naming the identity provider it was mapped from (KubeSphere's
/// `iam.kubesphere.io/identify-provider`, spelling included).
pub const IDENTIFY_PROVIDER_LABEL: &str = "iam.kubesphere.io/identify-provider";

/// Label on a `User` holding the provider's stable id of the identity
/// (KubeSphere's `iam.kubesphere.io/origin-uid`).
pub const ORIGIN_UID_LABEL: &str = "iam.kubesphere.io/origin-uid";

/// A person as an external identity provider describes them after a successful login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The name the provider gives the person (LDAP login attribute, lowercased as
    /// KubeSphere v4 does; OIDC `preferred_username` or the configured key, else `name`).
    /// The suggested local username for `mappingMethod: auto`.
    pub username: String,
    /// E-mail address, empty when the provider has none.
    pub email: String,
    /// Human readable name, empty when the provider has none.
    pub display_name: String,
    /// Group names the provider reports for the person.
    pub groups: Vec<String>,
    /// Name of the provider configuration (`ProviderConfig::name`) that vouched for it.
    pub provider: String,
    /// The provider's stable id of the person (LDAP login attribute value, OIDC `sub`).
    pub uid: String,
}

impl Identity {
    /// The labels KubeSphere puts on a `User` mapped from this identity; `mappingMethod:
    /// lookup` finds the user by exactly this label selector.
    ///
    /// The uid is used as a label value only when it is a valid one (63 characters of
    /// `[A-Za-z0-9._-]`, alphanumeric at both ends); otherwise `None`, and the caller must
    /// fall back to matching by username.
    pub fn user_labels(&self) -> Option<BTreeMap<String, String>> {
        if !is_label_value(&self.provider) || !is_label_value(&self.uid) || self.uid.is_empty() {
            return None;
        }
        Some(BTreeMap::from([
            (IDENTIFY_PROVIDER_LABEL.to_string(), self.provider.clone()),
            (ORIGIN_UID_LABEL.to_string(), self.uid.clone()),
        ]))
    }

    /// The label selector string for [`Identity::user_labels`].
    pub fn user_label_selector(&self) -> Option<String> {
        self.user_labels().map(|labels| {
            labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
    }
}

/// Kubernetes label value syntax: at most 63 characters, `[A-Za-z0-9._-]`, starting and
/// ending with an alphanumeric character (or empty).
pub fn is_label_value(value: &str) -> bool {
    if value.is_empty() {
        return true;
    }
    let bytes = value.as_bytes();
    bytes.len() <= 63
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(uid: &str) -> Identity {
        Identity {
            username: "alice".into(),
            email: String::new(),
            display_name: String::new(),
            groups: vec![],
            provider: "ldap".into(),
            uid: uid.into(),
        }
    }

    #[test]
    fn labels_for_valid_uid() {
        assert_eq!(
            identity("alice").user_label_selector().as_deref(),
            Some("iam.kubesphere.io/identify-provider=ldap,iam.kubesphere.io/origin-uid=alice")
        );
    }

    #[test]
    fn no_labels_for_uid_that_is_not_a_label_value() {
        assert_eq!(identity("uid=alice,dc=example").user_labels(), None);
        assert_eq!(identity(&"a".repeat(64)).user_labels(), None);
        assert_eq!(identity("").user_labels(), None);
        assert!(identity("a.b_c-9").user_labels().is_some());
    }
}
