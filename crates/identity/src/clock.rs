//! The wall clock used for token expiry and lockout windows, injectable so tests control time.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Seconds since the Unix epoch, as JWT `iat`/`exp` count them.
pub trait Clock: Send + Sync + 'static {
    /// The current time in whole seconds since the Unix epoch.
    fn now(&self) -> i64;
}

/// Reads the wall clock once at creation and then follows tokio's clock, so a
/// paused tokio runtime (`tokio::time::pause` / `advance`) moves it too, while in
/// production it is the wall clock.
#[derive(Debug, Clone)]
pub struct TokioClock {
    base_unix_ms: i64,
    base: tokio::time::Instant,
}

impl TokioClock {
    /// A clock starting at the current wall-clock time.
    pub fn new() -> Self {
        let base_unix_ms = jiff::Timestamp::now().as_millisecond();
        TokioClock {
            base_unix_ms,
            base: tokio::time::Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> i64 {
        let elapsed = tokio::time::Instant::now().duration_since(self.base);
        let ms = i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX / 2);
        (self.base_unix_ms + ms).div_euclid(1000)
    }
}

/// A clock that moves only when told to; clones share the same time, so two
/// "replicas" in one test see the same instant.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock standing at the current wall-clock time.
    pub fn new() -> Self {
        ManualClock(Arc::new(AtomicI64::new(jiff::Timestamp::now().as_second())))
    }

    /// Moves the clock forward by `secs` seconds.
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// RFC 3339 text of a Unix time, for annotations and Kubernetes `Time` fields.
pub fn rfc3339(unix: i64) -> String {
    jiff::Timestamp::from_second(unix)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// A Kubernetes `Time` for a Unix time.
pub fn k8s_time(unix: i64) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Time {
    let t = jiff::Timestamp::from_second(unix).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn tokio_clock_follows_a_paused_runtime() {
        let c = TokioClock::new();
        let t0 = c.now();
        tokio::time::advance(std::time::Duration::from_secs(7200)).await;
        assert_eq!(c.now() - t0, 7200);
    }

    #[test]
    fn manual_clock_is_shared_between_clones() {
        let a = ManualClock::new();
        let b = a.clone();
        let t0 = b.now();
        a.advance(30);
        assert_eq!(b.now(), t0 + 30);
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
