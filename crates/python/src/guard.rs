//! `Guard`: a native callable that decides, calls the chosen Python callable, times it and
//! records the outcome.
//!
//! A Python wrapper function would add a Python frame to every guarded call; a native object
//! keeps the overhead near that of the call itself. The callables are Python code, so the GIL
//! is held throughout; the guard's own work between the calls is a few atomic operations.

use crate::errors::is_decline;
use crate::flags::engine;
use litellm_rust_core::flags::{panic_text, Decision};
use pyo3::exceptions::PyException;
use pyo3::panic::PanicException;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `accelerated` or `fallback` for each call, as the flag engine decides.
#[pyclass(name = "Guard", module = "litellm_rust", frozen, dict)]
pub(crate) struct PyGuard {
    feature: Py<PyString>,
    accelerated: Py<PyAny>,
    fallback: Py<PyAny>,
    key: Option<Py<PyAny>>,
    compare: Option<Py<PyAny>>,
    shadow: Option<Py<PyAny>>,
}

impl PyGuard {
    fn key<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Option<String>> {
        let Some(key) = &self.key else {
            return Ok(None);
        };
        let value = key.bind(py).call(args, kwargs)?;
        if value.is_none() {
            return Ok(None);
        }
        Ok(Some(value.str()?.to_str()?.to_owned()))
    }
}

#[pymethods]
impl PyGuard {
    #[new]
    #[pyo3(signature = (feature, accelerated, fallback, key=None, compare=None, shadow=None))]
    fn new(
        feature: Bound<'_, PyString>,
        accelerated: Py<PyAny>,
        fallback: Py<PyAny>,
        key: Option<Py<PyAny>>,
        compare: Option<Py<PyAny>>,
        shadow: Option<Py<PyAny>>,
    ) -> Self {
        Self {
            feature: feature.unbind(),
            accelerated,
            fallback,
            key,
            compare,
            shadow,
        }
    }

    /// The guarded feature.
    #[getter]
    fn feature(&self, py: Python<'_>) -> Py<PyString> {
        self.feature.clone_ref(py)
    }

    #[pyo3(signature = (*args, **kwargs))]
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let feature = self.feature.bind(py).to_str()?;
        let engine = engine();
        // A key function that fails must not take the call down: decide without a key.
        let key = self.key(py, args, kwargs).unwrap_or_else(|err| {
            log::debug!(target: "litellm_rust::guard", "{feature}: key function failed: {err}");
            None
        });

        let clock = engine.clock();
        let ticket = engine.ticket(feature, key.as_deref());
        let serve_fallback = || {
            let started = clock.monotonic_ns();
            let answer = self.fallback.bind(py).call(args, kwargs);
            let ended = clock.monotonic_ns();
            engine.ticket_fallback(&ticket, ended.saturating_sub(started), ended);
            answer
        };
        match ticket.decision {
            Decision::Off => serve_fallback(),
            Decision::Shadow => {
                let answer = serve_fallback()?;
                if let Some(shadow) = &self.shadow {
                    // The shadow runner queues the comparison and returns at once; a failure
                    // to queue is its own business, never the caller's.
                    let queued = shadow.bind(py).call1((
                        self.accelerated.bind(py),
                        args,
                        kwargs,
                        &answer,
                        self.compare.as_ref().map(|c| c.bind(py)),
                    ));
                    if let Err(err) = queued {
                        log::debug!(target: "litellm_rust::guard", "{feature}: shadow: {err}");
                    }
                }
                Ok(answer)
            }
            Decision::On => {
                let started = clock.monotonic_ns();
                // PyO3 resumes a Rust panic when a PanicException comes back through a call, so
                // the unwind is caught here and turned back into an ordinary error.
                let call = || self.accelerated.bind(py).call(args, kwargs);
                let outcome = catch_unwind(AssertUnwindSafe(call)).unwrap_or_else(|payload| {
                    Err(PanicException::new_err(panic_text(payload.as_ref())))
                });
                let ended = clock.monotonic_ns();
                let ns = ended.saturating_sub(started);
                match outcome {
                    Ok(answer) => {
                        engine.ticket_success(&ticket, ns, ended);
                        Ok(answer)
                    }
                    // The accelerated path cannot answer this input exactly: the Python path
                    // answers, and nothing counts against the feature.
                    Err(err) if is_decline(py, &err) => {
                        engine.ticket_decline(&ticket);
                        serve_fallback()
                    }
                    // KeyboardInterrupt and SystemExit pass through untouched; a Rust panic in
                    // the accelerated path is an error like any other, never the caller's.
                    Err(err)
                        if err.is_instance_of::<PyException>(py)
                            || err.is_instance_of::<PanicException>(py) =>
                    {
                        let message = err.to_string();
                        if engine.ticket_error(&ticket, ns, ended, &message) {
                            self.fallback.bind(py).call(args, kwargs)
                        } else {
                            Err(err)
                        }
                    }
                    Err(err) => Err(err),
                }
            }
        }
    }
}
