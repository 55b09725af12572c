//! Message accounting: LiteLLM's `_count_messages`, `_count_content_list` and `_count_extra`.
//!
//! Every message costs 3 tokens (4 under the `gpt-3.5-turbo-0301` rules), every string value of
//! every key is counted (so the role is too), a `name` adds 1 (or -1 under the old rules), tool
//! calls count their `arguments`, and the reply primer adds 3 more.

use std::borrow::Cow;

use super::error::Refusal;
use super::images::{image_tokens, image_tokens_of_non_string, Detail};
use super::tools::{chat_template_schemas, tool_choice_cost, typescript_definitions, ToolSection};
use super::value::{is_python_space, Value};

/// Counts one piece of text the way LiteLLM's count function does for the selected tokenizer.
pub(crate) type CountText<'a> = dyn Fn(&str) -> Result<i64, Refusal> + 'a;

/// The per-model constants and switches of one count.
pub(crate) struct Accounting<'a> {
    pub(crate) count: &'a CountText<'a>,
    pub(crate) legacy: bool,
    pub(crate) tool_section: Option<ToolSection>,
    pub(crate) use_default_image_token_count: bool,
    pub(crate) default_token_count: Option<i64>,
}

impl Accounting<'_> {
    fn tokens_per_message(&self) -> i64 {
        if self.legacy {
            4
        } else {
            3
        }
    }

    fn tokens_per_name(&self) -> i64 {
        // Under the 0301 rules a name replaces the role.
        if self.legacy {
            -1
        } else {
            1
        }
    }

    /// `_count_messages`.
    pub(crate) fn messages(&self, messages: &[Value]) -> Result<i64, Refusal> {
        let mut total = 0;
        for message in messages {
            let Value::Map(entries) = message else {
                return Err(Refusal::Raises("a message is not a dict".to_owned()));
            };
            total += self.tokens_per_message();
            for (key, value) in entries {
                total += self.message_field(key, value)?;
            }
        }
        Ok(total)
    }

    fn message_field(&self, key: &str, value: &Value) -> Result<i64, Refusal> {
        match (key, value) {
            (_, Value::Null) => Ok(0),
            ("tool_calls" | "function_call", _) => self.function_calls(key, value),
            (_, Value::Str(text)) => {
                let name_tokens = if key == "name" {
                    self.tokens_per_name()
                } else {
                    0
                };
                Ok((self.count)(text)? + name_tokens)
            }
            ("content", Value::List(blocks)) => self.content_list(blocks),
            ("provider_specific_fields", _) => self.compaction_summaries(value),
            ("search_results", Value::List(results)) if !results.is_empty() => {
                Err(Refusal::Unsupported(
                    "search_results are rendered by litellm's prompt templates".into(),
                ))
            }
            // LiteLLM skips every other key and value type.
            _ => Ok(0),
        }
    }

    fn function_calls(&self, key: &str, value: &Value) -> Result<i64, Refusal> {
        if key == "function_call" {
            if !matches!(value, Value::Map(_)) {
                return Err(Refusal::Raises("function_call is not a dict".to_owned()));
            }
            return self.count_str(
                value
                    .get("arguments")
                    .unwrap_or(&Value::Str(Cow::Borrowed(""))),
            );
        }
        let Value::List(calls) = value else {
            return Err(Refusal::Raises("tool_calls is not a list".to_owned()));
        };
        let mut total = 0;
        for call in calls {
            if !matches!(call, Value::Map(_)) {
                return Err(Refusal::Unsupported(
                    "a tool call that is not a dict".to_owned(),
                ));
            }
            let Some(function) = call.get("function") else {
                return Err(Refusal::Raises("a tool call without a function".to_owned()));
            };
            if !matches!(function, Value::Map(_)) {
                return Err(Refusal::Unsupported(
                    "a tool call function that is not a dict".into(),
                ));
            }
            total += self.count_str(
                function
                    .get("arguments")
                    .unwrap_or(&Value::Str(Cow::Borrowed(""))),
            )?;
        }
        Ok(total)
    }

    // `count_function(str(value))`.
    fn count_str(&self, value: &Value) -> Result<i64, Refusal> {
        let text = value.python_str().ok_or_else(|| {
            Refusal::Unsupported("a list or dict that litellm counts as its repr()".to_owned())
        })?;
        (self.count)(&text)
    }

    fn compaction_summaries(&self, fields: &Value) -> Result<i64, Refusal> {
        let Some(Value::List(blocks)) = fields.get("compaction_blocks") else {
            return Ok(0);
        };
        let mut total = 0;
        for block in blocks {
            if block.get("type").and_then(Value::as_str) != Some("compaction") {
                continue;
            }
            if let Some(Value::Str(content)) = block.get("content") {
                if !content.is_empty() {
                    total += (self.count)(content)?;
                }
            }
        }
        Ok(total)
    }

    /// `_count_content_list`: with `default_token_count` set, any block LiteLLM raises on makes
    /// the whole list count as that default.
    fn content_list(&self, blocks: &[Value]) -> Result<i64, Refusal> {
        let mut total = 0;
        for block in blocks {
            match self.content_block(block) {
                Ok(tokens) => total += tokens,
                Err(Refusal::Raises(reason)) => {
                    return match self.default_token_count {
                        Some(default) => Ok(default),
                        None => Err(Refusal::Raises(reason)),
                    }
                }
                Err(unsupported) => return Err(unsupported),
            }
        }
        Ok(total)
    }

    fn content_block(&self, block: &Value) -> Result<i64, Refusal> {
        if let Value::Str(text) = block {
            return (self.count)(text);
        }
        let Some(block_type) = block.get("type") else {
            return Err(Refusal::Raises("a content block without 'type'".to_owned()));
        };
        let Value::Str(block_type) = block_type else {
            return Err(Refusal::Raises(
                "a content block 'type' that is not a string".to_owned(),
            ));
        };
        let text_field = match &**block_type {
            "text" => Some("text"),
            "thinking" | "redacted_thinking" => Some("thinking"),
            "compaction" => Some("content"),
            _ => None,
        };
        if let Some(field) = text_field {
            return match block.get(field).filter(|v| v.is_truthy()) {
                Some(value) => self.count_str(value),
                None => Ok(0),
            };
        }
        match &**block_type {
            "image_url" => self.image_url(block.get("image_url").unwrap_or(&Value::Null)),
            "image" => Err(Refusal::Unsupported("Anthropic image blocks".to_owned())),
            "tool_reference" => match block.get("tool_name").filter(|v| v.is_truthy()) {
                Some(name) => self.count_str(name),
                None => Ok(0),
            },
            // Limitation: documents (PDF pages), files and Anthropic tool blocks are priced by
            // LiteLLM's Python path.
            "document" | "file" | "tool_use" | "tool_result" | "search_result" => {
                Err(Refusal::Unsupported(format!("{block_type} content blocks")))
            }
            other
                if other.ends_with("_tool_use")
                    || other.ends_with("_result")
                    || other.ends_with("_result_error")
                    || other.ends_with("_output") =>
            {
                Err(Refusal::Unsupported(format!("{other} content blocks")))
            }
            other => Err(Refusal::Raises(format!(
                "invalid content item type: {other}"
            ))),
        }
    }

    /// `_count_image_tokens`.
    fn image_url(&self, image_url: &Value) -> Result<i64, Refusal> {
        let use_default = self.use_default_image_token_count;
        match image_url {
            Value::Map(_) => {
                let detail = match image_url.get("detail") {
                    None => Detail::Auto,
                    Some(Value::Str(detail)) if detail == "auto" => Detail::Auto,
                    Some(Value::Str(detail)) if detail == "low" => Detail::Low,
                    Some(Value::Str(detail)) if detail == "high" => Detail::High,
                    Some(_) => return Err(Refusal::Raises("invalid image detail".to_owned())),
                };
                match image_url.get("url").filter(|url| url.is_truthy()) {
                    None => Err(Refusal::Raises("image_url without 'url'".to_owned())),
                    Some(Value::Str(url)) => image_tokens(url, detail, use_default),
                    Some(_) => image_tokens_of_non_string(detail, use_default),
                }
            }
            Value::Str(url) => {
                if url.chars().all(is_python_space) {
                    return Err(Refusal::Raises("empty image_url string".to_owned()));
                }
                image_tokens(url, Detail::Auto, use_default)
            }
            _ => Err(Refusal::Raises(
                "image_url is neither a string nor a dict".to_owned(),
            )),
        }
    }

    /// `_count_extra`: the reply primer, tool definitions and `tool_choice`.
    pub(crate) fn extra(
        &self,
        tools: &Value,
        tool_choice: &Value,
        includes_system_message: bool,
    ) -> Result<i64, Refusal> {
        let reply_primer = 3;
        let tool_choice_tokens = match self.tool_section {
            Some(section) if !section.counts_tool_choice => 0,
            _ => self.tool_choice(tool_choice)?,
        };
        Ok(reply_primer
            + self.tool_definitions(tools, includes_system_message)?
            + tool_choice_tokens)
    }

    fn tool_choice(&self, tool_choice: &Value) -> Result<i64, Refusal> {
        let (fixed, name) = tool_choice_cost(tool_choice);
        Ok(fixed
            + name
                .map(|name| (self.count)(name))
                .transpose()?
                .unwrap_or(0))
    }

    fn tool_definitions(
        &self,
        tools: &Value,
        includes_system_message: bool,
    ) -> Result<i64, Refusal> {
        if !tools.is_truthy() {
            return Ok(0);
        }
        let Value::List(tools) = tools else {
            return Err(Refusal::Unsupported("tools that are not a list".to_owned()));
        };
        if let Some(section) = self.tool_section {
            let Some(schemas) = chat_template_schemas(tools, &section) else {
                return Ok(0);
            };
            let system_turn = if includes_system_message {
                0
            } else {
                section.implicit_system_turn_tokens
            };
            return Ok(section.preamble_tokens + system_turn + (self.count)(&schemas)?);
        }
        let discount = if includes_system_message { 4 } else { 0 };
        Ok((self.count)(&typescript_definitions(tools)?)? + 9 - discount)
    }
}
