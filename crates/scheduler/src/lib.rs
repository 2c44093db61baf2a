//! The pod scheduler, node lifecycle and volume binding for embedded mode, written against the Kubernetes API only.
//!
//! Decisions are pure functions over snapshots ([`filters`], [`scoring`],
//! [`interpod`], [`volumebinding`], [`message`]); the loops that watch the API and
//! write results are [`run_scheduler`], [`lifecycle::run`] and [`volumes::run`].
//! [`run`] starts all three.

mod actions;
pub mod cache;
pub mod filters;
pub mod interpod;
pub mod lifecycle;
pub mod message;
pub mod protection;
pub mod queue;
pub mod resources;
mod scheduler;
pub mod scoring;
pub mod selectors;
pub mod snapshot;
pub mod volumebinding;
pub mod volumes;

pub use scheduler::{SchedulerOptions, run as run_scheduler};

use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

/// Everything `sphere up` runs for pods to land on nodes.
#[derive(Debug, Clone)]
pub struct Options {
    pub scheduler: SchedulerOptions,
    /// `None` disables the node lifecycle controller.
    pub lifecycle: Option<lifecycle::LifecycleOptions>,
    /// `None` disables the volume controller and the default StorageClass.
    pub volumes: Option<volumes::VolumeOptions>,
}

impl Options {
    /// All three loops, with provisioned volumes under `volume_dir`.
    pub fn new(volume_dir: impl Into<PathBuf>) -> Self {
        Options {
            scheduler: SchedulerOptions::default(),
            lifecycle: Some(lifecycle::LifecycleOptions::default()),
            volumes: Some(volumes::VolumeOptions::new(volume_dir)),
        }
    }
}

/// Why [`run`] stopped before being cancelled.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The volume controller could not start.
    #[error(transparent)]
    Volumes(#[from] volumes::Error),
}

/// Runs the scheduler, the node lifecycle controller and the volume controller
/// until `cancel` fires.
pub async fn run(
    client: kube::Client,
    opts: Options,
    cancel: CancellationToken,
) -> Result<(), Error> {
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(run_scheduler(
        client.clone(),
        opts.scheduler,
        cancel.clone(),
    ));
    if let Some(l) = opts.lifecycle {
        tasks.spawn(lifecycle::run(client.clone(), l, cancel.clone()));
    }
    let volumes = opts
        .volumes
        .map(|v| tokio::spawn(volumes::run(client, v, cancel.clone())));
    if let Some(v) = volumes
        && let Ok(Err(e)) = v.await
    {
        cancel.cancel();
        return Err(e.into());
    }
    while tasks.join_next().await.is_some() {}
    Ok(())
}
