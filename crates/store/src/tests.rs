//! Unit tests of the store's semantics: preconditions, revisions, historical reads, compaction, reopen, open errors.

use std::path::Path;
use std::sync::{Arc, Mutex};

use super::*;

#[derive(Default)]
struct Recorder(Mutex<Vec<Event>>);

impl CommitSink for Recorder {
    fn committed(&self, events: &[Event]) {
        self.0.lock().unwrap().extend_from_slice(events);
    }
}

impl Recorder {
    fn revisions(&self) -> Vec<Revision> {
        self.0.lock().unwrap().iter().map(|e| e.revision).collect()
    }
}

fn open(path: &Path) -> (Store, Snapshot, Arc<Recorder>) {
    let sink = Arc::new(Recorder::default());
    let (store, snapshot) = Store::open(path, Options::default(), sink.clone()).unwrap();
    (store, snapshot, sink)
}

async fn put(store: &Store, key: &str, pre: Precondition, value: &str) -> Result<Committed> {
    store.write(Write::put(key, pre, value.as_bytes())).await
}

fn keys(items: &[KeyValue]) -> Vec<&str> {
    items.iter().map(|kv| kv.key.as_str()).collect()
}

fn value(kv: &KeyValue) -> &str {
    std::str::from_utf8(&kv.value).unwrap()
}

#[tokio::test]
async fn preconditions_decide_each_write() {
    let dir = tempfile::tempdir().unwrap();
    let (store, snapshot, _) = open(&dir.path().join("kernel.db"));
    assert_eq!(snapshot.revision, 0);
    assert!(snapshot.items.is_empty());

    let created = put(&store, "/a", Precondition::MustNotExist, "1")
        .await
        .unwrap();
    assert_eq!((created.revision, created.create_revision), (1, 1));
    assert_eq!(created.value.as_deref(), Some(&b"1"[..]));
    match put(&store, "/a", Precondition::MustNotExist, "x").await {
        Err(Error::PreconditionFailed { key, current }) => {
            assert_eq!(key, "/a");
            assert_eq!(current, Some((1, 1)));
        }
        other => panic!("expected PreconditionFailed, got {other:?}"),
    }
    assert!(matches!(
        put(&store, "/a", Precondition::ModRevision(7), "x").await,
        Err(Error::PreconditionFailed {
            current: Some((1, 1)),
            ..
        })
    ));
    let updated = put(&store, "/a", Precondition::ModRevision(1), "2")
        .await
        .unwrap();
    assert_eq!((updated.revision, updated.create_revision), (2, 1));
    let updated = put(&store, "/a", Precondition::Exists, "3").await.unwrap();
    assert_eq!((updated.revision, updated.create_revision), (3, 1));
    let updated = put(&store, "/a", Precondition::None, "4").await.unwrap();
    assert_eq!((updated.revision, updated.create_revision), (4, 1));
    assert!(matches!(
        put(&store, "/missing", Precondition::Exists, "x").await,
        Err(Error::PreconditionFailed { current: None, .. })
    ));
    assert!(matches!(
        put(&store, "/missing", Precondition::ModRevision(4), "x").await,
        Err(Error::PreconditionFailed { current: None, .. })
    ));
    let created = put(&store, "/b", Precondition::None, "b").await.unwrap();
    assert_eq!((created.revision, created.create_revision), (5, 5));

    // Deletes need the key to exist, whatever the precondition says.
    for pre in [
        Precondition::None,
        Precondition::Exists,
        Precondition::MustNotExist,
    ] {
        assert!(matches!(
            store.write(Write::delete("/missing", pre)).await,
            Err(Error::PreconditionFailed { current: None, .. })
        ));
    }
    assert!(matches!(
        store
            .write(Write::delete("/a", Precondition::MustNotExist))
            .await,
        Err(Error::PreconditionFailed {
            current: Some((1, 4)),
            ..
        })
    ));
    assert!(matches!(
        store
            .write(Write::delete("/a", Precondition::ModRevision(3)))
            .await,
        Err(Error::PreconditionFailed {
            current: Some((1, 4)),
            ..
        })
    ));
    let deleted = store
        .write(Write::delete("/a", Precondition::ModRevision(4)))
        .await
        .unwrap();
    assert_eq!((deleted.revision, deleted.create_revision), (6, 1));
    assert_eq!(deleted.value, None);
    // A re-created key starts a new incarnation.
    let again = put(&store, "/a", Precondition::MustNotExist, "new")
        .await
        .unwrap();
    assert_eq!((again.revision, again.create_revision), (7, 7));
    assert_eq!(store.revision(), 7);
    let stats = store.stats();
    assert_eq!(stats.writes, 7);
    assert_eq!(stats.failed_writes, 9);
}

