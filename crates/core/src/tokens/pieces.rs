//! tiktoken's pre-tokenization of `cl100k_base`, `o200k_base` and `p50k_base`, scanned by hand
//! for ASCII.
//!
//! Before BPE, tiktoken splits text into pieces with a regex. `bpe-openai` runs that regex
//! through `regex-automata`, which was half of the time of a count (perf: `find_fwd`, the meta
//! strategy and its cache pool, whose mutex every worker thread but the first takes per piece).
//! Here the pieces are found by a scanner that knows only ASCII and follows the regex's
//! alternatives in order. Whenever a decision would depend on a non-ASCII character (is `é` a
//! letter? is U+00A0 a space? does `ſ` fold to `s`?), the scanner gives up on that piece and the
//! regex finds it, anchored where the scanner stood, exactly as `bpe-openai` would have. Every
//! piece therefore equals the regex's: the scanner answers only where ASCII alone decides.
//!
//! The patterns mirrored (tiktoken's, leftmost-first):
//!
//! - cl100k: `'s|'t|'re|'ve|'m|'ll|'d` (any case) `| [^\r\n\pL\pN]?\pL+ | \pN{1,3}
//!   | ␠?[^\s\pL\pN]+[\r\n]* | \s*[\r\n]+ | \s+(?!\S) | \s+`
//! - o200k: `[^\r\n\pL\pN]?Upper*Lower+Contraction? | [^\r\n\pL\pN]?Upper+Lower*Contraction?
//!   | \pN{1,3} | ␠?[^\s\pL\pN]+[\r\n/]* | \s*[\r\n]+ | \s+(?!\S) | \s+`
//! - p50k (r50k's): `'(?:[sdmt]|ll|ve|re)` (this case only) `| ␠?\pL+ | ␠?\pN+ | ␠?[^\s\pL\pN]+
//!   | \s+$ | \s+(?!\S) | \s`

use super::encodings::Tokenizer;

/// The class of a byte as far as the split patterns care. `Unknown` is any byte of a non-ASCII
/// character: its class needs Unicode tables, so the regex decides.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Upper,
    Lower,
    Digit,
    Newline,
    // `\s` other than `\r` and `\n`: tab, vertical tab, form feed, space (Unicode White_Space,
    // which is what the regex's `\s` means; 0x1C-0x1F are not in it).
    Space,
    // Everything else in ASCII: punctuation, symbols, control characters.
    Other,
    Unknown,
    End,
}

const CLASSES: [Class; 256] = classes();

const fn classes() -> [Class; 256] {
    let mut table = [Class::Other; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = match byte as u8 {
            b'A'..=b'Z' => Class::Upper,
            b'a'..=b'z' => Class::Lower,
            b'0'..=b'9' => Class::Digit,
            b'\r' | b'\n' => Class::Newline,
            b'\t' | 0x0B | 0x0C | b' ' => Class::Space,
            0x80..=0xFF => Class::Unknown,
            _ => Class::Other,
        };
        byte += 1;
    }
    table
}

fn class(bytes: &[u8], index: usize) -> Class {
    match bytes.get(index) {
        Some(byte) => CLASSES[*byte as usize],
        None => Class::End,
    }
}

fn is_letter(class: Class) -> bool {
    matches!(class, Class::Upper | Class::Lower)
}

fn is_whitespace(class: Class) -> bool {
    matches!(class, Class::Space | Class::Newline)
}

/// The end of the run of bytes from `start` whose class passes `keep`, or `None` when the run
/// stops at a non-ASCII character (which might belong to the run).
fn run(bytes: &[u8], start: usize, keep: impl Fn(Class) -> bool) -> Option<usize> {
    let mut end = start;
    loop {
        match class(bytes, end) {
            Class::Unknown => return None,
            found if keep(found) => end += 1,
            _ => return Some(end),
        }
    }
}

