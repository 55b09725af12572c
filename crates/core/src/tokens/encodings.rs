//! The tokenizers LiteLLM counts with, loaded lazily and once per process.
//!
//! `cl100k_base` and `o200k_base` are compiled into the `bpe-openai` crate (its build script reads
//! the encodings from the crate's own `data/` folder; nothing is downloaded). `p50k_base` (with
//! `p50k_edit`) is the tiktoken ranks file, and the Anthropic and DeepSeek tokenizers are the
//! Hugging Face JSON files, that ship inside the installed litellm package, read from the
//! directory the caller names.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::error::TokensError;
use super::p50k::{self, RankedEncoding};
use super::piece_counts::count_pieces;
use super::pieces::Pieces;

/// A tokenizer LiteLLM can select that the Rust side reproduces exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tokenizer {
    /// tiktoken's `cl100k_base` (gpt-4, gpt-3.5-turbo, text-embedding-3-*, and LiteLLM's default).
    Cl100kBase,
    /// tiktoken's `o200k_base` (gpt-4o, o-series, gpt-4.1, gpt-5).
    O200kBase,
    /// tiktoken's `p50k_base` (text-davinci-002/003, code-davinci, code-cushman), reached only
    /// when the model cost map lists such a model (LiteLLM's shipped map lists none).
    P50kBase,
    /// tiktoken's `p50k_edit` (the `*-edit-001` models): `p50k_base`'s ranks with
    /// fill-in-the-middle special tokens, which only decoding can tell apart.
    P50kEdit,
    /// `anthropic_tokenizer.json` from litellm's package.
    Anthropic,
    /// `deepseek_tokenizer.json` from litellm's package.
    DeepSeek,
}

impl Tokenizer {
    /// The name LiteLLM uses for this tokenizer (tiktoken encoding or Hugging Face kind).
    pub fn name(self) -> &'static str {
        match self {
            Tokenizer::Cl100kBase => "cl100k_base",
            Tokenizer::O200kBase => "o200k_base",
            Tokenizer::P50kBase => "p50k_base",
            Tokenizer::P50kEdit => "p50k_edit",
            Tokenizer::Anthropic => "anthropic",
            Tokenizer::DeepSeek => "deepseek",
        }
    }

    /// Whether LiteLLM counts with this through tiktoken, which it does in 1,024-character
    /// chunks; Hugging Face tokenizers count the text whole.
    pub fn is_tiktoken(self) -> bool {
        !matches!(self, Tokenizer::Anthropic | Tokenizer::DeepSeek)
    }

    /// Which per-thread memo of piece counts this encoding uses: one per distinct ranks table.
    pub(crate) fn memo_table(self) -> usize {
        match self {
            Tokenizer::O200kBase => 1,
            Tokenizer::P50kBase | Tokenizer::P50kEdit => 2,
            _ => 0,
        }
    }
}

// The special tokens of cl100k_base: LiteLLM's encode never produces them (it encodes with
// `disallowed_special=()`, i.e. as plain text), but its decode turns their ids back into text.
const CL100K_SPECIALS: [(u32, &str); 5] = [
    (100257, "<|endoftext|>"),
    (100258, "<|fim_prefix|>"),
    (100259, "<|fim_middle|>"),
    (100260, "<|fim_suffix|>"),
    (100276, "<|endofprompt|>"),
];

/// The tokenizer files of one litellm installation, each parsed on first use.
pub(crate) struct TokenizerFiles {
    directory: PathBuf,
    anthropic: OnceLock<Result<tokenizers::Tokenizer, TokensError>>,
    deepseek: OnceLock<Result<tokenizers::Tokenizer, TokensError>>,
    // The encoding itself is shared by the process; this remembers a failure for this folder.
    p50k: OnceLock<Result<&'static RankedEncoding, TokensError>>,
}

impl TokenizerFiles {
    pub(crate) fn new(directory: PathBuf) -> Self {
        Self {
            directory,
            anthropic: OnceLock::new(),
            deepseek: OnceLock::new(),
            p50k: OnceLock::new(),
        }
    }

