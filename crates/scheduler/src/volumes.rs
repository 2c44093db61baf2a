//! The volume controller: the default `local-path` StorageClass, PVC↔PV binding, local provisioning and reclaim.

use crate::actions::{ANN_BOUND_BY_CONTROLLER, ANN_SELECTED_NODE};
use crate::protection::{
    FINALIZER_PV, release_claim_protection, remove_finalizer, remove_volume_dir,
};
use crate::volumebinding::volume_fits;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Name of the default StorageClass created at start.
pub const DEFAULT_CLASS: &str = "local-path";
/// The provisioner this controller answers for.
pub const PROVISIONER: &str = "ferrosphere.io/local-path";
/// Annotation marking the default StorageClass.
pub const ANN_DEFAULT_CLASS: &str = "storageclass.kubernetes.io/is-default-class";
/// Annotation set on a claim once its binding is complete.
pub const ANN_BIND_COMPLETED: &str = "pv.kubernetes.io/bind-completed";
/// Annotation naming the provisioner of a dynamically created volume.
pub const ANN_PROVISIONED_BY: &str = "pv.kubernetes.io/provisioned-by";

/// Where provisioned volumes live.
#[derive(Debug, Clone)]
pub struct VolumeOptions {
    /// Directory under which each provisioned volume gets a subdirectory
    /// (`sphere up` passes a directory inside its data dir).
    pub base_dir: PathBuf,
    /// How often everything is re-examined even without a watch event.
    pub resync: Duration,
}

impl VolumeOptions {
    /// Volumes under `base_dir`, resynced every 15 s like the PV controller.
    pub fn new(base_dir: impl Into<PathBuf>) -> Self {
        VolumeOptions {
            base_dir: base_dir.into(),
            resync: Duration::from_secs(15),
        }
    }
}

/// Why the volume controller could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Creating the default StorageClass failed.
    #[error("creating the default StorageClass {DEFAULT_CLASS}: {0}")]
    DefaultClass(#[source] kube::Error),
    /// The volume directory cannot be created.
    #[error("creating volume directory {path}: {source}")]
    BaseDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The default StorageClass object.
pub fn default_class() -> Value {
    json!({
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": DEFAULT_CLASS, "annotations": {ANN_DEFAULT_CLASS: "true"}},
        "provisioner": PROVISIONER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
    })
}

/// Creates the default StorageClass unless it exists.
pub async fn ensure_default_class(client: &Client) -> Result<(), Error> {
    let api: Api<StorageClass> = Api::all(client.clone());
    if api
        .get_opt(DEFAULT_CLASS)
        .await
        .map_err(Error::DefaultClass)?
        .is_some()
    {
        return Ok(());
    }
    let sc: StorageClass = serde_json::from_value(default_class())
        .map_err(|e| Error::DefaultClass(kube::Error::SerdeError(e)))?;
    match api.create(&PostParams::default(), &sc).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(e) => Err(Error::DefaultClass(e)),
    }
}

enum Input {
    Claim(Box<watcher::Event<PersistentVolumeClaim>>),
    Volume(Box<watcher::Event<PersistentVolume>>),
    Class(Box<watcher::Event<StorageClass>>),
}

fn forward<K>(
    api: Api<K>,
    tx: mpsc::Sender<Input>,
    wrap: fn(watcher::Event<K>) -> Input,
    cancel: CancellationToken,
) where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
{
    tokio::spawn(async move {
        let mut s = watcher(api, watcher::Config::default())
            .default_backoff()
            .boxed();
        loop {
            let ev = tokio::select! {
                _ = cancel.cancelled() => return,
                ev = s.next() => ev,
            };
            match ev {
                Some(Ok(ev)) => {
                    if tx.send(wrap(ev)).await.is_err() {
                        return;
                    }
                }
                Some(Err(e)) => tracing::debug!(error = %e, "volume watch error"),
                None => return,
            }
        }
    });
}

#[derive(Default)]
struct State {
    claims: BTreeMap<(String, String), PersistentVolumeClaim>,
    volumes: BTreeMap<String, PersistentVolume>,
    classes: BTreeMap<String, StorageClass>,
    listed: u8,
}

fn apply<K: Resource, Key: Ord>(
    map: &mut BTreeMap<Key, K>,
    ev: watcher::Event<K>,
    key: fn(&K) -> Key,
    listed: &mut u8,
) {
    match ev {
        watcher::Event::Apply(o) | watcher::Event::InitApply(o) => {
            map.insert(key(&o), o);
        }
        watcher::Event::Delete(o) => {
            map.remove(&key(&o));
        }
        watcher::Event::InitDone => *listed += 1,
        watcher::Event::Init => {}
    }
}