#[tokio::test]
async fn revisions_increase_only_for_applied_writes_and_reach_the_encoder_and_sink() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _, sink) = open(&dir.path().join("kernel.db"));
    let w = Write::put_with("/cm", Precondition::MustNotExist, |rev| {
        Ok(format!("{{\"resourceVersion\":\"{rev}\"}}").into_bytes())
    });
    let first = store.write(w).await.unwrap();
    assert_eq!(
        first.value.as_deref(),
        Some(&b"{\"resourceVersion\":\"1\"}"[..])
    );
    // The sink saw the event before the writer was answered.
    assert_eq!(sink.revisions(), vec![1]);

    let refused = Write::put_with("/cm2", Precondition::None, |_| Err("bad object".to_owned()));
    assert!(matches!(store.write(refused).await, Err(Error::Encode(m)) if m == "bad object"));
    let panicking = Write::put_with("/cm2", Precondition::None, |_| panic!("encoder bug"));
    assert!(matches!(
        store.write(panicking).await,
        Err(Error::Encode(_))
    ));
    assert_eq!(store.revision(), 1);
    assert!(store.get("/cm2", 0).unwrap().is_none());

    let w = Write::put_with("/cm", Precondition::ModRevision(1), |rev| {
        Ok(rev.to_string().into_bytes())
    });
    let second = store.write(w).await.unwrap();
    assert_eq!(second.revision, 2);
    assert_eq!(second.value.as_deref(), Some(&b"2"[..]));
    assert_eq!(sink.revisions(), vec![1, 2]);
    let events = sink.0.lock().unwrap().clone();
    assert_eq!(events[1].kind, EventKind::Put);
    assert_eq!(events[1].create_revision, 1);
}

#[tokio::test]
async fn concurrent_writers_get_distinct_increasing_revisions_and_one_cas_winner() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _, sink) = open(&dir.path().join("kernel.db"));
    put(&store, "/counter", Precondition::MustNotExist, "0")
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            put(
                &store,
                "/counter",
                Precondition::ModRevision(1),
                &i.to_string(),
            )
            .await
        }));
    }
    let mut winners = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(c) => {
                winners += 1;
                assert_eq!(c.revision, 2);
            }
            Err(Error::PreconditionFailed {
                current: Some((1, 2)),
                ..
            }) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(winners, 1);
    assert_eq!(sink.revisions(), vec![1, 2]);
}

/// rev 1 put /a=a1, 2 put /b=b1, 3 put /a=a2, 4 delete /b, 5 put /c=c1
async fn history(store: &Store) {
    put(store, "/a", Precondition::MustNotExist, "a1")
        .await
        .unwrap();
    put(store, "/b", Precondition::MustNotExist, "b1")
        .await
        .unwrap();
    put(store, "/a", Precondition::Exists, "a2").await.unwrap();
    store
        .write(Write::delete("/b", Precondition::None))
        .await
        .unwrap();
    put(store, "/c", Precondition::MustNotExist, "c1")
        .await
        .unwrap();
}

#[tokio::test]
async fn range_reads_the_state_at_old_revisions() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _, _) = open(&dir.path().join("kernel.db"));
    history(&store).await;

    let at = |rev| store.range("/", "0", None, rev, 0).unwrap();
    let (items, more) = at(1);
    assert!(!more);
    assert_eq!(keys(&items), ["/a"]);
    assert_eq!(value(&items[0]), "a1");
    let (items, _) = at(2);
    assert_eq!(keys(&items), ["/a", "/b"]);
    let (items, _) = at(3);
    assert_eq!(keys(&items), ["/a", "/b"]);
    assert_eq!(value(&items[0]), "a2");
    assert_eq!((items[0].create_revision, items[0].mod_revision), (1, 3));
    assert_eq!(keys(&at(4).0), ["/a"]);
    assert_eq!(keys(&at(5).0), ["/a", "/c"]);
    assert_eq!(at(0).0, at(5).0);
    assert!(matches!(
        store.range("/", "0", None, 6, 0),
        Err(Error::FutureRevision {
            requested: 6,
            current: 5
        })
    ));
    // Bounds: [start, end), and an empty end is unbounded.
    assert_eq!(
        keys(&store.range("/b", "/c", None, 2, 0).unwrap().0),
        ["/b"]
    );
    assert_eq!(keys(&store.range("/b", "", None, 0, 0).unwrap().0), ["/c"]);
    assert!(store.range("/z", "/a", None, 0, 0).unwrap().0.is_empty());
    assert_eq!(
        store.get("/b", 3).unwrap().map(|kv| kv.mod_revision),
        Some(2)
    );
    assert_eq!(store.get("/b", 0).unwrap(), None);
}

