"""ScholarsCircle's validation pipeline: a proposal becomes a library candidate, or a reason.

Stages, in order (the first failure is the verdict; every failure costs the explorer the minimum):

1. *family*: the proposal is in the family the round asks for;
2. *shape*: argument kinds, example and test counts, distinct inputs; program size for the level;
3. *subset*: the program stays inside `CIRCLE_POLICY` (RestrictedPython via `SubsetPolicy`): only
   ``math, itertools, functools, collections, operator, string, bisect, heapq, re`` may be
   imported; no I/O (``open``, ``print``, ``input``), no ``random``/``time``, no ``id``/``hash``,
   no dunder access; the refusal names what was refused;
4. *termination*: in the Python sandbox, under the run-time subset (`runtime`: guarded
   attributes, allow-listed builtins and module proxies, a fresh namespace for every call), ``f``
   on its own inputs, on the 24 probe inputs of its kind and on `N_FRESH` inputs drawn fresh for
   this validation, all within `RUN_TIMEOUT` seconds and the sandbox's memory and output limits;
5. *determinism*: the same calls twice in one process and once more in each of two other
   processes give identical results, where the three processes use ``PYTHONHASHSEED`` values
   drawn for this validation from the episode's generator (`SeedPool`): no dependence on string
   hashing, object addresses or state the explorer could plan around;
6. *triviality*: ``f`` runs on at least half of the probes, is not constant, not the identity,
   and the task is not solved by a naive baseline (deduction: the output is not a blind guess such
   as the input, ``None``, a bool, 0, 1, ``""`` or ``[]``; abduction: fewer than a quarter of the
   probes reach the target and neither the target itself nor the naive inputs do; induction: the
   tests are not all equal and "look the example up, else answer the most common test output"
   fails; math: the answer is not 0, 1, a number written in the question or a copy of its text);
7. *novelty*: not a duplicate or near-duplicate of a library problem (`Library.duplicate_of`).

`run_trusted` runs the *starter* programs (our own source, never model text) in this process so
the starter library needs no sandbox; a test checks it agrees with the sandbox pipeline.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import functools
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from langgames.envs.scholars_circle.core import (
    MAX_LIST,
    MAX_STR,
    CodeFingerprint,
    Proposal,
    canon,
    code_fingerprint,
    fits,
    is_literal,
    kind_of,
    kind_parts,
    probes,
    reject,
    show_value,
    stable_hash,
)
from langgames.envs.scholars_circle.library import Entry, Library
from langgames.envs.scholars_circle.math_problems import check_math_question, read_math_answer
from langgames.envs.scholars_circle.runtime import ENTRY, harness, rewrite
from langgames.verifiers.verdict import Verdict

if TYPE_CHECKING:
    from langgames.verifiers.pysubset import SubsetPolicy
    from langgames.verifiers.python import PythonSandbox

__all__ = [
    "ALLOWED_IMPORTS",
    "LEVELS",
    "RUN_TIMEOUT",
    "Candidate",
    "LevelRules",
    "Validator",
    "circle_policy",
    "run_trusted",
]

#: Seconds one sandbox run (every call of f on its inputs and the probes) may take.
RUN_TIMEOUT = 3.0
#: Longest output, as a literal, that a problem may show or hide.
MAX_OUTPUT_CHARS = 300
#: Inputs of the program's kind drawn fresh for every validation (termination and determinism).
N_FRESH = 8
#: Hash-seeded sandboxes a validation runs in (the first runs every call twice).
N_SEEDS = 3
ALLOWED_IMPORTS = (
    "math",
    "itertools",
    "functools",
    "collections",
    "operator",
    "string",
    "bisect",
    "heapq",
    "re",
)
#: What a math program may import (exact arithmetic: SymPy is not available in the sandbox).
MATH_IMPORTS = (*ALLOWED_IMPORTS, "fractions")
_EXTRA_FORBIDDEN = ("print", "input", "hash", "id", "object", "type", "dir", "super", "random")
_NOT_PLAIN = "the return value is not plain data"

# An execution case: ("ok", value) or (status, error type / message).
Case = tuple[str, Any]


@dataclass(frozen=True)
class LevelRules:
    """What a difficulty level asks of a problem (and how much the explorer is shown)."""

    references: int
    min_nodes: int
    max_nodes: int
    min_tests: int


LEVELS = {
    1: LevelRules(references=3, min_nodes=5, max_nodes=60, min_tests=4),
    2: LevelRules(references=4, min_nodes=12, max_nodes=150, min_tests=5),
    3: LevelRules(references=5, min_nodes=30, max_nodes=400, min_tests=6),
}
MIN_EXAMPLES, MAX_EXAMPLES, MAX_TESTS = 2, 6, 12


_policies: dict[str, SubsetPolicy] = {}


def circle_policy(*, solver: bool = False, math: bool = False) -> SubsetPolicy:
    """The declared Python subset of circle programs (built on first use). A solver's program
    may also ``print`` (its output is ignored); a proposed program may not (no I/O at all). A math
    program may also import ``fractions``. Names starting ``_lg_`` are the run-time harness's."""
    key = "solver" if solver else ("math" if math else "explorer")
    if key not in _policies:
        from langgames.verifiers.pysubset import DEFAULT_FORBIDDEN_NAMES

        extra = frozenset(_EXTRA_FORBIDDEN) - ({"print"} if solver else set())
        _policies[key] = _CirclePolicy(
            allowed_imports=frozenset(MATH_IMPORTS if math else ALLOWED_IMPORTS),
            forbidden_names=DEFAULT_FORBIDDEN_NAMES | extra,
        )
    return _policies[key]


