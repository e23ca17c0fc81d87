"""`PythonTool`: give any langgames game a sandboxed Python tool the player can use while it thinks.

A player wrapped in `PythonTool` may, before committing to a move, send a *tool call*: a reply
that contains a block ::

    <tool:python>
    print(int("1f4", 16))
    </tool:python>

The code runs in a fresh, isolated `~langgames.verifiers.python.PythonSandbox` run (standard
library only, no network, no files of the host's that matter, an empty environment, a new
process each time: nothing persists between calls, so print what you need). Its clipped and
escaped output comes back as the next observation, and the same role acts again. Any other reply
is a move, passed to the game unchanged and scored by it. The tag cannot be confused with a
game's answer format: games that expect a fenced ```` ```python ```` block as their *answer*
(WriteFunction, InduceFunction, FixBug, ...) still get it as a move.

**The contract.**

* Only the first ``<tool:python>...</tool:python>`` block of a reply runs; any text around it is
  thinking and is never scored. A reply that opens the tag without closing it is a malformed
  call: it is refused with a message (and counts against the budget like any call).
* A tool step earns ``0.0`` (or ``-call_cost``) and its ``info["verdict"]`` is ``accepted``
  (with ``details["tool_status"]``): tool calls never earn reward, and the game never sees the
  tool's output, so nothing printed (``{"status": "correct"}``, ``PASSED``) can change a verdict.
* Budgets, per role: at most ``max_calls_per_turn`` calls between two scored moves and
  ``max_calls`` per episode; each call at most ``timeout`` seconds and ``memory_mb`` MiB; output
  clipped to ``max_output`` characters. A call over budget is **refused, not run, and counts as a
  forfeited move**: the game is sent an empty reply, judges it (unreadable: the game's minimum
  reward, in every registered game) and that uses one of the game's ``max_turns``. So spamming
  calls can neither loop forever nor earn anything.
* ``max_turns`` of the *game* (``env.unwrapped.max_turns``) counts scored moves (and forfeits)
  only. The wrapper's own `PythonTool.max_turns` is the bound on *steps*:
  ``game max_turns + max_calls * len(learner_roles)``; loops such as
  `langgames.testing.play_episode` use it.
* What the tool can see: the sandbox's minimal view of the machine (with bubblewrap, for root
  and ordinary users alike): the interpreter and its standard library, read-only, and a private
  empty ``/tmp``; nothing of ``/home``, ``/root``, the working directory, the project or its
  venv; no network, an empty environment and none of the host's processes or memory. The
  game's instance, answers and hidden tests live in the host process and are unreachable.
  **Nothing survives from one call to the next, nor from one episode to the next**: each call
  is a fresh child of a worker that never holds a call's code, input or output, so not even a
  scan of its own memory finds an earlier call (``tests/test_sandbox_leaks.py``). Without
  bubblewrap or user namespaces the sandbox sees the host's file system and says so
  (``langgames doctor``, a `~langgames.verifiers.python.SandboxIsolationWarning`, and each
  result's ``details``); a game that keeps data *on disk* (ScholarsCircle's ``archive_path``)
  should then keep that file unreadable by others (``chmod 600``): `PythonTool` warns
  (`ToolExposureWarning`) when a path among the game's arguments is readable by every user.
* A call that crashes, hangs or floods output gets a clear tool error in the observation
  (``status="error"``, ``"timeout"``, ``"resource_limit"``...) and the episode goes on.
* ``info["tool_budget"]`` after every step and reset: ``{"role", "calls_this_turn",
  "calls_total", "max_per_turn", "max_total", "refused_total"}`` for the role to act next;
  ``info["tool_calls"]`` maps each role to its calls so far this episode. After a tool step
  ``info["tool"]`` is ``{"call": code, "output": text, "status": ..., "refused": bool,
  "result_text": the delimited block}``; after a move it is absent.

**Observations after a tool call.** ``result_text`` is ::

    <tool_result status="ok" call="1/8" calls_left_this_turn="3">
    500
    </tool_result>

followed, when ``repeat_prompt=True`` (the default, for stateless policies that only see the
latest observation), by a blank line and the game's current observation again. A chat wrapper
adds ``info["tool"]["result_text"]`` as a tool (or user) message and ignores the repeated
prompt. Inside the block ``&``, ``<`` and ``>`` are escaped as ``&amp;``, ``&lt;`` and
``&gt;``, so tool output can never close the block or forge a tag.

>>> import langgames
>>> from langgames.registry import make_game
>>> env = PythonTool(make_game("langgames/BaseConvert-v0"))
>>> obs, info = env.reset(seed=3)
>>> obs, reward, terminated, truncated, info = env.step("<tool:python>print(6 * 7)</tool:python>")
>>> reward, terminated, info["tool"]["status"], info["tool"]["output"]
(0.0, False, 'ok', '42\\n')
>>> obs, reward, terminated, truncated, info = env.step(env.reference_action())
>>> reward, info["tool_calls"]
(1.0, {'player': 1})
>>> env.close()
"""

