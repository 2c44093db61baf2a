//! The `provider:` options of an `LDAPIdentityProvider`, with KubeSphere's field names and defaults.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::error::{IdpError, Result};

/// KubeSphere's default `readTimeout`, in milliseconds.
const DEFAULT_READ_TIMEOUT_MS: u64 = 15_000;

/// Options of an LDAP provider, as in KubeSphere's `ldapProvider`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct LdapConfig {
    /// `host:port` of the server (389 plain, 636 with `startTLS`); an `ldap://` or
    /// `ldaps://` URL is accepted too.
    pub host: String,
    /// Timeout of each LDAP operation and of connecting, in milliseconds (default 15000).
    #[serde(rename = "readTimeout")]
    pub read_timeout: u64,
    /// KubeSphere semantics: with a bare `host:port`, connect with TLS from the start
    /// (ldaps). With an explicit `ldap://` URL, upgrade with the StartTLS operation.
    #[serde(rename = "startTLS")]
    pub start_tls: bool,
    /// Accept any server certificate.
    #[serde(rename = "insecureSkipVerify")]
    pub insecure_skip_verify: bool,
    /// Path of a PEM file with trusted CA certificates.
    #[serde(rename = "rootCA")]
    pub root_ca: String,
    /// Base64-encoded PEM with trusted CA certificates.
    #[serde(rename = "rootCAData")]
    pub root_ca_data: String,
    /// DN to bind as for searching.
    #[serde(rename = "managerDN")]
    pub manager_dn: String,
    /// Password of `managerDN`.
    #[serde(rename = "managerPassword")]
    pub manager_password: String,
    /// Base DN of the user search (subtree).
    #[serde(rename = "userSearchBase")]
    pub user_search_base: String,
    /// Extra filter and-ed to the user search, e.g. `(objectClass=person)`.
    #[serde(rename = "userSearchFilter")]
    pub user_search_filter: String,
    /// Base DN of the group search; no group search when empty.
    #[serde(rename = "groupSearchBase")]
    pub group_search_base: String,
    /// Extra filter and-ed to the group search, e.g. `(objectClass=groupOfNames)`.
    #[serde(rename = "groupSearchFilter")]
    pub group_search_filter: String,
    /// Attribute on the user entry listing the DNs of its groups (e.g. `memberOf`).
    #[serde(rename = "userMemberAttribute")]
    pub user_member_attribute: String,
    /// Attribute on a group entry listing its members (default `member`, holding DNs;
    /// `memberUid` holds login names instead).
    #[serde(rename = "groupMemberAttribute")]
    pub group_member_attribute: String,
    /// Attribute the login name is matched against (default `uid`).
    #[serde(rename = "loginAttribute")]
    pub login_attribute: String,
    /// Attribute holding the e-mail address (default `mail`).
    #[serde(rename = "mailAttribute")]
    pub mail_attribute: String,
    /// Attribute holding the display name (none by default).
    #[serde(rename = "displayNameAttribute")]
    pub display_name_attribute: String,
}

