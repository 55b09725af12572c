//! Which tokenizer and which message rules LiteLLM applies to a model name.
//!
//! LiteLLM decides from three sources, all mirrored here: its model cost map (the provider sets
//! `open_ai_chat_completion_models`, `anthropic_models`, `cohere_models` and per-entry `mode`),
//! tiktoken's model tables, and a few name patterns (`_select_tokenizer_helper` and
//! `openai_tokenizer_encoding_name` in litellm 1.110.2).

use std::collections::{HashMap, HashSet};
use std::fmt;

use regex::Regex;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use super::encodings::Tokenizer;
use super::error::TokensError;
use super::tools::ToolSection;

// tiktoken 0.14.0 `MODEL_TO_ENCODING`, in its order (the pinned version LiteLLM calls).
const TIKTOKEN_MODELS: [(&str, &str); 44] = [
    ("o1", "o200k_base"),
    ("o3", "o200k_base"),
    ("o4-mini", "o200k_base"),
    ("gpt-5", "o200k_base"),
    ("gpt-4.1", "o200k_base"),
    ("gpt-4o", "o200k_base"),
    ("gpt-4", "cl100k_base"),
    ("gpt-3.5-turbo", "cl100k_base"),
    ("gpt-3.5", "cl100k_base"),
    ("gpt-35-turbo", "cl100k_base"),
    ("davinci-002", "cl100k_base"),
    ("babbage-002", "cl100k_base"),
    ("text-embedding-ada-002", "cl100k_base"),
    ("text-embedding-3-small", "cl100k_base"),
    ("text-embedding-3-large", "cl100k_base"),
    ("text-davinci-003", "p50k_base"),
    ("text-davinci-002", "p50k_base"),
    ("text-davinci-001", "r50k_base"),
    ("text-curie-001", "r50k_base"),
    ("text-babbage-001", "r50k_base"),
    ("text-ada-001", "r50k_base"),
    ("davinci", "r50k_base"),
    ("curie", "r50k_base"),
    ("babbage", "r50k_base"),
    ("ada", "r50k_base"),
    ("code-davinci-002", "p50k_base"),
    ("code-davinci-001", "p50k_base"),
    ("code-cushman-002", "p50k_base"),
    ("code-cushman-001", "p50k_base"),
    ("davinci-codex", "p50k_base"),
    ("cushman-codex", "p50k_base"),
    ("text-davinci-edit-001", "p50k_edit"),
    ("code-davinci-edit-001", "p50k_edit"),
    ("text-similarity-davinci-001", "r50k_base"),
    ("text-similarity-curie-001", "r50k_base"),
    ("text-similarity-babbage-001", "r50k_base"),
    ("text-similarity-ada-001", "r50k_base"),
    ("text-search-davinci-doc-001", "r50k_base"),
    ("text-search-curie-doc-001", "r50k_base"),
    ("text-search-babbage-doc-001", "r50k_base"),
    ("text-search-ada-doc-001", "r50k_base"),
    ("code-search-babbage-code-001", "r50k_base"),
    ("code-search-ada-code-001", "r50k_base"),
    ("gpt2", "gpt2"),
];

// tiktoken 0.14.0 `MODEL_PREFIX_TO_ENCODING`, in its order: the first matching prefix wins.
const TIKTOKEN_PREFIXES: [(&str, &str); 17] = [
    ("o1-", "o200k_base"),
    ("o3-", "o200k_base"),
    ("o4-mini-", "o200k_base"),
    ("gpt-5", "o200k_base"),
    ("gpt-4.5-", "o200k_base"),
    ("gpt-4.1-", "o200k_base"),
    ("chatgpt-4o-", "o200k_base"),
    ("gpt-4o-", "o200k_base"),
    ("gpt-4-", "cl100k_base"),
    ("gpt-3.5-turbo-", "cl100k_base"),
    ("gpt-35-turbo-", "cl100k_base"),
    ("gpt-oss-", "o200k_harmony"),
    ("ft:gpt-4o", "o200k_base"),
    ("ft:gpt-4", "cl100k_base"),
    ("ft:gpt-3.5-turbo", "cl100k_base"),
    ("ft:davinci-002", "cl100k_base"),
    ("ft:babbage-002", "cl100k_base"),
];

// `gpt-2` is the last entry of tiktoken's table; kept apart so the table above stays one type.
const TIKTOKEN_GPT_2: (&str, &str) = ("gpt-2", "gpt2");

