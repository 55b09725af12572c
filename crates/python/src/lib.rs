//! Python bindings of litellm-rust, built as `litellm_rust._native`: conversion, errors and the
//! GIL, nothing else. Every decision is made in `litellm_rust_core`.

mod errors;
mod flags;
mod guard;
mod tokens;

use log::LevelFilter;
use pyo3::prelude::*;

/// The log level asked for by `LITELLM_RUST_DEBUG` or `RUST_LOG`; info otherwise.
fn log_level() -> LevelFilter {
    let debug = std::env::var("LITELLM_RUST_DEBUG")
        .is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1"));
    let rust_log = std::env::var("RUST_LOG")
        .unwrap_or_default()
        .to_ascii_lowercase();
    if rust_log.contains("trace") {
        LevelFilter::Trace
    } else if debug || rust_log.contains("debug") {
        LevelFilter::Debug
    } else {
        LevelFilter::Info
    }
}

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    // Records below the level are dropped by the `log` crate before any Python work, so debug
    // logging on hot paths costs one comparison when it is off.
    let level = log_level();
    let logger = pyo3_log::Logger::new(module.py(), pyo3_log::Caching::Loggers)?.filter(level);
    // Another extension in the process may have installed a logger already; ours then stays
    // silent rather than failing the import.
    let _ = logger.install();
    module.add("LOG_LEVEL", level.as_str())?;

    errors::register(module)?;
    flags::register(module)?;
    module.add_class::<guard::PyGuard>()?;
    // Exposed so that callers can tell a Rust panic (a BaseException) from other errors.
    module.add(
        "PanicException",
        module.py().get_type::<pyo3::panic::PanicException>(),
    )?;
    errors::register_tokens(module)?;
    tokens::register(module)?;
    Ok(())
}
