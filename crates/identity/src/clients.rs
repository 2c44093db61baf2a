//! OAuth clients: the built-in public console client `kubesphere`, and registered clients kept as Secrets with generated secrets.

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{ObjectMeta, PostParams};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::kinds::SYSTEM_NAMESPACE;

/// The console's client id. It is public: a `client_secret` sent with it is ignored.
pub const BUILTIN_CLIENT: &str = "kubesphere";
/// Label (and value) marking OAuth client Secrets, as KubeSphere v4 does.
pub const LABEL_TYPE: &str = "config.kubesphere.io/type";
/// The Secret type of OAuth clients.
pub const SECRET_TYPE: &str = "config.kubesphere.io/oauthclient";
/// The data key holding the client's configuration.
pub const DATA_KEY: &str = "configuration.yaml";

/// A registered OAuth client, in KubeSphere's `configuration.yaml` shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthClient {
    /// The client id.
    pub name: String,
    /// The client secret; None for a public client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// auto, prompt or deny.
    #[serde(default = "auto")]
    pub grant_method: String,
    /// Trusted clients may use the password grant.
    #[serde(default)]
    pub trusted: bool,
    /// Where authorization codes may be sent.
    #[serde(default, rename = "redirectURIs")]
    pub redirect_uris: Vec<String>,
}

fn auto() -> String {
    "auto".into()
}

impl OAuthClient {
    /// The built-in console client.
    pub fn builtin() -> Self {
        OAuthClient {
            name: BUILTIN_CLIENT.into(),
            secret: None,
            grant_method: auto(),
            trusted: true,
            redirect_uris: vec![],
        }
    }

    /// Whether `given` authenticates this client. Public clients accept anything
    /// (KubeSphere-era scripts send `client_secret=kubesphere`).
    pub fn authenticates(&self, given: Option<&str>) -> bool {
        match &self.secret {
            None => true,
            Some(want) => given.is_some_and(|g| constant_time_eq(g, want)),
        }
    }

    /// Whether `uri` is one of the registered redirect URIs (exact match).
    pub fn allows_redirect(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    // Comparing digests makes the time independent of where the inputs differ and of their lengths.
    let da = ring::digest::digest(&ring::digest::SHA256, a.as_bytes());
    let db = ring::digest::digest(&ring::digest::SHA256, b.as_bytes());
    da.as_ref()
        .iter()
        .zip(db.as_ref())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// Errors reading or registering clients.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The cluster failed.
    #[error("oauth clients: {0}")]
    Kube(#[from] kube::Error),
    /// The client configuration could not be encoded.
    #[error("oauth client configuration: {0}")]
    Encode(String),
    /// The name is taken or reserved.
    #[error("oauth client {0} already exists")]
    Exists(String),
}

fn secret_name(id: &str) -> String {
    format!("oauthclient-{id}")
}

/// The client `id`: the built-in one, or a registered one read from its Secret.
pub async fn find(client: &kube::Client, id: &str) -> Result<Option<OAuthClient>, Error> {
    if id == BUILTIN_CLIENT {
        return Ok(Some(OAuthClient::builtin()));
    }
    let api: Api<Secret> = Api::namespaced(client.clone(), SYSTEM_NAMESPACE);
    let Some(s) = api.get_opt(&secret_name(id)).await? else {
        return Ok(None);
    };
    let labelled = s
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(LABEL_TYPE))
        .is_some_and(|v| v == "oauthclient");
    if !labelled {
        return Ok(None);
    }
    let parsed = s
        .data
        .as_ref()
        .and_then(|d| d.get(DATA_KEY))
        .and_then(|b| std::str::from_utf8(&b.0).ok())
        .and_then(|t| serde_saphyr::from_str::<OAuthClient>(t).ok());
    Ok(parsed.filter(|c| c.name == id))
}

/// Registers a confidential client with a generated secret; returns the secret.
pub async fn register(
    client: &kube::Client,
    id: &str,
    redirect_uris: Vec<String>,
    trusted: bool,
) -> Result<String, Error> {
    if id == BUILTIN_CLIENT {
        return Err(Error::Exists(id.into()));
    }
    let secret = crate::sessions::new_id() + &crate::sessions::new_id();
    let cfg = OAuthClient {
        name: id.into(),
        secret: Some(secret.clone()),
        grant_method: auto(),
        trusted,
        redirect_uris,
    };
    let yaml = serde_saphyr::to_string(&cfg).map_err(|e| Error::Encode(e.to_string()))?;
    let obj = Secret {
        metadata: ObjectMeta {
            name: Some(secret_name(id)),
            namespace: Some(SYSTEM_NAMESPACE.into()),
            labels: Some(BTreeMap::from([(LABEL_TYPE.into(), "oauthclient".into())])),
            ..Default::default()
        },
        type_: Some(SECRET_TYPE.into()),
        data: Some(BTreeMap::from([(
            DATA_KEY.into(),
            ByteString(yaml.into_bytes()),
        )])),
        ..Default::default()
    };
    let api: Api<Secret> = Api::namespaced(client.clone(), SYSTEM_NAMESPACE);
    match api.create(&PostParams::default(), &obj).await {
        Ok(_) => Ok(secret),
        Err(kube::Error::Api(s)) if s.code == 409 => Err(Error::Exists(id.into())),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_and_confidential_clients() {
        assert!(OAuthClient::builtin().authenticates(Some("kubesphere")));
        assert!(OAuthClient::builtin().authenticates(None));
        let c = OAuthClient {
            secret: Some("s3cret".into()),
            ..OAuthClient::builtin()
        };
        assert!(c.authenticates(Some("s3cret")));
        assert!(!c.authenticates(Some("s3cret ")));
        assert!(!c.authenticates(None));
    }
}
