//! Latency histograms that age out.
//!
//! A [`LatencyHistogram`] splits the retention period into [`SLOTS`] time slots and keeps one
//! log-linear histogram per slot: recording is a few atomic additions into the current slot,
//! and a slot is cleared when time comes round to it again, so samples older than the
//! retention period stop counting without any sweep. Percentiles are read from the bucket
//! counts: each bucket spans an eighth of a power of two, so a reported percentile is within
//! 6.25% of the true value (the bucket's midpoint is reported).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Number of time slots the retention period is divided into.
pub const SLOTS: usize = 24;
const SUB_BUCKETS: u64 = 8;
// Values below 64 ns share the first buckets exactly; 2^40 ns is about 18 minutes, and longer
// calls land in the last bucket.
const MIN_EXPONENT: u32 = 6;
const MAX_EXPONENT: u32 = 40;
const BUCKETS: usize = ((MAX_EXPONENT - MIN_EXPONENT + 1) as usize) * SUB_BUCKETS as usize + 1;

struct Slot {
    epoch: AtomicU64,
    count: AtomicU64,
    sum_ns: AtomicU64,
    max_ns: AtomicU64,
    buckets: Vec<AtomicU64>,
}

impl Slot {
    fn new() -> Self {
        Self {
            epoch: AtomicU64::new(u64::MAX),
            count: AtomicU64::new(0),
            sum_ns: AtomicU64::new(0),
            max_ns: AtomicU64::new(0),
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn clear(&self) {
        self.count.store(0, Ordering::Relaxed);
        self.sum_ns.store(0, Ordering::Relaxed);
        self.max_ns.store(0, Ordering::Relaxed);
        for bucket in &self.buckets {
            bucket.store(0, Ordering::Relaxed);
        }
    }
}

/// Summary statistics of the samples within the retention period.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LatencySummary {
    /// Number of samples.
    pub count: u64,
    /// Mean, in milliseconds (exact).
    pub avg_ms: f64,
    /// Median, in milliseconds.
    pub p50_ms: f64,
    /// 95th percentile, in milliseconds.
    pub p95_ms: f64,
    /// 99th percentile, in milliseconds.
    pub p99_ms: f64,
    /// Largest sample, in milliseconds (exact).
    pub max_ms: f64,
}

/// A latency histogram over a sliding retention period.
pub struct LatencyHistogram {
    slots: Vec<Slot>,
    // Taken only when a slot must be cleared for a new epoch, once per slot period.
    rotation: Mutex<()>,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for LatencyHistogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatencyHistogram").finish_non_exhaustive()
    }
}

fn bucket_of(ns: u64) -> usize {
    if ns < (1 << MIN_EXPONENT) {
        return 0;
    }
    let exponent = 63 - ns.leading_zeros();
    if exponent > MAX_EXPONENT {
        return BUCKETS - 1;
    }
    let sub = (ns >> (exponent - 3)) & (SUB_BUCKETS - 1);
    1 + ((exponent - MIN_EXPONENT) as usize) * SUB_BUCKETS as usize + sub as usize
}

/// The midpoint, in nanoseconds, of the values that land in `bucket`.
fn bucket_midpoint(bucket: usize) -> f64 {
    if bucket == 0 {
        return (1u64 << MIN_EXPONENT) as f64 / 2.0;
    }
    let index = (bucket - 1) as u64;
    let exponent = MIN_EXPONENT as u64 + index / SUB_BUCKETS;
    let sub = index % SUB_BUCKETS;
    let width = (1u64 << exponent) as f64 / SUB_BUCKETS as f64;
    (1u64 << exponent) as f64 + width * (sub as f64 + 0.5)
}

