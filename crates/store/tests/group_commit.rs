//! Group commit: concurrent writers share transactions (and fsyncs) instead of paying one each.

#![allow(clippy::unwrap_used)] // a test fails loudly on any error

use std::sync::Arc;

use store::{NullSink, Options, Precondition, Store, Write};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_concurrent_writers_share_commits() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(
        &dir.path().join("kernel.db"),
        Options::default(),
        Arc::new(NullSink),
    )
    .unwrap();
    const WRITERS: usize = 32;
    const PER_WRITER: usize = 20;
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..PER_WRITER {
                let key = format!("/registry/bench/w{w}-{i}");
                store
                    .write(Write::put(key, Precondition::MustNotExist, b"{}".to_vec()))
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let stats = store.stats();
    let writes = (WRITERS * PER_WRITER) as u64;
    assert_eq!(stats.writes, writes);
    assert_eq!(store.revision(), writes);
    // With 32 writers waiting on each fsync the batches are large; a per-write commit would give 640.
    assert!(
        stats.commits * 4 < writes,
        "{} commits for {writes} writes: writes are not being grouped",
        stats.commits
    );
    let (items, more) = store
        .range("/registry/bench/", "/registry/bench0", None, 0, 0)
        .unwrap();
    assert_eq!(items.len() as u64, writes);
    assert!(!more);
}

#[tokio::test]
async fn a_batch_of_one_still_commits_every_write() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        fsync: false,
        max_batch: 1,
    };
    let (store, _) =
        Store::open(&dir.path().join("kernel.db"), options, Arc::new(NullSink)).unwrap();
    let mut tasks = Vec::new();
    for w in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .write(Write::put(
                    format!("/k{w}"),
                    Precondition::None,
                    b"v".to_vec(),
                ))
                .await
                .unwrap()
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(store.stats().commits, 8);
    assert_eq!(store.stats().writes, 8);
}