_violations_cache: dict[tuple[Any, ...], list[Any]] = {}


def _circle_policy_class() -> type:
    from langgames.verifiers.pysubset import SubsetPolicy, Violation

    class CirclePolicy(SubsetPolicy):
        """The subset, plus: no ``_lg_`` names (the harness's) and nothing the run-time rewrite
        refuses (``%=`` on an attribute or item)."""

        def violations(self, code: str) -> list[Violation]:
            key = (self.allowed_imports, self.forbidden_names, code)
            cached = _violations_cache.get(key)
            if cached is None:
                cached = self._violations(code)
                if len(_violations_cache) >= 1024:
                    _violations_cache.pop(next(iter(_violations_cache)))
                _violations_cache[key] = cached
            return list(cached)

        def _violations(self, code: str) -> list[Violation]:
            found = super().violations(code)
            if found:
                return found
            try:
                rewrite(code)
            except ValueError as exc:
                return [Violation(None, None, "name", str(exc))]
            except (SyntaxError, RecursionError, MemoryError) as exc:
                return [Violation(None, None, "program", f"cannot be read: {type(exc).__name__}")]
            return []

    return CirclePolicy


def _CirclePolicy(**kwargs: Any) -> SubsetPolicy:
    return _circle_policy_class()(**kwargs)


_pool_lock = threading.Lock()
_pool: tuple[int, ThreadPoolExecutor] | None = None


def _executor() -> ThreadPoolExecutor:
    """Helper threads (per process) that run the calls of one validation in several sandboxes."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(N_SEEDS, thread_name_prefix="circle-sandbox"))
        return _pool[1]


def sandbox() -> PythonSandbox:
    """The process's shared sandbox (``PYTHONHASHSEED=0``): solvers' programs run here."""
    from langgames.verifiers.python import default_sandbox

    return default_sandbox()


class SeedPool:
    """One-worker sandboxes whose ``PYTHONHASHSEED`` values come from episodes' generators.

    A validation asks for `N_SEEDS` seeds (`draw`); every ``refresh_every`` draws the oldest seed
    is retired and a new one drawn from the same generator takes its place (its sandbox starts in
    the background and is used from the next refresh on), so the seeds a program meets are never
    a fixed, public pair, while a seeded sequence of episodes still meets the same seeds. Starting
    a worker takes ~0.1 s; a seed per validation would cost that every round.
    """

    def __init__(self, size: int = 4, refresh_every: int = 48) -> None:
        self.size = size
        self.refresh_every = refresh_every
        self._lock = threading.Lock()
        self._seeds: list[int] = []
        self._pending: int | None = None
        self._boxes: dict[int, PythonSandbox] = {}
        self._retired: list[PythonSandbox] = []
        self._draws = 0
        self._owner = os.getpid()

    def _box(self, seed: int) -> PythonSandbox:
        from langgames.verifiers.python import PythonSandbox

        box = self._boxes.get(seed)
        if box is None or box.closed:
            box = self._boxes[seed] = PythonSandbox(workers=1, hash_seed=seed)
            threading.Thread(target=_quiet_start, args=(box,), daemon=True).start()
        return box

    def draw(self, rng: Any, k: int = N_SEEDS) -> tuple[int, ...]:
        """``k`` distinct seeds for one validation, chosen with ``rng``. Every call consumes the
        same amount of ``rng`` whatever the pool's state, so an episode's stream (and so its
        transcript) never depends on what the process ran before."""
        fresh = [int(v) for v in rng.integers(1, 2**32 - 1, size=self.size)]
        order = [int(i) for i in rng.permutation(self.size)]
        with self._lock:
            if self._owner != os.getpid():  # forked: the workers belong to the parent
                self.__init__(self.size, self.refresh_every)  # type: ignore[misc]
            if not self._seeds:
                self._seeds = list(fresh)
                for seed in self._seeds:
                    self._box(seed)
            self._draws += 1
            if self._draws % self.refresh_every == 0:
                if self._pending is not None:
                    old = self._seeds.pop(0)
                    self._seeds.append(self._pending)
                    retired = self._boxes.pop(old, None)
                    if retired is not None:
                        self._retired.append(retired)
                self._pending = fresh[0]
                self._box(self._pending)
                while len(self._retired) > 2:
                    self._retired.pop(0).close()
            return tuple(self._seeds[i] for i in order[: min(k, self.size)])

    def sandbox(self, seed: int) -> PythonSandbox:
        with self._lock:
            return self._box(seed)

    def close(self) -> None:
        with self._lock:
            for box in [*self._boxes.values(), *self._retired]:
                box.close()
            self._boxes, self._retired, self._seeds, self._pending = {}, [], [], None


def _quiet_start(box: PythonSandbox) -> None:
    with contextlib.suppress(Exception):  # a failure is reported when the sandbox is first used
        box.start()


_seed_pool: SeedPool | None = None


def seed_pool() -> SeedPool:
    """The process's `SeedPool`."""
    global _seed_pool
    with _pool_lock:
        if _seed_pool is None:
            _seed_pool = SeedPool()
            atexit.register(_seed_pool.close)
        return _seed_pool