fn claim_key(c: &PersistentVolumeClaim) -> (String, String) {
    (
        c.metadata.namespace.clone().unwrap_or_default(),
        c.metadata.name.clone().unwrap_or_default(),
    )
}

fn name_of<K: Resource>(o: &K) -> String {
    o.meta().name.clone().unwrap_or_default()
}

/// Runs the volume controller until `cancel` fires.
pub async fn run(
    client: Client,
    opts: VolumeOptions,
    cancel: CancellationToken,
) -> Result<(), Error> {
    std::fs::create_dir_all(&opts.base_dir).map_err(|source| Error::BaseDir {
        path: opts.base_dir.clone(),
        source,
    })?;
    ensure_default_class(&client).await?;
    let (tx, mut rx) = mpsc::channel(1024);
    forward(
        Api::<PersistentVolumeClaim>::all(client.clone()),
        tx.clone(),
        |e| Input::Claim(Box::new(e)),
        cancel.clone(),
    );
    forward(
        Api::<PersistentVolume>::all(client.clone()),
        tx.clone(),
        |e| Input::Volume(Box::new(e)),
        cancel.clone(),
    );
    forward(
        Api::<StorageClass>::all(client.clone()),
        tx,
        |e| Input::Class(Box::new(e)),
        cancel.clone(),
    );
    let mut st = State::default();
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            input = rx.recv() => {
                let Some(i) = input else { return Ok(()) };
                st.handle(i);
                while let Ok(i) = rx.try_recv() {
                    st.handle(i);
                }
            }
            _ = tokio::time::sleep(opts.resync) => {}
        }
        if st.listed >= 3 {
            st.reconcile(&client, &opts).await;
        }
    }
}

impl State {
    fn handle(&mut self, i: Input) {
        match i {
            Input::Claim(ev) => apply(&mut self.claims, *ev, claim_key, &mut self.listed),
            Input::Volume(ev) => apply(&mut self.volumes, *ev, name_of, &mut self.listed),
            Input::Class(ev) => apply(&mut self.classes, *ev, name_of, &mut self.listed),
        }
    }

