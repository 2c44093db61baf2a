//! watch_providers against the in-process kernel: Secrets created, edited, disabled and deleted.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use apimachinery::UserInfo;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::Api;
use kube::api::{DeleteParams, ObjectMeta, PostParams};
use tokio::sync::mpsc;

const NS: &str = "kubesphere-system";

fn secret(name: &str, yaml: &str, label: bool) -> Secret {
    let labels = label.then(|| {
        BTreeMap::from([(
            idp::CONFIG_TYPE_LABEL.to_string(),
            idp::CONFIG_TYPE_IDENTITY_PROVIDER.to_string(),
        )])
    });
    Secret {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(NS.into()),
            labels,
            ..Default::default()
        },
        type_: Some(idp::SECRET_TYPE.into()),
        string_data: Some(BTreeMap::from([(
            idp::SECRET_DATA_KEY.to_string(),
            yaml.to_string(),
        )])),
        ..Default::default()
    }
}

const LDAP: &str = "name: corp\ntype: LDAPIdentityProvider\nmappingMethod: auto\nprovider:\n  host: 127.0.0.1:389\n  userSearchBase: dc=example\n";
const OIDC: &str = "name: sso\ntype: OIDCIdentityProvider\nprovider:\n  clientID: ks\n  issuer: https://sso.example\n";

/// The next published registry's provider names.
async fn next(rx: &mut mpsc::UnboundedReceiver<idp::Registry>) -> Vec<String> {
    let registry = tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .expect("no registry published")
        .unwrap();
    registry.entries().map(|e| e.config.name.clone()).collect()
}

#[tokio::test]
async fn registry_follows_the_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = kernel::KernelConfig::new(dir.path());
    cfg.fsync = false;
    let kernel = kernel::Kernel::start(cfg).await.unwrap();
    let client = kubeclient::in_process(kernel.router(), UserInfo::system());
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(NS.into()),
            ..Default::default()
        },
        ..Default::default()
    };
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
    let secrets: Api<Secret> = Api::namespaced(client.clone(), NS);
    let pp = PostParams::default();
    secrets
        .create(&pp, &secret("corp", LDAP, true))
        .await
        .unwrap();
    // Without the label KubeSphere does not treat it as a provider either.
    secrets
        .create(&pp, &secret("stray", OIDC, false))
        .await
        .unwrap();

    let (tx, mut rx) = mpsc::unbounded_channel();
    let watcher = tokio::spawn(async move {
        idp::watch_providers(client, NS, move |registry| {
            let _ = tx.send(registry);
        })
        .await;
    });

    assert_eq!(next(&mut rx).await, ["corp"]);
    secrets
        .create(&pp, &secret("sso", OIDC, true))
        .await
        .unwrap();
    assert_eq!(next(&mut rx).await, ["corp", "sso"]);

    let disabled = LDAP.replace("mappingMethod: auto", "mappingMethod: auto\ndisabled: true");
    let mut corp = secret("corp", &disabled, true);
    corp.metadata.resource_version = secrets.get("corp").await.unwrap().metadata.resource_version;
    secrets.replace("corp", &pp, &corp).await.unwrap();
    assert_eq!(next(&mut rx).await, ["sso"]);

    secrets
        .delete("sso", &DeleteParams::default())
        .await
        .unwrap();
    assert!(next(&mut rx).await.is_empty());
    watcher.abort();
}