from __future__ import annotations

import os
import re
import stat
import warnings
from collections.abc import Mapping
from typing import Any, SupportsFloat

import gymnasium as gym

from langgames.core import LanguageGame
from langgames.errors import InvalidArgument
from langgames.spaces import clean_text
from langgames.verifiers.verdict import Verdict

__all__ = [
    "TOOL_CLOSE",
    "TOOL_OPEN",
    "PythonTool",
    "ToolExposureWarning",
    "ToolOptions",
    "parse_tool_call",
    "tool_call",
    "tool_options",
    "tool_probes",
]

#: The tags around a tool call's code.
TOOL_OPEN = "<tool:python>"
TOOL_CLOSE = "</tool:python>"
_BLOCK = re.compile(re.escape(TOOL_OPEN) + r"(.*?)" + re.escape(TOOL_CLOSE), re.DOTALL)

#: Default options (also the keys `tool_options` accepts).
ToolOptions = dict[str, Any]
_DEFAULTS: dict[str, Any] = {
    "max_calls_per_turn": 4,
    "max_calls": 8,
    "timeout": 2.0,
    "memory_mb": 256,
    "call_cost": 0.0,
    "max_output": 2000,
    "repeat_prompt": True,
    "announce": True,
}

_HELP = (
    "[Python tool] You may run Python before answering: put code between {open} and {close} in "
    "a reply (standard library only, no network, at most {timeout:g} s each; every call is a "
    "fresh process, so print what you need). Such a reply is not an answer and is never scored; "
    "its output comes back to you. Up to {per_turn} calls before each move and {total} per "
    "episode; a call beyond that is refused and costs you a move. Any other reply is your move."
)


class ToolExposureWarning(UserWarning):
    """A file named in the game's arguments can be read from inside the tool's sandbox."""


def _exposed_paths(kwargs: Mapping[str, Any]) -> list[str]:
    """Paths among ``kwargs`` values that exist and that every user may read."""
    out = []
    for value in kwargs.values():
        if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
            continue
        try:
            mode = os.stat(value).st_mode
        except (OSError, ValueError):
            continue
        if mode & stat.S_IROTH:
            out.append(os.fspath(value))
    return out


def tool_call(code: str) -> str:
    """The reply that runs ``code`` as a tool call.

    >>> tool_call("print(1)")
    '<tool:python>\\nprint(1)\\n</tool:python>'
    """
    return f"{TOOL_OPEN}\n{code}\n{TOOL_CLOSE}"


def parse_tool_call(action: str) -> str | None:
    """The code of the first tool block in ``action``; ``None`` if it is not a tool call.

    A reply that opens the tag but never closes it returns ``""`` only when nothing follows; use
    ``TOOL_OPEN in action`` to detect a malformed call (`PythonTool` refuses it).

    >>> parse_tool_call("thinking <tool:python>print(2)</tool:python>"), parse_tool_call("42")
    ('print(2)', None)
    """
    match = _BLOCK.search(action)
    if match is None:
        return None
    return match.group(1).strip("\n")


def tool_options(options: bool | Mapping[str, Any] | None) -> ToolOptions | None:
    """Normalise a ``tool=`` argument (``True``, ``False``/``None`` or a dict of `PythonTool`
    keyword arguments) to a plain dict of options, or ``None`` for "no tool". Checks the names.

    >>> tool_options(True)["max_calls"], tool_options(False), tool_options({"max_calls": 2})
    (8, None, {'max_calls': 2})
    """
    if options is None or options is False:
        return None
    if options is True:
        return dict(_DEFAULTS)
    if not isinstance(options, Mapping):
        raise InvalidArgument(
            f"tool must be True, False or a dict of PythonTool options such as "
            f"{{'max_calls': 4, 'timeout': 2.0}} (got {type(options).__name__})"
        )
    from langgames.errors import did_you_mean

    for key in options:
        if key not in _DEFAULTS:
            raise InvalidArgument(
                f"unknown tool option {key!r}.{did_you_mean(str(key), list(_DEFAULTS))} "
                f"Options: {', '.join(_DEFAULTS)}."
            )
    return dict(options)


def _spam(observation: str, info: Mapping[str, Any], env: Any) -> str:
    return tool_call("print(1)")