    /// `p50k_base`'s ranks, from this installation's bundled file.
    pub(crate) fn p50k(&self) -> Result<&'static RankedEncoding, TokensError> {
        self.p50k
            .get_or_init(|| p50k::p50k_base(&self.directory))
            .clone()
    }

    /// The `bpe-openai` encoding of a tiktoken tokenizer, `None` for Hugging Face ones.
    pub(crate) fn tiktoken(
        &self,
        tokenizer: Tokenizer,
    ) -> Result<Option<&'static bpe_openai::Tokenizer>, TokensError> {
        Ok(match tokenizer {
            Tokenizer::Cl100kBase => Some(bpe_openai::cl100k_base()),
            Tokenizer::O200kBase => Some(bpe_openai::o200k_base()),
            Tokenizer::P50kBase | Tokenizer::P50kEdit => Some(&self.p50k()?.tokenizer),
            Tokenizer::Anthropic | Tokenizer::DeepSeek => None,
        })
    }

    fn load(&self, tokenizer: Tokenizer) -> Result<&tokenizers::Tokenizer, TokensError> {
        let (cell, file) = match tokenizer {
            Tokenizer::Anthropic => (&self.anthropic, "anthropic_tokenizer.json"),
            Tokenizer::DeepSeek => (&self.deepseek, "deepseek_tokenizer.json"),
            other => {
                return Err(TokensError::unsupported(format!(
                    "{} is not a Hugging Face tokenizer",
                    other.name()
                )))
            }
        };
        cell.get_or_init(|| load_file(&self.directory.join(file)))
            .as_ref()
            .map_err(Clone::clone)
    }
}

fn load_file(path: &Path) -> Result<tokenizers::Tokenizer, TokensError> {
    log::debug!("loading Hugging Face tokenizer {}", path.display());
    tokenizers::Tokenizer::from_file(path).map_err(|error| TokensError::TokenizerFile {
        path: path.display().to_string(),
        message: error.to_string(),
    })
}

/// Counts, encodes and decodes text with one tokenizer, the way LiteLLM's Python path does.
pub(crate) struct Codec<'a> {
    pub(crate) tokenizer: Tokenizer,
    pub(crate) files: &'a TokenizerFiles,
}

impl Codec<'_> {
    /// The exact token count of `text` as LiteLLM's exact count function gives it: tiktoken
    /// encodings in chunks of `chunk_chars` characters, Hugging Face tokenizers whole and with
    /// their special tokens added.
    pub(crate) fn count_exact(&self, text: &str, chunk_chars: usize) -> Result<usize, TokensError> {
        if let Some(bpe) = self.files.tiktoken(self.tokenizer)? {
            return Ok(count_in_chunks(self.tokenizer, bpe, text, chunk_chars));
        }
        let hugging_face = self.files.load(self.tokenizer)?;
        let encoding = hugging_face
            .encode_fast(text, true)
            .map_err(|error| TokensError::unsupported(format!("tokenizer failed: {error}")))?;
        Ok(encoding.get_ids().len())
    }

    /// Token ids of `text`, like `litellm.encode`: ordinary tiktoken encoding (special-token text
    /// is plain text), or a Hugging Face encoding with special tokens added.
    pub(crate) fn encode(&self, text: &str) -> Result<Vec<u32>, TokensError> {
        if matches!(self.tokenizer, Tokenizer::P50kBase | Tokenizer::P50kEdit) {
            return Ok(self.files.p50k()?.encode(text));
        }
        if let Some(bpe) = self.files.tiktoken(self.tokenizer)? {
            return Ok(bpe.encode(text));
        }
        let hugging_face = self.files.load(self.tokenizer)?;
        let encoding = hugging_face
            .encode(text, true)
            .map_err(|error| TokensError::unsupported(format!("tokenizer failed: {error}")))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Text of `tokens`, like `litellm.decode`: tiktoken bytes decoded with `errors="replace"`,
    /// or a Hugging Face decode that skips special tokens.
    pub(crate) fn decode(&self, tokens: &[u32]) -> Result<String, TokensError> {
        if matches!(self.tokenizer, Tokenizer::P50kBase | Tokenizer::P50kEdit) {
            let edit = self.tokenizer == Tokenizer::P50kEdit;
            return self.files.p50k()?.decode(edit, tokens);
        }
        if let Some(bpe) = self.files.tiktoken(self.tokenizer)? {
            return decode_tiktoken(self.tokenizer, bpe, tokens);
        }
        let hugging_face = self.files.load(self.tokenizer)?;
        let vocabulary = hugging_face.get_vocab_size(true);
        if let Some(token) = tokens.iter().find(|token| **token as usize >= vocabulary) {
            return Err(TokensError::unsupported(format!(
                "token id {token} is outside the vocabulary"
            )));
        }
        hugging_face
            .decode(tokens, true)
            .map_err(|error| TokensError::unsupported(format!("tokenizer failed: {error}")))
    }
}

