//! Tool definitions and `tool_choice` as LiteLLM prices them.
//!
//! By default LiteLLM renders the tools in the TypeScript-like `namespace functions { ... }` form
//! OpenAI is believed to use and adds 9 tokens (4 fewer when a system message is present). For a
//! few open models it knows the chat template instead (`chat_template_tool_section`): each function
//! rendered with `json.dumps`, plus a fixed preamble.

use std::sync::OnceLock;

use regex::Regex;

use super::error::Refusal;
use super::value::{python_json, JsonLayout, Value};

// Python raises RecursionError near 1,000 frames; schemas this deep are left to it.
const MAX_SCHEMA_DEPTH: usize = 64;

// Keys of an Anthropic tool that LiteLLM's bridge maps itself; the others are merged into the
// parameters it renders (`_ANTHROPIC_TOOL_KEYS_MAPPED_BY_BRIDGE`).
const ANTHROPIC_MAPPED_KEYS: [&str; 8] = [
    "name",
    "input_schema",
    "description",
    "cache_control",
    "strict",
    "type",
    "eager_input_streaming",
    "custom",
];

/// How a model's chat template renders tools (LiteLLM's `ChatTemplateToolSection`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ToolSection {
    /// Tokens of the fixed text around the tool list.
    pub preamble_tokens: i64,
    /// Tokens of the system turn the template opens when the messages have none.
    pub implicit_system_turn_tokens: i64,
    /// How each function is rendered.
    pub schema_style: SchemaStyle,
    /// Whether `tool_choice` adds tokens for this template.
    pub counts_tool_choice: bool,
    /// Whether `"strict": false` is left out of the rendered function.
    pub renders_strict_only_when_true: bool,
}

/// The `json.dumps` layout of a chat template's tool list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaStyle {
    /// One `json.dumps(function)` per line.
    JsonLines,
    /// One compact `json.dumps(function, separators=(",", ":"))` per line.
    CompactJsonLines,
    /// Each function wrapped as `{"type": "function", "function": ...}`, each after a newline.
    WrappedJsonLines,
}

impl ToolSection {
    const fn new(preamble: i64, implicit: i64, style: SchemaStyle) -> Self {
        Self {
            preamble_tokens: preamble,
            implicit_system_turn_tokens: implicit,
            schema_style: style,
            counts_tool_choice: false,
            renders_strict_only_when_true: false,
        }
    }

    const fn grok(style: SchemaStyle) -> Self {
        Self {
            preamble_tokens: 0,
            implicit_system_turn_tokens: 0,
            schema_style: style,
            counts_tool_choice: true,
            renders_strict_only_when_true: true,
        }
    }

    /// The section LiteLLM's `chat_template_tool_section(model)` returns: the first of its name
    /// patterns that matches, searched case-insensitively.
    pub fn for_model(model: &str) -> Option<Self> {
        if model.is_empty() {
            return None;
        }
        section_patterns()
            .iter()
            .find(|(pattern, _)| pattern.is_match(model))
            .map(|(_, s)| *s)
    }
}

// LiteLLM's patterns with each negative lookahead `(?!X)` spelled as "a character that is not X,
// or the end", which matches the same names; Python's `$` also matches before a final newline.
fn section_patterns() -> &'static [(Regex, ToolSection)] {
    static PATTERNS: OnceLock<Vec<(Regex, ToolSection)>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let json_lines = SchemaStyle::JsonLines;
        [
            (r"(?i)deepseek-v4(?:[-._]|p)1(?:\D|\z)", ToolSection::new(211, 0, json_lines)),
            (
                r"(?i)deepseek-v4(?:\z|[^.\dp]|p\z|p\D)|^(?:deepseek/)?deepseek-(?:chat|reasoner|flash)(?::free)?\n?\z",
                ToolSection::new(222, 0, json_lines),
            ),
            (r"(?i)qwen3[._]?5(?:\D|\z)", ToolSection::new(196, 5, SchemaStyle::WrappedJsonLines)),
            (r"(?i)grok-4[-.]1(?:[^.\d]|\z)", ToolSection::grok(SchemaStyle::CompactJsonLines)),
            (r"(?i)grok-4[-.]3(?:[^.\d]|\z)", ToolSection::grok(json_lines)),
        ]
        .into_iter()
        .filter_map(|(pattern, section)| Some((Regex::new(pattern).ok()?, section)))
        .collect()
    })
}

