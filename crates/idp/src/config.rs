//! Identity provider configuration as KubeSphere writes it: v3 `identityProviders:` entries and v4 Secrets.

use std::fmt;

use k8s_openapi::api::core::v1::Secret;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{IdpError, Result};

/// Secret type of a v4 identity provider configuration.
pub const SECRET_TYPE: &str = "config.kubesphere.io/identityprovider";
/// Key in the Secret's data holding the YAML configuration.
pub const SECRET_DATA_KEY: &str = "configuration.yaml";
/// Label KubeSphere selects configuration Secrets by.
pub const CONFIG_TYPE_LABEL: &str = "config.kubesphere.io/type";
/// Value of [`CONFIG_TYPE_LABEL`] on identity provider Secrets.
pub const CONFIG_TYPE_IDENTITY_PROVIDER: &str = "identityprovider";

/// Keys inside `provider:` that hold secrets and never leave the server.
const SECRET_KEYS: &[&str] = &["managerPassword", "clientSecret", "rootCAData"];

/// How an external identity is mapped to a local user at login (KubeSphere's
/// `mappingMethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MappingMethod {
    /// Create the user on first login; fail if the name belongs to another identity.
    Auto,
    /// Only log in users that were provisioned beforehand with the identity's labels.
    /// The default when unset: it never provisions anybody by surprise.
    #[default]
    Lookup,
    /// Ask the person to confirm the username on an onboarding page.
    Manual,
}

/// The kind of identity provider (KubeSphere's `type:`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum ProviderType {
    /// `LDAPIdentityProvider`: username and password checked against an LDAP directory.
    Ldap,
    /// `OIDCIdentityProvider`: OpenID Connect authorization code flow.
    Oidc,
    /// `GitHubIdentityProvider` (not implemented here).
    GitHub,
    /// `CASIdentityProvider` (not implemented here).
    Cas,
    /// `AliyunIDaaSProvider` (not implemented here).
    AliyunIdaas,
    /// `GitlabIdentityProvider`, v3 only (not implemented here).
    Gitlab,
    /// Any other type name, kept verbatim.
    Other(String),
}

impl ProviderType {
    /// The type name as KubeSphere spells it.
    pub fn as_str(&self) -> &str {
        match self {
            ProviderType::Ldap => "LDAPIdentityProvider",
            ProviderType::Oidc => "OIDCIdentityProvider",
            ProviderType::GitHub => "GitHubIdentityProvider",
            ProviderType::Cas => "CASIdentityProvider",
            ProviderType::AliyunIdaas => "AliyunIDaaSProvider",
            ProviderType::Gitlab => "GitlabIdentityProvider",
            ProviderType::Other(s) => s,
        }
    }
}

impl From<String> for ProviderType {
    fn from(s: String) -> Self {
        match s.as_str() {
            "LDAPIdentityProvider" => ProviderType::Ldap,
            "OIDCIdentityProvider" => ProviderType::Oidc,
            "GitHubIdentityProvider" => ProviderType::GitHub,
            "CASIdentityProvider" => ProviderType::Cas,
            "AliyunIDaaSProvider" => ProviderType::AliyunIdaas,
            "GitlabIdentityProvider" => ProviderType::Gitlab,
            _ => ProviderType::Other(s),
        }
    }
}

impl From<ProviderType> for String {
    fn from(t: ProviderType) -> Self {
        t.as_str().to_string()
    }
}

impl fmt::Display for ProviderType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One identity provider entry, field for field as KubeSphere's `identityprovider.Configuration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderConfig {
    /// The provider name, used in `/oauth/callback/{name}` and the token endpoint's `provider`.
    pub name: String,
    /// The provider type.
    #[serde(rename = "type")]
    pub type_: ProviderType,
    /// How identities are mapped to users.
    #[serde(default)]
    pub mapping_method: MappingMethod,
    /// Hide the login button in the console.
    #[serde(default)]
    pub hidden: bool,
    /// The provider is configured but switched off.
    #[serde(default)]
    pub disabled: bool,
    /// Label of the login button.
    #[serde(default)]
    pub display_name: String,
    /// Type-specific options (`host`, `managerDN`, ... or `issuer`, `clientID`, ...).
    #[serde(default)]
    pub provider: Value,
}

impl ProviderConfig {
    /// Parses one entry from YAML (or JSON, which is YAML).
    pub fn from_yaml(text: &str) -> Result<Self> {
        let config: ProviderConfig = serde_saphyr::from_str(text)
            .map_err(|e| IdpError::Config(format!("identity provider configuration: {e}")))?;
        config.validate()?;
        Ok(config)
    }

