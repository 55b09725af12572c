//! tiktoken's `p50k_base` (and `p50k_edit`), built from the ranks file litellm ships.
//!
//! litellm bundles `p50k_base.tiktoken` in its `tokenizers` folder under the SHA-1 of its URL and
//! points `TIKTOKEN_CACHE_DIR` there, so tiktoken loads it offline. The file is one
//! `base64(token) rank` line per mergeable token. Its ranks are not contiguous: 50256 is missing
//! because it is `<|endoftext|>`, a special token. `bpe`'s [`BytePairEncoding::from_dictionary`]
//! numbers tokens by position, so tokens are laid out in rank order and the ranks kept aside:
//! position `i` is tiktoken's id `ranks[i]`. BPE merges the adjacent pair whose merged token has
//! the lowest rank, and renumbering in rank order keeps every comparison between ranks, so counts
//! are unchanged; ids are translated at the edges ([`RankedEncoding::encode`] and
//! [`RankedEncoding::token_bytes`]).
//!
//! The file is read once per process, on the first count that needs it: 0.19 s and 19 MiB of
//! resident memory in a release build (measured), mostly `bpe` building its automata and
//! checking that every token encodes to itself. Its content is checked against the file tiktoken
//! accepts (tiktoken verifies a SHA-256 and would download a replacement for any other content),
//! so a changed file is refused rather than counted with.

use std::path::Path;
use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bpe_openai::byte_pair_encoding::BytePairEncoding;

use super::error::TokensError;

/// The name litellm's bundled `p50k_base.tiktoken` has in its `tokenizers` folder: the SHA-1 of
/// the URL tiktoken would fetch it from.
pub(crate) const P50K_FILE: &str = "ec7223a39ce59f226a68acc30dc1af2788490e15";

// The size and FNV-1a-64 of the file whose SHA-256 is the `expected_hash` tiktoken 0.14 checks
// for p50k_base (94b5ca7d…2069). With those bytes `from_dictionary`'s default hash factor has no
// collision among the tokens (measured), which it would otherwise assert on.
const P50K_BYTES: usize = 836_186;
const P50K_FINGERPRINT: u64 = 0x3b4b_35a4_abbd_4ad4;

/// `r50k_pat_str` of tiktoken (shared by r50k, p50k_base and p50k_edit):
/// `'(?:[sdmt]|ll|ve|re)| ?\pL++| ?\pN++| ?[^\s\pL\pN]++|\s++$|\s+(?!\S)|\s`, as patterns for
/// `regex-automata`, which has no look-around. `\s+(?!\S)` becomes `\s+\s` with its last
/// character given back (a look-ahead pattern of `bpe-openai`): before a non-space the greedy run
/// keeps all but the last space either way, and a run at the end is taken whole by `\s+$` first.
/// The possessive quantifiers change nothing here: no alternative continues after them.
const P50K_PATTERNS: [(&str, bool); 3] = [
    (
        r"'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+$",
        false,
    ),
    (r"\s+\s", true),
    (r"\s", false),
];

// `<|endoftext|>` in p50k_base; p50k_edit adds the fill-in-the-middle tokens
// (`tiktoken_ext/openai_public.py`).
const P50K_BASE_SPECIALS: [(u32, &str); 1] = [(50256, "<|endoftext|>")];
const P50K_EDIT_SPECIALS: [(u32, &str); 4] = [
    (50256, "<|endoftext|>"),
    (50281, "<|fim_prefix|>"),
    (50282, "<|fim_middle|>"),
    (50283, "<|fim_suffix|>"),
];

/// A tiktoken encoding whose ranks have gaps, with the translation between its ids and `bpe`'s.
pub(crate) struct RankedEncoding {
    /// The encoder, its token ids dense (position in rank order).
    pub(crate) tokenizer: bpe_openai::Tokenizer,
    /// tiktoken's id of each dense id, strictly increasing.
    ranks: Vec<u32>,
}

impl RankedEncoding {
    /// tiktoken's ids of `text` encoded as ordinary text (special-token text included), like
    /// `Encoding.encode(text, disallowed_special=())`.
    pub(crate) fn encode(&self, text: &str) -> Vec<u32> {
        let mut ids = self.tokenizer.encode(text);
        for id in &mut ids {
            // Every dense id comes from the dictionary built from `ranks`, so it has a rank.
            *id = self.ranks.get(*id as usize).copied().unwrap_or(u32::MAX);
        }
        ids
    }

