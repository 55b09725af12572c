//! `TokenCounter`: LiteLLM's token counting on the Rust core, for `litellm_rust.tokens`.
//!
//! Arguments are converted straight from Python objects (a `json.dumps` round trip would cost
//! more than the count), the GIL is released for the counting, and anything the core cannot
//! answer exactly raises `UnsupportedInput`.

use std::path::PathBuf;
use std::sync::Arc;

use litellm_rust_core::tokens::{
    common_text, CountInput, CountRequest, ModelCatalog, TokenCounter, TokensError, Value,
};
use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString};

use crate::errors::tokens_error;

// Deeper than any real message; Python itself would hit its recursion limit near 1,000.
const MAX_DEPTH: usize = 64;

fn unsupported(reason: impl Into<String>) -> TokensError {
    TokensError::Unsupported {
        reason: reason.into(),
    }
}

/// Converts a Python message/tool tree. Only exact shapes LiteLLM's rules are mirrored for are
/// taken: dicts with string keys, lists, strings, bools, 64-bit ints, floats and None.
///
/// Keys and the words chats repeat go through `common_text`, which borrows them instead of
/// allocating (perf: malloc/free were a fifth of a batch's time, conversion -22% without them).
fn to_value(object: &Bound<'_, PyAny>, depth: usize) -> Result<Value, TokensError> {
    if depth > MAX_DEPTH {
        return Err(unsupported("input nests too deeply"));
    }
    if let Ok(text) = object.cast::<PyString>() {
        return Ok(Value::Str(common_text(
            text.to_str()
                .map_err(|_| unsupported("a string with lone surrogates"))?,
        )));
    }
    if let Ok(dict) = object.cast::<PyDict>() {
        let mut entries = Vec::with_capacity(dict.len());
        for (key, item) in dict.iter() {
            let key = common_text(
                key.cast::<PyString>()
                    .map_err(|_| unsupported("a dict key that is not a string"))?
                    .to_str()
                    .map_err(|_| unsupported("a string with lone surrogates"))?,
            );
            entries.push((key, to_value(&item, depth + 1)?));
        }
        return Ok(Value::Map(entries));
    }
    if let Ok(list) = object.cast::<PyList>() {
        let mut items = Vec::with_capacity(list.len());
        for item in list.iter() {
            items.push(to_value(&item, depth + 1)?);
        }
        return Ok(Value::List(items));
    }
    if object.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(flag) = object.cast::<PyBool>() {
        return Ok(Value::Bool(flag.is_true()));
    }
    if object.cast::<PyInt>().is_ok() {
        return object
            .extract::<i64>()
            .map(Value::Int)
            .map_err(|_| unsupported("an int beyond 64 bits"));
    }
    if let Ok(number) = object.cast::<PyFloat>() {
        return Ok(Value::Float(number.value()));
    }
    let type_name = object
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default();
    Err(unsupported(format!("a value of type {type_name}")))
}

