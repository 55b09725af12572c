//! Errors of token counting.

/// Why the Rust side gives no token count.
///
/// Every variant means the same thing to a caller: ask LiteLLM's Python path instead. None of
/// them is an approximation in disguise.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum TokensError {
    /// The input has a shape whose count the Rust side cannot prove equal to LiteLLM's: a
    /// tokenizer LiteLLM would download, an image LiteLLM would fetch, a document, or an input
    /// on which LiteLLM itself raises (its own error message is the one the caller should see).
    #[error("litellm-rust cannot count this input exactly: {reason}")]
    Unsupported {
        /// What was met and why it is left to LiteLLM.
        reason: String,
    },
    /// A tokenizer file that ships inside the installed litellm package could not be read.
    #[error("cannot load tokenizer file {path}: {message}")]
    TokenizerFile {
        /// The file that was read.
        path: String,
        /// What went wrong, from the reader or the parser.
        message: String,
    },
    /// The model cost map (LiteLLM's `model_prices_and_context_window` JSON) is not a JSON
    /// object of model entries.
    #[error(
        "invalid model cost map: {message}; expected a JSON object mapping model names to entries"
    )]
    CostMap {
        /// What the parser reported.
        message: String,
    },
}

impl TokensError {
    pub(crate) fn unsupported(reason: impl Into<String>) -> Self {
        Self::Unsupported {
            reason: reason.into(),
        }
    }
}

/// Why one piece of input got no count, kept apart while counting because LiteLLM treats the two
/// differently inside content lists: with `default_token_count` set, a block on which LiteLLM
/// raises makes the whole list count as that default, while a block we merely cannot compute
/// must still go to Python.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// LiteLLM raises on this input.
    Raises(String),
    /// LiteLLM answers, but the Rust side cannot prove it would answer the same.
    Unsupported(String),
}

impl From<Refusal> for TokensError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Raises(reason) => Self::unsupported(format!("litellm raises here: {reason}")),
            Refusal::Unsupported(reason) => Self::unsupported(reason),
        }
    }
}

impl From<TokensError> for Refusal {
    fn from(error: TokensError) -> Self {
        match error {
            TokensError::Unsupported { reason } => Self::Unsupported(reason),
            other => Self::Unsupported(other.to_string()),
        }
    }
}