#[tokio::test]
async fn paging_with_after_stays_at_one_revision() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _, _) = open(&dir.path().join("kernel.db"));
    for i in 0..10 {
        put(
            &store,
            &format!("/registry/cm/k{i:02}"),
            Precondition::None,
            "v1",
        )
        .await
        .unwrap();
    }
    put(&store, "/registry/other/x", Precondition::None, "x")
        .await
        .unwrap();
    let pinned = store.revision();
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let (page, more) = store
            .range(
                "/registry/cm/",
                "/registry/cm0",
                after.as_deref(),
                pinned,
                3,
            )
            .unwrap();
        assert!(page.len() <= 3);
        // Changes between pages must not show up in later pages of the same list.
        put(&store, "/registry/cm/k05", Precondition::None, "v2")
            .await
            .unwrap();
        store
            .write(Write::delete("/registry/cm/k09", Precondition::None))
            .await
            .ok();
        put(&store, "/registry/cm/k10", Precondition::None, "new")
            .await
            .unwrap();
        seen.extend(page.iter().map(|kv| (kv.key.clone(), value(kv).to_owned())));
        after = page.last().map(|kv| kv.key.clone());
        if !more {
            break;
        }
    }
    let expected: Vec<_> = (0..10)
        .map(|i| (format!("/registry/cm/k{i:02}"), "v1".to_owned()))
        .collect();
    assert_eq!(seen, expected);
    // An `after` before `start` does not widen the range.
    let (page, more) = store
        .range("/registry/cm/k03", "/registry/cm0", Some("/a"), pinned, 2)
        .unwrap();
    assert_eq!(keys(&page), ["/registry/cm/k03", "/registry/cm/k04"]);
    assert!(more);
    // The exact limit reports no more.
    let (page, more) = store
        .range("/registry/cm/", "/registry/cm0", None, pinned, 10)
        .unwrap();
    assert_eq!(page.len(), 10);
    assert!(!more);
}

#[tokio::test]
async fn events_since_replays_history_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _, sink) = open(&dir.path().join("kernel.db"));
    history(&store).await;
    let events = store.events_since(0, 0).unwrap();
    assert_eq!(events, *sink.0.lock().unwrap());
    assert_eq!(
        events.iter().map(|e| e.revision).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    let delete = &events[3];
    assert_eq!(
        (delete.kind, delete.key.as_str(), delete.value.clone()),
        (EventKind::Delete, "/b", None)
    );
    assert_eq!(delete.create_revision, 2);
    let tail = store.events_since(2, 2).unwrap();
    assert_eq!(tail.iter().map(|e| e.revision).collect::<Vec<_>>(), [3, 4]);
    assert!(store.events_since(5, 0).unwrap().is_empty());
}

#[tokio::test]
async fn compaction_keeps_reads_at_and_after_the_point_and_refuses_older_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _, _) = open(&dir.path().join("kernel.db"));
    history(&store).await;
    let before_at_4 = store.range("/", "0", None, 4, 0).unwrap();
    let before_at_5 = store.range("/", "0", None, 5, 0).unwrap();
    let events_after_4 = store.events_since(4, 0).unwrap();

    store.compact(4).await.unwrap();
    assert_eq!(store.compacted_revision(), 4);
    assert_eq!(store.stats().compactions, 1);
    assert_eq!(store.range("/", "0", None, 4, 0).unwrap(), before_at_4);
    assert_eq!(store.range("/", "0", None, 5, 0).unwrap(), before_at_5);
    assert_eq!(store.events_since(4, 0).unwrap(), events_after_4);
    assert!(matches!(
        store.range("/", "0", None, 3, 0),
        Err(Error::Compacted {
            requested: 3,
            compacted: 4
        })
    ));
    assert!(matches!(
        store.events_since(3, 0),
        Err(Error::Compacted {
            requested: 3,
            compacted: 4
        })
    ));
    // Older compaction points are no-ops; future ones are refused.
    store.compact(2).await.unwrap();
    assert_eq!(store.compacted_revision(), 4);
    assert!(matches!(
        store.compact(9).await,
        Err(Error::FutureRevision {
            requested: 9,
            current: 5
        })
    ));
    // Only the superseded /a@1 and /b's two rows were dropped.
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    let revs: Vec<i64> = conn
        .prepare("SELECT rev FROM log ORDER BY rev")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(revs, [3, 5]);
}

#[tokio::test]
async fn revisions_never_go_back_after_compacting_away_the_newest_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kernel.db");
    let (store, _, _) = open(&path);
    put(&store, "/a", Precondition::None, "1").await.unwrap();
    store
        .write(Write::delete("/a", Precondition::None))
        .await
        .unwrap();
    store.compact(2).await.unwrap();
    store.close().await;
    assert!(matches!(
        put(&store, "/a", Precondition::None, "x").await,
        Err(Error::Closed)
    ));

    let (store, snapshot, _) = open(&path);
    assert_eq!((snapshot.revision, snapshot.compacted), (2, 2));
    assert!(snapshot.items.is_empty());
    assert_eq!(
        put(&store, "/a", Precondition::MustNotExist, "2")
            .await
            .unwrap()
            .revision,
        3
    );
}