/// The function definitions LiteLLM reads from a tools list (`_function_definitions`), built as
/// it builds them so that their key order, and so their `json.dumps`, is the same.
pub(crate) fn function_definitions(tools: &[Value], skip_web_search: bool) -> Vec<Value> {
    let mut functions = Vec::new();
    for tool in tools {
        let Value::Map(entries) = tool else { continue };
        if skip_web_search
            && tool.get("name").and_then(Value::as_str) == Some("web_search")
            && !tool.has("input_schema")
            && tool.get("type").and_then(Value::as_str) != Some("function")
        {
            continue;
        }
        if let Some(function @ Value::Map(_)) = tool.get("function") {
            functions.push(function.clone());
            continue;
        }
        let declarations = match tool.get("function_declarations") {
            Some(value) if value.is_truthy() => Some(value),
            _ => tool.get("functionDeclarations"),
        };
        if let Some(Value::List(declarations)) = declarations {
            functions.extend(
                declarations
                    .iter()
                    .filter(|d| matches!(d, Value::Map(_)))
                    .cloned(),
            );
            continue;
        }
        let input_schema = tool.get("input_schema");
        let parameters = match input_schema {
            Some(schema) if schema.is_truthy() => Some(schema),
            _ => tool.get("parameters").filter(|p| p.is_truthy()),
        };
        let mut merged = match parameters {
            Some(Value::Map(entries)) => entries.clone(),
            _ => Vec::new(),
        };
        if input_schema.is_some() {
            for (key, value) in entries {
                if ANTHROPIC_MAPPED_KEYS.contains(&&**key) {
                    continue;
                }
                match merged.iter_mut().find(|(k, _)| k == key) {
                    Some(slot) => slot.1 = value.clone(),
                    None => merged.push((key.clone(), value.clone())),
                }
            }
        }
        let mut function = vec![
            (
                "name".into(),
                tool.get("name").cloned().unwrap_or(Value::Null),
            ),
            ("parameters".into(), Value::Map(merged)),
        ];
        if let Some(description) = tool.get("description").filter(|d| **d != Value::Null) {
            function.push(("description".into(), description.clone()));
        }
        if let Some(strict) = tool.get("strict").filter(|s| **s != Value::Null) {
            function.push(("strict".into(), Value::Bool(strict.is_truthy())));
        }
        functions.push(Value::Map(function));
    }
    functions
}

/// `_format_function_definitions`: the TypeScript-like rendering of all functions.
pub(crate) fn typescript_definitions(tools: &[Value]) -> Result<String, Refusal> {
    let mut lines = vec!["namespace functions {".to_owned(), String::new()];
    for function in function_definitions(tools, false) {
        format_function(&function, &mut lines)?;
    }
    lines.push("} // namespace functions".to_owned());
    Ok(lines.join("\n"))
}

fn python_str(value: &Value, what: &str) -> Result<String, Refusal> {
    value.python_str().ok_or_else(|| {
        Refusal::Unsupported(format!(
            "{what} is a list or dict, which litellm renders with repr()"
        ))
    })
}

fn format_function(function: &Value, lines: &mut Vec<String>) -> Result<(), Refusal> {
    let name = function.get("name").unwrap_or(&Value::Null);
    if !name.is_truthy() {
        return Ok(());
    }
    let name = python_str(name, "a function name")?;
    let description = function.get("description").filter(|d| d.is_truthy());
    if let Some(description) = description {
        lines.push(format!(
            "// {}",
            python_str(description, "a function description")?
        ));
    }
    let parameters = function.get("parameters").filter(|p| p.is_truthy());
    let parameters = parameters.filter(|p| matches!(p, Value::Map(_)));
    let has_properties = parameters
        .and_then(|p| p.get("properties"))
        .is_some_and(|p| matches!(p, Value::Map(entries) if !entries.is_empty()));
    match parameters {
        Some(parameters) if has_properties => {
            lines.push(format!("type {name} = (_: {{"));
            lines.push(format_object(parameters, 0, 0)?);
            lines.push("}) => any;".to_owned());
        }
        _ => lines.push(format!("type {name} = () => any;")),
    }
    lines.push(String::new());
    Ok(())
}

