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
//!     ("role".into(), Value::Str("user".into())),
//!     ("content".into(), Value::Str("Hello there".into())),
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
mod p50k;
mod piece_counts;
mod pieces;
mod tools;
mod value;
mod workers;

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

pub use catalog::{ModelCatalog, Selection};
pub use encodings::Tokenizer;
pub use error::TokensError;
pub use tools::{SchemaStyle, ToolSection};
pub use value::{common_text, Value};

use catalog::NamePatterns;
use encodings::{chunk_end, count_in_chunks, Codec, TokenizerFiles};
use error::Refusal;
use messages::Accounting;
use workers::Tasks;

/// `TIKTOKEN_ENCODE_CHUNK_SIZE_CHARS`: LiteLLM counts tiktoken text in chunks of this many
/// characters.
pub const CHUNK_CHARS: usize = 1024;
/// `TOKEN_COUNTER_MAX_EXACT_CHARS`: longer texts are counted from 16 evenly spaced samples.
pub const MAX_EXACT_CHARS: usize = 4_000_000;
const EXTRAPOLATION_SAMPLES: usize = 16;
// Below this many chunks a text is counted on the calling thread: handing work to the pool (a
// lock, a wake-up, a copy of the text) costs more than it saves (~6 µs per 1,024-character
// chunk of mostly ASCII text).
const PARALLEL_MIN_CHUNKS: usize = 8;
// Chunks per pool task of a long text: few enough tasks that their handoffs stay cheap, enough
// that the calling thread and the pool end close together.
const CHUNKS_PER_TASK: usize = 4;
// Requests per pool task of a batch: a block of short chats is ~30 µs of counting, many times
// its handoff, and the pool starts on the first block while the caller converts the rest.
const BATCH_BLOCK: usize = 16;
// Near the end of a batch its blocks shrink to a 1/TAIL_SHARE of the requests still to come, so
// that the threads run out of work together instead of one finishing a whole block alone.
const TAIL_SHARE: usize = 4;
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
    /// `model=`; `None` counts with LiteLLM's default encoding. Shared, so that the requests
    /// of a batch do not each allocate a copy of the name.
    pub model: Option<Arc<str>>,
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
            model: model.map(Arc::from),
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
/// Thread-safe and cheap to clone (clones share one state): tokenizers load once on first use,
/// selections are cached per model name.
#[derive(Clone)]
pub struct TokenCounter {
    state: Arc<CounterState>,
}

struct CounterState {
    catalog: ModelCatalog,
    patterns: NamePatterns,
    files: TokenizerFiles,
    selections: RwLock<Selections>,
}

/// Selections by model name, one map per `hugging_face_disabled`, looked up by `&str`: building
/// an owned key per lookup was an allocation per count.
#[derive(Default)]
struct Selections {
    named: [HashMap<String, Selection>; 2],
    unnamed: [Option<Selection>; 2],
}

impl Selections {
    fn get(&self, model: Option<&str>, hugging_face_disabled: bool) -> Option<&Selection> {
        let side = usize::from(hugging_face_disabled);
        match model {
            Some(name) => self.named.get(side)?.get(name),
            None => self.unnamed.get(side)?.as_ref(),
        }
    }

    fn insert(&mut self, model: Option<&str>, hugging_face_disabled: bool, selection: Selection) {
        let side = usize::from(hugging_face_disabled);
        match model {
            Some(name) => {
                if let Some(named) = self.named.get_mut(side) {
                    if named.len() >= SELECTION_CACHE_LIMIT {
                        named.clear();
                    }
                    named.insert(name.to_owned(), selection);
                }
            }
            None => {
                if let Some(slot) = self.unnamed.get_mut(side) {
                    *slot = Some(selection);
                }
            }
        }
    }
}