#[tokio::test]
async fn reopening_keeps_objects_revisions_and_history() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kernel.db");
    let (store, _, _) = open(&path);
    history(&store).await;
    store.compact(2).await.unwrap();
    let latest = store.range("", "", None, 0, 0).unwrap().0;
    let events = store.events_since(2, 0).unwrap();
    store.close().await;

    let (store, snapshot, _) = open(&path);
    assert_eq!(snapshot.revision, 5);
    assert_eq!(snapshot.compacted, 2);
    assert_eq!(snapshot.items, latest);
    assert_eq!(store.revision(), 5);
    assert_eq!(store.compacted_revision(), 2);
    assert_eq!(store.events_since(2, 0).unwrap(), events);
    assert_eq!(
        keys(&store.range("/", "0", None, 3, 0).unwrap().0),
        ["/a", "/b"]
    );
    let next = put(&store, "/a", Precondition::ModRevision(3), "a3")
        .await
        .unwrap();
    assert_eq!((next.revision, next.create_revision), (6, 1));
}

#[tokio::test]
async fn a_second_open_of_the_same_file_is_refused_until_close() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kernel.db");
    let (store, _, _) = open(&path);
    match Store::open(&path, Options::default(), Arc::new(NullSink)) {
        Err(Error::Open { hint, .. }) => assert!(hint.contains("already open"), "{hint}"),
        other => panic!("expected Error::Open, got {other:?}"),
    }
    store.close().await;
    Store::open(&path, Options::default(), Arc::new(NullSink)).unwrap();
}

fn open_error(path: &Path) -> String {
    match Store::open(path, Options::default(), Arc::new(NullSink)) {
        Err(e @ Error::Open { .. }) => e.to_string(),
        other => panic!("expected Error::Open, got {other:?}"),
    }
}

#[test]
fn a_file_that_is_not_a_database_gives_a_clear_open_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kernel.db");
    std::fs::write(&path, vec![b'x'; 8192]).unwrap();
    let message = open_error(&path);
    assert!(message.contains("not a SQLite database"), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
}

#[tokio::test]
async fn a_damaged_database_gives_a_clear_open_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kernel.db");
    let (store, _, _) = open(&path);
    for i in 0..200 {
        put(
            &store,
            &format!("/k/{i:04}"),
            Precondition::None,
            &"v".repeat(300),
        )
        .await
        .unwrap();
    }
    store.close().await;
    // Scribble over the pages after the header page, as a failing disk would.
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 16 * 1024, "the test needs a multi-page file");
    for b in &mut bytes[4096..12 * 1024] {
        *b = 0xA5;
    }
    std::fs::write(&path, bytes).unwrap();
    let message = open_error(&path);
    assert!(message.contains("damaged"), "{message}");
}

#[test]
fn an_unusable_data_dir_gives_a_clear_open_error() {
    let dir = tempfile::tempdir().unwrap();
    let message = open_error(&dir.path().join("missing/kernel.db"));
    assert!(message.contains("does not exist"), "{message}");
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    let message = open_error(&file.join("kernel.db"));
    assert!(message.contains("not a directory"), "{message}");
}

#[test]
fn a_read_only_data_dir_gives_a_clear_open_error() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(data.join("probe"), "").is_ok() {
        // Running as root: permissions do not stop us, so there is nothing to observe here.
        eprintln!("skipped: the directory stays writable for this user");
        return;
    }
    let message = open_error(&data.join("kernel.db"));
    assert!(message.contains("cannot be written"), "{message}");
}

#[tokio::test]
async fn close_commits_the_writes_queued_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kernel.db");
    let (store, _, _) = open(&path);
    // join! polls in order, so both writes are queued before the close request.
    let (a, b, ()) = tokio::join!(
        put(&store, "/a", Precondition::None, "a"),
        put(&store, "/b", Precondition::None, "b"),
        store.close()
    );
    assert_eq!(a.unwrap().revision, 1);
    assert_eq!(b.unwrap().revision, 2);
    assert!(matches!(store.compact(1).await, Err(Error::Closed)));
    let (_, snapshot, _) = open(&path);
    assert_eq!(keys(&snapshot.items), ["/a", "/b"]);
}

#[test]
fn handles_can_be_shared_across_threads() {
    fn shared<T: Send + Sync + Clone>() {}
    shared::<Store>();
    fn sendable<T: Send>(_: &T) {}
    let dir = tempfile::tempdir().unwrap();
    let (store, _, _) = open(&dir.path().join("kernel.db"));
    sendable(&store.write(Write::delete("/a", Precondition::None)));
    sendable(&store.compact(0));
}
