//! Criterion benchmarks of flag decisions.

use criterion::{black_box, criterion_main, Criterion};
use litellm_rust_core::clock::SystemClock;
use litellm_rust_core::flags::{bucket, Engine};
use std::sync::Arc;

fn decisions(c: &mut Criterion) {
    let env = [
        ("LITELLM_RUST_BENCH_ENABLED", "enabled"),
        ("LITELLM_RUST_BENCH_DISABLED", "disabled"),
        ("LITELLM_RUST_BENCH_CANARY", "canary:10"),
        ("LITELLM_RUST_BENCH_ROLLOUT", "rollout:50"),
        ("LITELLM_RUST_BENCH_SHADOW", "shadow"),
    ];
    let (engine, outcome) = Engine::from_env(Arc::new(SystemClock::new()), env);
    if let Err(error) = outcome {
        eprintln!("benchmark configuration rejected: {error}");
        return;
    }
    let mut group = c.benchmark_group("decide");
    for feature in [
        "bench_enabled",
        "bench_disabled",
        "bench_canary",
        "bench_rollout",
        "bench_shadow",
        "batch_token_counting",
    ] {
        group.bench_function(format!("{feature}/unkeyed"), |b| {
            b.iter(|| engine.decide(black_box(feature), None))
        });
        group.bench_function(format!("{feature}/keyed"), |b| {
            b.iter(|| engine.decide(black_box(feature), Some(black_box("user-1234"))))
        });
    }
    group.bench_function("bucket_only", |b| {
        b.iter(|| bucket(black_box("bench_canary"), black_box("user-1234")))
    });
    group.bench_function("unknown_feature", |b| {
        b.iter(|| engine.decide(black_box("no_such_feature"), None))
    });
    group.finish();

    // The guard around a trivial call: decide, time, record. The bare call is the baseline.
    let mut group = c.benchmark_group("guard");
    group.bench_function("bare_call", |b| b.iter(|| black_box(black_box(20u64) + 1)));
    // The parts of a guarded call, to see where its time goes.
    group.bench_function("part_clock_read", |b| {
        b.iter(|| engine.clock().monotonic_ns())
    });
    group.bench_function("part_record_success", |b| {
        b.iter(|| engine.record_success(black_box("bench_enabled"), black_box(120)))
    });
    group.bench_function("part_record_fallback", |b| {
        b.iter(|| engine.record_fallback(black_box("bench_disabled"), black_box(120)))
    });
    for feature in ["bench_enabled", "bench_disabled"] {
        group.bench_function(feature, |b| {
            b.iter(|| {
                engine.guard(
                    black_box(feature),
                    None,
                    || Ok::<u64, String>(black_box(20u64) + 1),
                    || black_box(20u64) + 1,
                )
            })
        });
    }
    group.finish();
}

// criterion_group! generates an undocumented public function.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::decisions);
}

criterion_main!(group::benches);
