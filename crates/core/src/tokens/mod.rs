//! Token counting that answers exactly as `litellm.token_counter`, `litellm.encode` and
//! `litellm.decode` (litellm 1.110.2) do, or refuses.
//!
//! The model name selects a tokenizer ([`catalog`]), the messages are priced by LiteLLM's rules
//! (per message, per name, tool calls, content blocks, images, tool definitions, `tool_choice`,
//! reply primer), and text is counted in LiteLLM's 1,024-character chunks. Whatever the Rust side
//! cannot prove equal to LiteLLM's answer — a tokenizer LiteLLM downloads, an image it fetches, a
//! PDF, an input LiteLLM raises on — is [`TokensError::Unsupported`], so that the caller asks
//! LiteLLM's Python path instead. There are no approximations.
//!
//! ```
//! use litellm_rust_core::tokens::{CountInput, CountRequest, ModelCatalog, TokenCounter, Value};
//!
//! let catalog = ModelCatalog::from_cost_map_json(
//!     r#"{"gpt-4o": {"litellm_provider": "openai", "mode": "chat"}}"#,
//! )?;
//! let counter = TokenCounter::new(catalog, "/nonexistent".into())?;
//! let message = Value::Map(vec![
//!     ("role".to_owned(), Value::Str("user".to_owned())),
//!     ("content".to_owned(), Value::Str("Hello there".to_owned())),
//! ]);
//! let request = CountRequest::messages(Some("gpt-4o"), vec![message]);
//! // 3 per message + "user" (1) + "Hello there" (2) + 3 for the reply primer.
//! assert_eq!(counter.count(&request)?, 9);
//! # Ok::<(), litellm_rust_core::tokens::TokensError>(())
//! ```

mod catalog;
mod encodings;
mod error;
mod images;
mod messages;
mod piece_counts;
mod pieces;
mod tools;
mod value;

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::RwLock;

pub use catalog::{ModelCatalog, Selection};
pub use encodings::Tokenizer;
pub use error::TokensError;
pub use tools::{SchemaStyle, ToolSection};
pub use value::Value;

use catalog::NamePatterns;
use encodings::{chunk_bounds, Codec, HuggingFaceFiles};
use error::Refusal;
use messages::Accounting;

/// `TIKTOKEN_ENCODE_CHUNK_SIZE_CHARS`: LiteLLM counts tiktoken text in chunks of this many
/// characters.
pub const CHUNK_CHARS: usize = 1024;
/// `TOKEN_COUNTER_MAX_EXACT_CHARS`: longer texts are counted from 16 evenly spaced samples.
pub const MAX_EXACT_CHARS: usize = 4_000_000;
const EXTRAPOLATION_SAMPLES: usize = 16;
// Below this many chunks a text is counted on the calling thread: spawning costs more than it
// saves (measured: ~20 µs per scoped thread against ~25 µs per 1,024-character chunk).
const PARALLEL_MIN_CHUNKS: usize = 8;
const SELECTION_CACHE_LIMIT: usize = 4096;

/// What is counted: LiteLLM's `text=` or `messages=`.
#[derive(Clone, Debug, PartialEq)]
pub enum CountInput {
    /// `text=`: a string, or the concatenation of the strings of a list.
    Text(String),
    /// `messages=`: the message dicts, in order.
    Messages(Vec<Value>),
}

/// One `litellm.token_counter` call, its arguments already converted.
#[derive(Clone, Debug, PartialEq)]
pub struct CountRequest {
    /// `model=`; `None` counts with LiteLLM's default encoding.
    pub model: Option<String>,
    /// `text=` or `messages=`.
    pub input: CountInput,
    /// `tools=`, [`Value::Null`] when not given.
    pub tools: Value,
    /// `tool_choice=`, [`Value::Null`] when not given.
    pub tool_choice: Value,
    /// Whether the reply primer, tools and `tool_choice` are added: LiteLLM adds them only when
    /// `count_response_tokens is False`.
    pub count_extras: bool,
    /// `use_default_image_token_count=`.
    pub use_default_image_token_count: bool,
    /// `default_token_count=`.
    pub default_token_count: Option<i64>,
    /// `litellm.disable_hf_tokenizer_download`: every model then counts with tiktoken.
    pub hugging_face_disabled: bool,
}

impl CountRequest {
    /// A `token_counter(model=model, messages=messages)` call with LiteLLM's defaults.
    pub fn messages(model: Option<&str>, messages: Vec<Value>) -> Self {
        Self::with_input(model, CountInput::Messages(messages))
    }