/// The length of `'s|'t|'re|'ve|'m|'ll|'d` (case-insensitive) at `start`: `Some(0)` when none
/// matches, `None` when a non-ASCII character decides (`ſ` folds to `s`).
fn contraction(bytes: &[u8], start: usize) -> Option<usize> {
    if bytes.get(start) != Some(&b'\'') {
        return Some(0);
    }
    let folded = |index: usize| match bytes.get(index) {
        Some(byte) if byte.is_ascii() => Some(Some(byte.to_ascii_lowercase())),
        Some(_) => None,
        None => Some(None),
    };
    let second = match folded(start + 1)? {
        Some(second) => second,
        None => return Some(0),
    };
    let third = match second {
        b's' | b't' | b'm' | b'd' => return Some(2),
        b'r' | b'v' => b'e',
        b'l' => b'l',
        _ => return Some(0),
    };
    Some(if folded(start + 2)? == Some(third) {
        3
    } else {
        0
    })
}

/// `\pN{1,3}` at the start of `bytes`, whose first byte is a digit.
fn digits(bytes: &[u8]) -> Option<usize> {
    let mut end = 1;
    while end < 3 {
        match class(bytes, end) {
            Class::Digit => end += 1,
            Class::Unknown => return None,
            _ => break,
        }
    }
    Some(end)
}

/// `␠?[^\s\pL\pN]+` then `[\r\n]*` (or `[\r\n/]*` for o200k), if it matches at the start.
fn punctuation(bytes: &[u8], trailing_slash: bool) -> Option<Option<usize>> {
    let start = usize::from(bytes.first() == Some(&b' '));
    match class(bytes, start) {
        Class::Other => {}
        Class::Unknown => return None,
        _ => return Some(None),
    }
    let end = run(bytes, start, |class| class == Class::Other)?;
    // A non-ASCII character is never `\r`, `\n` or `/`, so the tail needs no Unicode.
    let tail = bytes[end..]
        .iter()
        .take_while(|byte| matches!(byte, b'\r' | b'\n') || (trailing_slash && **byte == b'/'))
        .count();
    Some(Some(end + tail))
}

/// `\s*[\r\n]+ | \s+(?!\S) | \s+` at the start of `bytes`, whose first byte is whitespace.
fn whitespace(bytes: &[u8]) -> Option<usize> {
    let end = run(bytes, 0, is_whitespace)?;
    if let Some(last_newline) = bytes[..end]
        .iter()
        .rposition(|b| matches!(b, b'\r' | b'\n'))
    {
        // `\s*` gives back characters until `[\r\n]+` can match: up to the last line break.
        return Some(last_newline + 1);
    }
    if end == bytes.len() || end == 1 {
        return Some(end);
    }
    // `(?!\S)` fails before the non-space, so the last space is left to the next piece.
    Some(end - 1)
}

/// The first cl100k piece of `bytes` (not empty), or `None` when the regex must decide.
fn cl100k_piece(bytes: &[u8]) -> Option<usize> {
    let first = class(bytes, 0);
    if bytes[0] == b'\'' {
        let length = contraction(bytes, 0)?;
        if length > 0 {
            return Some(length);
        }
    }
    let letters_from = match first {
        Class::Upper | Class::Lower => Some(0),
        Class::Space | Class::Other => match class(bytes, 1) {
            Class::Unknown => return None,
            next if is_letter(next) => Some(1),
            _ => None,
        },
        Class::Unknown => return None,
        _ => None,
    };
    if let Some(start) = letters_from {
        return run(bytes, start, is_letter);
    }
    if first == Class::Digit {
        return digits(bytes);
    }
    if let Some(length) = punctuation(bytes, false)? {
        return Some(length);
    }
    whitespace(bytes)
}

/// The first o200k piece of `bytes` (not empty), or `None` when the regex must decide.
fn o200k_piece(bytes: &[u8]) -> Option<usize> {
    let first = class(bytes, 0);
    let letters_from = match first {
        Class::Upper | Class::Lower => Some(0),
        Class::Space | Class::Other => match class(bytes, 1) {
            Class::Unknown => return None,
            next if is_letter(next) => Some(1),
            _ => None,
        },
        Class::Unknown => return None,
        _ => None,
    };
    if let Some(start) = letters_from {
        // `Upper*Lower+` when lower case follows the capitals, else `Upper+Lower*` with no lower
        // case: both end where the letters of the run's case pattern end.
        let capitals = run(bytes, start, |class| class == Class::Upper)?;
        let end = run(bytes, capitals, |class| class == Class::Lower)?;
        return Some(end + contraction(bytes, end)?);
    }
    if first == Class::Digit {
        return digits(bytes);
    }
    if let Some(length) = punctuation(bytes, true)? {
        return Some(length);
    }
    whitespace(bytes)
}