@dataclass(frozen=True)
class Conditions:
    """What one validation runs under, drawn from the episode's generator and never shown: the
    hash seeds of its sandboxes and the seed of its fresh inputs."""

    seeds: tuple[int, ...]
    fresh_seed: int

    @classmethod
    def draw(cls, rng: Any) -> Conditions:
        seeds = seed_pool().draw(rng, N_SEEDS)
        return cls(seeds, int(rng.integers(0, 2**63 - 1)))

    @property
    def key(self) -> str:
        return f"{','.join(map(str, self.seeds))}/{self.fresh_seed}"

    def fresh(self, kind: str) -> list[Any]:
        """`N_FRESH` inputs of ``kind`` (the same for the same conditions)."""
        import numpy as np

        rng = np.random.default_rng([self.fresh_seed, stable_hash("fresh", kind) >> 1])
        return [random_input(kind, rng) for _ in range(N_FRESH)]


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,!?-_"


def random_input(kind: str, rng: Any) -> Any:
    """A random argument of ``kind`` (mixed sizes: small numbers, large ones, long strings)."""
    parts = kind_parts(kind)
    if len(parts) > 1:
        return tuple(random_input(p, rng) for p in parts)
    if kind == "int":
        scale = (10, 1000, 10**6, 10**9)[int(rng.integers(4))]
        return int(rng.integers(-scale, scale + 1))
    if kind == "str":
        n = int(rng.integers(0, MAX_STR + 1)) if rng.random() < 0.3 else int(rng.integers(0, 12))
        return "".join(_LETTERS[int(i)] for i in rng.integers(0, len(_LETTERS), size=n))
    n = int(rng.integers(0, MAX_LIST + 1)) if rng.random() < 0.3 else int(rng.integers(0, 7))
    if kind == "list[int]":
        scale = (5, 100, 10**6)[int(rng.integers(3))]
        return [int(v) for v in rng.integers(-scale, scale + 1, size=n)]
    return [random_input("str", rng)[:8] for _ in range(n)]


@functools.lru_cache(maxsize=512)
def _harness(code: str, entry: str, allowed: tuple[str, ...], allow_print: bool, math: bool) -> str:
    return harness(code, entry, allowed, allow_print=allow_print, math=math)


def run_program(
    box: PythonSandbox,
    code: str,
    args_list: Sequence[tuple[Any, ...]],
    *,
    timeout: float,
    entry: str = "f",
    allowed: Sequence[str] = ALLOWED_IMPORTS,
    allow_print: bool = False,
    math: bool = False,
) -> list[Any]:
    """Run ``code``'s ``entry`` on each argument tuple under the run-time subset (see
    `langgames.envs.scholars_circle.runtime`): `RunResult` per call. ``code`` must have passed the
    static check; a program that uses a reserved ``_lg_`` name raises ``ValueError``."""
    source = _harness(code, entry, tuple(allowed), allow_print, math)
    return box.call(source, ENTRY, list(args_list), timeout=timeout, policy=None)