    /// Parses one entry from a JSON value.
    pub fn from_value(value: Value) -> Result<Self> {
        let config: ProviderConfig = serde_json::from_value(value)
            .map_err(|e| IdpError::Config(format!("identity provider configuration: {e}")))?;
        config.validate()?;
        Ok(config)
    }

    /// Parses the v3 form: the `identityProviders` list found in `kubesphere.yaml` under
    /// `authentication.oauthOptions`. Accepts the whole file, the `authentication` or
    /// `oauthOptions` section, a map with `identityProviders`, or the bare list.
    pub fn list_from_kubesphere_yaml(text: &str) -> Result<Vec<Self>> {
        let root: Value = serde_saphyr::from_str(text)
            .map_err(|e| IdpError::Config(format!("kubesphere configuration: {e}")))?;
        let list = [
            &["authentication", "oauthOptions", "identityProviders"][..],
            &["oauthOptions", "identityProviders"][..],
            &["identityProviders"][..],
            &[][..],
        ]
        .iter()
        .find_map(|path| {
            path.iter()
                .try_fold(&root, |v, key| v.get(key))
                .filter(|v| v.is_array())
        });
        match list {
            Some(Value::Array(items)) => items.iter().cloned().map(Self::from_value).collect(),
            _ => Ok(Vec::new()),
        }
    }

    /// Parses the v4 form: a Secret of type `config.kubesphere.io/identityprovider` whose
    /// `data.configuration.yaml` holds one entry. An entry without a name takes the
    /// Secret's name.
    pub fn from_secret(secret: &Secret) -> Result<Self> {
        let secret_name = secret.metadata.name.clone().unwrap_or_default();
        if secret.type_.as_deref() != Some(SECRET_TYPE) {
            return Err(IdpError::Config(format!(
                "secret {secret_name:?} is not of type {SECRET_TYPE}"
            )));
        }
        let text = secret
            .data
            .as_ref()
            .and_then(|d| d.get(SECRET_DATA_KEY))
            .map(|b| String::from_utf8_lossy(&b.0).into_owned())
            .or_else(|| {
                secret
                    .string_data
                    .as_ref()
                    .and_then(|d| d.get(SECRET_DATA_KEY).cloned())
            })
            .ok_or_else(|| {
                IdpError::Config(format!("secret {secret_name:?} has no {SECRET_DATA_KEY}"))
            })?;
        let mut value: Value = serde_saphyr::from_str(&text)
            .map_err(|e| IdpError::Config(format!("secret {secret_name:?}: {e}")))?;
        if let Value::Object(map) = &mut value {
            let unnamed = map
                .get("name")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty);
            if unnamed {
                map.insert("name".into(), Value::String(secret_name));
            }
        }
        Self::from_value(value)
    }

    /// The configuration with secrets (`managerPassword`, `clientSecret`, `rootCAData`)
    /// removed: the only form any API may return.
    pub fn redacted(&self) -> Self {
        let mut copy = self.clone();
        if let Value::Object(map) = &mut copy.provider {
            for key in SECRET_KEYS {
                map.remove(*key);
            }
        }
        copy
    }

    fn validate(&self) -> Result<()> {
        if self.name.is_empty() {
            return Err(IdpError::Config("identity provider without a name".into()));
        }
        if !(self.provider.is_object() || self.provider.is_null()) {
            return Err(IdpError::Config(format!(
                "identity provider {:?}: provider must be a map",
                self.name
            )));
        }
        Ok(())
    }
}

