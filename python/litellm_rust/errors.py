"""The exceptions litellm-rust raises; defined by the native module, re-exported here."""

from litellm_rust._native import ConfigError, LitellmRustError, UnknownFeatureError

__all__ = ["ConfigError", "LitellmRustError", "UnknownFeatureError"]
