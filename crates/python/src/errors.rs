//! The exception hierarchy, and the mapping of core errors onto it.
//!
//! ```text
//! LitellmRustError(Exception)
//! ├── ConfigError(LitellmRustError, ValueError)        .problems: list[str]
//! └── UnknownFeatureError(LitellmRustError, LookupError) .feature: str
//! ```
//!
//! The configuration error also subclasses `ValueError` (and the unknown feature error
//! `LookupError`) so that hosts catching the built-in classes keep working. Classes with two
//! bases cannot come from `create_exception!`, so they are built with `type()` at import.

use litellm_rust_core::flags::FlagError;
use litellm_rust_core::tokens::TokensError;
use pyo3::exceptions::{PyException, PyLookupError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

static BASE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static CONFIG: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static UNKNOWN_FEATURE: PyOnceLock<Py<PyType>> = PyOnceLock::new();

fn class<'py>(
    py: Python<'py>,
    name: &str,
    doc: &str,
    bases: Vec<Bound<'py, PyType>>,
) -> PyResult<Bound<'py, PyType>> {
    let namespace = PyDict::new(py);
    namespace.set_item("__doc__", doc)?;
    namespace.set_item("__module__", "litellm_rust")?;
    let created = py
        .get_type::<PyType>()
        .call1((name, PyTuple::new(py, bases)?, namespace))?;
    Ok(created.cast_into::<PyType>()?)
}

/// Creates the classes and adds them to the module.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    let base = class(
        py,
        "LitellmRustError",
        "Base class of every error litellm-rust raises.",
        vec![py.get_type::<PyException>()],
    )?;
    let config = class(
        py,
        "ConfigError",
        "The feature-flag configuration is invalid; `problems` lists every problem found.",
        vec![base.clone(), py.get_type::<PyValueError>()],
    )?;
    let unknown = class(
        py,
        "UnknownFeatureError",
        "No feature of this name is built in or configured; `feature` is the name asked for.",
        vec![base.clone(), py.get_type::<PyLookupError>()],
    )?;
    module.add("LitellmRustError", &base)?;
    module.add("ConfigError", &config)?;
    module.add("UnknownFeatureError", &unknown)?;
    // A second import of the module in one process keeps the first classes, so that `except`
    // clauses written against either refer to the same objects.
    let _ = BASE.set(py, base.unbind());
    let _ = CONFIG.set(py, config.unbind());
    let _ = UNKNOWN_FEATURE.set(py, unknown.unbind());
    Ok(())
}

fn raise(
    py: Python<'_>,
    cell: &PyOnceLock<Py<PyType>>,
    message: String,
    attribute: (&str, Bound<'_, PyAny>),
) -> PyErr {
    let Some(class) = cell.get(py) else {
        return PyException::new_err(message);
    };
    match class.bind(py).call1((message.clone(),)) {
        Ok(instance) => match instance.setattr(attribute.0, attribute.1) {
            Ok(()) => PyErr::from_value(instance),
            Err(err) => err,
        },
        Err(_) => PyException::new_err(message),
    }
}

/// The Python exception for a core flag error.
pub(crate) fn flag_error(py: Python<'_>, error: FlagError) -> PyErr {
    let message = error.to_string();
    match error {
        FlagError::InvalidConfig { problems } => {
            let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
            match list.into_pyobject(py) {
                Ok(list) => raise(py, &CONFIG, message, ("problems", list.into_any())),
                Err(err) => err,
            }
        }
        FlagError::UnknownFeature { name, .. } => {
            let name = pyo3::types::PyString::new(py, &name).into_any();
            raise(py, &UNKNOWN_FEATURE, message, ("feature", name))
        }
    }
}

/// A `ConfigError` for a bad argument, naming it and the accepted form.
pub(crate) fn config_error(py: Python<'_>, message: String) -> PyErr {
    match vec![message.clone()].into_pyobject(py) {
        Ok(list) => raise(py, &CONFIG, message, ("problems", list.into_any())),
        Err(err) => err,
    }
}

// Token counting adds two classes under the same base:
//
// LitellmRustError
// └── UnsupportedInput                .reason: str
//     └── TokenizerUnavailable        .reason: str
static UNSUPPORTED_INPUT: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static TOKENIZER_UNAVAILABLE: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Creates the token-counting classes; runs after [`register`], whose base class they extend.
pub(crate) fn register_tokens(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    let base = match BASE.get(py) {
        Some(base) => base.bind(py).clone(),
        None => py.get_type::<PyException>(),
    };
    let unsupported = class(
        py,
        "UnsupportedInput",
        "The Rust side cannot answer this input exactly; LiteLLM's Python path must. `reason` \
         says what was met.",
        vec![base],
    )?;
    let unavailable = class(
        py,
        "TokenizerUnavailable",
        "A tokenizer file shipped inside litellm could not be loaded, so LiteLLM's Python path \
         must count.",
        vec![unsupported.clone()],
    )?;
    module.add("UnsupportedInput", &unsupported)?;
    module.add("TokenizerUnavailable", &unavailable)?;
    let _ = UNSUPPORTED_INPUT.set(py, unsupported.unbind());
    let _ = TOKENIZER_UNAVAILABLE.set(py, unavailable.unbind());
    Ok(())
}

/// The Python exception for a core token-counting error.
pub(crate) fn tokens_error(py: Python<'_>, error: TokensError) -> PyErr {
    let message = error.to_string();
    match error {
        TokensError::Unsupported { reason } => {
            let reason = pyo3::types::PyString::new(py, &reason).into_any();
            raise(py, &UNSUPPORTED_INPUT, message, ("reason", reason))
        }
        TokensError::TokenizerFile { .. } => {
            let reason = pyo3::types::PyString::new(py, &message).into_any();
            raise(py, &TOKENIZER_UNAVAILABLE, message, ("reason", reason))
        }
        TokensError::CostMap { .. } => config_error(py, message),
    }
}

/// Whether `error` is a decline: an `UnsupportedInput` (or subclass) raised by an accelerated
/// path that cannot answer this input exactly. A decline is answered by the fallback and is
/// not an error of the accelerated path.
pub(crate) fn is_decline(py: Python<'_>, error: &PyErr) -> bool {
    UNSUPPORTED_INPUT
        .get(py)
        .is_some_and(|class| error.is_instance(py, class.bind(py)))
}
