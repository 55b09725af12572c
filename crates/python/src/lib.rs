//! Python bindings of litellm-rust: conversion, errors and the GIL, nothing else.

use pyo3::prelude::*;

#[pymodule]
fn _native(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
