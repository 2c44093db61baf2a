//! Crash safety: SIGKILL a process that is writing, reopen, and find every acknowledged write intact.
//!
//! The test re-executes its own binary running `crash_child` (ignored in normal runs), which writes from 16
//! tasks and prints `ACK <key> <revision>` after each `write` returns.

#![allow(clippy::unwrap_used)] // a test fails loudly on any error

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use store::{NullSink, Options, Precondition, Revision, Store, Write};

const DIR_ENV: &str = "STORE_CRASH_CHILD_DIR";
const TASKS: usize = 16;

/// The value written for `key` at `rev`: it embeds both, so a torn or misplaced value cannot pass.
fn expected_value(key: &str, rev: Revision) -> Vec<u8> {
    format!(
        "{{\"key\":\"{key}\",\"resourceVersion\":\"{rev}\",\"pad\":\"{}\"}}",
        "x".repeat(512)
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "child process of kill_9_loses_no_acknowledged_write"]
async fn crash_child() {
    let dir = std::env::var(DIR_ENV)
        .expect("crash_child runs only under kill_9_loses_no_acknowledged_write");
    let (store, _) = Store::open(
        &Path::new(&dir).join("kernel.db"),
        Options::default(),
        Arc::new(NullSink),
    )
    .unwrap();
    println!("OPENED");
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let key = key_for(t, i);
                let k = key.clone();
                let w = Write::put_with(key, Precondition::None, move |rev| {
                    Ok(expected_value(&k, rev))
                });
                let Ok(done) = store.write(w).await else {
                    return;
                };
                println!("ACK {} {}", key_for(t, i), done.revision);
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
}

/// Alternates new keys with updates of one key per task, so creates and updates are both exercised.
fn key_for(t: usize, i: usize) -> String {
    if i.is_multiple_of(2) {
        format!("/registry/crash/t{t}-{i}")
    } else {
        format!("/registry/crash/t{t}")
    }
}

/// Kills the child when the test fails before killing it on purpose, so no writer outlives the test.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn crash_once(round: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = KillOnDrop(
        Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "crash_child",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(DIR_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = BufReader::new(child.0.stdout.take().unwrap());
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in stdout.lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    // libtest prints its own header first, and "test crash_child ... " on the same line.
    loop {
        let line = lines_rx.recv_timeout(Duration::from_secs(60)).unwrap();
        if line.ends_with("OPENED") {
            break;
        }
    }
    let deadline = Instant::now() + Duration::from_millis(1000);
    let mut lines = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match lines_rx.recv_timeout(left) {
            Ok(line) => lines.push(line),
            Err(_) => break,
        }
    }
    // Child::kill sends SIGKILL on Unix.
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    reader.join().unwrap();
    lines.extend(lines_rx.try_iter());

    // The latest acknowledged revision of each key; a line cut by the kill is ignored.
    let mut acked: HashMap<String, Revision> = HashMap::new();
    for line in &lines {
        let mut parts = line.split(' ');
        let (Some("ACK"), Some(key), Some(rev), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let Ok(rev) = rev.parse::<Revision>() else {
            continue;
        };
        let entry = acked.entry(key.to_owned()).or_insert(rev);
        *entry = (*entry).max(rev);
    }
    assert!(
        acked.len() > 20,
        "round {round}: only {} keys acknowledged in 1 s",
        acked.len()
    );

    let (store, snapshot) = Store::open(
        &dir.path().join("kernel.db"),
        Options::default(),
        Arc::new(NullSink),
    )
    .unwrap();
    let current: HashMap<_, _> = snapshot
        .items
        .iter()
        .map(|kv| (kv.key.clone(), kv))
        .collect();
    for (key, rev) in &acked {
        let kv = current
            .get(key)
            .unwrap_or_else(|| panic!("round {round}: acknowledged {key} is missing"));
        // Later writes of the same key may have committed without being acknowledged before the kill.
        assert!(
            kv.mod_revision >= *rev,
            "round {round}: {key} went back from {rev} to {}",
            kv.mod_revision
        );
        assert_eq!(
            kv.value,
            expected_value(key, kv.mod_revision),
            "round {round}: {key} has a damaged value"
        );
    }
    // Every object in the file is whole, acknowledged or not.
    for kv in &snapshot.items {
        assert_eq!(
            kv.value,
            expected_value(&kv.key, kv.mod_revision),
            "round {round}: {} is damaged",
            kv.key
        );
    }
    assert_eq!(
        store.events_since(0, 0).unwrap().len() as u64,
        snapshot.revision
    );
    eprintln!(
        "round {round}: {} keys acknowledged, {} objects, revision {}",
        acked.len(),
        snapshot.items.len(),
        snapshot.revision
    );
}

#[test]
fn kill_9_loses_no_acknowledged_write() {
    for round in 1..=3 {
        crash_once(round);
    }
}
