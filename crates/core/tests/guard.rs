//! Guarded calls in the core, with time driven by a manual clock: no test sleeps.
// Tests unwrap freely: a panic here is a failing test, not a user-facing crash.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use litellm_rust_core::clock::{Clock, ManualClock};
use litellm_rust_core::flags::{Decision, DegradationReason, Engine, FileChoice};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

const MS: u64 = 1_000_000;

fn engine_with(json: &str) -> (Arc<ManualClock>, Engine) {
    let clock = Arc::new(ManualClock::new(1_796_312_682_000));
    let (engine, outcome) = Engine::from_env(clock.clone(), Vec::<(String, String)>::new());
    assert!(outcome.is_ok());
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let path = std::env::temp_dir().join(format!(
        "litellm-rust-guard-{}-{n}.json",
        std::process::id()
    ));
    std::fs::write(&path, json).unwrap();
    engine
        .load(
            Vec::<(String, String)>::new(),
            FileChoice::Path(path.clone()),
        )
        .unwrap();
    std::fs::remove_file(path).unwrap();
    (clock, engine)
}

/// A call of the accelerated path that takes `ms` milliseconds of manual time.
fn taking(clock: &ManualClock, ms: u64) -> impl FnOnce() -> Result<u32, String> + '_ {
    move || {
        clock.advance_ns(ms * MS);
        Ok(7)
    }
}

#[test]
fn a_single_slow_call_does_not_degrade_but_a_window_of_them_does() {
    let (clock, engine) = engine_with(
        r#"{"features": {"f": {"state": "enabled", "performance_threshold_ms": 10}},
            "global_settings": {"performance_window": 3}}"#,
    );

    for ms in [50, 1, 50, 50, 1, 50, 50] {
        assert_eq!(engine.guard("f", None, taking(&clock, ms), || 0), Ok(7));
    }
    assert_eq!(engine.decide("f", None), Decision::On);

    engine.guard("f", None, taking(&clock, 50), || 0).unwrap();

    assert_eq!(engine.decide("f", None), Decision::Off);
    let runtime = engine.runtime("f").unwrap();
    assert_eq!(
        runtime.degradation(),
        Some(DegradationReason::PerformanceThreshold)
    );
}

#[test]
fn a_window_of_one_is_the_strictest_reading() {
    let (clock, engine) = engine_with(
        r#"{"features": {"f": {"state": "enabled", "performance_threshold_ms": 10}},
            "global_settings": {"performance_window": 1}}"#,
    );

    engine.guard("f", None, taking(&clock, 11), || 0).unwrap();

    assert_eq!(engine.decide("f", None), Decision::Off);
}

#[test]
fn performance_alerts_off_still_degrades_but_writes_no_alert() {
    let alerts = std::env::temp_dir().join(format!("litellm-rust-alerts-{}", std::process::id()));
    let _ = std::fs::remove_file(&alerts);
    let clock = Arc::new(ManualClock::new(0));
    let env = [(
        "LITELLM_RUST_ALERT_FILE".to_owned(),
        alerts.display().to_string(),
    )];
    let (engine, _) = Engine::from_env(clock.clone(), env.clone());
    let path = std::env::temp_dir().join(format!("litellm-rust-pa-{}.json", std::process::id()));
    std::fs::write(
        &path,
        r#"{"features": {"f": {"state": "enabled", "performance_threshold_ms": 1}},
            "global_settings": {"performance_window": 1, "enable_performance_alerts": false}}"#,
    )
    .unwrap();
    engine.load(env, FileChoice::Path(path.clone())).unwrap();

    engine.guard("f", None, taking(&clock, 5), || 0).unwrap();

    assert_eq!(engine.decide("f", None), Decision::Off);
    assert!(!alerts.exists());
    std::fs::remove_file(path).unwrap();
}

