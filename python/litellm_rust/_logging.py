"""Debug logging set-up, done once at import.

The core's log records reach Python `logging` under the `litellm_rust` logger. When debug is
asked for (`LITELLM_RUST_DEBUG=true` or `RUST_LOG=debug`), the logger is lowered to DEBUG and,
if the host has configured no handler at all, given one on stderr so the records are seen.
"""

from __future__ import annotations

import logging

from litellm_rust import _native

LOGGER_NAME = "litellm_rust"


def configure() -> None:
    if _native.LOG_LEVEL not in ("DEBUG", "TRACE"):
        return
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(logging.DEBUG)
    if not logger.hasHandlers():
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
