//! Shared informers: one watch per resource type feeding an indexed cache and change handlers.
//!
//! As with client-go's shared informers, every controller reads the same cache, so
//! 100,000 pods are held once no matter how many controllers look at them.

use std::fmt::Debug;
use std::sync::Arc;

use futures::StreamExt;
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use crate::cache::{Cache, Change, Indexes, Writer};

/// Called with an object that changed; `deleted` is true when it is gone.
pub type Handler<K> = Arc<dyn Fn(&K, bool) + Send + Sync>;

/// A watch of one resource type, not yet started.
pub struct Informer<K> {
    api: Api<K>,
    writer: Writer<K>,
    handlers: Vec<Handler<K>>,
}

impl<K> Informer<K>
where
    K: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    /// An informer over every object `api` can list, with the namespace index.
    pub fn new(api: Api<K>) -> Self {
        Self::with_indexes(api, Indexes::Namespace)
    }

    /// An informer whose cache also indexes objects by controller owner.
    pub fn with_indexes(api: Api<K>, indexes: Indexes) -> Self {
        Informer {
            api,
            writer: Writer::new(indexes),
            handlers: Vec::new(),
        }
    }

    /// The cache this informer fills.
    pub fn cache(&self) -> Cache<K> {
        self.writer.cache()
    }

    /// Registers `f` to be told about every change after the cache has applied it.
    pub fn on_change(&mut self, f: impl Fn(&K, bool) + Send + Sync + 'static) {
        self.handlers.push(Arc::new(f));
    }

    /// Starts the watch; it runs until `cancel` fires.
    pub fn spawn(self, cancel: CancellationToken) -> Cache<K> {
        let Informer {
            api,
            mut writer,
            handlers,
        } = self;
        let cache = writer.cache();
        let stream = watcher::watcher(api, watcher::Config::default()).default_backoff();
        tokio::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            loop {
                let next = tokio::select! {
                    () = cancel.cancelled() => return,
                    n = stream.next() => n,
                };
                let Some(ev) = next else { return };
                let event = match ev {
                    Ok(event) => event,
                    Err(e) => {
                        tracing::debug!(error = %e, "watch error; the watcher retries");
                        continue;
                    }
                };
                let notify = |o: &K, deleted: bool| handlers.iter().for_each(|h| h(o, deleted));
                match writer.apply(event) {
                    Change::None => {}
                    Change::Applied(o) => notify(&o, false),
                    Change::Deleted(o) => notify(&o, true),
                    // The cache swaps in a relisted set atomically at InitDone; the
                    // handlers hear about all of it only then so reconciles see a full
                    // cache. Objects the relist lost were deleted while the watch was
                    // down, and are reported as deletions, as client-go's Replace does.
                    Change::Relisted { current, gone } => {
                        gone.iter().for_each(|o| notify(o, true));
                        current.iter().for_each(|o| notify(o, false));
                    }
                }
            }
        });
        cache
    }
}