fn format_object(parameters: &Value, indent: usize, depth: usize) -> Result<String, Refusal> {
    if depth > MAX_SCHEMA_DEPTH {
        return Err(Refusal::Unsupported("tool schema nests too deeply".into()));
    }
    let Some(Value::Map(properties)) = parameters.get("properties") else {
        return Ok(String::new());
    };
    if properties.is_empty() {
        return Ok(String::new());
    }
    let required: &[Value] = match parameters.get("required") {
        Some(Value::List(items)) => items,
        _ => &[],
    };
    let mut lines = Vec::new();
    for (key, props) in properties {
        let description = match props {
            Value::Map(_) => props.get("description").filter(|d| d.is_truthy()),
            _ => None,
        };
        if let Some(description) = description {
            lines.push(format!(
                "// {}",
                python_str(description, "a parameter description")?
            ));
        }
        let is_required = required.iter().any(|item| item.as_str() == Some(key));
        let question = if is_required { "" } else { "?" };
        lines.push(format!(
            "{key}{question}: {},",
            format_type(props, indent, depth)?
        ));
    }
    let prefix = " ".repeat(indent);
    Ok(lines
        .iter()
        .map(|line| format!("{prefix}{line}"))
        .collect::<Vec<_>>()
        .join("\n"))
}

fn format_type(props: &Value, indent: usize, depth: usize) -> Result<String, Refusal> {
    if depth > MAX_SCHEMA_DEPTH {
        return Err(Refusal::Unsupported("tool schema nests too deeply".into()));
    }
    if !matches!(props, Value::Map(_)) {
        return Ok("any".to_owned());
    }
    let enum_literal = || -> Result<Option<String>, Refusal> {
        match props.get("enum") {
            Some(Value::List(items)) => {
                let items: Result<Vec<String>, Refusal> = items
                    .iter()
                    .map(|item| python_str(item, "an enum value").map(|s| format!("\"{s}\"")))
                    .collect();
                Ok(Some(items?.join(" | ")))
            }
            _ => Ok(None),
        }
    };
    let kind = props.get("type").and_then(Value::as_str);
    Ok(match kind {
        Some("string") => enum_literal()?.unwrap_or_else(|| "string".to_owned()),
        Some("array") => {
            let items = props.get("items").unwrap_or(&Value::Null);
            format!("{}[]", format_type(items, indent, depth + 1)?)
        }
        Some("object") => format!("{{\n{}\n}}", format_object(props, indent + 2, depth + 1)?),
        Some("integer" | "number") => enum_literal()?.unwrap_or_else(|| "number".to_owned()),
        Some("boolean") => "boolean".to_owned(),
        Some("null") => "null".to_owned(),
        _ => "any".to_owned(),
    })
}

/// `_count_chat_template_tools`' rendering: the named functions as the template's JSON lines, or
/// `None` when no function has a name.
pub(crate) fn chat_template_schemas(tools: &[Value], section: &ToolSection) -> Option<String> {
    let functions: Vec<Value> = function_definitions(tools, true)
        .into_iter()
        .filter(|function| function.get("name").is_some_and(Value::is_truthy))
        .map(|function| match function {
            Value::Map(entries) if section.renders_strict_only_when_true => Value::Map(
                entries
                    .into_iter()
                    .filter(|(key, value)| key != "strict" || value.is_truthy())
                    .collect(),
            ),
            other => other,
        })
        .collect();
    if functions.is_empty() {
        return None;
    }
    let mut out = String::new();
    for (index, function) in functions.iter().enumerate() {
        match section.schema_style {
            SchemaStyle::JsonLines | SchemaStyle::CompactJsonLines => {
                if index > 0 {
                    out.push('\n');
                }
                let layout = match section.schema_style {
                    SchemaStyle::CompactJsonLines => JsonLayout::Compact,
                    _ => JsonLayout::Spaced,
                };
                python_json(function, layout, &mut out);
            }
            SchemaStyle::WrappedJsonLines => {
                out.push('\n');
                let wrapped = Value::Map(vec![
                    ("type".into(), Value::Str("function".into())),
                    ("function".into(), function.clone()),
                ]);
                python_json(&wrapped, JsonLayout::Spaced, &mut out);
            }
        }
    }
    Some(out)
}