    /// The bytes of tiktoken's token `rank`, when it is a mergeable token.
    pub(crate) fn token_bytes(&self, rank: u32) -> Option<&[u8]> {
        let dense = self.ranks.binary_search(&rank).ok()?;
        Some(self.tokenizer.bpe.token_bytes(u32::try_from(dense).ok()?))
    }

    /// tiktoken's `decode(tokens)` for `p50k_edit` (`edit`) or `p50k_base`: the tokens' bytes,
    /// special tokens as their text, decoded as UTF-8 with `errors="replace"`.
    pub(crate) fn decode(&self, edit: bool, tokens: &[u32]) -> Result<String, TokensError> {
        let mut bytes = Vec::new();
        for &token in tokens {
            if let Some(token_bytes) = self.token_bytes(token) {
                bytes.extend_from_slice(token_bytes);
            } else if let Some(text) = special_text(edit, token) {
                bytes.extend_from_slice(text.as_bytes());
            } else {
                // tiktoken raises KeyError on an unknown id; the caller's Python path reports it.
                let name = if edit { "p50k_edit" } else { "p50k_base" };
                return Err(TokensError::unsupported(format!(
                    "token id {token} is not in {name}"
                )));
            }
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// The special tokens tiktoken decodes for `p50k_edit` (`edit == true`) or `p50k_base`.
fn special_text(edit: bool, rank: u32) -> Option<&'static str> {
    let specials: &[(u32, &str)] = if edit {
        &P50K_EDIT_SPECIALS
    } else {
        &P50K_BASE_SPECIALS
    };
    specials
        .iter()
        .find(|(id, _)| *id == rank)
        .map(|(_, text)| *text)
}

static P50K_BASE: OnceLock<RankedEncoding> = OnceLock::new();

/// `p50k_base` from the folder `tokenizer_dir` (litellm's `litellm_core_utils/tokenizers`),
/// loaded on first use and then shared by the whole process.
///
/// Any folder whose file passes the content check holds the same bytes, so the first one loaded
/// serves every later counter. A failure is not remembered here (a later counter may name a
/// good folder); callers remember it per counter.
pub(crate) fn p50k_base(tokenizer_dir: &Path) -> Result<&'static RankedEncoding, TokensError> {
    if let Some(encoding) = P50K_BASE.get() {
        return Ok(encoding);
    }
    let path = tokenizer_dir.join(P50K_FILE);
    let failure = |message: String| TokensError::TokenizerFile {
        path: path.display().to_string(),
        message,
    };
    log::debug!("loading p50k_base from {}", path.display());
    let bytes = std::fs::read(&path).map_err(|error| failure(error.to_string()))?;
    let loaded = build(&bytes).map_err(failure)?;
    // Two threads may both have loaded it; the second copy is dropped.
    Ok(P50K_BASE.get_or_init(|| loaded))
}

fn build(bytes: &[u8]) -> Result<RankedEncoding, String> {
    if bytes.len() != P50K_BYTES || fnv1a(bytes) != P50K_FINGERPRINT {
        return Err("not the p50k_base.tiktoken that tiktoken accepts (content differs)".into());
    }
    ranked(bytes)
}

/// The encoding of any tiktoken ranks file, gaps in its ranks allowed.
fn ranked(bytes: &[u8]) -> Result<RankedEncoding, String> {
    let mut rows = parse_tiktoken(bytes)?;
    rows.sort_unstable_by_key(|(rank, _)| *rank);
    if rows.windows(2).any(|pair| pair[0].0 == pair[1].0) {
        return Err("a rank appears twice".into());
    }
    let ranks: Vec<u32> = rows.iter().map(|(rank, _)| *rank).collect();
    let tokens = rows.into_iter().map(|(_, token)| token);
    // `from_dictionary` asserts that the dictionary is BPE-consistent (every token encodes to
    // itself) and hash-collision free; a failed assertion is a file we cannot count with.
    let bpe = std::panic::catch_unwind(move || BytePairEncoding::from_dictionary(tokens, None))
        .map_err(|_| "the ranks do not form a consistent byte-pair encoding".to_owned())?;
    let tokenizer = pretokenized(bpe)?;
    Ok(RankedEncoding { tokenizer, ranks })
}

/// `bpe` with p50k's pre-tokenizer on top.
pub(crate) fn pretokenized(bpe: BytePairEncoding) -> Result<bpe_openai::Tokenizer, String> {
    bpe_openai::Tokenizer::new_lookahead(bpe, &P50K_PATTERNS, false)
        .map_err(|error| format!("the p50k_base pattern does not compile: {error}"))
}

/// `(rank, token bytes)` of each line `base64(token) rank` of a tiktoken file.
fn parse_tiktoken(bytes: &[u8]) -> Result<Vec<(u32, Vec<u8>)>, String> {
    let text = std::str::from_utf8(bytes).map_err(|error| error.to_string())?;
    let mut rows = Vec::new();
    for (number, line) in text.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
        let bad = |what: &str| format!("line {}: {what}", number + 1);
        let mut fields = line.split(' ');
        let (Some(token), Some(rank), None) = (fields.next(), fields.next(), fields.next()) else {
            return Err(bad("expected `base64(token) rank`"));
        };
        let token = STANDARD.decode(token).map_err(|e| bad(&e.to_string()))?;
        let rank = rank.parse::<u32>().map_err(|e| bad(&e.to_string()))?;
        rows.push((rank, token));
    }
    Ok(rows)
}