impl LdapConfig {
    /// Parses the `provider:` map and fills KubeSphere's defaults.
    pub fn from_value(provider: &Value) -> Result<Self> {
        let value = if provider.is_null() {
            Value::Object(Default::default())
        } else {
            provider.clone()
        };
        let mut cfg: LdapConfig = serde_json::from_value(value)
            .map_err(|e| IdpError::Config(format!("LDAP provider: {e}")))?;
        if cfg.host.trim().is_empty() {
            return Err(IdpError::Config("LDAP provider: host is required".into()));
        }
        if cfg.user_search_base.trim().is_empty() {
            return Err(IdpError::Config(
                "LDAP provider: userSearchBase is required".into(),
            ));
        }
        if cfg.read_timeout == 0 {
            cfg.read_timeout = DEFAULT_READ_TIMEOUT_MS;
        }
        if cfg.login_attribute.is_empty() {
            cfg.login_attribute = "uid".into();
        }
        if cfg.mail_attribute.is_empty() {
            cfg.mail_attribute = "mail".into();
        }
        if cfg.group_member_attribute.is_empty() {
            cfg.group_member_attribute = "member".into();
        }
        for (field, attr) in [
            ("loginAttribute", &cfg.login_attribute),
            ("mailAttribute", &cfg.mail_attribute),
            ("displayNameAttribute", &cfg.display_name_attribute),
            ("userMemberAttribute", &cfg.user_member_attribute),
            ("groupMemberAttribute", &cfg.group_member_attribute),
        ] {
            if !attr
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ';')
            {
                return Err(IdpError::Config(format!(
                    "LDAP provider: {field} {attr:?} is not an attribute name"
                )));
            }
        }
        Ok(cfg)
    }

    /// The operation timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.read_timeout)
    }

    /// The server URL and whether to use the StartTLS operation on it.
    pub fn url(&self) -> (String, bool) {
        let host = self.host.trim();
        if host.starts_with("ldaps://") {
            return (host.to_string(), false);
        }
        if host.starts_with("ldap://") {
            return (host.to_string(), self.start_tls);
        }
        let has_port = host.rsplit_once(':').is_some_and(|(h, p)| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (!h.contains(':') || h.ends_with(']'))
        });
        match (self.start_tls, has_port) {
            (true, true) => (format!("ldaps://{host}"), false),
            (true, false) => (format!("ldaps://{host}:636"), false),
            (false, true) => (format!("ldap://{host}"), false),
            (false, false) => (format!("ldap://{host}:389"), false),
        }
    }

    /// Whether the connection uses TLS at all.
    pub fn uses_tls(&self) -> bool {
        let (url, starttls) = self.url();
        starttls || url.starts_with("ldaps://")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kubesphere_field_names_and_defaults() {
        let cfg = LdapConfig::from_value(&json!({
            "host": "192.168.0.2:389",
            "managerDN": "uid=root,cn=users,dc=nas",
            "managerPassword": "pw",
            "userSearchBase": "cn=users,dc=nas",
            "userSearchFilter": "(objectClass=person)",
            "groupSearchBase": "ou=groups,dc=nas",
            "displayNameAttribute": "cn",
            "startTLS": false,
            "insecureSkipVerify": true,
            "rootCAData": "",
        }))
        .unwrap();
        assert_eq!(cfg.manager_dn, "uid=root,cn=users,dc=nas");
        assert_eq!(cfg.login_attribute, "uid");
        assert_eq!(cfg.mail_attribute, "mail");
        assert_eq!(cfg.group_member_attribute, "member");
        assert_eq!(cfg.timeout(), Duration::from_secs(15));
        assert!(cfg.insecure_skip_verify);
        assert_eq!(cfg.url(), ("ldap://192.168.0.2:389".into(), false));
    }

    #[test]
    fn urls() {
        let mk = |host: &str, tls: bool| LdapConfig {
            host: host.into(),
            start_tls: tls,
            ..Default::default()
        };
        assert_eq!(mk("h", false).url().0, "ldap://h:389");
        assert_eq!(mk("h", true).url(), ("ldaps://h:636".into(), false));
        assert_eq!(mk("h:1636", true).url(), ("ldaps://h:1636".into(), false));
        assert_eq!(
            mk("ldap://h:389", true).url(),
            ("ldap://h:389".into(), true)
        );
        assert_eq!(mk("ldaps://h", false).url(), ("ldaps://h".into(), false));
        assert_eq!(mk("[::1]:389", false).url().0, "ldap://[::1]:389");
        assert!(mk("ldap://h", true).uses_tls());
        assert!(!mk("h", false).uses_tls());
    }

    #[test]
    fn refuses_incomplete_or_hostile_config() {
        assert!(LdapConfig::from_value(&json!({"userSearchBase": "dc=x"})).is_err());
        assert!(LdapConfig::from_value(&json!({"host": "h"})).is_err());
        assert!(
            LdapConfig::from_value(
                &json!({"host": "h", "userSearchBase": "dc=x", "loginAttribute": "uid=*)(x"})
            )
            .is_err()
        );
        assert!(LdapConfig::from_value(&json!({"host": 3})).is_err());
    }
}
