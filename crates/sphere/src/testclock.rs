//! A clock for the built-in controllers read from a file holding an RFC 3339 time, so a test in another process can pause and move the time `sphere up`'s controllers see.
//!
//! Off unless `sphere up --controller-clock-file FILE` is given; only the controllers
//! read it (the kernel, token expiry and everything else keep the system clock). The
//! time stands still until the file changes, as with `controllers::ManualClock`; each
//! change wakes the time-driven controllers through [`controllers::Clock::jumps`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How often the file is read; a test that moves the clock waits about this long.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Why the clock file gave no time.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read (missing, unreadable, not UTF-8).
    #[error(
        "cannot read the controller clock file {path}: {source}; it must hold an RFC 3339 time such as 2026-01-05T09:58:00Z"
    )]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file does not hold an RFC 3339 time.
    #[error(
        "the controller clock file {path} holds {content:?}, not an RFC 3339 time such as 2026-01-05T09:58:00Z: {source}"
    )]
    Parse {
        path: PathBuf,
        content: String,
        #[source]
        source: jiff::Error,
    },
}

/// The controllers' time, as last read from a file.
#[derive(Debug, Clone)]
pub struct FileClock {
    path: PathBuf,
    tx: Arc<watch::Sender<Timestamp>>,
}

impl FileClock {
    /// Reads `path` once; fails if it is missing or does not hold a time, so a
    /// mistyped path stops `sphere up` instead of silently freezing the controllers.
    pub async fn open(path: &Path) -> Result<FileClock, Error> {
        let at = read(path).await?;
        Ok(FileClock {
            path: path.to_owned(),
            tx: Arc::new(watch::Sender::new(at)),
        })
    }

    /// The file this clock follows.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the file again; returns whether the time changed (and woke the
    /// controllers). On error the clock keeps its last time.
    pub async fn refresh(&self) -> Result<bool, Error> {
        let at = read(&self.path).await?;
        Ok(self.tx.send_if_modified(|now| {
            let changed = *now != at;
            *now = at;
            changed
        }))
    }

    /// Follows the file every [`POLL_INTERVAL`] until `cancel` fires. A missing or
    /// unparsable file is logged once per distinct problem, and the time stays put.
    pub fn spawn_follow(&self, cancel: CancellationToken) -> JoinHandle<()> {
        let clock = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(POLL_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut problem: Option<String> = None;
            loop {
                tokio::select! {
                    () = cancel.cancelled() => return,
                    _ = tick.tick() => {}
                }
                match clock.refresh().await {
                    Ok(changed) => {
                        if problem.take().is_some() {
                            tracing::info!(file = %clock.path.display(), "controller clock file readable again");
                        }
                        if changed {
                            tracing::info!(now = %clock.now_value(), "controller clock moved");
                        }
                    }
                    Err(e) => {
                        let msg = e.to_string();
                        if problem.as_deref() != Some(msg.as_str()) {
                            tracing::warn!(error = %msg, keeping = %clock.now_value(), "controller clock not moved");
                            problem = Some(msg);
                        }
                    }
                }
            }
        })
    }

    fn now_value(&self) -> Timestamp {
        *self.tx.borrow()
    }
}

impl controllers::Clock for FileClock {
    fn now(&self) -> Timestamp {
        self.now_value()
    }

    fn jumps(&self) -> Option<watch::Receiver<Timestamp>> {
        Some(self.tx.subscribe())
    }
}

async fn read(path: &Path) -> Result<Timestamp, Error> {
    let text = tokio::fs::read_to_string(path)
        .await
        .map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
    let content = text.trim();
    content.parse().map_err(|source| Error::Parse {
        path: path.to_owned(),
        content: content.to_owned(),
        source,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use controllers::Clock;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn clock_file(content: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clock");
        std::fs::write(&path, content).unwrap();
        (dir, path)
    }

    #[tokio::test]
    async fn opens_an_rfc3339_time_with_any_offset_and_surrounding_whitespace() {
        let (_dir, path) = clock_file("2026-01-05T18:00:00+08:00\n");
        let clock = FileClock::open(&path).await.unwrap();
        assert_eq!(clock.now(), ts("2026-01-05T10:00:00Z"));
    }

    #[tokio::test]
    async fn refuses_to_start_on_a_missing_or_unparsable_file_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = FileClock::open(&missing).await.unwrap_err();
        assert!(matches!(err, Error::Read { .. }), "{err:?}");
        assert!(err.to_string().contains(&missing.display().to_string()));

        let (_dir, path) = clock_file("tomorrow at ten");
        let err = FileClock::open(&path).await.unwrap_err();
        assert!(matches!(err, Error::Parse { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains(&path.display().to_string()) && msg.contains("tomorrow at ten"),
            "{msg}"
        );
    }

    #[tokio::test]
    async fn refresh_signals_a_jump_only_when_the_time_changes() {
        let (_dir, path) = clock_file("2026-01-05T09:58:00Z");
        let clock = FileClock::open(&path).await.unwrap();
        let mut rx = clock.jumps().unwrap();
        assert!(!clock.refresh().await.unwrap(), "same time, no jump");
        assert!(!rx.has_changed().unwrap());

        std::fs::write(&path, "2026-01-05T10:00:30Z").unwrap();
        assert!(clock.refresh().await.unwrap());
        assert!(rx.has_changed().unwrap());
        assert_eq!(*rx.borrow_and_update(), ts("2026-01-05T10:00:30Z"));
        assert_eq!(clock.now(), ts("2026-01-05T10:00:30Z"));
    }

    #[tokio::test]
    async fn bad_content_or_a_missing_file_keeps_the_last_time() {
        let (_dir, path) = clock_file("2026-01-05T09:58:00Z");
        let clock = FileClock::open(&path).await.unwrap();
        let mut rx = clock.jumps().unwrap();

        std::fs::write(&path, "2026-13-45T99:00:00Z").unwrap();
        assert!(matches!(clock.refresh().await, Err(Error::Parse { .. })));
        std::fs::write(&path, "").unwrap();
        assert!(matches!(clock.refresh().await, Err(Error::Parse { .. })));
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(clock.refresh().await, Err(Error::Read { .. })));

        assert_eq!(clock.now(), ts("2026-01-05T09:58:00Z"));
        assert!(!rx.has_changed().unwrap());
        std::fs::write(&path, "2026-01-05T12:00:00Z").unwrap();
        assert!(clock.refresh().await.unwrap());
        assert_eq!(*rx.borrow_and_update(), ts("2026-01-05T12:00:00Z"));
    }

    #[tokio::test(start_paused = true)]
    async fn the_follower_wakes_controllers_when_the_file_changes() {
        let (_dir, path) = clock_file("2026-01-05T09:58:00Z");
        let clock = FileClock::open(&path).await.unwrap();
        let dynclock: Arc<dyn Clock> = Arc::new(clock.clone());
        let mut rx = dynclock.jumps().unwrap();
        let cancel = CancellationToken::new();
        let task = clock.spawn_follow(cancel.clone());

        std::fs::write(&path, "not a time").unwrap();
        // Several polls go by (paused time advances on its own while all wait).
        tokio::time::sleep(POLL_INTERVAL * 5).await;
        assert!(!rx.has_changed().unwrap(), "bad content is no jump");
        assert_eq!(dynclock.now(), ts("2026-01-05T09:58:00Z"));

        std::fs::write(&path, "2026-01-05T10:05:30Z").unwrap();
        tokio::time::timeout(Duration::from_secs(10), rx.changed())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(dynclock.now(), ts("2026-01-05T10:05:30Z"));

        cancel.cancel();
        task.await.unwrap();
    }
}