// FNV-1a, 64 bits: a fingerprint against a changed or truncated file, not against tampering.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tiktoken_lines_and_rejects_others() {
        assert_eq!(
            parse_tiktoken(b"IQ== 0\nIg== 2\n"),
            Ok(vec![(0, b"!".to_vec()), (2, b"\"".to_vec())])
        );
        assert!(parse_tiktoken(b"IQ==\n").is_err());
        assert!(parse_tiktoken(b"!! 0\n").is_err());
        assert!(build(b"IQ== 0\n").is_err());
    }

    // The 256 bytes at ranks 0-255, a special-token gap at 256, then merges above it.
    fn gapped() -> RankedEncoding {
        let mut file = String::new();
        for byte in 0..=255u8 {
            file.push_str(&format!("{} {byte}\n", STANDARD.encode([byte])));
        }
        file.push_str(&format!("{} 257\n", STANDARD.encode("ab")));
        file.push_str(&format!("{} 258\n", STANDARD.encode("abab")));
        ranked(file.as_bytes()).unwrap()
    }

    #[test]
    fn ids_above_the_gap_are_tiktoken_ids() {
        let encoding = gapped();

        assert_eq!(encoding.encode("abab ab a"), vec![258, 32, 257, 32, 97]);
        assert_eq!(encoding.token_bytes(258), Some(&b"abab"[..]));
        assert_eq!(encoding.token_bytes(97), Some(&b"a"[..]));
        assert_eq!(encoding.token_bytes(256), None);
        assert_eq!(encoding.token_bytes(259), None);
    }

    #[test]
    fn decode_takes_tiktoken_ids_and_specials() {
        let encoding = gapped();

        assert_eq!(
            encoding.decode(false, &[258, 50256, 32]),
            Ok("abab<|endoftext|> ".into())
        );
        assert_eq!(
            encoding.decode(true, &[50281, 97]),
            Ok("<|fim_prefix|>a".into())
        );
        assert!(encoding.decode(false, &[50281]).is_err());
        assert_eq!(encoding.decode(false, &[0xE6]), Ok("\u{FFFD}".into()));
    }

    #[test]
    fn renumbering_keeps_merge_order() {
        // "abab" merges to one token because "ab" (257) outranks nothing else; a dense renumbering
        // keeps 257 < 258, so the count is the one tiktoken's ranks give.
        let encoding = gapped();

        assert_eq!(encoding.tokenizer.count("ababab"), 2);
        assert_eq!(encoding.encode("ababab"), vec![258, 257]);
    }

    #[test]
    fn fingerprint_is_fnv1a() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn specials_of_base_and_edit() {
        assert_eq!(special_text(false, 50256), Some("<|endoftext|>"));
        assert_eq!(special_text(false, 50281), None);
        assert_eq!(special_text(true, 50283), Some("<|fim_suffix|>"));
    }
}