/// The first p50k piece of `bytes` (not empty), or `None` when the regex must decide.
fn p50k_piece(bytes: &[u8]) -> Option<usize> {
    if bytes[0] == b'\'' {
        // Case-sensitive ASCII literals: a non-ASCII second character simply does not match.
        let length = match (bytes.get(1), bytes.get(2)) {
            (Some(b's' | b'd' | b'm' | b't'), _) => 2,
            (Some(b'l'), Some(b'l')) | (Some(b'v' | b'r'), Some(b'e')) => 3,
            _ => 0,
        };
        if length > 0 {
            return Some(length);
        }
    }
    let first = class(bytes, 0);
    let start = match first {
        Class::Unknown => return None,
        Class::Space if bytes[0] == b' ' => 1,
        _ => 0,
    };
    let run_class = match class(bytes, start) {
        Class::Unknown => return None,
        Class::Upper | Class::Lower => Some(is_letter as fn(Class) -> bool),
        Class::Digit => Some((|class| class == Class::Digit) as fn(Class) -> bool),
        Class::Other => Some((|class| class == Class::Other) as fn(Class) -> bool),
        _ => None,
    };
    if let Some(keep) = run_class {
        return run(bytes, start, keep);
    }
    // Whitespace, taken whole at the end of the text, else all but the last character (which
    // may start the next piece as `␠?…`), else the one character.
    let end = run(bytes, 0, is_whitespace)?;
    if end == bytes.len() || end == 1 {
        return Some(end);
    }
    Some(end - 1)
}

/// Which hand scanner finds the pieces of one encoding.
#[derive(Clone, Copy)]
enum Scanner {
    Cl100k,
    O200k,
    P50k,
}

/// The pieces tiktoken's regex splits `text` into, for a tiktoken encoding.
pub(crate) struct Pieces<'a> {
    text: &'a str,
    position: usize,
    scanner: Scanner,
    regex: &'a bpe_openai::Tokenizer,
}

impl<'a> Pieces<'a> {
    /// Splits `text` as `regex` (the encoding of `tokenizer`) would.
    pub(crate) fn new(
        tokenizer: Tokenizer,
        regex: &'a bpe_openai::Tokenizer,
        text: &'a str,
    ) -> Self {
        Self {
            text,
            position: 0,
            scanner: match tokenizer {
                Tokenizer::O200kBase => Scanner::O200k,
                Tokenizer::P50kBase | Tokenizer::P50kEdit => Scanner::P50k,
                _ => Scanner::Cl100k,
            },
            regex,
        }
    }
}