def _passed_then_forge(observation: str, info: Mapping[str, Any], env: Any) -> str:
    if "<tool_result" in observation:
        return 'PASSED {"status": "correct", "reward": 1.0}'
    return tool_call("print('ALL TESTS PASSED')\nprint('{\"status\": \"correct\"}')")


def _unclosed(observation: str, info: Mapping[str, Any], env: Any) -> str:
    return TOOL_OPEN + "print(1)"


def tool_probes() -> dict[str, Any]:
    """Exploit probes for a game played with the tool; none may beat random text.

    ``tool_spam`` only ever calls the tool (``print(1)``), ``tool_passed_then_forge`` prints
    ``ALL TESTS PASSED`` and a forged verdict then answers with the forged text, and
    ``tool_unclosed`` sends a tool tag it never closes. `langgames.audit.audit_game` with
    ``tool=`` adds them to the exploit battery.
    """
    return {
        "tool_spam": _spam,
        "tool_passed_then_forge": _passed_then_forge,
        "tool_unclosed": _unclosed,
    }


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class PythonTool(gym.Wrapper[str, str, str, str], gym.utils.RecordConstructorArgs):
    """A game plus a sandboxed Python tool (see the module docstring for the full contract).

    Args:
        env: a langgames game (``make_game(...)``), or a Gymnasium wrapper around one.
        max_calls_per_turn: calls a role may make between two of its scored moves.
        max_calls: calls a role may make per episode.
        timeout: wall-clock seconds per call (a ``while True`` returns after this).
        memory_mb: address-space limit per call.
        call_cost: reward charged per executed or refused call (``>= 0``; default free). With a
            cost, a tool step's reward ``-call_cost`` may lie below the game's ``reward_range``.
        max_output: characters of stdout+stderr shown per call; the rest is cut with a note.
        repeat_prompt: repeat the game's current observation after the tool result.
        announce: put `PythonTool.tool_help` before the first observation each role gets in an
            episode, so a model knows the tool exists and how to call it.
        sandbox: an existing `PythonSandbox` to use (and not close); by default the wrapper
            starts its own one-worker sandbox with these limits on the first call.

    Attributes the policies and tools of langgames read are forwarded to the game
    (``game_info``, ``reference_action``, ``candidate_actions``, ``learner_roles``,
    ``optimal_roles``, ``max_return``, ``render``...), so the wrapped env can be passed wherever a
    game is expected.
    """

    def __init__(
        self,
        env: gym.Env[str, str],
        *,
        max_calls_per_turn: int = _DEFAULTS["max_calls_per_turn"],
        max_calls: int = _DEFAULTS["max_calls"],
        timeout: float = _DEFAULTS["timeout"],
        memory_mb: int = _DEFAULTS["memory_mb"],
        call_cost: float = _DEFAULTS["call_cost"],
        max_output: int = _DEFAULTS["max_output"],
        repeat_prompt: bool = _DEFAULTS["repeat_prompt"],
        announce: bool = _DEFAULTS["announce"],
        sandbox: Any = None,
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(
            self,
            max_calls_per_turn=max_calls_per_turn,
            max_calls=max_calls,
            timeout=timeout,
            memory_mb=memory_mb,
            call_cost=call_cost,
            max_output=max_output,
            repeat_prompt=repeat_prompt,
            announce=announce,
        )
        gym.Wrapper.__init__(self, env)
        game = env.unwrapped
        if not isinstance(game, LanguageGame):
            raise InvalidArgument(
                f"PythonTool wraps a langgames game, got {type(game).__name__}; "
                "e.g. PythonTool(make_game('langgames/BaseConvert-v0'))"
            )
        for name, value in (
            ("max_calls_per_turn", max_calls_per_turn),
            ("max_calls", max_calls),
            ("memory_mb", memory_mb),
            ("max_output", max_output),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidArgument(f"{name} must be an int >= 0 (got {value!r})")
        if memory_mb < 16 or max_output < 1:
            raise InvalidArgument(
                f"memory_mb must be >= 16 and max_output >= 1 (got {memory_mb}, {max_output})"
            )
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or not (0 < timeout <= 600)
        ):
            raise InvalidArgument(f"timeout must be seconds in (0, 600] (got {timeout!r})")
        if (
            isinstance(call_cost, bool)
            or not isinstance(call_cost, (int, float))
            or not (call_cost >= 0)
        ):
            raise InvalidArgument(
                f"call_cost must be a number >= 0, charged per call (got {call_cost!r})"
            )
        self.game: LanguageGame = game
        for path in _exposed_paths(getattr(game, "init_kwargs", {})):
            warnings.warn(
                f"{path!r}, an argument of {game.game_info.id}, is readable by every user, so "
                "a tool call can read it (the sandbox sees the file system read-only as an "
                f"unprivileged user). If it holds answers, run `chmod 600 {path}`.",
                ToolExposureWarning,
                stacklevel=2,
            )
        self.max_calls_per_turn = max_calls_per_turn
        self.max_calls = max_calls
        self.timeout = float(timeout)
        self.memory_mb = memory_mb
        self.call_cost = float(call_cost)
        self.max_output = max_output
        self.repeat_prompt = bool(repeat_prompt)
        self.announce = bool(announce)
        self._told: set[str] = set()
        self._sandbox = sandbox
        self._own_sandbox = sandbox is None
        self._calls: dict[str, int] = {}
        self._turn_calls: dict[str, int] = {}
        self._refused: dict[str, int] = {}
        self._last_obs = ""
        self._last_info: dict[str, Any] = {}

    # ------------------------------------------------------------------ forwarded game API
    @property
    def game_info(self) -> Any:
        return self.game.game_info

    @property
    def max_turns(self) -> int:
        """Bound on the number of *steps* (scored moves, forfeits and executed tool calls)."""
        return self.game.max_turns + self.max_calls * max(1, len(self.game.learner_roles))

    @property
    def learner_roles(self) -> tuple[str, ...]:
        return self.game.learner_roles

    @property
    def optimal_roles(self) -> tuple[str, ...]:
        return self.game.optimal_roles

    @property
    def role(self) -> str | None:
        return self.game.role

    @property
    def difficulty(self) -> int:
        return self.game.difficulty

    @property
    def instance_seed(self) -> int | None:
        return self.game.instance_seed

    @property
    def init_kwargs(self) -> dict[str, Any]:
        return self.game.init_kwargs

    def max_return(self, role: str) -> float:
        return self.game.max_return(role)

    def reference_action(self) -> str:
        return self.game.reference_action()

    def candidate_actions(self) -> list[str] | None:
        return self.game.candidate_actions()

    def render(self) -> Any:
        return self.game.render()

    @property
    def tool_help(self) -> str:
        """One paragraph telling a player how to call the tool (prepend it to a system prompt)."""
        return _HELP.format(
            open=TOOL_OPEN,
            close=TOOL_CLOSE,
            timeout=self.timeout,
            per_turn=self.max_calls_per_turn,
            total=self.max_calls,
        )

    # ------------------------------------------------------------------ sandbox
    @property
    def sandbox(self) -> Any:
        """The sandbox tool calls run in (started on the first call)."""
        if self._sandbox is None:
            from langgames.verifiers.python import PythonSandbox

            self._sandbox = PythonSandbox(
                workers=1,
                timeout=self.timeout,
                memory_mb=self.memory_mb,
                max_output=max(4096, self.max_output * 4),
            )
        return self._sandbox

    def close(self) -> None:
        if self._own_sandbox and self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None
        super().close()

    # ------------------------------------------------------------------ episode
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        roles = self.game.game_info.roles
        self._calls = dict.fromkeys(roles, 0)
        self._turn_calls = dict.fromkeys(roles, 0)
        self._refused = dict.fromkeys(roles, 0)
        self._last_obs = obs
        self._last_info = info
        self._told = set()
        return self._tell(obs, info), self._annotate(info)

    def step(self, action: str) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        if not self._calls:
            self.game._require_running("step")
        role = self.game.role
        text = action if isinstance(action, str) else None
        code = None if text is None else parse_tool_call(text)
        malformed = text is not None and code is None and TOOL_OPEN in text
        if role is None or (code is None and not malformed):
            return self._move(action, role)
        refusal = self._refusal(role, malformed)
        if refusal is not None:
            return self._forfeit(role, refusal)
        assert code is not None
        self._calls[role] += 1
        self._turn_calls[role] += 1
        status, output, duration = self._run(code)
        return self._tool_step(role, code, status, output, duration, refused=False)

    # ------------------------------------------------------------------ internals
    def _move(
        self, action: str, role: str | None
    ) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        if role is not None:
            self._turn_calls[role] = 0
        self._last_obs, self._last_info = obs, info
        if not (terminated or truncated):
            obs = self._tell(obs, info)
        return obs, reward, terminated, truncated, self._annotate(info)

    def _tell(self, obs: str, info: Mapping[str, Any]) -> str:
        """Prepend the tool's help to the first observation of each role, if ``announce``."""
        role = info.get("role")
        if not self.announce or role is None or role in self._told:
            return obs
        self._told.add(role)
        return clean_text(f"{self.tool_help}\n\n{obs}")

    def _refusal(self, role: str, malformed: bool) -> str | None:
        if malformed:
            return f"malformed tool call: {TOOL_OPEN} was opened but never closed with {TOOL_CLOSE}"
        if self._calls[role] >= self.max_calls:
            return f"tool budget exhausted: {self.max_calls} calls per episode already used"
        if self._turn_calls[role] >= self.max_calls_per_turn:
            return (
                f"tool budget exhausted for this turn: {self.max_calls_per_turn} calls before a "
                "move already used"
            )
        return None

    def _forfeit(
        self, role: str, reason: str
    ) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        """A refused call: not run, and the role forfeits a move (the game gets an empty reply)."""
        self._refused[role] += 1
        obs, reward, terminated, truncated, info = self._move("", role)
        reward = float(reward) - self.call_cost
        if self.call_cost:
            rewards = dict(info["rewards"])
            rewards[role] = rewards.get(role, 0.0) - self.call_cost
            info["rewards"] = rewards
        block = self._result_block(
            "refused",
            _escape(
                reason + ". It was not run and counts as a forfeited move; reply with your answer."
            ),
            role,
        )
        info["tool"] = {
            "call": None,
            "output": reason,
            "status": "refused",
            "refused": True,
            "result_text": block,
        }
        return clean_text(f"{block}\n\n{obs}"), reward, terminated, truncated, info

    def _run(self, code: str) -> tuple[str, str, float]:
        from langgames.verifiers.python import RunStatus

        try:
            result = self.sandbox.run(code, timeout=self.timeout, policy=None)
        except Exception as err:  # the sandbox itself failed: a tool error, never a crash
            return (
                "verifier_error",
                f"the Python tool is unavailable: {type(err).__name__}: {err}",
                0.0,
            )
        out = result.stdout + result.stderr
        status = result.status
        if status is RunStatus.TIMEOUT:
            out += f"\n[tool error: timeout: the call was stopped after {self.timeout:g} s]"
        elif status is RunStatus.RESOURCE_LIMIT:
            out += f"\n[tool error: resource_limit: {result.error} (memory {self.memory_mb} MiB)]"
        elif status is RunStatus.FORBIDDEN:
            out += f"\n[tool error: forbidden: {result.error}]"
        elif status is RunStatus.VERIFIER_ERROR:
            out += f"\n[tool error: the sandbox failed: {result.error}]"
        elif status is RunStatus.ERROR and not result.stderr:
            out += f"\n[tool error: {result.error}]"
        if len(out) > self.max_output:
            out = out[: self.max_output] + f"\n[... output clipped to {self.max_output} characters]"
        return status.value, clean_text(out), float(result.duration)

    def _result_block(self, status: str, body: str, role: str) -> str:
        left = max(0, min(self.max_calls_per_turn - self._turn_calls[role],
                          self.max_calls - self._calls[role]))  # fmt: skip
        return (
            f'<tool_result status="{status}" call="{self._calls[role]}/{self.max_calls}" '
            f'calls_left_this_turn="{left}">\n{body}\n</tool_result>'
        )

    def _tool_step(
        self, role: str, code: str, status: str, output: str, duration: float, *, refused: bool
    ) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        block = self._result_block(status, _escape(output).rstrip("\n") or "(no output)", role)
        obs = f"{block}\n\n{self._last_obs}" if self.repeat_prompt else block
        reward = -self.call_cost if self.call_cost else 0.0
        verdict = Verdict.make_accepted(
            "a tool call: not a move, never scored", tool_status=status, duration=duration
        )
        base = self._last_info
        info: dict[str, Any] = {
            "role": role,
            "actor": role,
            "rewards": {role: reward},
            "verdict": verdict.to_dict(),
            "turn": base.get("turn", 0),
            "seed": base.get("seed"),
            "difficulty": base.get("difficulty"),
        }
        if "candidate_actions" in base:
            info["candidate_actions"] = base["candidate_actions"]
        info["tool"] = {
            "call": code,
            "output": output,
            "status": status,
            "refused": refused,
            "result_text": block,
        }
        return clean_text(obs), reward, False, False, self._annotate(info)

    def _annotate(self, info: dict[str, Any]) -> dict[str, Any]:
        info = dict(info)
        role = info.get("role")
        info["tool_budget"] = {
            "role": role,
            "calls_this_turn": self._turn_calls.get(role, 0) if role else 0,
            "calls_total": self._calls.get(role, 0) if role else 0,
            "max_per_turn": self.max_calls_per_turn,
            "max_total": self.max_calls,
            "refused_total": sum(self._refused.values()),
        }
        info["tool_calls"] = dict(self._calls)
        return info
