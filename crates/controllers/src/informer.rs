//! Shared informers: one watch per resource type feeding a reflector store and change handlers.
//!
//! As with client-go's shared informers, every controller reads the same cache, so
//! 100,000 pods are held once no matter how many controllers look at them.

use std::fmt::Debug;
use std::sync::Arc;

use futures::StreamExt;
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher::{self, Event};
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

/// Called with an object that changed; `deleted` is true when it is gone.
pub type Handler<K> = Arc<dyn Fn(&K, bool) + Send + Sync>;

/// A watch of one resource type, not yet started.
pub struct Informer<K>
where
    K: kube::Resource<DynamicType = ()> + Clone + 'static,
{
    api: Api<K>,
    store: Store<K>,
    writer: reflector::store::Writer<K>,
    handlers: Vec<Handler<K>>,
}

impl<K> Informer<K>
where
    K: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    /// An informer over every object `api` can list.
    pub fn new(api: Api<K>) -> Self {
        let (store, writer) = reflector::store();
        Informer {
            api,
            store,
            writer,
            handlers: Vec::new(),
        }
    }

    /// The cache this informer fills.
    pub fn store(&self) -> Store<K> {
        self.store.clone()
    }

    /// Registers `f` to be told about every change after the store has applied it.
    pub fn on_change(&mut self, f: impl Fn(&K, bool) + Send + Sync + 'static) {
        self.handlers.push(Arc::new(f));
    }

    /// Starts the watch; it runs until `cancel` fires.
    pub fn spawn(self, cancel: CancellationToken) -> Store<K> {
        let Informer {
            api,
            store,
            writer,
            handlers,
        } = self;
        let reader = store.clone();
        let stream = reflector::reflector(
            writer,
            watcher::watcher(api, watcher::Config::default()).default_backoff(),
        );
        tokio::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            loop {
                let next = tokio::select! {
                    () = cancel.cancelled() => return,
                    n = stream.next() => n,
                };
                let Some(ev) = next else { return };
                match ev {
                    Ok(Event::Apply(o)) => handlers.iter().for_each(|h| h(&o, false)),
                    Ok(Event::Delete(o)) => handlers.iter().for_each(|h| h(&o, true)),
                    // The store swaps in a relisted set atomically at InitDone; tell the
                    // handlers about all of it only then so reconciles see a full cache.
                    Ok(Event::InitDone) => {
                        for o in reader.state() {
                            handlers.iter().for_each(|h| h(&o, false));
                        }
                    }
                    Ok(Event::Init | Event::InitApply(_)) => {}
                    Err(e) => tracing::debug!(error = %e, "watch error; the watcher retries"),
                }
            }
        });
        store
    }
}