fn decode_tiktoken(
    tokenizer: Tokenizer,
    bpe: &bpe_openai::Tokenizer,
    tokens: &[u32],
) -> Result<String, TokensError> {
    let vocabulary = bpe.bpe.num_tokens();
    let mut bytes = Vec::new();
    for &token in tokens {
        if (token as usize) < vocabulary {
            bytes.extend_from_slice(bpe.bpe.token_bytes(token));
            continue;
        }
        let special = match tokenizer {
            Tokenizer::Cl100kBase => CL100K_SPECIALS.iter().find(|(id, _)| *id == token),
            _ => None,
        };
        match special {
            Some((_, text)) => bytes.extend_from_slice(text.as_bytes()),
            // tiktoken raises KeyError on an unknown id; the caller's Python path reports it.
            None => {
                return Err(TokensError::unsupported(format!(
                    "token id {token} is not in {}",
                    tokenizer.name()
                )))
            }
        }
    }
    // Python's `bytes.decode("utf-8", errors="replace")` and `from_utf8_lossy` both substitute
    // one U+FFFD per maximal invalid subsequence.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

// LiteLLM splits text into chunks of `chunk_chars` *characters* (Python string indices) and sums
// the counts, so a token spanning a chunk boundary is counted as two; mirrored exactly.
pub(crate) fn count_in_chunks(
    tokenizer: Tokenizer,
    bpe: &bpe_openai::Tokenizer,
    text: &str,
    chunk_chars: usize,
) -> usize {
    let mut total = 0;
    let mut start = 0;
    loop {
        let end = chunk_end(text, start, chunk_chars);
        total += count_chunk(tokenizer, bpe, text.get(start..end).unwrap_or_default());
        if end >= text.len() {
            return total;
        }
        start = end;
    }
}

/// One chunk as tiktoken's `encode_ordinary(chunk)` counts it: pre-tokenized pieces, each BPE'd.
pub(crate) fn count_chunk(tokenizer: Tokenizer, bpe: &bpe_openai::Tokenizer, chunk: &str) -> usize {
    let table = tokenizer.memo_table();
    let pieces = Pieces::new(tokenizer, bpe, chunk).map(str::as_bytes);
    count_pieces(table, pieces, |piece| bpe.bpe.count(piece))
}

/// The byte offset where the chunk of `chunk_chars` characters that starts at `start` ends.
pub(crate) fn chunk_end(text: &str, start: usize, chunk_chars: usize) -> usize {
    let rest = text.as_bytes().get(start..).unwrap_or_default();
    if rest.len() <= chunk_chars {
        // Fewer bytes than the chunk size means fewer characters too: the rest is one chunk.
        return text.len();
    }
    // ASCII text has one byte per character; the check is a few vector compares per chunk,
    // against a decode of every character.
    if rest[..chunk_chars].is_ascii() {
        return start + chunk_chars;
    }
    text[start..]
        .char_indices()
        .nth(chunk_chars)
        .map_or(text.len(), |(offset, _)| start + offset)
}

#[cfg(test)]
fn chunk_bounds(text: &str, chunk_chars: usize) -> Vec<(usize, usize)> {
    let mut bounds = Vec::new();
    let mut start = 0;
    loop {
        let end = chunk_end(text, start, chunk_chars);
        bounds.push((start, end));
        if end >= text.len() {
            return bounds;
        }
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_split_on_characters_not_bytes() {
        let text = "é".repeat(5);
        assert_eq!(chunk_bounds(&text, 2), vec![(0, 4), (4, 8), (8, 10)]);
        assert_eq!(chunk_bounds("", 2), vec![(0, 0)]);
        assert_eq!(chunk_bounds("abcd", 2), vec![(0, 2), (2, 4)]);
        assert_eq!(chunk_bounds("abcdé", 2), vec![(0, 2), (2, 4), (4, 6)]);
    }

    #[test]
    fn cl100k_counts_known_text() {
        let bpe = bpe_openai::cl100k_base();
        assert_eq!(bpe.count("hello world"), 2);
        assert_eq!(
            count_in_chunks(Tokenizer::Cl100kBase, bpe, "hello world", 1024),
            2
        );
        let by_hand: usize = ["hel", "lo ", "wor", "ld"]
            .iter()
            .map(|c| bpe.count(*c))
            .sum();
        assert_eq!(
            count_in_chunks(Tokenizer::Cl100kBase, bpe, "hello world", 3),
            by_hand
        );
    }

    #[test]
    fn decode_maps_special_ids_and_replaces_bad_utf8() {
        let bpe = bpe_openai::cl100k_base();
        let text = decode_tiktoken(Tokenizer::Cl100kBase, bpe, &[100257]);
        assert_eq!(text, Ok("<|endoftext|>".to_owned()));
        assert!(decode_tiktoken(Tokenizer::O200kBase, bpe, &[u32::MAX]).is_err());
    }
}