// litellm's `azure_llms` keys: Azure deployment names LiteLLM treats as OpenAI models.
const AZURE_LLMS: [&str; 5] = [
    "gpt-35-turbo",
    "gpt-35-turbo-instruct",
    "azure/gpt-41",
    "azure/gpt-41-mini",
    "azure/gpt-41-nano",
];

const OPENAI_CHAT_MODES: [&str; 2] = ["chat", "responses"];
const TEXT_MODEL_MODES: [&str; 4] = ["chat", "completion", "responses", "realtime"];

fn tiktoken_encoding_name(model: &str) -> Option<&'static str> {
    if let Some((_, encoding)) = TIKTOKEN_MODELS
        .iter()
        .chain([&TIKTOKEN_GPT_2])
        .find(|(m, _)| *m == model)
    {
        return Some(encoding);
    }
    TIKTOKEN_PREFIXES
        .iter()
        .find(|(prefix, _)| model.starts_with(prefix))
        .map(|(_, e)| *e)
}

/// One entry of the model cost map, reduced to the fields the tokenizer choice reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Entry {
    provider: Option<String>,
    // A present `mode` that is not a string compares unequal to every mode, as in Python; it is
    // kept as the empty string, which is no mode either.
    mode: Option<String>,
    supports_pdf_input: bool,
}

impl Entry {
    fn from_json(value: &serde_json::Value) -> Option<Self> {
        let object = value.as_object()?;
        Some(Self {
            provider: object
                .get("litellm_provider")
                .and_then(|p| p.as_str())
                .map(str::to_owned),
            mode: object
                .get("mode")
                .map(|m| m.as_str().unwrap_or("").to_owned()),
            supports_pdf_input: object.get("supports_pdf_input")
                == Some(&serde_json::Value::Bool(true)),
        })
    }

    fn is_chat_mode(&self) -> bool {
        self.mode
            .as_deref()
            .is_some_and(|mode| OPENAI_CHAT_MODES.contains(&mode))
    }
}

/// The model sets and entries of LiteLLM's model cost map that decide tokenizer selection.
#[derive(Debug, Default)]
pub struct ModelCatalog {
    entries: HashMap<String, Entry>,
    openai_chat: HashSet<String>,
    anthropic: HashSet<String>,
    cohere: HashSet<String>,
    // Sorted, so the prefix scan of `_is_openai_model_name` does not depend on hash order.
    openai_chat_sorted: Vec<String>,
}

// The cost map's top-level order decides which alias claim wins, so it is read as a list.
struct OrderedEntries(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for OrderedEntries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = OrderedEntries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of model entries")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, serde_json::Value>()? {
                    entries.push((key, value));
                }
                Ok(OrderedEntries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor)
    }
}

impl ModelCatalog {
    /// Builds the catalog from a cost map in LiteLLM's JSON format, expanding `aliases` and
    /// `alias_of` rows as LiteLLM's loader does and dropping its `fallback_generalizations` block.
    pub fn from_cost_map_json(json: &str) -> Result<Self, TokensError> {
        let OrderedEntries(raw) =
            serde_json::from_str(json).map_err(|error| TokensError::CostMap {
                message: error.to_string(),
            })?;
        let raw: Vec<(String, serde_json::Value)> = raw
            .into_iter()
            .filter(|(name, _)| name != "fallback_generalizations")
            .collect();
        let names: HashSet<&str> = raw.iter().map(|(name, _)| name.as_str()).collect();
        let pointer_rows: Vec<(&str, &str)> = raw
            .iter()
            .filter_map(|(name, info)| Some((name.as_str(), info.get("alias_of")?.as_str()?)))
            .collect();
        let pointer_names: HashSet<&str> = pointer_rows.iter().map(|(name, _)| *name).collect();

        let mut owners: Vec<(String, String)> = Vec::new();
        let claimed =
            |owners: &Vec<(String, String)>, alias: &str| owners.iter().any(|(a, _)| a == alias);
        for (name, info) in &raw {
            let Some(aliases) = info.get("aliases") else {
                continue;
            };
            if pointer_names.contains(name.as_str()) {
                continue;
            }
            for alias in aliases
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str())
            {
                if (names.contains(alias) && !pointer_names.contains(alias))
                    || claimed(&owners, alias)
                {
                    continue;
                }
                owners.push((alias.to_owned(), name.clone()));
            }
        }
        for (alias, target) in &pointer_rows {
            if !names.contains(target) || pointer_names.contains(target) || claimed(&owners, alias)
            {
                continue;
            }
            owners.push(((*alias).to_owned(), (*target).to_owned()));
        }