/// Lists the v4 identity provider Secrets in `namespace` (normally `kubesphere-system`)
/// and parses them. Secrets that fail to parse are returned with their error rather than
/// failing the whole list, so that one broken provider does not disable the others.
pub async fn list_from_cluster(
    client: &kube::Client,
    namespace: &str,
) -> Result<Vec<(String, Result<ProviderConfig>)>> {
    let api: kube::Api<Secret> = kube::Api::namespaced(client.clone(), namespace);
    let params = kube::api::ListParams::default().labels(&format!(
        "{CONFIG_TYPE_LABEL}={CONFIG_TYPE_IDENTITY_PROVIDER}"
    ));
    let list = api
        .list(&params)
        .await
        .map_err(|e| IdpError::Unavailable(format!("listing identity provider secrets: {e}")))?;
    Ok(list
        .items
        .iter()
        .filter(|s| s.type_.as_deref() == Some(SECRET_TYPE))
        .map(|s| {
            (
                s.metadata.name.clone().unwrap_or_default(),
                ProviderConfig::from_secret(s),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;
    use std::collections::BTreeMap;

    const V3: &str = r#"
authentication:
  authenticateRateLimiterMaxTries: 10
  jwtSecret: "xxxxxxxxxxxx"
  oauthOptions:
    accessTokenMaxAge: 1h
    identityProviders:
    - name: ldap
      type: LDAPIdentityProvider
      mappingMethod: auto
      provider:
        host: 192.168.0.2:389
        managerDN: uid=root,cn=users,dc=nas
        managerPassword: 4p4@XuP#dP
        userSearchBase: cn=users,dc=nas
        loginAttribute: uid
        mailAttribute: mail
    - name: google
      type: OIDCIdentityProvider
      mappingMethod: lookup
      provider:
        clientID: abc
        clientSecret: def
        issuer: https://accounts.google.com
        scopes: [openid, email, profile]
"#;

    #[test]
    fn parses_v3_kubesphere_yaml() {
        let list = ProviderConfig::list_from_kubesphere_yaml(V3).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].name, "ldap");
        assert_eq!(list[0].type_, ProviderType::Ldap);
        assert_eq!(list[0].mapping_method, MappingMethod::Auto);
        assert_eq!(list[0].provider["managerDN"], "uid=root,cn=users,dc=nas");
        assert_eq!(list[1].type_, ProviderType::Oidc);
        assert_eq!(list[1].mapping_method, MappingMethod::Lookup);
        assert!(!list[1].hidden && !list[1].disabled);
    }

    #[test]
    fn parses_bare_list_and_json() {
        let list = ProviderConfig::list_from_kubesphere_yaml(
            r#"[{"name":"x","type":"GitHubIdentityProvider","mappingMethod":"manual","hidden":true,"displayName":"X"}]"#,
        )
        .unwrap();
        assert_eq!(list[0].type_, ProviderType::GitHub);
        assert_eq!(list[0].mapping_method, MappingMethod::Manual);
        assert!(list[0].hidden);
        assert_eq!(list[0].display_name, "X");
        assert!(
            ProviderConfig::list_from_kubesphere_yaml("a: 1")
                .unwrap()
                .is_empty()
        );
    }

    fn secret(yaml: &str, type_: &str) -> Secret {
        Secret {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some("oidc-secret".into()),
                ..Default::default()
            },
            type_: Some(type_.into()),
            data: Some(BTreeMap::from([(
                SECRET_DATA_KEY.to_string(),
                ByteString(yaml.as_bytes().to_vec()),
            )])),
            ..Default::default()
        }
    }

    #[test]
    fn parses_v4_secret() {
        let cfg = ProviderConfig::from_secret(&secret(
            "name: keycloak\ntype: OIDCIdentityProvider\nmappingMethod: auto\ndisabled: true\nprovider:\n  clientID: ks\n  issuer: https://kc/realms/x\n",
            SECRET_TYPE,
        ))
        .unwrap();
        assert_eq!(cfg.name, "keycloak");
        assert!(cfg.disabled);
        assert_eq!(cfg.provider["clientID"], "ks");
        let unnamed = ProviderConfig::from_secret(&secret(
            "type: OIDCIdentityProvider\nprovider: {}\n",
            SECRET_TYPE,
        ))
        .unwrap();
        assert_eq!(unnamed.name, "oidc-secret");
        assert_eq!(unnamed.mapping_method, MappingMethod::Lookup);
    }

    #[test]
    fn refuses_secret_of_other_type_and_garbage() {
        assert!(ProviderConfig::from_secret(&secret("name: a\ntype: X\n", "Opaque")).is_err());
        assert!(ProviderConfig::from_secret(&secret("name: [\n", SECRET_TYPE)).is_err());
        assert!(ProviderConfig::from_yaml("name: a\ntype: X\nprovider: 3\n").is_err());
        assert!(ProviderConfig::from_yaml("type: X\n").is_err());
    }

    #[test]
    fn other_types_round_trip() {
        let cfg = ProviderConfig::from_yaml("name: a\ntype: FancyProvider\n").unwrap();
        assert_eq!(cfg.type_, ProviderType::Other("FancyProvider".into()));
        let json = serde_json::to_value(&cfg).unwrap();
        assert_eq!(json["type"], "FancyProvider");
        assert_eq!(json["mappingMethod"], "lookup");
    }

    #[test]
    fn redaction_removes_secrets_only() {
        let list = ProviderConfig::list_from_kubesphere_yaml(V3).unwrap();
        let ldap = list[0].redacted();
        assert!(ldap.provider.get("managerPassword").is_none());
        assert_eq!(ldap.provider["managerDN"], "uid=root,cn=users,dc=nas");
        let oidc = list[1].redacted();
        assert!(oidc.provider.get("clientSecret").is_none());
        assert_eq!(oidc.provider["clientID"], "abc");
        assert!(
            !serde_json::to_string(&oidc).unwrap().contains("def"),
            "client secret leaked"
        );
    }
}