#[test]
fn recovery_waits_then_probes_one_call_at_a_time() {
    let (clock, engine) = engine_with(
        r#"{"features": {"f": {"state": "enabled", "error_threshold": 1}},
            "global_settings": {"recovery_after_s": 30}}"#,
    );
    let failing = || Err::<u32, _>("down");

    assert_eq!(engine.guard("f", None, failing, || 1), Ok(1));
    assert_eq!(engine.decide("f", None), Decision::Off);
    clock.advance_ns(29_000 * MS);
    assert_eq!(engine.decide("f", None), Decision::Off);

    clock.advance_ns(1_000 * MS);
    assert_eq!(engine.decide("f", None), Decision::On); // the probe
    assert_eq!(engine.decide("f", None), Decision::Off); // one at a time
    engine.record_error("f", MS, "still down");
    clock.advance_ns(29_000 * MS);
    assert_eq!(engine.decide("f", None), Decision::Off); // the failed probe restarted the wait

    clock.advance_ns(1_000 * MS);
    assert_eq!(engine.guard("f", None, || Ok::<_, String>(5), || 1), Ok(5));

    assert_eq!(engine.decide("f", None), Decision::On);
    assert_eq!(engine.runtime("f").unwrap().degradation(), None);
}

#[test]
fn without_recovery_a_degraded_feature_stays_off() {
    let (clock, engine) =
        engine_with(r#"{"features": {"f": {"state": "enabled", "error_threshold": 1}}}"#);

    engine
        .guard("f", None, || Err::<u32, _>("x"), || 1)
        .unwrap();
    clock.advance_ns(365 * 24 * 3_600_000 * MS);

    assert_eq!(engine.decide("f", None), Decision::Off);
}

#[test]
fn the_rust_guard_catches_panics_and_honours_fallback_on_error() {
    let (_, engine) = engine_with(
        r#"{"features": {"soft": {"state": "enabled"},
                         "hard": {"state": "enabled", "fallback_on_error": false}}}"#,
    );
    let panicking = || -> Result<u32, String> { panic!("accelerated path bug") };

    assert_eq!(engine.guard("soft", None, panicking, || 3), Ok(3));
    assert_eq!(
        engine.guard("hard", None, || Err::<u32, _>("refused"), || 3),
        Err("refused".to_owned())
    );
    let status = engine.status();
    assert_eq!(
        status["features"]["soft"]["last_error"]["message"],
        "panic: accelerated path bug"
    );
    assert_eq!(status["features"]["hard"]["total_errors"], 1);
}

#[test]
fn the_rust_guard_compares_in_shadow_and_serves_the_fallback() {
    let (_, engine) =
        engine_with(r#"{"features": {"s": {"state": "shadow", "rollout_percentage": 100}}}"#);

    for n in 0..10u32 {
        let answer = engine.guard("s", None, || Ok::<_, String>(n + u32::from(n == 4)), || n);
        assert_eq!(answer, Ok(n));
    }

    let stats = engine.performance_stats();
    assert_eq!(stats["s"]["shadow_runs"], 10);
    assert_eq!(stats["s"]["shadow_mismatches"], 1);
    assert_eq!(stats["s"]["fallback_calls"], 10);
    let sample = &engine.status()["features"]["s"]["mismatch_samples"][0];
    assert_eq!(
        (sample["expected"].as_str(), sample["actual"].as_str()),
        (Some("4"), Some("5"))
    );
}

#[test]
fn latency_ages_out_after_the_retention_period() {
    let (clock, engine) = engine_with(
        r#"{"features": {"f": {"state": "enabled", "performance_threshold_ms": 1000}},
            "global_settings": {"metrics_retention_hours": 2}}"#,
    );
    engine.guard("f", None, taking(&clock, 40), || 0).unwrap();
    clock.advance_ns(3_600_000 * MS);
    engine.guard("f", None, taking(&clock, 20), || 0).unwrap();

    let both = engine.performance_stats();
    assert_eq!(both["f"]["paths"]["accelerated"]["count"], 2);
    assert_eq!(both["f"]["max_ms"], 40.0);

    clock.advance_ns(3_600_000 * MS);
    let later = engine.performance_stats();
    assert_eq!(later["f"]["paths"]["accelerated"]["count"], 1);
    assert_eq!(later["f"]["max_ms"], 20.0);
    assert_eq!(later["f"]["calls"], 2); // counts are totals; only latency ages out
    assert!(clock.monotonic_ns() > 0);
}
