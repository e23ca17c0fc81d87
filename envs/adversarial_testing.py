"""BugHunt: a coder implements a specification, a tester hunts for inputs where it is wrong."""

from __future__ import annotations

import ast
import copy
import dataclasses
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from langgames.core import GameInfo, LanguageGame, Move, Opponent, ParseError, reference_opponent
from langgames.envs._parsing import extract_code, last_line
from langgames.envs.write_function import Stage, build_spec
from langgames.errors import InvalidArgument
from langgames.verifiers.python import RunStatus, default_sandbox, values_equal
from langgames.verifiers.verdict import Status, Verdict

__all__ = ["GENERIC_INPUTS", "BugHunt", "BuggyCoder"]

#: The input domain, stated to both roles and enforced on the tester's inputs in the host.
MAX_LENGTH = 12
MAX_ABS = 30
#: How many inputs the tester may propose in one move.
MAX_INPUTS = 8

_N_HIDDEN = 16
_N_SHOWN = 3
_N_RANDOM_PROBES = 48  # random inputs in the reference tester's search pool (besides edge cases)
_N_MUTANTS = 24  # mutants BuggyCoder tries (in one sandbox call) before its fallback bug
#: Fresh random inputs a natural mutant is tried on; it is planted only if at most
#: `_MAX_RANDOM_EXPOSED` of them expose it (a bug most inputs expose needs no reading to find).
_N_RANDOM_CHECKS = 128
_MAX_RANDOM_EXPOSED = 2
_MAX_INPUT_LINE = 2_000
_PENALTY = -0.1
# Lengths 0..MAX_LENGTH: the empty and one-element lists rarer than the others.
_LENGTH_P = np.array([1.0, 2.0] + [4.0] * (MAX_LENGTH - 1)) / (3.0 + 4.0 * (MAX_LENGTH - 1))
# The function's name varies by instance, so one memorised program cannot answer many of them.
_NAMES = (
    "solve",
    "transform",
    "compute",
    "process",
    "evaluate",
    "apply_rules",
    "run_pipeline",
    "calc",
    "answer",
    "digest",
    "crunch",
    "handle",
    "derive",
    "reduce_list",
    "f",
    "g",
)
_INPUTS_LINE = re.compile(r"(?i)^(?:inputs?\s*[:=]\s*)?(?P<list>\[.*\])$")
_INPUTS_START = re.compile(r"(?i)^\W{0,3}inputs?\s*[:=]")
_LITERAL_CHARS = re.compile(r"[\[\]0-9,\s+-]*")


def _int(rng: np.random.Generator, low: int, high: int) -> int:
    return int(rng.integers(low, high, endpoint=True))


def _random_input(rng: np.random.Generator) -> list[int]:
    """A random list inside the domain: mostly short, with small or wide values."""
    n = int(rng.choice(MAX_LENGTH + 1, p=_LENGTH_P))
    spread = int(rng.choice([3, 9, 20, MAX_ABS]))
    return [_int(rng, -spread, spread) for _ in range(n)]


