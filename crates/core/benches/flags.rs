//! Criterion benchmarks of flag decisions (filled in with the engine).
fn main() {}
