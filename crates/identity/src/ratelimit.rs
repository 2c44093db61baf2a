//! A per-source-IP token bucket in front of the login endpoints (in memory: it only blunts floods; the lockout is the durable limit).

use std::collections::HashMap;
use std::sync::Mutex;

/// A token bucket per key: `burst` tokens, refilled at `per_minute` a minute.
pub struct RateLimiter {
    burst: f64,
    per_sec: f64,
    buckets: Mutex<HashMap<String, (f64, i64)>>,
}

/// Buckets kept before idle ones are dropped, so a spray of addresses cannot grow memory without bound.
const MAX_BUCKETS: usize = 100_000;

impl RateLimiter {
    /// A limiter allowing bursts of `burst` and `per_minute` sustained.
    pub fn new(burst: u32, per_minute: u32) -> Self {
        RateLimiter {
            burst: f64::from(burst.max(1)),
            per_sec: f64::from(per_minute) / 60.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `key` at time `now_ms` (milliseconds); false when empty.
    pub fn allow(&self, key: &str, now_ms: i64) -> bool {
        let Ok(mut b) = self.buckets.lock() else {
            return true;
        };
        if b.len() >= MAX_BUCKETS && !b.contains_key(key) {
            let (burst, per_sec) = (self.burst, self.per_sec);
            b.retain(|_, (tokens, at)| {
                let refilled = *tokens + (now_ms - *at) as f64 / 1000.0 * per_sec;
                refilled < burst
            });
        }
        let entry = b.entry(key.to_string()).or_insert((self.burst, now_ms));
        let elapsed = (now_ms - entry.1).max(0) as f64 / 1000.0;
        entry.0 = (entry.0 + elapsed * self.per_sec).min(self.burst);
        entry.1 = now_ms;
        if entry.0 >= 1.0 {
            entry.0 -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_drains_and_refills_per_key() {
        let r = RateLimiter::new(3, 60);
        assert!((0..3).all(|_| r.allow("a", 0)));
        assert!(!r.allow("a", 0));
        assert!(r.allow("b", 0));
        assert!(!r.allow("a", 500));
        assert!(r.allow("a", 1000));
        assert!(!r.allow("a", 1000));
    }
}
