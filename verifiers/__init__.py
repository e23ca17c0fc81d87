"""Grounding for langgames: checks that decide what is true. Never imports a game.

- `Verdict` / `Status`: the one result type every check returns.
- `PythonSandbox`: isolated execution of untrusted Python (see ``langgames.verifiers.python``).
- `check_subset` / `SubsetPolicy`: a declared Python subset checked before a program runs
  (see ``langgames.verifiers.pysubset``).
- `parse_math` / `verify_math`: safe reading of math answers and SymPy equivalence checks with
  deadlines (see ``langgames.verifiers.math``); `extract_answer`, `parse_answer`, `evaluate_at`:
  the same without SymPy at import (``langgames.verifiers.exact``).
- `encode_value` / `decode_value`: the sandbox's exact value codec (``langgames.verifiers.codec``).
- ``langgames.verifiers.wire``: the length-prefixed frames every worker pipe speaks (the sandbox,
  the math workers, a game's own worker process).

Heavy verifiers load lazily: importing this package costs almost nothing and starts no process.
"""

from __future__ import annotations

import importlib
from typing import Any

from langgames.verifiers.verdict import FAILURE_STATUSES, TIMING_KEYS, Status, Verdict

_LAZY = {
    "PythonSandbox": "langgames.verifiers.python",
    "RunResult": "langgames.verifiers.python",
    "CallResult": "langgames.verifiers.python",
    "RunStatus": "langgames.verifiers.python",
    "default_sandbox": "langgames.verifiers.python",
    "isolation_report": "langgames.verifiers.python",
    "SubsetPolicy": "langgames.verifiers.pysubset",
    "check_subset": "langgames.verifiers.pysubset",
    "parse_math": "langgames.verifiers.math",
    "verify_math": "langgames.verifiers.math",
    "extract_answer": "langgames.verifiers.exact",
    "parse_answer": "langgames.verifiers.exact",
    "ParsedMath": "langgames.verifiers.exact",
    "evaluate_at": "langgames.verifiers.exact",
    "encode_value": "langgames.verifiers.codec",
    "decode_value": "langgames.verifiers.codec",
}

__all__ = ["FAILURE_STATUSES", "TIMING_KEYS", "Status", "Verdict", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
