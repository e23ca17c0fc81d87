"""Moved to `langgames.verifiers.exact` (exact evaluation decides truth, so it lives with the
verifiers, under the parser's size limit). These names are kept for old imports."""

from __future__ import annotations

from langgames.verifiers.exact import (
    MAX_BITS,
    NotExact,
    TooLarge,
    Undefined,
    Unsupported,
    evaluate_at,
)

__all__ = ["MAX_BITS", "NotExact", "TooLarge", "Undefined", "Unsupported", "evaluate_at"]