        let mut catalog = ModelCatalog::default();
        for (name, info) in &raw {
            if pointer_names.contains(name.as_str()) {
                continue;
            }
            catalog.insert(name, info);
        }
        for (alias, owner) in &owners {
            if let Some((_, info)) = raw.iter().find(|(name, _)| name == owner) {
                catalog.insert(alias, info);
            }
        }
        catalog.openai_chat_sorted = catalog.openai_chat.iter().cloned().collect();
        catalog.openai_chat_sorted.sort();
        Ok(catalog)
    }

    fn insert(&mut self, name: &str, info: &serde_json::Value) {
        let Some(entry) = Entry::from_json(info) else {
            return;
        };
        match entry.provider.as_deref() {
            // `ft:<model>` rows price fine-tunes; LiteLLM keeps them out of the chat set.
            Some("openai") if !(name.starts_with("ft:") && name.matches(':').count() <= 1) => {
                self.openai_chat.insert(name.to_owned());
            }
            Some("anthropic") => {
                self.anthropic.insert(name.to_owned());
            }
            Some("cohere") => {
                self.cohere.insert(name.to_owned());
            }
            _ => {}
        }
        self.entries.insert(name.to_owned(), entry);
    }

    fn entry(&self, model: &str) -> Option<&Entry> {
        self.entries.get(model)
    }
}

/// The Hugging Face tokenizer family LiteLLM picks by name (`huggingface_tokenizer_kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HuggingFaceKind {
    Cohere,
    Anthropic,
    DeepSeek,
    Llama2,
    Llama3,
}

/// What LiteLLM does for one model name.
#[derive(Clone, Debug, PartialEq)]
pub struct Selection {
    /// The tokenizer `token_counter` counts with, or why the Rust side leaves it to Python.
    pub counting: Result<Tokenizer, String>,
    /// The tokenizer `litellm.encode`/`decode` use: the Hugging Face one when selected, otherwise
    /// always `cl100k_base` (LiteLLM's default encoding, whatever the model).
    pub coding: Result<Tokenizer, String>,
    /// Whether messages are priced with the `gpt-3.5-turbo-0301` constants.
    pub legacy_accounting: bool,
    /// How the model's chat template renders tools, when LiteLLM knows it.
    pub tool_section: Option<ToolSection>,
}

/// Compiled name patterns of the selection rules.
pub(crate) struct NamePatterns {
    deepseek_tokenizer: Regex,
    versioned_openai: Regex,
}

impl NamePatterns {
    pub(crate) fn new() -> Result<Self, TokensError> {
        let compile = |pattern: &str| {
            Regex::new(pattern).map_err(|error| TokensError::unsupported(error.to_string()))
        };
        Ok(Self {
            // Python's `$` also matches before a final newline, hence `\n?\z`.
            deepseek_tokenizer: compile(
                r"(?i)deepseek[-_.](?:chat[-_.])?v[34]|(?:^|/)deepseek-(?:chat|reasoner|flash)(?::free)?\n?\z",
            )?,
            versioned_openai: compile(r"^(?:gpt-(?:[5-9]|[1-9]\d+)|o[1-9]\d*)(?:[.-]|\n?\z)")?,
        })
    }
}

impl ModelCatalog {
    /// LiteLLM's full choice for `model` (`None` is `token_counter(model=None)`).
    pub(crate) fn select(
        &self,
        patterns: &NamePatterns,
        model: Option<&str>,
        hugging_face_disabled: bool,
    ) -> Selection {
        let Some(model) = model else {
            return Selection {
                counting: Ok(Tokenizer::Cl100kBase),
                coding: Ok(Tokenizer::Cl100kBase),
                legacy_accounting: false,
                tool_section: None,
            };
        };
        let kind = if hugging_face_disabled {
            None
        } else {
            self.hugging_face_kind(patterns, model)
        };
        let hugging_face = kind.map(|kind| match kind {
            HuggingFaceKind::Anthropic => Ok(Tokenizer::Anthropic),
            HuggingFaceKind::DeepSeek => Ok(Tokenizer::DeepSeek),
            // Limitation: these kinds download their tokenizer from the Hugging Face hub (or, when
            // offline or failing, fall back to tiktoken after a warning); Python decides.
            other => Err(format!(
                "litellm loads the {other:?} tokenizer from the Hugging Face hub"
            )),
        });
        let counting = match &hugging_face {
            Some(choice) => choice.clone(),
            None => match self.openai_encoding_name(patterns, model) {
                "cl100k_base" => Ok(Tokenizer::Cl100kBase),
                "o200k_base" => Ok(Tokenizer::O200kBase),
                "p50k_base" => Ok(Tokenizer::P50kBase),
                "p50k_edit" => Ok(Tokenizer::P50kEdit),
                other => Err(format!(
                    "the {other} encoding is not built into litellm-rust"
                )),
            },
        };
        Selection {
            counting,
            coding: hugging_face.unwrap_or(Ok(Tokenizer::Cl100kBase)),
            legacy_accounting: self.fix_model_name(model) == "gpt-3.5-turbo-0301",
            tool_section: ToolSection::for_model(model),
        }
    }

