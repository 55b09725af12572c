"""The exceptions litellm-rust raises; defined by the native module, re-exported here.

```text
LitellmRustError(Exception)
├── ConfigError(LitellmRustError, ValueError)          .problems: list[str]
├── UnknownFeatureError(LitellmRustError, LookupError)  .feature: str
└── UnsupportedInput(LitellmRustError)                  .reason: str
    └── TokenizerUnavailable(UnsupportedInput)          .reason: str
```

`UnsupportedInput` is a decline, not a failure: an accelerated path that cannot answer an input
exactly raises it inside a guard, and LiteLLM's Python path answers instead.
"""

from litellm_rust._native import (
    ConfigError,
    LitellmRustError,
    TokenizerUnavailable,
    UnknownFeatureError,
    UnsupportedInput,
)

__all__ = [
    "ConfigError",
    "LitellmRustError",
    "TokenizerUnavailable",
    "UnknownFeatureError",
    "UnsupportedInput",
]