impl TokenCounter {
    /// A counter over `catalog`, reading the tokenizer files litellm bundles (Hugging Face JSON,
    /// the `p50k_base` ranks) from `tokenizer_dir` (litellm's `litellm_core_utils/tokenizers`
    /// folder) when a model needs them.
    pub fn new(catalog: ModelCatalog, tokenizer_dir: PathBuf) -> Result<Self, TokensError> {
        let state = CounterState {
            catalog,
            patterns: NamePatterns::new()?,
            files: TokenizerFiles::new(tokenizer_dir),
            selections: RwLock::new(Selections::default()),
        };
        Ok(Self {
            state: Arc::new(state),
        })
    }

    /// LiteLLM's tokenizer and accounting choice for `model`.
    pub fn select(&self, model: Option<&str>, hugging_face_disabled: bool) -> Selection {
        self.state.select(model, hugging_face_disabled)
    }

    /// `litellm.token_counter(...)` for one request.
    pub fn count(&self, request: &CountRequest) -> Result<i64, TokensError> {
        guarded(|| self.state.count_request(request, true))
    }

    /// Counts many requests across the machine's cores; results come back in input order.
    pub fn count_batch(&self, requests: &[CountRequest]) -> Vec<Result<i64, TokensError>> {
        let mut batch = self.batch(requests.len());
        for request in requests {
            batch.push(request.clone());
        }
        batch.finish()
    }

    /// A batch to fill one request at a time while the pool already counts the first ones, so
    /// that a caller converting its arguments (under Python's GIL) overlaps with the counting.
    pub fn batch(&self, expected: usize) -> CountBatch {
        CountBatch::new(self.clone(), expected)
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
        guarded(|| self.state.codec(tokenizer).encode(text))
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
        guarded(|| self.state.codec(tokenizer).decode(tokens))
    }
}

// The tokenizer crates may panic on inputs they consider impossible; a panic becomes a refusal,
// so the caller's Python path answers instead.
fn guarded<T>(work: impl FnOnce() -> Result<T, TokensError>) -> Result<T, TokensError> {
    catch_unwind(AssertUnwindSafe(work))
        .unwrap_or_else(|_| Err(TokensError::unsupported("the tokenizer panicked")))
}

impl CounterState {
    fn select(&self, model: Option<&str>, hugging_face_disabled: bool) -> Selection {
        if let Ok(cache) = self.selections.read() {
            if let Some(selection) = cache.get(model, hugging_face_disabled) {
                return selection.clone();
            }
        }
        let selection = self
            .catalog
            .select(&self.patterns, model, hugging_face_disabled);
        if let Ok(mut cache) = self.selections.write() {
            cache.insert(model, hugging_face_disabled, selection.clone());
        }
        selection
    }

    fn codec(&self, tokenizer: Tokenizer) -> Codec<'_> {
        Codec {
            tokenizer,
            files: &self.files,
        }
    }

    fn count_request(&self, request: &CountRequest, parallel: bool) -> Result<i64, TokensError> {
        let selection = self.select(request.model.as_deref(), request.hugging_face_disabled);
        self.count_selected(&selection, request, parallel)
    }

    fn count_selected(
        &self,
        selection: &Selection,
        request: &CountRequest,
        parallel: bool,
    ) -> Result<i64, TokensError> {
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
        let bpe = self.files.tiktoken(tokenizer)?;
        let parts = match bpe {
            Some(_) if parallel && text.len() > PARALLEL_MIN_CHUNKS * CHUNK_CHARS => {
                chunk_groups(text)
            }
            _ => Vec::new(),
        };
        let (Some(bpe), true) = (bpe, parts.len() > 1) else {
            return Ok(self.codec(tokenizer).count_exact(text, CHUNK_CHARS)? as i64);
        };
        // Chunks are independent by LiteLLM's own rule, so a long text splits across cores. The
        // pool's tasks must own their input: copying the text costs ~1 µs per 10k tokens.
        let shared: Arc<str> = Arc::from(text);
        let mut tasks = Tasks::new(move |&(start, end): &(usize, usize)| {
            shared
                .get(start..end)
                .map(|part| count_in_chunks(tokenizer, bpe, part, CHUNK_CHARS))
        });
        for part in parts {
            tasks.push(part);
        }
        let mut total = 0usize;
        for part in tasks.finish() {
            total += part
                .flatten()
                .ok_or_else(|| TokensError::unsupported("counting panicked"))?;
        }
        Ok(total as i64)
    }
}