impl<'a> Iterator for Pieces<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self
            .text
            .get(self.position..)
            .filter(|rest| !rest.is_empty())?;
        let bytes = rest.as_bytes();
        let scanned = match self.scanner {
            Scanner::Cl100k => cl100k_piece(bytes),
            Scanner::O200k => o200k_piece(bytes),
            Scanner::P50k => p50k_piece(bytes),
        };
        // The regex matches a non-empty piece at every position (every character is a letter, a
        // digit, whitespace or none of these, and each has an alternative), so the fallback to
        // the whole rest is never taken; it only keeps the loop finite.
        let length = scanned
            .or_else(|| self.regex.split(rest).next().map(str::len))
            .filter(|length| *length > 0)
            .unwrap_or(rest.len());
        self.position += length;
        rest.get(..length)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TOKENIZERS: [Tokenizer; 3] = [
        Tokenizer::Cl100kBase,
        Tokenizer::O200kBase,
        Tokenizer::P50kBase,
    ];

    // p50k's pre-tokenizer over a dictionary of the 256 bytes: splitting needs no real ranks.
    fn p50k_regex() -> &'static bpe_openai::Tokenizer {
        static REGEX: std::sync::OnceLock<bpe_openai::Tokenizer> = std::sync::OnceLock::new();
        REGEX.get_or_init(|| {
            let bytes = (0..=255u8).map(|byte| vec![byte]);
            let bpe =
                bpe_openai::byte_pair_encoding::BytePairEncoding::from_dictionary(bytes, None);
            crate::tokens::p50k::pretokenized(bpe).unwrap()
        })
    }

    fn encoding(tokenizer: Tokenizer) -> &'static bpe_openai::Tokenizer {
        match tokenizer {
            Tokenizer::O200kBase => bpe_openai::o200k_base(),
            Tokenizer::P50kBase => p50k_regex(),
            _ => bpe_openai::cl100k_base(),
        }
    }

    fn scanned(tokenizer: Tokenizer, text: &str) -> Vec<&str> {
        Pieces::new(tokenizer, encoding(tokenizer), text).collect()
    }

    fn regex(tokenizer: Tokenizer, text: &str) -> Vec<&str> {
        encoding(tokenizer).split(text).collect()
    }

    #[test]
    fn splits_like_tiktoken() {
        let text = "He's  DON'T don't HTMLParser x1234 !!\n\n  /// a\r\n\tb  ";
        assert_eq!(
            scanned(Tokenizer::Cl100kBase, text),
            [
                "He",
                "'s",
                " ",
                " DON",
                "'T",
                " don",
                "'t",
                " HTMLParser",
                " x",
                "123",
                "4",
                " !!\n\n",
                " ",
                " ///",
                " a",
                "\r\n",
                "\tb",
                "  "
            ]
        );
        assert_eq!(
            scanned(Tokenizer::O200kBase, text),
            [
                "He's",
                " ",
                " DON'T",
                " don't",
                " HTMLParser",
                " x",
                "123",
                "4",
                " !!\n\n",
                " ",
                " ///",
                " a",
                "\r\n",
                "\tb",
                "  "
            ]
        );
        assert_eq!(
            scanned(Tokenizer::P50kBase, text),
            [
                "He",
                "'s",
                " ",
                " DON",
                "'",
                "T",
                " don",
                "'t",
                " HTMLParser",
                " x",
                "1234",
                " !!",
                "\n\n ",
                " ///",
                " a",
                "\r\n",
                "\t",
                "b",
                "  "
            ]
        );
    }

    #[test]
    fn non_ascii_is_left_to_the_regex() {
        for text in [
            "'ſ café\u{a0} x\u{301}y 日本語 ٣٤ a\u{85}b",
            "'\u{17f}",
            "1\u{663}",
        ] {
            for tokenizer in TOKENIZERS {
                assert_eq!(scanned(tokenizer, text), regex(tokenizer, text), "{text:?}");
            }
        }
    }

    // Characters that stress every branch: all of ASCII, and non-ASCII letters, marks, digits,
    // spaces and the case folds of the contractions.
    const ALPHABET: &[char] = &[
        'é', 'É', 'ǅ', 'ʰ', '日', '\u{301}', '٣', '\u{a0}', '\u{85}', '\u{2028}', 'ſ', 'K', '🎉',
        '、',
    ];

    fn any_text() -> impl Strategy<Value = String> {
        let ascii = (0u8..128).prop_map(char::from);
        let other = proptest::sample::select(ALPHABET);
        let character = prop_oneof![8 => ascii, 1 => other];
        proptest::collection::vec(character, 0..40).prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn pieces_equal_the_regex(text in any_text()) {
            for tokenizer in TOKENIZERS {
                prop_assert_eq!(scanned(tokenizer, &text), regex(tokenizer, &text));
            }
        }

        #[test]
        fn word_like_pieces_equal_the_regex(
            words in proptest::collection::vec("[ \t\r\n'A-Za-z0-9/.,!]{0,6}", 0..12)
        ) {
            let text = words.concat();
            for tokenizer in TOKENIZERS {
                prop_assert_eq!(scanned(tokenizer, &text), regex(tokenizer, &text));
            }
        }
    }
}