// A batch item's `"text": None` means no text, as a keyword argument would.
fn present(value: Option<Bound<'_, PyAny>>) -> Option<Bound<'_, PyAny>> {
    value.filter(|v| !v.is_none())
}

fn optional_value(object: Option<&Bound<'_, PyAny>>) -> Result<Value, TokensError> {
    match object {
        Some(object) => to_value(object, 0),
        None => Ok(Value::Null),
    }
}

fn text_input(text: &Bound<'_, PyAny>) -> Result<String, TokensError> {
    if let Ok(text) = text.cast::<PyString>() {
        return Ok(text
            .to_str()
            .map_err(|_| unsupported("a string with lone surrogates"))?
            .to_owned());
    }
    // LiteLLM joins the strings of a list and ignores everything else in it.
    let list = text
        .cast::<PyList>()
        .map_err(|_| unsupported("text that is neither str nor list"))?;
    let mut joined = String::new();
    for item in list.iter() {
        if let Ok(piece) = item.cast::<PyString>() {
            joined.push_str(
                piece
                    .to_str()
                    .map_err(|_| unsupported("a string with lone surrogates"))?
                    .as_ref(),
            );
        }
    }
    Ok(joined)
}

fn input(
    messages: Option<&Bound<'_, PyAny>>,
    text: Option<&Bound<'_, PyAny>>,
) -> Result<CountInput, TokensError> {
    match (messages, text) {
        (None, Some(text)) => Ok(CountInput::Text(text_input(text)?)),
        (Some(messages), None) => {
            let list = messages
                .cast::<PyList>()
                .map_err(|_| unsupported("messages that are not a list"))?;
            let mut converted = Vec::with_capacity(list.len());
            for message in list.iter() {
                if message.cast::<PyDict>().is_err() {
                    return Err(unsupported("a message that is not a dict"));
                }
                converted.push(to_value(&message, 0)?);
            }
            Ok(CountInput::Messages(converted))
        }
        // LiteLLM raises ValueError for both and for neither; it should say so itself.
        _ => Err(unsupported(
            "exactly one of text and messages must be given",
        )),
    }
}

/// LiteLLM's token counting for one installed litellm package.
#[pyclass(name = "TokenCounter", module = "litellm_rust._native", frozen)]
pub struct PyTokenCounter {
    inner: TokenCounter,
}

#[pymethods]
impl PyTokenCounter {
    #[new]
    fn new(py: Python<'_>, cost_map_json: &str, tokenizer_dir: PathBuf) -> PyResult<Self> {
        let json = cost_map_json.to_owned();
        let inner = py
            .detach(move || {
                let catalog = ModelCatalog::from_cost_map_json(&json)?;
                TokenCounter::new(catalog, tokenizer_dir)
            })
            .map_err(|error| tokens_error(py, error))?;
        Ok(Self { inner })
    }

    #[pyo3(signature = (
        model, messages=None, text=None, tools=None, tool_choice=None, count_extras=true,
        use_default_image_token_count=false, default_token_count=None, hugging_face_disabled=false
    ))]
    #[allow(clippy::too_many_arguments)]
    fn count(
        &self,
        py: Python<'_>,
        model: Option<&str>,
        messages: Option<&Bound<'_, PyAny>>,
        text: Option<&Bound<'_, PyAny>>,
        tools: Option<&Bound<'_, PyAny>>,
        tool_choice: Option<&Bound<'_, PyAny>>,
        count_extras: bool,
        use_default_image_token_count: bool,
        default_token_count: Option<i64>,
        hugging_face_disabled: bool,
    ) -> PyResult<i64> {
        let request = (|| {
            Ok(CountRequest {
                model: model.map(Arc::from),
                input: input(messages, text)?,
                tools: optional_value(tools)?,
                tool_choice: optional_value(tool_choice)?,
                count_extras,
                use_default_image_token_count,
                default_token_count,
                hugging_face_disabled,
            })
        })();
        let request = request.map_err(|error| tokens_error(py, error))?;
        py.detach(|| self.inner.count(&request))
            .map_err(|error| tokens_error(py, error))
    }

    #[pyo3(signature = (model, items, hugging_face_disabled=false))]
    fn count_batch(
        &self,
        py: Python<'_>,
        model: Option<&str>,
        items: &Bound<'_, PyList>,
        hugging_face_disabled: bool,
    ) -> PyResult<Vec<Option<i64>>> {
        // Requests go to the core's pool as they are converted, so counting overlaps with the
        // conversion, which needs the GIL (perf: a third of a batch's time was conversion done
        // before any counting began).
        let mut batch = self.inner.batch(items.len());
        let model: Option<Arc<str>> = model.map(Arc::from);
        let mut converted = Vec::with_capacity(items.len());
        for item in items.iter() {
            let (messages, text, tools, tool_choice) = if let Ok(dict) = item.cast::<PyDict>() {
                (
                    dict.get_item(intern!(py, "messages"))?,
                    dict.get_item(intern!(py, "text"))?,
                    dict.get_item(intern!(py, "tools"))?,
                    dict.get_item(intern!(py, "tool_choice"))?,
                )
            } else if item.cast::<PyList>().is_ok() {
                (Some(item.clone()), None, None, None)
            } else if item.cast::<PyString>().is_ok() {
                (None, Some(item.clone()), None, None)
            } else {
                return Err(PyTypeError::new_err(
                    "count_batch items must be a message list, a text string, or a dict with \
                     'messages' or 'text' (and optional 'tools', 'tool_choice')",
                ));
            };
            let request = (|| -> Result<CountRequest, TokensError> {
                Ok(CountRequest {
                    model: model.clone(),
                    input: input(present(messages).as_ref(), present(text).as_ref())?,
                    tools: optional_value(tools.as_ref())?,
                    tool_choice: optional_value(tool_choice.as_ref())?,
                    count_extras: true,
                    use_default_image_token_count: false,
                    default_token_count: None,
                    hugging_face_disabled,
                })
            })();
            // An item that cannot even be converted is unsupported like one the core refuses.
            converted.push(request.is_ok());
            if let Ok(request) = request {
                batch.push(request);
            }
        }
        let counted = py.detach(|| batch.finish());
        let mut counted = counted.into_iter();
        Ok(converted
            .into_iter()
            .map(|ok| {
                if ok {
                    counted.next().and_then(Result::ok)
                } else {
                    None
                }
            })
            .collect())
    }

    #[pyo3(signature = (model, text, hugging_face_disabled=false))]
    fn encode(
        &self,
        py: Python<'_>,
        model: Option<&str>,
        text: &str,
        hugging_face_disabled: bool,
    ) -> PyResult<Vec<u32>> {
        py.detach(|| self.inner.encode(model, text, hugging_face_disabled))
            .map_err(|error| tokens_error(py, error))
    }

    #[pyo3(signature = (model, tokens, hugging_face_disabled=false))]
    fn decode(
        &self,
        py: Python<'_>,
        model: Option<&str>,
        tokens: Vec<u32>,
        hugging_face_disabled: bool,
    ) -> PyResult<String> {
        py.detach(|| self.inner.decode(model, &tokens, hugging_face_disabled))
            .map_err(|error| tokens_error(py, error))
    }

    /// The tokenizer name LiteLLM counts `model` with, or None when Python must count.
    #[pyo3(signature = (model, hugging_face_disabled=false))]
    fn tokenizer_name(
        &self,
        model: Option<&str>,
        hugging_face_disabled: bool,
    ) -> Option<&'static str> {
        self.inner
            .select(model, hugging_face_disabled)
            .counting
            .ok()
            .map(|t| t.name())
    }
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyTokenCounter>()
}