    fn hugging_face_kind(&self, patterns: &NamePatterns, model: &str) -> Option<HuggingFaceKind> {
        let lower = model.to_lowercase();
        if self.cohere.contains(model) && model.contains("command-r") {
            Some(HuggingFaceKind::Cohere)
        } else if self.anthropic.contains(model) && !model.contains("claude-3") {
            Some(HuggingFaceKind::Anthropic)
        } else if patterns.deepseek_tokenizer.is_match(model) {
            Some(HuggingFaceKind::DeepSeek)
        } else if lower.contains("llama-2") || lower.contains("replicate") {
            Some(HuggingFaceKind::Llama2)
        } else if lower.contains("llama-3") {
            Some(HuggingFaceKind::Llama3)
        } else {
            None
        }
    }

    fn fix_model_name<'a>(&self, model: &'a str) -> std::borrow::Cow<'a, str> {
        if AZURE_LLMS.contains(&model) {
            // Azure spells gpt-3.5 as gpt-35.
            model.replace("-35", "-3.5").into()
        } else if self.openai_chat.contains(model) {
            model.into()
        } else {
            "gpt-3.5-turbo".into()
        }
    }

    /// `openai_tokenizer_encoding_name`: the tiktoken encoding for a model on the OpenAI path.
    pub(crate) fn openai_encoding_name(
        &self,
        patterns: &NamePatterns,
        model: &str,
    ) -> &'static str {
        let model_to_use = match self.openai_model_name(patterns, model) {
            Some(name) => name.to_owned(),
            None => self.fix_model_name(model).into_owned(),
        };
        if model_to_use.contains("gpt-4o") {
            return "o200k_base";
        }
        if let Some(encoding) = tiktoken_encoding_name(&model_to_use) {
            return encoding;
        }
        if let Some(encoding) = suffixed_variant_encoding_name(&model_to_use) {
            return encoding;
        }
        if self.is_listed_non_chat_model(&model_to_use) {
            "cl100k_base"
        } else {
            "o200k_base"
        }
    }

    // Python chains these with `or`, so an empty name counts as no name.
    fn openai_model_name<'a>(&self, patterns: &NamePatterns, model: &'a str) -> Option<&'a str> {
        let last = model.rsplit('/').next().unwrap_or(model);
        let listed = self.is_listed_openai_model(model).then_some(last);
        let o200k = (tiktoken_encoding_name(last) == Some("o200k_base")).then_some(last);
        let versioned = patterns.versioned_openai.is_match(last).then_some(last);
        let azure = self
            .is_azure_openai_chat_model(model)
            .then(|| deployment_name(model));
        [listed, o200k, versioned, azure]
            .into_iter()
            .flatten()
            .find(|name| !name.is_empty())
    }

    fn is_listed_openai_model(&self, model: &str) -> bool {
        let segments: Vec<&str> = model.split('/').collect();
        (0..segments.len()).any(|start| {
            let suffix = segments[start..].join("/");
            self.is_openai_cost_map_model(&suffix)
                || self.is_openai_cost_map_model(&format!("azure/{suffix}"))
        })
    }

    fn is_openai_cost_map_model(&self, model: &str) -> bool {
        AZURE_LLMS.contains(&model)
            || self.openai_chat.contains(model)
            || self.is_azure_openai_text_model(model)
    }

    fn is_azure_openai_text_model(&self, model: &str) -> bool {
        let Some(entry) = self.entry(model) else {
            return false;
        };
        entry.provider.as_deref() == Some("azure")
            && entry
                .mode
                .as_deref()
                .is_some_and(|mode| TEXT_MODEL_MODES.contains(&mode))
            && self.is_openai_model_name(model.rsplit('/').next().unwrap_or(model))
    }

    fn is_openai_model_name(&self, name: &str) -> bool {
        self.openai_chat.contains(name)
            || tiktoken_encoding_name(name).is_some()
            || self.openai_chat_sorted.iter().any(|listed| {
                name.strip_prefix(listed.as_str())
                    .is_some_and(|rest| rest.starts_with('-'))
                    || listed
                        .strip_prefix(name)
                        .is_some_and(|rest| rest.starts_with('-'))
            })
    }

    fn is_azure_openai_chat_model(&self, model: &str) -> bool {
        let name = deployment_name(model);
        let Some(entry) = self.entry(&format!("azure/{name}")) else {
            return false;
        };
        entry.provider.as_deref() == Some("azure")
            && entry.is_chat_mode()
            && (entry.supports_pdf_input || name.starts_with("gpt-"))
    }

    fn is_listed_non_chat_model(&self, model: &str) -> bool {
        [model.to_owned(), format!("azure/{model}")]
            .iter()
            .any(|name| {
                self.entry(name)
                    .is_some_and(|entry| entry.mode.is_some() && !entry.is_chat_mode())
            })
    }
}

