"""`CodeGame`: the base of games whose answer is a Python function, checked in the sandbox.

The counterpart of `langgames.envs._math_game.MathGame` for code. A code game writes its rules
(how an instance is drawn, what the prompt says, the reference source) and declares which function
it asks for; this class does the rest, the same way for every such game:

- the reply contract's ``code`` marker: the last fenced ```` ```python ```` block is the answer
  (`langgames.contract`), and CRLF line endings are normalised before the code is read;
- `extract_code` checks that the block defines the entry point, within the size limit;
- the function runs in the shared sandbox (`langgames.verifiers.python.default_sandbox`) on the
  instance's hidden cases (``self._hidden``: a list of ``(args, expected)``), which are never
  shown; the sandbox's verdict (correct only if every case matches in value and type) is the
  move's verdict, mapped onto the game's reward range;
- the reference answer is the reference source in a fenced block.

Subclass::

    class MyCodeGame(CodeGame):
        entry = "f"                          # the function the player writes
        game_info = GameInfo(...)
        def _setup(self) -> str: ...         # draw the instance; set self._hidden
        def _prompt(self, role) -> str: ...  # end with self._code_request("f(xs)")
        def _reference_source(self) -> str: ...
"""

from __future__ import annotations

from typing import Any, ClassVar

from langgames.core import LanguageGame, Move
from langgames.envs._parsing import extract_code
from langgames.verifiers.verdict import Verdict

__all__ = ["CodeGame"]


class CodeGame(LanguageGame):
    """A single-move game whose answer is one Python function (see the module docstring)."""

    answer_marker = "code"
    #: The name of the function the player must define.
    entry: ClassVar[str] = "f"
    #: Hidden cases of the current instance: ``(args, expected)`` pairs; set by ``_setup``.
    _hidden: list[tuple[tuple[Any, ...], Any]]

    def _reference_source(self) -> str:
        """The reference solution's source (without the fence)."""
        raise NotImplementedError

    @staticmethod
    def _code_request(signature: str) -> str:
        """The last sentence of a code game's prompt: the shape of the expected reply."""
        return f"Reply with the code in a fenced block:\n```python\ndef {signature}:\n    ...\n```"

    def _check(self, code: str) -> Verdict:
        from langgames.verifiers.python import default_sandbox

        return default_sandbox().check(code, self.entry, self._hidden)

    def _play(self, role: str, action: str) -> Move:
        verdict = self._check(extract_code(action, self.entry))
        return Move(verdict, {role: self._reward_for(verdict)}, next_role=None)

    def _reference(self, role: str) -> str:
        source = self._reference_source()
        return f"```python\n{source.rstrip()}\n```"