# ---------------------------------------------------------------------------------------------
# Behaviour.


def _error_name(error: str | None) -> str:
    text = (error or "error").strip()
    if text.startswith(_NOT_PLAIN):
        return _NOT_PLAIN
    return text.split(":", 1)[0].strip()[:80]


def behaviour_of(kind: str, probe_cases: Sequence[Case]) -> tuple[tuple[int, ...], str]:
    """Per-probe result hashes and their combined hash (errors count by exception type)."""
    items = tuple(
        stable_hash("probe", kind, str(i), status, canon(value) if status == "ok" else str(value))
        for i, (status, value) in enumerate(probe_cases)
    )
    return items, "b" + format(stable_hash("behaviour", kind, *map(str, items)), "016x")


def output_kind(probe_cases: Sequence[Case]) -> str:
    kinds = list(dict.fromkeys(kind_of(v) for s, v in probe_cases if s == "ok"))
    return kinds[0] or "" if len(kinds) == 1 else ""


def run_trusted(code: str, args: Sequence[Any]) -> list[Case]:
    """Run OUR OWN starter program in this process (never model text): cases as the sandbox
    would report them."""
    from langgames.verifiers.codec import CodecError, encode_value

    namespace: dict[str, Any] = {"__name__": "__starter__"}
    exec(compile(code, "<starter>", "exec"), namespace)  # noqa: S102 - trusted starter source
    func = namespace["f"]
    out: list[Case] = []
    for arg in args:
        try:
            value = func(copy.deepcopy(arg))
            encode_value(value)
            out.append(("ok", value))
        except CodecError:
            out.append(("error", _NOT_PLAIN))
        except Exception as exc:  # the starter program's own failure on a probe, as in the sandbox
            out.append(("error", type(exc).__name__))
    return out


def common_kind(values: Sequence[Any]) -> str | None:
    """The one kind every value fits (``[]`` fits both list kinds), or None."""
    for kind in dict.fromkeys(kind_of(v) for v in values):
        if kind is not None and all(fits(v, kind) for v in values):
            return kind
    if all(v == [] or kind_of(v) == "list[str]" for v in values):
        return "list[str]"
    return None


# ---------------------------------------------------------------------------------------------
# The pipeline.


@dataclass(frozen=True)
class Candidate:
    """A proposal that passed validation: the library entry it would become, and evidence.

    Attributes:
        entry: the problem (``id == 0`` until it is added to the library).
        probe_inputs, probe_cases: the probes and ``f``'s results on them (programs only).
        similarity: highest template similarity to the recent library problems (0 to 1).
        similar_to: the id of that problem, if any.
    """

    entry: Entry
    probe_inputs: tuple[Any, ...]
    probe_cases: tuple[Case, ...]
    similarity: float
    similar_to: int | None