    /// A `token_counter(model=model, text=text)` call with LiteLLM's defaults.
    pub fn text(model: Option<&str>, text: impl Into<String>) -> Self {
        Self::with_input(model, CountInput::Text(text.into()))
    }

    fn with_input(model: Option<&str>, input: CountInput) -> Self {
        Self {
            model: model.map(str::to_owned),
            input,
            tools: Value::Null,
            tool_choice: Value::Null,
            count_extras: true,
            use_default_image_token_count: false,
            default_token_count: None,
            hugging_face_disabled: false,
        }
    }
}

/// Counts tokens for one litellm installation: its model catalog and its tokenizer files.
///
/// Thread-safe: tokenizers load once on first use, selections are cached per model name.
pub struct TokenCounter {
    catalog: ModelCatalog,
    patterns: NamePatterns,
    files: HuggingFaceFiles,
    selections: RwLock<HashMap<(Option<String>, bool), Selection>>,
}

impl TokenCounter {
    /// A counter over `catalog`, reading Hugging Face tokenizer files from `tokenizer_dir`
    /// (litellm's `litellm_core_utils/tokenizers` folder) when a model needs them.
    pub fn new(catalog: ModelCatalog, tokenizer_dir: PathBuf) -> Result<Self, TokensError> {
        Ok(Self {
            catalog,
            patterns: NamePatterns::new()?,
            files: HuggingFaceFiles::new(tokenizer_dir),
            selections: RwLock::new(HashMap::new()),
        })
    }

    /// LiteLLM's tokenizer and accounting choice for `model`.
    pub fn select(&self, model: Option<&str>, hugging_face_disabled: bool) -> Selection {
        let key = (model.map(str::to_owned), hugging_face_disabled);
        if let Ok(cache) = self.selections.read() {
            if let Some(selection) = cache.get(&key) {
                return selection.clone();
            }
        }
        let selection = self
            .catalog
            .select(&self.patterns, model, hugging_face_disabled);
        if let Ok(mut cache) = self.selections.write() {
            if cache.len() >= SELECTION_CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(key, selection.clone());
        }
        selection
    }

    /// `litellm.token_counter(...)` for one request.
    pub fn count(&self, request: &CountRequest) -> Result<i64, TokensError> {
        self.guarded(|| self.count_request(request, true))
    }

