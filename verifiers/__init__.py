"""Grounding for langgames: checks that decide what is true. Never imports a game.

- `Verdict` / `Status`: the one result type every check returns.
- `PythonSandbox`: isolated execution of untrusted Python (see ``langgames.verifiers.python``).

Heavy verifiers load lazily: importing this package costs almost nothing.
"""

from __future__ import annotations

from langgames.verifiers.verdict import FAILURE_STATUSES, Status, Verdict

__all__ = ["FAILURE_STATUSES", "Status", "Verdict"]