def _edge_inputs(rng: np.random.Generator) -> list[list[int]]:
    """Boundary inputs for the reference tester's search: empty, single, extreme, repeated."""
    v = _int(rng, -9, 9)
    return [
        [],
        [0],
        [1],
        [-1],
        [MAX_ABS],
        [-MAX_ABS],
        [v, v],
        [1, 2],
        [2, 1],
        [v] * MAX_LENGTH,
        [MAX_ABS] * MAX_LENGTH,
        [-MAX_ABS] * MAX_LENGTH,
        list(range(-MAX_LENGTH // 2, MAX_LENGTH - MAX_LENGTH // 2)),
        list(range(MAX_LENGTH, 0, -1)),
        [(-1) ** i * i for i in range(MAX_LENGTH)],
    ]


def _generic_inputs() -> list[list[int]]:
    """Inputs any tester could send without reading the program (see `GENERIC_INPUTS`)."""
    out: list[list[int]] = [[]]
    out += [[v] for v in range(-MAX_ABS, MAX_ABS + 1)]
    for v in (0, 1, -1, 2, -2, MAX_ABS, -MAX_ABS):
        out += [[v] * n for n in (2, 3, 5, MAX_LENGTH)]
    out += [[1, 2], [2, 1], [0, 1], [1, 0], [-1, 1], [1, -1], [1, 2, 3], [3, 2, 1]]
    out += [list(range(n)) for n in range(2, MAX_LENGTH + 1)]
    out += [list(range(n, 0, -1)) for n in range(2, MAX_LENGTH + 1)]
    out += [list(range(-MAX_LENGTH // 2, MAX_LENGTH - MAX_LENGTH // 2))]
    out += [[(-1) ** i * i for i in range(MAX_LENGTH)], [(-1) ** i for i in range(MAX_LENGTH)]]
    out += [[MAX_ABS, -MAX_ABS] * (MAX_LENGTH // 2), [-MAX_ABS, MAX_ABS] * (MAX_LENGTH // 2)]
    out += [list(range(-MAX_ABS, MAX_ABS + 1, 5))[:MAX_LENGTH]]
    return list({tuple(xs): xs for xs in out}.values())


#: Generic inputs, the same for every instance: empty, every one-element list, constant,
#: counting and alternating lists, extremes. A planted bug (`BugHunt.planted_bug`) is never
#: exposed by any of them, so a fixed reply of generic inputs does not solve the tester's task.
GENERIC_INPUTS: tuple[tuple[int, ...], ...] = tuple(tuple(xs) for xs in _generic_inputs())


def _run_spec(stages: list[Stage], xs: list[int]) -> Any:
    value: Any = list(xs)
    for stage in stages:
        value = stage.apply(value)
    return value


def parse_inputs(action: str) -> list[list[int]]:
    """Read and validate a tester's move; raise `ParseError` saying how to fix it.

    Validation happens here, in the host, before anything runs: one line
    ``inputs: [[...], ...]`` of integers, commas and brackets only, nested two deep, read by
    ``ast.literal_eval`` (never ``eval``); then 1 to `MAX_INPUTS` inputs, each a list of at most
    `MAX_LENGTH` integers between ``-MAX_ABS`` and `MAX_ABS`.

    >>> parse_inputs("I try the empty list.\\ninputs: [[], [3, -1]]")
    [[], [3, -1]]
    """
    line = last_line(action, what="your inputs")
    n_lines = sum(_INPUTS_START.match(s.lstrip()[:40]) is not None for s in action.splitlines())
    if n_lines > 1:
        raise ParseError(
            f"the reply has {n_lines} lines starting with `inputs:`; write exactly one, as the "
            "last line, holding all your inputs in one list"
        )
    shown = line if len(line) <= 60 else line[:60] + "..."
    if len(line) > _MAX_INPUT_LINE:
        raise ParseError(
            f"the inputs line is {len(line):,} characters; the limit is {_MAX_INPUT_LINE:,}"
        )
    match = _INPUTS_LINE.match(line)
    if match is None:
        raise ParseError(
            f"expected `inputs:` and a list of lists of integers on the last line, got {shown!r}"
        )
    text = match["list"]
    if not _LITERAL_CHARS.fullmatch(text):
        raise ParseError(
            "the inputs may contain only integers, commas and square brackets (no tuples, "
            f"strings or names), got {shown!r}"
        )
    depth = deepest = 0
    for char in text:
        depth += (char == "[") - (char == "]")
        deepest = max(deepest, depth)
    if deepest > 2:
        raise ParseError("the inputs nest deeper than a list of lists of integers")
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise ParseError(
            f"the inputs are not a valid Python list literal, got {shown!r}; write e.g. "
            "`inputs: [[3, -1, 4], []]`"
        ) from None
    if type(value) is not list or not value:
        raise ParseError("expected a non-empty list of inputs, e.g. `inputs: [[3, -1, 4], []]`")
    if len(value) > MAX_INPUTS:
        raise ParseError(f"at most {MAX_INPUTS} inputs per move (got {len(value)})")
    for i, xs in enumerate(value, 1):
        if type(xs) is not list:
            raise ParseError(
                f"input {i} must be a list of integers (one input is one list xs), got {xs!r}"
            )
        if len(xs) > MAX_LENGTH:
            raise ParseError(
                f"input {i} has {len(xs)} elements; the domain allows at most {MAX_LENGTH}"
            )
        for x in xs:
            if type(x) is not int:
                raise ParseError(f"input {i} contains {x!r}, which is not an integer")
            if not -MAX_ABS <= x <= MAX_ABS:
                raise ParseError(
                    f"input {i} contains {x}; the domain allows integers from {-MAX_ABS} to "
                    f"{MAX_ABS}"
                )
    return value


# --------------------------------------------------------------------------------- bug planting
_COMPARE_SWAP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
}
_BINOP_SWAP: dict[type[ast.operator], type[ast.operator]] = {ast.Add: ast.Sub, ast.Sub: ast.Add}


def _mutation_sites(tree: ast.AST) -> list[tuple[int, str, int]]:
    """Where one small change can be made: ``(node index in ast.walk order, kind, argument)``."""
    sites: list[tuple[int, str, int]] = []
    for index, node in enumerate(ast.walk(tree)):
        if isinstance(node, ast.Constant) and type(node.value) is int:
            sites += [(index, "constant", 1), (index, "constant", -1)]
        elif isinstance(node, ast.Compare):
            sites += [
                (index, "compare", j) for j, op in enumerate(node.ops) if type(op) in _COMPARE_SWAP
            ]
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAP:
            sites.append((index, "operator", 0))
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in ("max", "min"):
                sites.append((index, "min_max", 0))
            sites += [
                (index, "drop_first", j)
                for j, arg in enumerate(node.args)
                if isinstance(arg, ast.Name) and arg.id == "xs"
            ]
    return sites


def _mutate(tree: ast.Module, site: tuple[int, str, int]) -> ast.Module:
    """A copy of ``tree`` with the change at ``site`` (our own reference code, never model text)."""
    mutant = copy.deepcopy(tree)
    index, kind, arg = site
    node: Any = next(n for i, n in enumerate(ast.walk(mutant)) if i == index)
    if kind == "constant":
        node.value += arg
    elif kind == "compare":
        node.ops[arg] = _COMPARE_SWAP[type(node.ops[arg])]()
    elif kind == "operator":
        node.op = _BINOP_SWAP[type(node.op)]()
    elif kind == "min_max":
        node.func.id = "min" if node.func.id == "max" else "max"
    else:  # drop_first: f(xs) becomes f(xs[1:])
        node.args[arg] = ast.Subscript(
            value=ast.Name("xs", ast.Load()),
            slice=ast.Slice(lower=ast.Constant(1)),
            ctx=ast.Load(),
        )
    return ast.fix_missing_locations(mutant)


def _renamed(source: str, name: str, old: str | None = None) -> str:
    """``source`` with its function ``old`` (default: every function) named ``name``."""
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and old in (None, node.name):
            node.name = name
    return ast.unparse(tree)


class BugHunt(LanguageGame):
    """A coder implements a specification; a tester hunts for inputs where the code is wrong.

    ## Description
    The game generates a specification for a function of one list of integers ``xs`` (a
    pipeline of steps from `langgames.envs.write_function`'s catalogue, with random parameters,
    and a function name drawn per instance) and its input domain: lists of at most 12 integers,
    each between -30 and 30. The **coder** writes the function; the host runs it in the Python
    sandbox on 16 hidden inputs and compares the results strictly with outputs it computed
    itself. The **tester** then reads the specification and the coder's program and proposes
    inputs on which it claims the program is wrong. The host validates them (type, count, size,
    domain) before anything runs, runs the program on them in the sandbox (``call``), computes
    the specification's outputs itself and compares strictly (type and value). A *discrepancy* is
    an input of the domain where the program returns another value, raises, or does not return
    in time. Nothing model-written runs in the host.

    ## Roles
    ``coder`` acts first, then ``tester``. Use ``opponents=`` to train one role against a fixed
    policy: `BuggyCoder` (the reference program with one planted bug, verified to be
    observable, and specific to the instance: no input of `GENERIC_INPUTS` exposes it, so a
    constant reply of generic edge cases earns nothing) trains a tester;
    ``langgames.policies.reference`` as the tester trains a coder. `BugHunt.fixed_opponents`
    lists these set-ups; the exploit battery plays each of them besides self-play.

    ## Observation
    Coder: the specification, the domain, three examples, the rules and the answer format.
    Tester: the same specification, domain and examples, the coder's program, the rules and
    the answer format. The hidden inputs are never shown to either role.

    ## Action
    Coder: Python source defining the named function, in a fenced block (the last
    ```` ```python ```` block is used; at most 20,000 characters). Tester: one line, the last of
    the reply, ``inputs: [[3, -1, 4], []]``: a list of 1 to 8 inputs, each a list of integers
    of the domain. Only integers, commas and brackets are read (``ast.literal_eval`` on at most
    2,000 characters); a reply with several ``inputs:`` lines is ambiguous. An unreadable,
    malformed or out-of-domain move costs -0.1 and the same role tries again.

    ## Reward
    Tester: 1.0 if at least one of its inputs exposes a discrepancy, else 0.0; -0.1 per
    unreadable or out-of-domain move. Coder: 1.0 if its program passes every hidden test *and*
    the tester exposes no discrepancy, else 0.0, assigned at the tester's move (in
    ``info["rewards"]``); -0.1 per unreadable reply, and -0.1 if its program times out, exceeds
    a limit or is refused by the sandbox on the hidden tests. If the tester never gives a readable
    move, the coder is judged on the hidden tests alone. At most one of the two earns 1.0 in an
    episode, so nothing is gained by colluding; train each role on its own return. ``max_return``
    is 1.0 for the coder and, for the tester, 0.0 in self-play (a correct program leaves nothing
    to find) and 1.0 when the coder is a fixed opponent (reached by the reference tester against
    `BuggyCoder`).

    ## Episode end
    Terminates after the tester's first readable move; truncates after ``max_turns`` moves
    (default 6), which only unreadable moves can use up.

    ## Arguments
    ``difficulty``: 1 (one transform or one reducer), 2 (a transform then a reducer), 3 (two
    transforms then a reducer). ``opponents``: fixed policies for some roles (see Roles).
    ``max_turns``: move limit (default 6).

    ## Version History
    * v0: initial version. Later, without changing the game: `BuggyCoder` plants bugs that no
      generic input exposes (a constant reply of eight edge cases used to earn 1.0 against it).

    >>> env = BugHunt(opponents={"coder": BuggyCoder()})
    >>> obs, info = env.reset(seed=0)
    >>> info["role"]
    'tester'
    >>> obs, reward, terminated, truncated, info = env.step(env.reference_action())
    >>> reward, info["verdict"]["status"]
    (1.0, 'correct')
    """

    answer_marker = {"coder": "code", "tester": "line:inputs"}
    game_info = GameInfo(
        name="BugHunt",
        version=0,
        roles=("coder", "tester"),
        verifiers=("python",),
        answer_format=(
            "coder: Python code defining the named function in a fenced block "
            "(```python\\ndef name(xs):\\n    ...\\n```); tester: one last line "
            "`inputs: [[3, -1, 4], []]` with 1 to 8 inputs, each a list of at most 12 integers "
            "from -30 to 30"
        ),
        reward_range=(_PENALTY, 1.0),
        max_turns=6,
        max_return=1.0,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("code", "testing", "adversarial", "multi-role", "self-play", "sandbox"),
        reference_roles=("coder",),
    )

    @property
    def optimal_roles(self) -> tuple[str, ...]:
        # Against BuggyCoder the tester is the role the reference is guaranteed to max out (its
        # bug is verified on the reference tester's search pool); the coder's program is fixed.
        if isinstance(self._opponents.get("coder"), BuggyCoder):
            return ("tester",)
        return super().optimal_roles

    def max_return(self, role: str) -> float:
        if role == "tester":
            return 1.0 if "coder" in self._opponents else 0.0
        return 1.0

    @classmethod
    def fixed_opponents(cls) -> dict[str, dict[str, Opponent]]:
        """The documented fixed-opponent set-ups, by name (`langgames.testing.opponent_setups`
        plays each in the exploit battery and the question-blind scan, besides self-play)."""
        return {
            "BuggyCoder": {"coder": BuggyCoder()},
            "BuggyCoder(subtle)": {"coder": BuggyCoder(subtle=True)},
            "reference tester": {"tester": reference_opponent},
        }

    # ------------------------------------------------------------------ instance
    def _setup(self) -> str:
        rng = self.np_random
        self._stages = build_spec(rng, self.difficulty)
        self._name = _NAMES[int(rng.integers(len(_NAMES)))]
        inputs: list[list[int]] = [[], [_int(rng, -9, 9)]]
        seen = {tuple(xs) for xs in inputs}
        while len(inputs) < _N_HIDDEN + _N_SHOWN:
            xs = _random_input(rng)
            if tuple(xs) not in seen:
                seen.add(tuple(xs))
                inputs.append(xs)
        inputs = [inputs[int(i)] for i in rng.permutation(len(inputs))]
        cases = [((xs,), _run_spec(self._stages, xs)) for xs in inputs]
        self._shown, self._hidden = cases[:_N_SHOWN], cases[_N_SHOWN:]
        probes = [
            *inputs,
            *_edge_inputs(rng),
            *(_random_input(rng) for _ in range(_N_RANDOM_PROBES)),
        ]
        # The reference tester's search pool (BuggyCoder verifies its bug on the same pool).
        self._probes = list({tuple(xs): xs for xs in probes}.values())
        self._probe_outputs = [_run_spec(self._stages, xs) for xs in self._probes]
        self._tester_candidates = [f"inputs: {[_random_input(rng)]!r}" for _ in range(6)]
        self._program: str | None = None
        self._hidden_passed = False
        self._cache: dict[Any, str] = {}
        return "coder"

    @property
    def function_name(self) -> str:
        """The name of the function the coder must define in this episode."""
        return self._name

    @property
    def program(self) -> str | None:
        """The coder's program once it has been read (``None`` before)."""
        return self._program

    # ------------------------------------------------------------------ text
    def _spec_text(self) -> str:
        returns = "int" if self._stages[-1].reduces else "list[int]"
        steps = "\n".join(f"  {i}. {s.text}" for i, s in enumerate(self._stages, 1))
        examples = "\n".join(f"  {self._name}({args[0]!r}) == {out!r}" for args, out in self._shown)
        return (
            f"`{self._name}(xs: list[int]) -> {returns}`. Starting from the list xs, it must:\n"
            f"{steps}\n"
            + ("  and return the resulting list.\n" if returns == "list[int]" else "")
            + f"Inputs: xs is a list of at most {MAX_LENGTH} integers, each from {-MAX_ABS} to "
            f"{MAX_ABS}.\nExamples:\n{examples}"
        )

    def _prompt(self, role: str) -> str:
        if role == "coder":
            return (
                f"You are the coder in BugHunt. Write a Python function {self._spec_text()}\n"
                "Your function runs in a sandbox (standard library only, a few seconds at most) "
                "on hidden inputs. Then a tester reads your code and tries to find an input of "
                "the domain on which it returns anything other than the specified output. You "
                "score 1.0 if every hidden test passes and the tester finds no such input, "
                "else 0.\n"
                "Reply with the code in a fenced block:\n"
                f"```python\ndef {self._name}(xs):\n    ...\n```"
            )
        program = (self._program or "").strip("\n")
        fence = "````" if "```" in program else "```"  # keep the program inside its block
        return (
            f"You are the tester in BugHunt. A coder was asked to write {self._spec_text()}\n"
            f"The coder's program:\n{fence}python\n{program}\n{fence}\n"
            "Find inputs of the domain on which this program does not return exactly the "
            "specified output (a wrong value or type, an exception, or no answer within a few "
            "seconds). The game runs the program on your inputs in a sandbox and computes the "
            "specified outputs itself. You score 1.0 if at least one of your inputs exposes a "
            "difference, 0.0 if the program is right on all of them.\n"
            f"Reply with 1 to {MAX_INPUTS} inputs as one Python list of lists of integers on the "
            "last line of your reply, e.g. `inputs: [[3, -1, 4], []]`."
        )

    # ------------------------------------------------------------------ moves
    def _play(self, role: str, action: str) -> Move:
        if role == "coder":
            return self._play_coder(action)
        return self._play_tester(action)

    def _coder_final(self, discrepancy: bool) -> float:
        return 1.0 if self._hidden_passed and not discrepancy else 0.0

    def _play_coder(self, action: str) -> Move:
        code = extract_code(action, self._name)
        verdict = default_sandbox().check(code, self._name, self._hidden)
        if verdict.status is Status.VERIFIER_ERROR:
            return Move(verdict, {"coder": 0.0}, next_role=None)
        self._program = code
        self._hidden_passed = verdict.correct
        rewards = {"coder": _PENALTY if verdict.failed else 0.0}
        if self._turn >= self.max_turns:  # no move left for the tester: hidden tests alone
            rewards["coder"] += self._coder_final(False)
        if verdict.failed:
            move_verdict = verdict
        else:
            move_verdict = Verdict.make_accepted(
                "program received; it has run on the hidden tests and now faces the tester"
            )
        return Move(move_verdict, rewards, next_role="tester")

    def _play_tester(self, action: str) -> Move:
        inputs = parse_inputs(action)  # validated in the host before anything runs
        assert self._program is not None
        results = default_sandbox().call(self._program, self._name, [(xs,) for xs in inputs])
        if any(r.status is RunStatus.VERIFIER_ERROR for r in results):
            verdict = Verdict.make_verifier_error(
                "the sandbox failed while running the program on the tester's inputs",
                errors=[r.error for r in results if r.error][:3],
            )
            return Move(verdict, {"tester": 0.0, "coder": 0.0}, next_role=None)
        found = []
        for xs, result in zip(inputs, results, strict=True):
            expected = _run_spec(self._stages, xs)
            if result.ok and values_equal(result.value, expected):
                continue
            got = (
                f"returned {_clip(repr(result.value))}"
                if result.ok
                else f"failed ({result.status.value}: {_clip(result.error or '')})"
            )
            found.append(
                {"input": _clip(repr(xs)), "program": got, "expected": _clip(repr(expected))}
            )
        details: dict[str, Any] = {
            "inputs": len(inputs),
            "discrepancies": found,
            "hidden_passed": self._hidden_passed,
        }
        if found:
            first = found[0]
            verdict = Verdict.make_correct(
                f"on {first['input']} the program {first['program']}, the specification gives "
                f"{first['expected']} ({len(found)} of {len(inputs)} inputs expose a difference)",
                **details,
            )
        else:
            verdict = Verdict.make_incorrect(
                f"the program returns the specified output on all {len(inputs)} inputs",
                **details,
            )
        coder = self._coder_final(bool(found))
        return Move(
            verdict,
            {"tester": 1.0 if found else 0.0, "coder": coder},
            next_role=None,
            feedback=f"{verdict.reason}. The coder's program "
            + ("passed" if self._hidden_passed else "did not pass")
            + " the hidden tests.",
        )

    def _on_unparseable(self, role: str, verdict: Verdict) -> Move:
        move = super()._on_unparseable(role, verdict)
        if role == "tester" and self._turn >= self.max_turns and self._program is not None:
            # The tester's last chance was unreadable: the coder is judged on the hidden tests.
            rewards = {**move.rewards, "coder": self._coder_final(False)}
            return dataclasses.replace(move, rewards=rewards)
        return move

    # ------------------------------------------------------------------ policies
    def _reference_program(self) -> str:
        body = [line for stage in self._stages for line in stage.code]
        body.append("return result" if self._stages[-1].reduces else "return xs")
        lines = "\n".join("    " + line for line in body)
        return f"def {self._name}(xs):\n{lines}\n"

    def _reference(self, role: str) -> str:
        if role == "coder":
            return f"```python\n{self._reference_program()}```"
        return self._reference_tester()

    def _reference_tester(self) -> str:
        """Run the coder's program on the search pool in the sandbox; submit the shortest input
        that exposes a difference (or, if none does, the shown examples' inputs)."""
        assert self._program is not None
        key = ("tester", self._program)
        if key not in self._cache:
            results = default_sandbox().call(
                self._program, self._name, [(xs,) for xs in self._probes]
            )
            differing = [
                xs
                for xs, want, r in zip(self._probes, self._probe_outputs, results, strict=True)
                if r.status is not RunStatus.VERIFIER_ERROR
                and not (r.ok and values_equal(r.value, want))
            ]
            if differing:
                chosen = [min(differing, key=len)]
            else:
                chosen = [list(args[0]) for args, _ in self._shown]
            self._cache[key] = f"inputs: {chosen!r}"
        return self._cache[key]

    def _candidates(self, role: str) -> list[str] | None:
        """For the tester, six random inputs of the domain (one per move); none for the coder."""
        return list(self._tester_candidates) if role == "tester" else None

    def planted_bug(self, seed: int = 0, *, subtle: bool = False) -> str:
        """A coder's reply: the reference program with one bug planted (used by `BuggyCoder`).

        The bug is specific to the instance: no input of `GENERIC_INPUTS` (empty, one-element,
        constant, counting, alternating and extreme lists) nor any of the shown examples exposes
        it, so a fixed reply of generic inputs, or the examples sent back, finds nothing; the
        tester has to read the program. Candidates are mutants of the reference (a constant off
        by one, a comparison or ``+``/``-`` flipped, ``max``/``min`` swapped, a call given
        ``xs[1:]``) in random order, kept only if they differ from the specification on some
        input of the reference tester's search pool, on no generic input, and on at most
        `_MAX_RANDOM_EXPOSED` of `_N_RANDOM_CHECKS` fresh random inputs; and a special case that
        changes the output only on inputs of one length holding one value at one position, both
        taken from a random input of the search pool (with ``subtle=True``: two values at two
        positions). All are judged by running them in the sandbox. The first kept mutant is
        returned, else the special case (with ``subtle=True``: whichever the fewest inputs of the
        pool expose). Nearly every natural mutant is exposed by some generic input, so in practice
        the bug is the special case: a tester earns its reward by reading the program. An
        oracle: it reads the hidden instance.
        """
        key = ("bug", seed, subtle)
        if key in self._cache:
            return self._cache[key]
        rng = np.random.default_rng([seed, self._instance_seed or 0])
        source = self._reference_program()
        tree = ast.parse(source)
        original = ast.unparse(tree)
        sites = _mutation_sites(tree)
        mutants: list[str] = []
        for i in rng.permutation(len(sites)):
            text = ast.unparse(_mutate(tree, sites[int(i)]))
            if text not in mutants and text != original:
                mutants.append(text)
            if len(mutants) == _N_MUTANTS:
                break
        mutants.append(self._fallback_bug(source, rng, positions=2 if subtle else 1))
        shown = [list(args[0]) for args, _ in self._shown]
        generic = [list(xs) for xs in GENERIC_INPUTS] + shown
        fresh = [_random_input(rng) for _ in range(_N_RANDOM_CHECKS)]
        checks = [*self._probes, *generic, *fresh]
        wanted = [*self._probe_outputs, *(_run_spec(self._stages, xs) for xs in generic + fresh)]
        n, g = len(self._probes), len(generic)
        rows = self._run_mutants(mutants, checks)
        kept = []  # (how many pool inputs expose it, mutant), in the random order
        for i, (mutant, row) in enumerate(zip(mutants, rows, strict=True)):
            exposed = [
                (r.ok and not values_equal(r.value, want)) or r.status is not RunStatus.OK
                for r, want in zip(row, wanted, strict=True)
            ]
            in_pool, in_generic, in_fresh = (
                sum(exposed[:n]),
                sum(exposed[n : n + g]),
                sum(exposed[n + g :]),
            )
            limit = len(fresh) if i == len(mutants) - 1 else _MAX_RANDOM_EXPOSED
            if in_pool and not in_generic and in_fresh <= limit:
                kept.append((in_pool, mutant))
        if not kept:  # cannot happen (the special case always qualifies); stay loud if it does
            raise RuntimeError("BugHunt: no instance-specific bug could be planted")
        chosen = min(kept, key=lambda d: d[0])[1] if subtle else kept[0][1]
        reply = f"Here is my solution.\n```python\n{chosen}\n```"
        self._cache[key] = reply
        return reply

    def _run_mutants(self, mutants: list[str], checks: list[list[int]]) -> list[list[Any]]:
        """Each mutant's results on ``checks``: one sandbox call for all of them, then one call
        each for the mutants whose rows a limit cut short (a limit ends the shared process)."""
        program = "\n\n".join(
            _renamed(m, f"mutant_{i}", self._name).replace("spec_impl", f"spec_impl_{i}")
            for i, m in enumerate(mutants)
        )
        program += "\n\nMUTANTS = [" + ", ".join(f"mutant_{i}" for i in range(len(mutants)))
        program += "]\n\ndef probe(i, xs):\n    return MUTANTS[i](xs)\n"
        calls = [(i, xs) for i in range(len(mutants)) for xs in checks]
        results = default_sandbox().call(program, "probe", calls, timeout=20.0)
        rows = [results[i * len(checks) : (i + 1) * len(checks)] for i in range(len(mutants))]
        done = (RunStatus.OK, RunStatus.ERROR)
        for i, mutant in enumerate(mutants):
            if any(r.status not in done for r in rows[i]):
                rows[i] = default_sandbox().call(
                    mutant, self._name, [(xs,) for xs in checks], timeout=10.0
                )
        return rows

    def _fallback_bug(self, source: str, rng: np.random.Generator, positions: int = 1) -> str:
        """The reference with a special case: a different output on inputs of one length that hold
        given values at ``positions`` given positions, all taken from a random non-generic input
        of the search pool (so the reference tester's pool exposes it)."""
        generic = [*GENERIC_INPUTS, *(tuple(args[0]) for args, _ in self._shown)]
        pool = [xs for xs in self._probes if len(xs) >= 2 and tuple(xs) not in set(generic)]
        if not pool:  # pragma: no cover - the pool holds dozens of random inputs
            pool = [[_int(rng, -MAX_ABS, MAX_ABS) for _ in range(5)]]
        for _ in range(100):
            xs = pool[int(rng.integers(len(pool)))]
            where = sorted(int(j) for j in rng.permutation(len(xs))[:positions])
            pins = [(j, xs[j]) for j in where]
            hit = [ys for ys in generic if len(ys) == len(xs) and all(ys[j] == v for j, v in pins)]
            if not hit:
                break
        test = " and ".join([f"len(xs) == {len(xs)}", *(f"xs[{j}] == {v}" for j, v in pins)])
        change = "result + 1" if self._stages[-1].reduces else "result + [0]"
        return (
            f"{_renamed(source, 'spec_impl')}\n\n"
            f"def {self._name}(xs):\n"
            "    result = spec_impl(list(xs))\n"
            f"    if {test}:\n"
            f"        return {change}\n"
            "    return result\n"
        )


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class BuggyCoder:
    """A fixed coder for `BugHunt` that submits the reference program with one planted bug.

    The bug is verified to change the output on some input of the domain (see
    `BugHunt.planted_bug`), so a tester always has something to find: use it as
    ``BugHunt(opponents={"coder": BuggyCoder()})`` to train a tester. An oracle policy (it reads
    the hidden instance); deterministic for a given ``seed`` and episode. The bug is specific to
    the instance (see `BugHunt.planted_bug`): a fixed list of generic inputs finds it at a rate
    near zero. ``subtle=True`` plants the bug that the fewest inputs of the game's search pool
    expose, and a special case needs two values at two positions (a harder opponent).

    >>> env = BugHunt(opponents={"coder": BuggyCoder(seed=1)})
    >>> obs, info = env.reset(seed=4)
    >>> obs.startswith("You are the tester")
    True
    """

    def __init__(self, seed: int = 0, *, subtle: bool = False) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise InvalidArgument(f"BuggyCoder seed must be an int (got {seed!r})")
        self.seed = seed
        self.subtle = bool(subtle)

    def __call__(self, observation: str, info: Mapping[str, Any], game: LanguageGame) -> str:
        if not isinstance(game, BugHunt):
            raise InvalidArgument(
                f"BuggyCoder plays the coder of BugHunt, not of {type(game).__name__}; pass it "
                'as BugHunt(opponents={"coder": BuggyCoder()})'
            )
        return game.planted_bug(self.seed, subtle=self.subtle)

    def __repr__(self) -> str:
        return f"BuggyCoder(seed={self.seed}, subtle={self.subtle})"