/// Splits a long text into runs of whole LiteLLM chunks, for the pool and the calling thread.
fn chunk_groups(text: &str) -> Vec<(usize, usize)> {
    let mut groups = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = start;
        for _ in 0..CHUNKS_PER_TASK {
            end = chunk_end(text, end, CHUNK_CHARS);
        }
        groups.push((start, end));
        start = end;
    }
    groups
}

/// A batch of requests counted by the calling thread and the counting pool together.
///
/// Requests go to the pool in blocks as they are pushed, so the pool counts while the caller is
/// still converting the next ones; [`CountBatch::finish`] counts what is left on the calling
/// thread too and returns every result in push order.
pub struct CountBatch {
    tasks: Tasks<Vec<CountRequest>, Vec<Result<i64, TokensError>>>,
    block: Vec<CountRequest>,
    block_sizes: Vec<usize>,
    expected: usize,
    pushed: usize,
}

impl CountBatch {
    fn new(counter: TokenCounter, expected: usize) -> Self {
        let tasks = Tasks::new(move |block: &Vec<CountRequest>| {
            // A batch's requests nearly always share one model: select once per run of them
            // rather than take the cache's lock (a cache line both threads write) per request.
            let mut results = Vec::with_capacity(block.len());
            let mut chosen: Option<(&CountRequest, Selection)> = None;
            for request in block {
                let selection = match chosen.take() {
                    Some((previous, selection))
                        if previous.model == request.model
                            && previous.hugging_face_disabled == request.hugging_face_disabled =>
                    {
                        selection
                    }
                    _ => counter.select(request.model.as_deref(), request.hugging_face_disabled),
                };
                results.push(guarded(|| {
                    counter.state.count_selected(&selection, request, false)
                }));
                chosen = Some((request, selection));
            }
            results
        });
        Self {
            tasks,
            block: Vec::with_capacity(expected.min(BATCH_BLOCK)),
            block_sizes: Vec::with_capacity(expected.div_ceil(BATCH_BLOCK) + BATCH_BLOCK),
            expected,
            pushed: 0,
        }
    }

    /// Adds a request; each full block is offered to the pool at once.
    pub fn push(&mut self, request: CountRequest) {
        self.block.push(request);
        self.pushed += 1;
        // A batch no larger than one block stays on the calling thread: it never pays a handoff.
        let still_to_come = self.expected.saturating_sub(self.pushed);
        let target = (still_to_come / TAIL_SHARE).clamp(1, BATCH_BLOCK);
        if self.expected > BATCH_BLOCK && self.block.len() >= target {
            self.block_sizes.push(self.block.len());
            self.tasks.push(std::mem::replace(
                &mut self.block,
                Vec::with_capacity(target),
            ));
        }
    }

    /// Counts the requests not yet counted, waits for the pool, and returns one result per
    /// request in push order.
    pub fn finish(mut self) -> Vec<Result<i64, TokensError>> {
        if !self.block.is_empty() {
            // The last, partial block stays on the calling thread: a small batch never pays a
            // handoff to the pool.
            self.block_sizes.push(self.block.len());
            self.tasks.push_local(std::mem::take(&mut self.block));
        }
        let mut counted = Vec::with_capacity(self.block_sizes.iter().sum());
        for (size, block) in self.block_sizes.iter().zip(self.tasks.finish()) {
            match block {
                Some(results) => counted.extend(results),
                None => counted
                    .extend((0..*size).map(|_| Err(TokensError::unsupported("counting panicked")))),
            }
        }
        counted
    }
}