@dataclass(frozen=True)
class _Execution:
    declared: tuple[Case, ...]
    probes: tuple[Case, ...]
    extra: tuple[Case, ...]


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Validator:
    """Runs the pipeline; caches sandbox executions (keyed by program and inputs), so validating
    the same proposal twice (the reference explorer, then the game) runs it once."""

    def __init__(self, timeout: float = RUN_TIMEOUT, cache_size: int = 256) -> None:
        self.timeout = timeout
        self._cache: OrderedDict[tuple[str, ...], Any] = OrderedDict()
        self._cache_size = cache_size

    # -- entry point ------------------------------------------------------------------------
    def validate(
        self,
        proposal: Proposal,
        *,
        family: str,
        rules: LevelRules,
        level: int,
        library: Library,
        recent_window: int,
        timeout: float | None = None,
        conditions: Conditions | None = None,
    ) -> Candidate | Verdict:
        """Validate ``proposal``; ``timeout`` (default `RUN_TIMEOUT`) bounds each sandbox run.
        A shorter one screens candidates quickly: its successes are cached for the full check,
        its timeouts are not (the full limit might be enough). ``conditions`` (hash seeds and
        fresh inputs) come from the episode's generator; without them they are drawn from a
        fresh, unseeded generator."""
        if proposal.family != family:
            return reject(
                "incorrect",
                "family",
                f"this round asks for a {family} problem, and the proposal is {proposal.family}",
                f"start the proposal with `family: {family}`",
            )
        if conditions is None:
            import numpy as np

            conditions = Conditions.draw(np.random.default_rng())
        if family == "math":
            result = self._math(proposal, timeout or self.timeout, conditions)
        else:
            result = self._program(proposal, rules, level, timeout or self.timeout, conditions)
        if isinstance(result, Verdict):
            return result
        entry, probe_inputs, probe_cases = result
        duplicate = library.duplicate_of(entry)
        if duplicate is not None:
            other, why = duplicate
            return reject(
                "incorrect",
                "novelty",
                f"it {why} library problem #{other}",
                "propose something that computes a different thing, not a variant of a "
                "library problem with renamed variables or unchanged behaviour",
                duplicate_of=other,
            )
        similarity, similar_to = library.most_similar_recent(entry.struct_sketch, recent_window)
        return Candidate(entry, probe_inputs, probe_cases, similarity, similar_to)

    # -- math -------------------------------------------------------------------------------
    def _math(
        self, p: Proposal, timeout: float, conditions: Conditions
    ) -> tuple[Entry, tuple[Any, ...], tuple[Case, ...]] | Verdict:
        key = ("math", p.question, p.code, conditions.key)
        checked = self._cache.get(key)
        if checked is None:
            checked = self._check_math(p, timeout, conditions)
            status = checked.status.value if isinstance(checked, Verdict) else "ok"
            if status not in ("verifier_error", "timeout") or timeout >= self.timeout:
                self._remember(key, checked)
        if isinstance(checked, Verdict):
            return checked
        answer, canonical = checked
        entry = replace(Entry.for_math(p.question, answer, canonical), code=p.code)
        return entry, (), ()

    def _check_math(
        self, p: Proposal, timeout: float, conditions: Conditions
    ) -> tuple[str, str] | Verdict:
        """The program's answer and its canonical form, or why the proposal is refused."""
        verdict = check_math_question(p.question)
        if verdict is not None:
            return verdict
        refused = circle_policy(math=True).check(p.code)
        if refused is not None:
            return _subset_reject(refused, MATH_IMPORTS)
        runs = self._call_all(p.code, [()], timeout, conditions.seeds[:2], math=True)
        if isinstance(runs, Verdict):
            return runs
        (first,), (second,) = runs
        if canon(first) != canon(second):
            return reject(
                "incorrect",
                "determinism",
                "the program gave different answers in two runs",
                "compute the answer with exact arithmetic only: no set order, no addresses",
            )
        status, value = first
        if status != "ok":
            return reject(
                "incorrect",
                "termination",
                f"the program's f() raised {value}",
                "make f() return the exact answer without error",
            )
        return read_math_answer(p.question, value)

    # -- programs ---------------------------------------------------------------------------
    def _program(
        self, p: Proposal, rules: LevelRules, level: int, timeout: float, conditions: Conditions
    ) -> tuple[Entry, tuple[Any, ...], tuple[Case, ...]] | Verdict:
        inputs = list(p.inputs)
        if p.family == "induction":
            shown, tests = inputs[: p.n_shown], inputs[p.n_shown :]
            if not MIN_EXAMPLES <= len(shown) <= MAX_EXAMPLES:
                return reject(
                    "incorrect",
                    "shape",
                    f"{len(shown)} examples; an induction problem shows {MIN_EXAMPLES} to "
                    f"{MAX_EXAMPLES}",
                    f"list {MIN_EXAMPLES} to {MAX_EXAMPLES} inputs after `examples:`",
                )
            if not rules.min_tests <= len(tests) <= MAX_TESTS:
                return reject(
                    "incorrect",
                    "shape",
                    f"{len(tests)} tests; at difficulty {level} an induction problem hides "
                    f"{rules.min_tests} to {MAX_TESTS}",
                    f"list {rules.min_tests} to {MAX_TESTS} inputs after `tests:`",
                )
            if len({canon(v) for v in inputs}) != len(inputs):
                return reject(
                    "incorrect",
                    "shape",
                    "the examples and tests repeat an input",
                    "make every example and test input different",
                )
        kind = common_kind(inputs)
        if kind is None:
            return reject(
                "incorrect",
                "shape",
                "the inputs are not all of one kind",
                "give every input the same kind (e.g. all lists of ints)",
            )
        refused = circle_policy().check(p.code)
        if refused is not None:
            return _subset_reject(refused, ALLOWED_IMPORTS)
        fp = code_fingerprint(p.code)
        if not rules.min_nodes <= fp.n_nodes <= rules.max_nodes:
            return reject(
                "incorrect",
                "size",
                f"the program has {fp.n_nodes} syntax nodes; at difficulty {level} a program has "
                f"{rules.min_nodes} to {rules.max_nodes}",
                "make the program " + ("smaller" if fp.n_nodes > rules.max_nodes else "larger"),
                n_nodes=fp.n_nodes,
            )
        probe_inputs = probes(kind)
        execution = self._execute(
            p.code, kind, tuple(inputs), p.family == "abduction", timeout, conditions
        )
        if isinstance(execution, Verdict):
            return execution
        for value, (status, result) in zip(inputs, execution.declared, strict=True):
            if status != "ok":
                what = (
                    "returned a value that is not plain data"
                    if result == _NOT_PLAIN
                    else (f"raised {result}")
                )
                return reject(
                    "incorrect",
                    "termination",
                    f"f({_clip(show_value(value))}) {what}",
                    "make f run without error on every input you give and return plain data "
                    "(numbers, strings, None, bools, lists, tuples, dicts, sets)",
                )
        outputs = tuple(v for _, v in execution.declared)
        verdict = self._check_outputs(p, outputs)
        if verdict is not None:
            return verdict
        verdict = self._check_trivial(p, kind, probe_inputs, execution)
        if verdict is not None:
            return verdict
        behaviour, behaviour_hash = behaviour_of(kind, execution.probes)
        entry = self._entry(p, kind, outputs, fp, behaviour, behaviour_hash, execution.probes)
        return entry, tuple(probe_inputs), execution.probes

    @staticmethod
    def _entry(
        p: Proposal,
        kind: str,
        outputs: tuple[Any, ...],
        fp: CodeFingerprint,
        behaviour: tuple[int, ...],
        behaviour_hash: str,
        probe_cases: Sequence[Case],
    ) -> Entry:
        return Entry.for_program(
            p.family,
            kind,
            p.code,
            tuple(p.inputs),
            p.n_shown,
            outputs,
            fp,
            behaviour=behaviour,
            behaviour_hash=behaviour_hash,
            out_kind=output_kind(probe_cases),
        )

    def _check_outputs(self, p: Proposal, outputs: tuple[Any, ...]) -> Verdict | None:
        for value, out in zip(p.inputs, outputs, strict=True):
            text = show_value(out)
            if len(text) > MAX_OUTPUT_CHARS:
                return reject(
                    "resource_limit",
                    "output",
                    f"f({_clip(show_value(value))}) returns {len(text):,} characters of output; "
                    f"the limit is {MAX_OUTPUT_CHARS}",
                    "make the outputs on your inputs short",
                )
            if not is_literal(out):
                return reject(
                    "incorrect",
                    "output",
                    f"f({_clip(show_value(value))}) returns {_clip(text)}, which cannot be "
                    "written as a Python literal",
                    "return plain data: numbers (finite, ints below 3,600 digits), strings, None, "
                    "bools, and lists, tuples, dicts or sets of those",
                )
        return None

    def _check_trivial(
        self, p: Proposal, kind: str, probe_inputs: list[Any], run: _Execution
    ) -> Verdict | None:
        ok = [(x, v) for x, (s, v) in zip(probe_inputs, run.probes, strict=True) if s == "ok"]
        n = len(run.probes)
        if 2 * len(ok) < n:
            return reject(
                "incorrect",
                "triviality",
                f"f fails on {n - len(ok)} of the {n} probe inputs of its kind ({kind})",
                f"make f work on most inputs of kind {kind}, not only on yours",
            )
        if len({canon(v) for _, v in ok}) == 1:
            return reject(
                "incorrect",
                "triviality",
                f"f returns the same value, {_clip(show_value(ok[0][1]))}, for every probe input",
                "make the output depend on the input",
            )
        if all(canon(v) == canon(x) for x, v in ok):
            return reject(
                "incorrect",
                "triviality",
                "f returns its input unchanged",
                "make f compute something",
            )
        outputs = [v for _, v in run.declared]
        if p.family == "deduction":
            x, y = p.inputs[0], outputs[0]
            for name, guess in _naive_outputs(x):
                if canon(guess) == canon(y):
                    return reject(
                        "incorrect",
                        "triviality",
                        f"the output, {_clip(show_value(y))}, is {name}, which a solver could "
                        "guess without reading the program",
                        "choose an input (or program) whose output must be worked out",
                    )
        elif p.family == "abduction":
            y = outputs[0]
            target = canon(y)
            reached = sum(canon(v) == target for _, v in ok)
            if 4 * reached >= n:
                return reject(
                    "incorrect",
                    "triviality",
                    f"{reached} of the {n} probe inputs already give the target output",
                    "choose an input whose output is rare",
                )
            naive = [("the output itself", y)] if fits(y, kind) else []
            naive += [(f"the input {show_value(v)}", v) for v in _naive_inputs(kind)]
            cases = run.extra
            for (name, _), (status, value) in zip(naive, cases, strict=False):
                if status == "ok" and canon(value) == target:
                    return reject(
                        "incorrect",
                        "triviality",
                        f"{name} already gives the target output",
                        "choose an input whose output is not reached by a naive guess",
                    )
        else:  # induction
            shown = {
                canon(x): canon(v) for x, v in zip(p.inputs[: p.n_shown], outputs, strict=False)
            }
            tests = list(zip(p.inputs[p.n_shown :], outputs[p.n_shown :], strict=True))
            test_outs = [canon(v) for _, v in tests]
            if len(set(test_outs)) == 1:
                return reject(
                    "incorrect",
                    "triviality",
                    "every test has the same output",
                    "choose tests with different outputs",
                )
            counts: dict[str, int] = {}
            for o in test_outs:
                counts[o] = counts.get(o, 0) + 1
            majority = max(counts, key=lambda o: (counts[o], o))
            if all(
                shown.get(canon(x), majority) == o
                for (x, _), o in zip(tests, test_outs, strict=True)
            ):
                return reject(
                    "incorrect",
                    "triviality",
                    "answering the examples' outputs, else the most common test output, passes "
                    "every test",
                    "choose tests that need the rule, not a lookup",
                )
        return None

    # -- execution --------------------------------------------------------------------------
    def _execute(
        self,
        code: str,
        kind: str,
        declared: tuple[Any, ...],
        abduction: bool,
        timeout: float,
        conditions: Conditions,
    ) -> _Execution | Verdict:
        key = (code, kind, canon(list(declared)), str(abduction), conditions.key)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        result = self._run(code, kind, declared, abduction, timeout, conditions)
        status = result.status.value if isinstance(result, Verdict) else "ok"
        if status != "verifier_error" and (status != "timeout" or timeout >= self.timeout):
            self._remember(key, result)
        return result

    def _remember(self, key: tuple[str, ...], value: Any) -> None:
        self._cache[key] = value
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _run(
        self,
        code: str,
        kind: str,
        declared: tuple[Any, ...],
        abduction: bool,
        timeout: float,
        conditions: Conditions,
    ) -> _Execution | Verdict:
        n_declared = len(declared)
        fixed = [*declared, *probes(kind)]
        base = [*fixed, *conditions.fresh(kind)]
        half = len(base)
        # Three processes with three drawn hash seeds; the first runs every call twice. For
        # abduction the first runs alone: the others also try the target itself (is f(y) == y?)
        # and the naive inputs, and the target is known only once the first has run.
        a_args = [(v,) for v in base + base]
        if abduction:
            runs = self._call_all(code, a_args, timeout, conditions.seeds[:1])
            if isinstance(runs, Verdict):
                return runs
            target = self._abduction_target(kind, runs[0][:n_declared])
            tail = [*target, *_naive_inputs(kind)]
            others = self._call_all(
                code, [(v,) for v in base + tail], timeout, conditions.seeds[1:]
            )
        else:
            target, tail = [], []
            both = self._call_all(
                code,
                None,
                timeout,
                conditions.seeds,
                per_box=[a_args] + [[(v,) for v in base]] * (len(conditions.seeds) - 1),
            )
            if isinstance(both, Verdict):
                return both
            runs, others = both[:1], both[1:]
        first = runs[0]
        for value, a, b in zip(base, first[:half], first[half:], strict=True):
            if canon(a) != canon(b):
                return reject(
                    "incorrect",
                    "determinism",
                    f"f({_clip(show_value(value))}) gave {_clip(show_value(a[1]))} the first time "
                    f"and {_clip(show_value(b[1]))} the second",
                    "make f a pure function: no state kept between calls, no time or randomness",
                )
        if isinstance(others, Verdict):
            return others
        for other in others:
            reference = first[:half] + others[0][half:]
            for value, a, b in zip(base + tail, reference, other, strict=True):
                if canon(a) != canon(b):
                    return reject(
                        "incorrect",
                        "determinism",
                        f"f({_clip(show_value(value))}) gave {_clip(show_value(a[1]))} in one "
                        f"run and {_clip(show_value(b[1]))} in another (another process, another "
                        "string-hash seed)",
                        "do not depend on the iteration order of sets of strings (sort them), "
                        "object addresses or hashes",
                    )
        extra = list(others[-1][half:]) if others else []
        return _Execution(
            declared=tuple(first[:n_declared]),
            probes=tuple(first[n_declared : len(fixed)]),
            extra=tuple(extra),
        )

    @staticmethod
    def _abduction_target(kind: str, declared_cases: Sequence[Case]) -> list[Any]:
        """``[target]`` when an abduction target is itself an argument of the kind, else []."""
        if len(declared_cases) == 1 and declared_cases[0][0] == "ok":
            target = declared_cases[0][1]
            if fits(target, kind):
                return [copy.deepcopy(target)]
        return []

    def run_on(
        self, code: str, args: Sequence[Any], seeds: Sequence[int], timeout: float
    ) -> list[list[Case]] | Verdict:
        """``f`` on ``args`` in the sandboxes of ``seeds`` at once (the judge's determinism
        check of a solver's input): one list of cases per seed, or why a run failed."""
        return self._call_all(code, [(a,) for a in args], timeout, seeds)

    def _call_all(
        self,
        code: str,
        args: list[tuple[Any, ...]] | None,
        timeout: float,
        seeds: Sequence[int],
        *,
        per_box: list[list[tuple[Any, ...]]] | None = None,
        math: bool = False,
    ) -> list[list[Case]] | Verdict:
        """The same harness in one sandbox per seed, at once (the first in this thread)."""
        pool = seed_pool()
        jobs = per_box if per_box is not None else [list(args or []) for _ in seeds]
        boxes = [pool.sandbox(seed) for seed in seeds]
        futures = [
            _executor().submit(self._call, box, code, job, timeout, math)
            for box, job in zip(boxes[1:], jobs[1:], strict=True)
        ]
        results = [self._call(boxes[0], code, jobs[0], timeout, math)] if boxes else []
        results += [f.result() for f in futures]
        outputs: list[list[tuple[str, Any]]] = []
        for result in results:
            if isinstance(result, Verdict):
                return result
            outputs.append(result)
        return outputs

    def _call(
        self,
        box: PythonSandbox,
        code: str,
        args: list[tuple[Any, ...]],
        timeout: float,
        math: bool = False,
    ) -> list[Case] | Verdict:
        from langgames.verifiers.python import RunStatus

        if not args:
            return []
        results = run_program(
            box,
            code,
            args,
            timeout=timeout,
            allowed=MATH_IMPORTS if math else ALLOWED_IMPORTS,
            math=math,
        )
        for arg, result in zip(args, results, strict=True):
            status = result.status
            if status in (RunStatus.OK, RunStatus.ERROR):
                continue
            where = f"f({_clip(show_value(arg[0]))})" if arg else "f()"
            error = _clip(result.error or status.value, 200)
            if status is RunStatus.TIMEOUT:
                return reject(
                    "timeout",
                    "termination",
                    f"{where} did not finish: {error} (all calls together may take {timeout:g} s)",
                    "make f finish quickly on every input of its kind, probes included",
                )
            if status is RunStatus.RESOURCE_LIMIT:
                return reject(
                    "resource_limit",
                    "termination",
                    f"{where} exceeded a limit: {error}",
                    "keep memory use and outputs small on every input of its kind",
                )
            if status is RunStatus.FORBIDDEN:
                return reject(
                    "forbidden",
                    "sandbox",
                    f"{where} was stopped by the sandbox: {error}",
                    "compute with plain Python only",
                )
            return reject(
                "verifier_error",
                "sandbox",
                f"the sandbox failed while running {where}: {error}",
                "nothing to fix: this was not the proposal's fault; send it again",
            )
        return [("ok", r.value) if r.ok else ("error", _error_name(r.error)) for r in results]