    /// Counts many requests across the machine's cores; results come back in input order.
    pub fn count_batch(&self, requests: &[CountRequest]) -> Vec<Result<i64, TokensError>> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        if threads < 2 || requests.len() < 2 {
            return requests.iter().map(|request| self.count(request)).collect();
        }
        let per_thread = requests.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let workers: Vec<_> = requests
                .chunks(per_thread)
                .map(|slice| {
                    scope.spawn(move || {
                        slice
                            .iter()
                            .map(|request| self.guarded(|| self.count_request(request, false)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .zip(requests.chunks(per_thread))
                .flat_map(|(worker, slice)| {
                    worker.join().unwrap_or_else(|_| {
                        slice
                            .iter()
                            .map(|_| Err(TokensError::unsupported("counting panicked")))
                            .collect()
                    })
                })
                .collect()
        })
    }

    /// `litellm.encode(model=model, text=text)`.
    pub fn encode(
        &self,
        model: Option<&str>,
        text: &str,
        hugging_face_disabled: bool,
    ) -> Result<Vec<u32>, TokensError> {
        let tokenizer = self
            .select(model, hugging_face_disabled)
            .coding
            .map_err(TokensError::unsupported)?;
        self.guarded(|| self.codec(tokenizer).encode(text))
    }

    /// `litellm.decode(model=model, tokens=tokens)` (special tokens skipped, LiteLLM's default).
    pub fn decode(
        &self,
        model: Option<&str>,
        tokens: &[u32],
        hugging_face_disabled: bool,
    ) -> Result<String, TokensError> {
        let tokenizer = self
            .select(model, hugging_face_disabled)
            .coding
            .map_err(TokensError::unsupported)?;
        self.guarded(|| self.codec(tokenizer).decode(tokens))
    }

    fn codec(&self, tokenizer: Tokenizer) -> Codec<'_> {
        Codec {
            tokenizer,
            files: &self.files,
        }
    }

    // The tokenizer crates may panic on inputs they consider impossible; a panic becomes a
    // refusal, so the caller's Python path answers instead.
    fn guarded<T>(&self, work: impl FnOnce() -> Result<T, TokensError>) -> Result<T, TokensError> {
        catch_unwind(AssertUnwindSafe(work))
            .unwrap_or_else(|_| Err(TokensError::unsupported("the tokenizer panicked")))
    }

    fn count_request(&self, request: &CountRequest, parallel: bool) -> Result<i64, TokensError> {
        let selection = self.select(request.model.as_deref(), request.hugging_face_disabled);
        let tokenizer = selection
            .counting
            .clone()
            .map_err(TokensError::unsupported)?;
        let count = |text: &str| {
            self.count_text(tokenizer, text, parallel)
                .map_err(Refusal::from)
        };
        match &request.input {
            CountInput::Text(text) => {
                if request.tools.is_truthy() || request.tool_choice.is_truthy() {
                    return Err(Refusal::Raises("tools with text".to_owned()).into());
                }
                Ok(count(text)?)
            }
            CountInput::Messages(messages) => {
                let accounting = Accounting {
                    count: &count,
                    legacy: selection.legacy_accounting,
                    tool_section: selection.tool_section,
                    use_default_image_token_count: request.use_default_image_token_count,
                    default_token_count: request.default_token_count,
                };
                let mut total = accounting.messages(messages)?;
                if request.count_extras {
                    let system = messages.iter().any(|message| {
                        message.get("role").and_then(Value::as_str) == Some("system")
                    });
                    total += accounting.extra(&request.tools, &request.tool_choice, system)?;
                }
                Ok(total)
            }
        }
    }

    /// LiteLLM's count function: exact up to [`MAX_EXACT_CHARS`] characters, extrapolated from
    /// evenly spaced samples beyond.
    fn count_text(
        &self,
        tokenizer: Tokenizer,
        text: &str,
        parallel: bool,
    ) -> Result<i64, TokensError> {
        let length = if text.len() <= MAX_EXACT_CHARS {
            0
        } else {
            text.chars().count()
        };
        if length <= MAX_EXACT_CHARS {
            return self.count_exact(tokenizer, text, parallel);
        }
        let sample_chars = MAX_EXACT_CHARS / EXTRAPOLATION_SAMPLES;
        let last_start = length - sample_chars;
        let offsets: Vec<usize> = text.char_indices().map(|(offset, _)| offset).collect();
        let byte_at = |char_index: usize| offsets.get(char_index).copied().unwrap_or(text.len());
        let mut sampled = 0i64;
        for index in 0..EXTRAPOLATION_SAMPLES {
            let start = last_start * index / (EXTRAPOLATION_SAMPLES - 1);
            let sample = &text[byte_at(start)..byte_at(start + sample_chars)];
            sampled += self.count_exact(tokenizer, sample, parallel)?;
        }
        let sampled_chars = (sample_chars * EXTRAPOLATION_SAMPLES) as f64;
        // Python: round(int * int / int), true division then round-half-even.
        Ok((sampled as f64 * length as f64 / sampled_chars).round_ties_even() as i64)
    }

    fn count_exact(
        &self,
        tokenizer: Tokenizer,
        text: &str,
        parallel: bool,
    ) -> Result<i64, TokensError> {
        let codec = self.codec(tokenizer);
        let chunks = if tokenizer.is_tiktoken()
            && parallel
            && text.len() > PARALLEL_MIN_CHUNKS * CHUNK_CHARS
        {
            chunk_bounds(text, CHUNK_CHARS)
        } else {
            Vec::new()
        };
        if chunks.len() < PARALLEL_MIN_CHUNKS {
            return Ok(codec.count_exact(text, CHUNK_CHARS)? as i64);
        }
        // Chunks are independent by LiteLLM's own rule, so a long text splits across cores.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(chunks.len());
        let per_thread = chunks.len().div_ceil(threads.max(1));
        let codec = &codec;
        let totals: Vec<Result<usize, TokensError>> = std::thread::scope(|scope| {
            let workers: Vec<_> = chunks
                .chunks(per_thread)
                .map(|group| {
                    scope.spawn(move || {
                        let mut total = 0;
                        for (start, end) in group {
                            total += codec.count_exact(&text[*start..*end], CHUNK_CHARS)?;
                        }
                        Ok(total)
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|worker| {
                    worker
                        .join()
                        .unwrap_or_else(|_| Err(TokensError::unsupported("counting panicked")))
                })
                .collect()
        });
        let mut total = 0usize;
        for part in totals {
            total += part?;
        }
        Ok(total as i64)
    }
}