    fn default_class(&self) -> Option<String> {
        self.classes
            .values()
            .find(|c| {
                c.metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(ANN_DEFAULT_CLASS))
                    .is_some_and(|v| v == "true")
            })
            .and_then(|c| c.metadata.name.clone())
    }

    async fn reconcile(&mut self, client: &Client, opts: &VolumeOptions) {
        let claims: Vec<PersistentVolumeClaim> = self.claims.values().cloned().collect();
        for c in claims {
            if let Err(e) = self.sync_claim(client, opts, &c).await {
                tracing::warn!(claim = ?claim_key(&c), error = %e, "volume binding failed");
            }
        }
        let volumes: Vec<PersistentVolume> = self.volumes.values().cloned().collect();
        for v in volumes {
            if let Err(e) = self.sync_volume(client, opts, &v).await {
                tracing::warn!(volume = %name_of(&v), error = %e, "volume sync failed");
            }
        }
    }

    async fn sync_claim(
        &mut self,
        client: &Client,
        opts: &VolumeOptions,
        c: &PersistentVolumeClaim,
    ) -> Result<(), kube::Error> {
        if c.metadata.deletion_timestamp.is_some() {
            return release_claim_protection(client, c).await;
        }
        let (ns, name) = claim_key(c);
        let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns);
        let spec = c.spec.clone().unwrap_or_default();
        if spec.storage_class_name.is_none() {
            // Retroactive default class assignment, as the PV controller does.
            if let Some(def) = self.default_class() {
                claims
                    .patch(
                        &name,
                        &PatchParams::default(),
                        &Patch::Merge(&json!({"spec": {"storageClassName": def}})),
                    )
                    .await?;
            }
            return Ok(());
        }
        let bound = c.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound");
        if let Some(vol) = spec.volume_name.clone().filter(|v| !v.is_empty()) {
            if !bound && let Some(pv) = self.volumes.get(&vol).cloned() {
                let owner_ok = pv
                    .spec
                    .as_ref()
                    .and_then(|s| s.claim_ref.as_ref())
                    .is_none_or(|r| {
                        r.name.as_deref() == Some(&name) && r.namespace.as_deref() == Some(&ns)
                    });
                if owner_ok {
                    self.bind(client, c, &pv, false).await?;
                }
            }
            return Ok(());
        }
        let uid = c.metadata.uid.clone();
        // A volume already reserved for this claim (by the scheduler or earlier).
        let reserved = self.volumes.values().find(|pv| {
            pv.spec
                .as_ref()
                .and_then(|s| s.claim_ref.as_ref())
                .is_some_and(|r| {
                    r.name.as_deref() == Some(&name)
                        && r.namespace.as_deref() == Some(&ns)
                        && (r.uid.is_none() || r.uid == uid)
                })
        });
        if let Some(pv) = reserved.cloned() {
            return self.bind(client, c, &pv, true).await;
        }
        let class_name = spec.storage_class_name.clone().unwrap_or_default();
        let class = self.classes.get(&class_name).cloned();
        let wait = class
            .as_ref()
            .and_then(|k| k.volume_binding_mode.as_deref())
            == Some("WaitForFirstConsumer");
        let selected = c
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(ANN_SELECTED_NODE))
            .cloned();
        if !wait {
            let mut fits: Vec<&PersistentVolume> = self
                .volumes
                .values()
                .filter(|pv| volume_fits(c, pv))
                .collect();
            fits.sort_by_key(|pv| storage_of(pv));
            if let Some(pv) = fits.first().map(|p| (*p).clone()) {
                return self.bind(client, c, &pv, true).await;
            }
        }
        let ours = class.as_ref().is_some_and(|k| k.provisioner == PROVISIONER);
        if ours && (!wait || selected.is_some()) {
            let pv = self
                .provision(client, opts, c, class.as_ref(), selected.as_deref())
                .await?;
            return self.bind(client, c, &pv, true).await;
        }
        Ok(())
    }

    async fn provision(
        &mut self,
        client: &Client,
        opts: &VolumeOptions,
        c: &PersistentVolumeClaim,
        class: Option<&StorageClass>,
        node: Option<&str>,
    ) -> Result<PersistentVolume, kube::Error> {
        let (ns, name) = claim_key(c);
        let uid = c.metadata.uid.clone().unwrap_or_default();
        let pv_name = format!("pvc-{uid}");
        let dir = opts.base_dir.join(format!("{pv_name}_{ns}_{name}"));
        if let Err(e) = std::fs::create_dir_all(&dir) {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot create volume directory");
        }
        let spec = c.spec.clone().unwrap_or_default();
        let request = spec
            .resources
            .as_ref()
            .and_then(|r| r.requests.as_ref())
            .and_then(|r| r.get("storage"))
            .cloned();
        let mut pv = json!({
            "apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": pv_name, "annotations": {ANN_PROVISIONED_BY: PROVISIONER}},
            "spec": {
                "capacity": {"storage": request.map_or_else(|| "1Gi".to_string(), |q| q.0)},
                "accessModes": spec.access_modes.clone().unwrap_or_else(|| vec!["ReadWriteOnce".into()]),
                "persistentVolumeReclaimPolicy": class.and_then(|k| k.reclaim_policy.clone()).unwrap_or_else(|| "Delete".into()),
                "storageClassName": spec.storage_class_name,
                "volumeMode": spec.volume_mode.clone().unwrap_or_else(|| "Filesystem".into()),
                "hostPath": {"path": dir.to_string_lossy(), "type": "DirectoryOrCreate"},
                "claimRef": {"kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": ns, "name": name,
                             "uid": uid, "resourceVersion": c.metadata.resource_version},
            },
        });
        if let Some(node) = node {
            pv["spec"]["nodeAffinity"] = json!({"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}});
        }
        let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns);
        let ann = json!({"metadata": {"annotations": {
            "volume.kubernetes.io/storage-provisioner": PROVISIONER,
            "volume.beta.kubernetes.io/storage-provisioner": PROVISIONER,
        }}});
        claims
            .patch(&name, &PatchParams::default(), &Patch::Merge(&ann))
            .await?;
        let api: Api<PersistentVolume> = Api::all(client.clone());
        let obj: PersistentVolume = serde_json::from_value(pv).map_err(kube::Error::SerdeError)?;
        let created = match api.create(&PostParams::default(), &obj).await {
            Ok(v) => v,
            Err(kube::Error::Api(s)) if s.code == 409 => api.get(&name_of(&obj)).await?,
            Err(e) => return Err(e),
        };
        self.volumes.insert(name_of(&created), created.clone());
        Ok(created)
    }

    /// Completes a binding in both directions and sets both statuses Bound.
    async fn bind(
        &mut self,
        client: &Client,
        c: &PersistentVolumeClaim,
        pv: &PersistentVolume,
        by_controller: bool,
    ) -> Result<(), kube::Error> {
        let (ns, name) = claim_key(c);
        let pv_name = name_of(pv);
        let volumes: Api<PersistentVolume> = Api::all(client.clone());
        let has_ref = pv
            .spec
            .as_ref()
            .and_then(|s| s.claim_ref.as_ref())
            .is_some_and(|r| r.uid == c.metadata.uid);
        if !has_ref {
            let patch = json!({"spec": {"claimRef": {"kind": "PersistentVolumeClaim", "apiVersion": "v1",
                "namespace": ns, "name": name, "uid": c.metadata.uid, "resourceVersion": c.metadata.resource_version}},
                "metadata": {"annotations": {ANN_BOUND_BY_CONTROLLER: "yes"}}});
            volumes
                .patch(&pv_name, &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
        }
        if pv.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Bound") {
            volumes
                .patch_status(
                    &pv_name,
                    &PatchParams::default(),
                    &Patch::Merge(&json!({"status": {"phase": "Bound"}})),
                )
                .await?;
        }
        let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns);
        let mut ann = json!({ANN_BIND_COMPLETED: "yes"});
        if by_controller {
            ann[ANN_BOUND_BY_CONTROLLER] = json!("yes");
        }
        let patch = json!({"metadata": {"annotations": ann}, "spec": {"volumeName": pv_name}});
        claims
            .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
        let pvs = pv.spec.clone().unwrap_or_default();
        let status = json!({"status": {"phase": "Bound", "accessModes": pvs.access_modes, "capacity": pvs.capacity}});
        claims
            .patch_status(&name, &PatchParams::default(), &Patch::Merge(&status))
            .await?;
        Ok(())
    }

    async fn sync_volume(
        &mut self,
        client: &Client,
        opts: &VolumeOptions,
        pv: &PersistentVolume,
    ) -> Result<(), kube::Error> {
        let api: Api<PersistentVolume> = Api::all(client.clone());
        let name = name_of(pv);
        let phase = pv
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default();
        if pv.metadata.deletion_timestamp.is_some() {
            // The pv-protection controller's rule: a volume is in use while Bound.
            if phase != "Bound" {
                remove_finalizer(&api, &pv.metadata, FINALIZER_PV).await?;
            }
            return Ok(());
        }
        let Some(r) = pv.spec.as_ref().and_then(|s| s.claim_ref.clone()) else {
            if phase.is_empty() || phase == "Pending" {
                api.patch_status(
                    &name,
                    &PatchParams::default(),
                    &Patch::Merge(&json!({"status": {"phase": "Available"}})),
                )
                .await?;
            }
            return Ok(());
        };
        let key = (
            r.namespace.clone().unwrap_or_default(),
            r.name.clone().unwrap_or_default(),
        );
        let cached = self
            .claims
            .get(&key)
            .is_some_and(|c| r.uid.is_none() || c.metadata.uid == r.uid);
        if cached
            || phase == "Released"
                && pv
                    .spec
                    .as_ref()
                    .and_then(|s| s.persistent_volume_reclaim_policy.as_deref())
                    == Some("Retain")
        {
            return Ok(());
        }
        // Confirm with the server before releasing: the claim may be newer than our cache.
        let live = Api::<PersistentVolumeClaim>::namespaced(client.clone(), &key.0)
            .get_opt(&key.1)
            .await?;
        if live.is_some_and(|c| r.uid.is_none() || c.metadata.uid == r.uid) {
            return Ok(());
        }
        let policy = pv
            .spec
            .as_ref()
            .and_then(|s| s.persistent_volume_reclaim_policy.clone())
            .unwrap_or_else(|| "Retain".into());
        let ours = pv
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(ANN_PROVISIONED_BY))
            .is_some_and(|p| p == PROVISIONER);
        if phase != "Released" {
            api.patch_status(
                &name,
                &PatchParams::default(),
                &Patch::Merge(&json!({"status": {"phase": "Released"}})),
            )
            .await?;
        }
        if policy == "Delete" && ours {
            if let Some(path) = pv
                .spec
                .as_ref()
                .and_then(|s| s.host_path.as_ref())
                .map(|h| PathBuf::from(&h.path))
            {
                remove_volume_dir(&opts.base_dir, &path);
            }
            match api.delete(&name, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(e),
            }
            self.volumes.remove(&name);
        }
        Ok(())
    }
}

fn storage_of(pv: &PersistentVolume) -> i64 {
    crate::resources::Resources::from_list(pv.spec.as_ref().and_then(|s| s.capacity.as_ref()))
        .scalar
        .get("storage")
        .copied()
        .unwrap_or(0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn default_class_shape() {
        let sc: StorageClass = serde_json::from_value(default_class()).unwrap();
        assert_eq!(sc.provisioner, PROVISIONER);
        assert_eq!(
            sc.volume_binding_mode.as_deref(),
            Some("WaitForFirstConsumer")
        );
        assert_eq!(sc.metadata.annotations.unwrap()[ANN_DEFAULT_CLASS], "true");
    }

    #[test]
    fn only_removes_direct_children_of_base() {
        let base = tempfile::tempdir().unwrap();
        let inside = base.path().join("pvc-1");
        std::fs::create_dir(&inside).unwrap();
        let outside = tempfile::tempdir().unwrap();
        remove_volume_dir(base.path(), outside.path());
        assert!(outside.path().exists());
        remove_volume_dir(base.path(), &inside);
        assert!(!inside.exists());
    }
}
