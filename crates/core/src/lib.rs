//! Pure-Rust core of litellm-rust.
//!
//! The core knows nothing of Python: the binding crate converts arguments and errors, and every
//! decision is made here so that it can be tested and benchmarked without an interpreter.
//!
//! - [`flags`]: the feature-flag engine that decides, per call, whether an accelerated path
//!   serves, stays off, or runs in shadow beside LiteLLM's Python path.
//! - [`clock`]: the time source, injected so that windows and timestamps are testable.

pub mod clock;
pub mod flags;
pub mod tokens;
