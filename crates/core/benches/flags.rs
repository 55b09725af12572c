//! Criterion benchmarks of flag decisions.

use criterion::{black_box, criterion_main, Criterion};
use litellm_rust_core::clock::SystemClock;
use litellm_rust_core::flags::Engine;
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
    group.bench_function("unknown_feature", |b| {
        b.iter(|| engine.decide(black_box("no_such_feature"), None))
    });
    group.finish();
}

// criterion_group! generates an undocumented public function.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::decisions);
}

criterion_main!(group::benches);