impl LatencyHistogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Self {
            slots: (0..SLOTS).map(|_| Slot::new()).collect(),
            rotation: Mutex::new(()),
        }
    }

    /// Records one sample of `ns` nanoseconds taken at monotonic time `now_ns`, with slots of
    /// `slot_ns` nanoseconds (the retention period divided by [`SLOTS`]).
    pub fn record(&self, ns: u64, now_ns: u64, slot_ns: u64) {
        let epoch = now_ns / slot_ns.max(1);
        let slot = &self.slots[(epoch % SLOTS as u64) as usize];
        if slot.epoch.load(Ordering::Acquire) != epoch {
            let _guard = self.rotation.lock().unwrap_or_else(|e| e.into_inner());
            if slot.epoch.load(Ordering::Acquire) != epoch {
                slot.clear();
                slot.epoch.store(epoch, Ordering::Release);
            }
        }
        slot.count.fetch_add(1, Ordering::Relaxed);
        slot.sum_ns.fetch_add(ns, Ordering::Relaxed);
        slot.max_ns.fetch_max(ns, Ordering::Relaxed);
        slot.buckets[bucket_of(ns)].fetch_add(1, Ordering::Relaxed);
    }

    /// The samples recorded within the retention period that ends at `now_ns`.
    pub fn summary(&self, now_ns: u64, slot_ns: u64) -> LatencySummary {
        let current = now_ns / slot_ns.max(1);
        let oldest = current.saturating_sub(SLOTS as u64 - 1);
        let mut counts = vec![0u64; BUCKETS];
        let (mut count, mut sum_ns, mut max_ns) = (0u64, 0u64, 0u64);
        for slot in &self.slots {
            let epoch = slot.epoch.load(Ordering::Acquire);
            if epoch == u64::MAX || epoch < oldest || epoch > current {
                continue;
            }
            count += slot.count.load(Ordering::Relaxed);
            sum_ns += slot.sum_ns.load(Ordering::Relaxed);
            max_ns = max_ns.max(slot.max_ns.load(Ordering::Relaxed));
            for (total, bucket) in counts.iter_mut().zip(&slot.buckets) {
                *total += bucket.load(Ordering::Relaxed);
            }
        }
        if count == 0 {
            return LatencySummary::default();
        }
        let percentile = |q: f64| -> f64 {
            let rank = ((q * count as f64).ceil() as u64).max(1);
            let mut seen = 0u64;
            for (bucket, &n) in counts.iter().enumerate() {
                seen += n;
                if seen >= rank {
                    // Never report more than the exact maximum.
                    return bucket_midpoint(bucket).min(max_ns as f64) / 1e6;
                }
            }
            max_ns as f64 / 1e6
        };
        LatencySummary {
            count,
            avg_ms: sum_ns as f64 / count as f64 / 1e6,
            p50_ms: percentile(0.50),
            p95_ms: percentile(0.95),
            p99_ms: percentile(0.99),
            max_ms: max_ns as f64 / 1e6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR_NS: u64 = 3_600_000_000_000;

    #[test]
    fn percentiles_are_within_a_sixteenth() {
        let histogram = LatencyHistogram::new();
        for ns in 1..=10_000u64 {
            histogram.record(ns * 1_000, 0, HOUR_NS);
        }
        let summary = histogram.summary(0, HOUR_NS);
        assert_eq!(summary.count, 10_000);
        assert!((summary.avg_ms - 5.0005).abs() < 1e-9);
        assert_eq!(summary.max_ms, 10.0);
        for (reported, exact) in [
            (summary.p50_ms, 5.0),
            (summary.p95_ms, 9.5),
            (summary.p99_ms, 9.9),
        ] {
            assert!(
                (reported - exact).abs() / exact <= 0.0625,
                "{reported} vs {exact}"
            );
        }
    }

    #[test]
    fn samples_age_out_after_the_retention_period() {
        let histogram = LatencyHistogram::new();
        let slot = HOUR_NS; // 24 slots of an hour: a retention of 24 hours.
        histogram.record(1_000_000, 0, slot);
        histogram.record(3_000_000, 10 * slot, slot);

        assert_eq!(histogram.summary(23 * slot, slot).count, 2);
        let later = histogram.summary(24 * slot, slot);
        assert_eq!(later.count, 1);
        assert_eq!(later.max_ms, 3.0);
        assert_eq!(histogram.summary(34 * slot, slot).count, 0);
    }

    #[test]
    fn a_reused_slot_starts_empty() {
        let histogram = LatencyHistogram::new();
        histogram.record(5_000_000, 0, HOUR_NS);
        histogram.record(1_000, 24 * HOUR_NS, HOUR_NS);

        let summary = histogram.summary(24 * HOUR_NS, HOUR_NS);
        assert_eq!(summary.count, 1);
        assert_eq!(summary.max_ms, 0.001);
    }

    #[test]
    fn buckets_are_ordered_and_cover_every_value() {
        let mut previous = 0;
        for shift in 0..64u32 {
            for ns in [1u64 << shift, (1u64 << shift) + (1u64 << shift) / 3] {
                let bucket = bucket_of(ns);
                assert!(bucket >= previous && bucket < BUCKETS);
                previous = bucket;
            }
        }
    }
}
