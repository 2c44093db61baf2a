//! Latency samples reduced to percentiles, and the duration/size formatting used in output.

use std::fmt;
use std::time::Duration;

/// Percentiles of a set of latency samples (nearest-rank).
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    /// Number of samples.
    pub n: usize,
    /// Median.
    pub p50: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Largest sample.
    pub max: Duration,
}

impl Latency {
    /// Reduces `samples`; `None` when there are none.
    pub fn of(mut samples: Vec<Duration>) -> Option<Latency> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        let n = samples.len();
        let rank = |p: f64| {
            // Nearest-rank: the smallest sample with at least p of the samples at or below it.
            let r = (p * n as f64).ceil() as usize;
            samples[r.clamp(1, n) - 1]
        };
        Some(Latency {
            n,
            p50: rank(0.50),
            p90: rank(0.90),
            p99: rank(0.99),
            max: samples[n - 1],
        })
    }
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "p50 {} | p90 {} | p99 {} | max {} (n={})",
            ms(self.p50),
            ms(self.p90),
            ms(self.p99),
            ms(self.max),
            self.n
        )
    }
}

/// A duration in milliseconds with enough precision for sub-millisecond figures.
pub fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    if v < 10.0 {
        format!("{v:.2} ms")
    } else if v < 1000.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.0} ms")
    }
}

/// KiB as MB (10^6 bytes), the unit the goals are stated in.
pub fn mb(kib: u64) -> String {
    format!("{:.1} MB", kib as f64 * 1024.0 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let l = Latency::of(samples).expect("samples");
        assert_eq!(l.n, 100);
        assert_eq!(l.p50, Duration::from_millis(50));
        assert_eq!(l.p90, Duration::from_millis(90));
        assert_eq!(l.p99, Duration::from_millis(99));
        assert_eq!(l.max, Duration::from_millis(100));
    }

    #[test]
    fn single_sample_is_every_percentile() {
        let l = Latency::of(vec![Duration::from_micros(700)]).expect("one sample");
        assert_eq!(l.p50, l.p99);
        assert_eq!(ms(l.p50), "0.70 ms");
        assert!(Latency::of(Vec::new()).is_none());
    }

    #[test]
    fn formats_units() {
        assert_eq!(ms(Duration::from_millis(1500)), "1500 ms");
        assert_eq!(ms(Duration::from_micros(12_340)), "12.3 ms");
        assert_eq!(mb(48_828), "50.0 MB");
    }
}