def _subset_reject(refused: Verdict, allowed: Sequence[str]) -> Verdict:
    return reject(
        refused.status.value,
        "subset",
        refused.reason,
        "use only the allowed imports ("
        + ", ".join(allowed)
        + "), no I/O (open, print, input), no random, time, id or hash, and no "
        "names that start and end with two underscores or start with _lg_",
        violations=refused.details.get("violations", []),
    )


def _naive_outputs(x: Any) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = [
        ("the input itself", x),
        ("None", None),
        ("True", True),
        ("False", False),
        ("0", 0),
        ("1", 1),
        ("-1", -1),
        ("the empty string", ""),
        ("the empty list", []),
    ]
    if type(x) in (list, str, tuple):
        out.append(("the input's length", len(x)))
    if type(x) in (list, str):
        out.append(("the input reversed", x[::-1]))
    if type(x) is list and all(type(v) is int for v in x):
        out += [("the input's sum", sum(x)), ("the input sorted", sorted(x))]
    return out


def _naive_inputs(kind: str) -> list[Any]:
    simple: dict[str, list[Any]] = {
        "int": [0, 1],
        "str": ["", "a"],
        "list[int]": [[], [0]],
        "list[str]": [[], [""]],
    }
    if kind in simple:
        return [copy.deepcopy(v) for v in simple[kind]]
    return []
