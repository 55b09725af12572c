//! Pure-Rust core of litellm-rust.
//!
//! The core knows nothing of Python: the binding crate converts arguments and errors, and every
//! decision is made here so that it can be tested and benchmarked without an interpreter.
//!
//! - [`flags`]: the feature-flag engine that decides, per call, whether an accelerated path
//!   serves, stays off, or runs in shadow beside LiteLLM's Python path.
//! - [`alerts`]: JSON Lines alerts for degradations and rejected configurations.
//! - [`metrics`]: latency histograms that age out after the retention period.
//! - [`clock`]: the time source, injected so that windows and timestamps are testable.

pub mod alerts;
pub mod clock;
pub mod flags;
pub mod metrics;
pub mod tokens;