/// What `tool_choice` adds, per `_count_tool_choice`: the fixed tokens and the name to count.
pub(crate) fn tool_choice_cost(tool_choice: &Value) -> (i64, Option<&str>) {
    if tool_choice.as_str() == Some("none") {
        return (1, None);
    }
    if !matches!(tool_choice, Value::Map(_)) {
        return (0, None);
    }
    let function_name = tool_choice
        .get("function")
        .filter(|f| matches!(f, Value::Map(_)))
        .and_then(|f| f.get("name"))
        .and_then(Value::as_str);
    if let Some(name) = function_name {
        return (7, Some(name));
    }
    if tool_choice.get("type").and_then(Value::as_str) == Some("none") {
        return (1, None);
    }
    match tool_choice.get("name").and_then(Value::as_str) {
        Some(name) => (7, Some(name)),
        None => (0, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weather_tool() -> Value {
        let location = Value::Map(vec![
            ("type".into(), Value::Str("string".into())),
            ("description".into(), Value::Str("City".into())),
        ]);
        let unit = Value::Map(vec![
            ("type".into(), Value::Str("string".into())),
            (
                "enum".into(),
                Value::List(vec![Value::Str("c".into()), Value::Str("f".into())]),
            ),
        ]);
        let parameters = Value::Map(vec![
            ("type".into(), Value::Str("object".into())),
            (
                "properties".into(),
                Value::Map(vec![("location".into(), location), ("unit".into(), unit)]),
            ),
            (
                "required".into(),
                Value::List(vec![Value::Str("location".into())]),
            ),
        ]);
        let function = Value::Map(vec![
            ("name".into(), Value::Str("get_weather".into())),
            ("description".into(), Value::Str("Weather now".into())),
            ("parameters".into(), parameters),
        ]);
        Value::Map(vec![
            ("type".into(), Value::Str("function".into())),
            ("function".into(), function),
        ])
    }

    #[test]
    fn renders_typescript_namespace() {
        let rendered = typescript_definitions(&[weather_tool()]);
        let expected = "namespace functions {\n\n// Weather now\ntype get_weather = (_: {\n// City\nlocation: string,\nunit?: \"c\" | \"f\",\n}) => any;\n\n} // namespace functions";
        assert_eq!(rendered, Ok(expected.to_owned()));
    }

    #[test]
    fn every_section_pattern_compiles() {
        assert_eq!(section_patterns().len(), 5);
    }

    #[test]
    fn picks_chat_template_sections_like_litellm() {
        assert_eq!(
            ToolSection::for_model("deepseek-chat").map(|s| s.preamble_tokens),
            Some(222)
        );
        assert_eq!(
            ToolSection::for_model("deepseek/deepseek-v4-1").map(|s| s.preamble_tokens),
            Some(211)
        );
        assert_eq!(
            ToolSection::for_model("DeepSeek-V4").map(|s| s.preamble_tokens),
            Some(222)
        );
        assert_eq!(ToolSection::for_model("deepseek-v4.5"), None);
        assert_eq!(
            ToolSection::for_model("qwen3.5-plus").map(|s| s.preamble_tokens),
            Some(196)
        );
        assert_eq!(ToolSection::for_model("qwen3.55"), None);
        assert!(ToolSection::for_model("xai/grok-4-1-fast").is_some_and(|s| s.counts_tool_choice));
        assert_eq!(ToolSection::for_model("grok-4.10"), None);
        assert_eq!(ToolSection::for_model("gpt-4o"), None);
    }

    #[test]
    fn tool_choice_matches_litellm_patterns() {
        let named = Value::Map(vec![(
            "function".into(),
            Value::Map(vec![("name".into(), Value::Str("f".into()))]),
        )]);
        assert_eq!(tool_choice_cost(&named), (7, Some("f")));
        assert_eq!(tool_choice_cost(&Value::Str("none".into())), (1, None));
        assert_eq!(tool_choice_cost(&Value::Str("auto".into())), (0, None));
    }
}
