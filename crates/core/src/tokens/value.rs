//! The values messages and tools arrive as: the JSON-like objects of a Python call, with Python's
//! notions of truth and of `str()` that LiteLLM's accounting relies on.

use std::borrow::Cow;
use std::fmt::Write as _;

/// A message, tool or content block as LiteLLM sees it: a Python `dict`/`list`/scalar tree.
///
/// Maps keep insertion order because LiteLLM walks `message.items()` and renders tool schemas with
/// `json.dumps`, both in the order the caller built the dict.
///
/// Keys and strings are `Cow<'static, str>` so that a converter can hand over the words every
/// message repeats (`"role"`, `"content"`, `"user"`, ...) without allocating them: converting a
/// chat from Python made ~20 allocations, most of them copies of those words, and conversion is
/// the serial part of a parallel batch.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Python `None`.
    Null,
    /// Python `bool`.
    Bool(bool),
    /// Python `int` that fits in 64 bits.
    Int(i64),
    /// Python `float`.
    Float(f64),
    /// Python `str`.
    Str(Cow<'static, str>),
    /// Python `list`.
    List(Vec<Value>),
    /// Python `dict` with `str` keys, in insertion order.
    Map(Vec<(Cow<'static, str>, Value)>),
}

impl Value {
    /// The value under `key` when this is a map, like `dict.get(key)`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Whether this is a map holding `key`, like `key in dict`.
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The string, when this is a `str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(text) => Some(text),
            _ => None,
        }
    }

    /// Python truthiness: `None`, `False`, zero, and empty strings, lists and dicts are false.
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(flag) => *flag,
            Value::Int(number) => *number != 0,
            Value::Float(number) => *number != 0.0,
            Value::Str(text) => !text.is_empty(),
            Value::List(items) => !items.is_empty(),
            Value::Map(entries) => !entries.is_empty(),
        }
    }

    /// Python's `str(value)` for scalars; `None` for lists and dicts, whose `repr` we do not
    /// reproduce (LiteLLM would count a Python repr, so such inputs go to Python).
    pub fn python_str(&self) -> Option<String> {
        match self {
            Value::Null => Some("None".to_owned()),
            Value::Bool(true) => Some("True".to_owned()),
            Value::Bool(false) => Some("False".to_owned()),
            Value::Int(number) => Some(number.to_string()),
            Value::Float(number) => Some(python_float_repr(*number)),
            Value::Str(text) => Some(text.to_string()),
            Value::List(_) | Value::Map(_) => None,
        }
    }
}

/// `text` as a [`Value`] string or key: borrowed from a static table when it is one of the words
/// chats repeat in every message (keys such as `"role"` and `"content"`, roles, block types),
/// copied otherwise. Converters use it so that those words cost no allocation.
///
/// ```
/// use std::borrow::Cow;
/// use litellm_rust_core::tokens::common_text;
///
/// assert!(matches!(common_text("role"), Cow::Borrowed("role")));
/// assert!(matches!(common_text("Hello"), Cow::Owned(_)));
/// ```
pub fn common_text(text: &str) -> Cow<'static, str> {
    const WORDS: [&str; 24] = [
        "role",
        "content",
        "user",
        "assistant",
        "system",
        "developer",
        "tool",
        "function",
        "name",
        "type",
        "text",
        "image_url",
        "url",
        "detail",
        "auto",
        "low",
        "high",
        "tool_calls",
        "tool_call_id",
        "id",
        "arguments",
        "thinking",
        "parameters",
        "description",
    ];
    // Content is usually longer than any of the words: one comparison skips the table.
    if text.len() <= "tool_call_id".len() {
        if let Some(word) = WORDS.iter().find(|word| **word == text) {
            return Cow::Borrowed(word);
        }
    }
    Cow::Owned(text.to_owned())
}

/// Python's `repr(float)`: the shortest digits that round-trip, in fixed notation for decimal
/// exponents from -4 to 15 and in `1.5e-07` form outside them.
pub(crate) fn python_float_repr(number: f64) -> String {
    if number.is_nan() {
        return "nan".to_owned();
    }
    if number.is_infinite() {
        return if number > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    // Rust's `{:e}` gives the same shortest round-trip digits as Python's repr; only the layout
    // differs, so the digits are re-laid out by Python's rules.
    let scientific = format!("{number:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::from(sign);
    if (-4..16).contains(&exponent) {
        if exponent < 0 {
            out.push_str("0.");
            for _ in 0..(-exponent - 1) {
                out.push('0');
            }
            out.push_str(&digits);
        } else {
            let point = usize::try_from(exponent).unwrap_or(0) + 1;
            if digits.len() <= point {
                out.push_str(&digits);
                for _ in digits.len()..point {
                    out.push('0');
                }
                out.push_str(".0");
            } else {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            }
        }
    } else {
        out.push_str(mantissa);
        let _ = write!(
            out,
            "e{}{:02}",
            if exponent < 0 { '-' } else { '+' },
            exponent.abs()
        );
    }
    out
}

/// Python's `str.isspace` for one character, which `str.strip()` uses: Rust's White_Space set
/// plus the four information separators U+001C..U+001F that Python also counts as space.
pub(crate) fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Separators of a `json.dumps` call.
#[derive(Clone, Copy)]
pub(crate) enum JsonLayout {
    /// `json.dumps(value, ensure_ascii=False)`: `", "` and `": "`.
    Spaced,
    /// `json.dumps(value, ensure_ascii=False, separators=(",", ":"))`.
    Compact,
}

/// Python's `json.dumps(value, ensure_ascii=False)` (or its compact form), byte for byte.
pub(crate) fn python_json(value: &Value, layout: JsonLayout, out: &mut String) {
    let (item_sep, key_sep) = match layout {
        JsonLayout::Spaced => (", ", ": "),
        JsonLayout::Compact => (",", ":"),
    };
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Int(number) => {
            let _ = write!(out, "{number}");
        }
        Value::Float(number) => {
            // json.dumps spells the non-finite floats the JavaScript way.
            if number.is_nan() {
                out.push_str("NaN");
            } else if number.is_infinite() {
                out.push_str(if *number > 0.0 {
                    "Infinity"
                } else {
                    "-Infinity"
                });
            } else {
                out.push_str(&python_float_repr(*number));
            }
        }
        Value::Str(text) => json_string(text, out),
        Value::List(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(item_sep);
                }
                python_json(item, layout, out);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (index, (key, item)) in entries.iter().enumerate() {
                if index > 0 {
                    out.push_str(item_sep);
                }
                json_string(key, out);
                out.push_str(key_sep);
                python_json(item, layout, out);
            }
            out.push('}');
        }
    }
}

fn json_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr_follows_python() {
        let cases = [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (1e16, "1e+16"),
            (1.5e-7, "1.5e-07"),
            (0.0001, "0.0001"),
            (123456789012345.6, "123456789012345.6"),
            (1e15, "1000000000000000.0"),
            (0.0, "0.0"),
            (f64::INFINITY, "inf"),
        ];
        for (number, expected) in cases {
            assert_eq!(python_float_repr(number), expected, "{number}");
        }
    }

    #[test]
    fn json_matches_python_spacing_and_escapes() {
        let value = Value::Map(vec![
            (
                "a".into(),
                Value::List(vec![Value::Int(1), Value::Float(2.0), Value::Null]),
            ),
            ("é\"".into(), Value::Str("x\n\u{1}".into())),
        ]);
        let mut out = String::new();
        python_json(&value, JsonLayout::Spaced, &mut out);
        assert_eq!(out, "{\"a\": [1, 2.0, null], \"é\\\"\": \"x\\n\\u0001\"}");
    }
}