fn deployment_name(model: &str) -> &str {
    let name = model.rsplit('/').next().unwrap_or(model);
    if name.starts_with("ft:") {
        name.split(':').nth(1).unwrap_or("")
    } else {
        name
    }
}

fn suffixed_variant_encoding_name(model: &str) -> Option<&'static str> {
    TIKTOKEN_MODELS
        .iter()
        .chain([&TIKTOKEN_GPT_2])
        .filter(|(name, _)| {
            model
                .strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('-'))
        })
        // `max(known, key=len)` keeps the first of equally long names.
        .fold(None::<&(&str, &str)>, |best, candidate| match best {
            Some(best) if best.0.len() >= candidate.0.len() => Some(best),
            _ => Some(candidate),
        })
        .map(|(_, encoding)| *encoding)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> ModelCatalog {
        let json = r#"{
            "gpt-4o": {"litellm_provider": "openai", "mode": "chat"},
            "gpt-4": {"litellm_provider": "openai", "mode": "chat"},
            "text-embedding-3-small": {"litellm_provider": "openai", "mode": "embedding"},
            "claude-sonnet-4-5": {"litellm_provider": "anthropic", "mode": "chat"},
            "claude-3-haiku-20240307": {"litellm_provider": "anthropic", "mode": "chat"},
            "claude-latest": {"alias_of": "claude-sonnet-4-5"},
            "fallback_generalizations": {"rules": []}
        }"#;
        match ModelCatalog::from_cost_map_json(json) {
            Ok(catalog) => catalog,
            Err(error) => panic!("{error}"),
        }
    }

    fn counting(model: &str) -> Result<Tokenizer, String> {
        let patterns = NamePatterns::new().ok();
        let patterns = patterns
            .as_ref()
            .map(|p| catalog().select(p, Some(model), false));
        patterns.map_or(Err("patterns".to_owned()), |s| s.counting)
    }

    #[test]
    fn selects_litellm_tokenizers() {
        assert_eq!(counting("gpt-4o"), Ok(Tokenizer::O200kBase));
        assert_eq!(counting("gpt-4"), Ok(Tokenizer::Cl100kBase));
        assert_eq!(
            counting("text-embedding-3-small"),
            Ok(Tokenizer::Cl100kBase)
        );
        assert_eq!(counting("claude-sonnet-4-5"), Ok(Tokenizer::Anthropic));
        assert_eq!(counting("claude-latest"), Ok(Tokenizer::Anthropic));
        // LiteLLM counts claude-3 models with tiktoken's default (the gpt-3.5-turbo fallback).
        assert_eq!(
            counting("claude-3-haiku-20240307"),
            Ok(Tokenizer::Cl100kBase)
        );
        assert_eq!(counting("deepseek-chat"), Ok(Tokenizer::DeepSeek));
        assert!(counting("meta-llama-3-8b").is_err());
    }

    #[test]
    fn suffixed_variant_takes_longest_known_name() {
        assert_eq!(
            suffixed_variant_encoding_name("text-embedding-ada-002-v2"),
            Some("cl100k_base")
        );
        assert_eq!(suffixed_variant_encoding_name("unknown-model"), None);
    }
}
