"""ScholarsCircle's validation pipeline: a proposal becomes a library candidate, or a reason.

Stages, in order (the first failure is the verdict; every failure costs the explorer the minimum):

1. *family*: the proposal is in the family the round asks for;
2. *shape*: argument kinds, example and test counts, distinct inputs; program size for the level;
3. *subset*: the program stays inside `CIRCLE_POLICY` (RestrictedPython via `SubsetPolicy`): only
   ``math, itertools, functools, collections, operator, string, bisect, heapq, re`` may be
   imported; no I/O (``open``, ``print``, ``input``), no ``random``/``time``, no ``id``/``hash``,
   no dunder access; the refusal names what was refused;
4. *termination*: in the Python sandbox, ``f`` on its own inputs and on the 24 probe inputs of its
   kind, all within `RUN_TIMEOUT` seconds and the sandbox's memory and output limits;
5. *determinism*: the same calls twice in one process (no state kept between calls) and once
   more in a sandbox whose workers use another ``PYTHONHASHSEED`` (no dependence on string
   hashing) give identical results;
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
import copy
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langgames.envs._circle_core import (
    CodeFingerprint,
    Proposal,
    canon,
    code_fingerprint,
    fits,
    is_literal,
    kind_of,
    numbers_in,
    probes,
    show_value,
    stable_hash,
)
from langgames.envs._circle_library import Entry, Library
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
#: PYTHONHASHSEED of the second sandbox (the first uses 0).
OTHER_HASH_SEED = 2_718_281
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


def circle_policy(*, solver: bool = False) -> SubsetPolicy:
    """The declared Python subset of circle programs (built on first use). A solver's program
    may also ``print`` (its output is ignored); a proposed program may not (no I/O at all)."""
    key = "solver" if solver else "explorer"
    if key not in _policies:
        from langgames.verifiers.pysubset import DEFAULT_FORBIDDEN_NAMES, SubsetPolicy

        extra = frozenset(_EXTRA_FORBIDDEN) - ({"print"} if solver else set())
        _policies[key] = SubsetPolicy(
            allowed_imports=frozenset(ALLOWED_IMPORTS),
            forbidden_names=DEFAULT_FORBIDDEN_NAMES | extra,
        )
    return _policies[key]


_other: PythonSandbox | None = None
_other_lock = threading.Lock()
_pool: tuple[int, ThreadPoolExecutor] | None = None


def _executor() -> ThreadPoolExecutor:
    """One helper thread (per process) that runs the second sandbox's calls."""
    global _pool
    with _other_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(1, thread_name_prefix="circle-sandbox"))
        return _pool[1]


def sandbox() -> PythonSandbox:
    """The process's shared sandbox (``PYTHONHASHSEED=0``)."""
    from langgames.verifiers.python import default_sandbox

    return default_sandbox()


def other_sandbox() -> PythonSandbox:
    """A one-worker sandbox whose workers use `OTHER_HASH_SEED` (started on first use)."""
    global _other
    from langgames.verifiers.python import PythonSandbox

    with _other_lock:
        if _other is None or _other.closed or _other._owner != os.getpid():
            _other = PythonSandbox(workers=1, hash_seed=OTHER_HASH_SEED)
            atexit.register(_other.close)
        return _other


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
    from langgames.verifiers._sandbox_worker import CodecError, encode_value

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


def reject(status: str, stage: str, reason: str, fix: str, **details: Any) -> Verdict:
    """A rejected proposal: ``reason`` says what failed, ``fix`` how to repair it."""
    make = {
        "incorrect": Verdict.make_incorrect,
        "forbidden": Verdict.make_forbidden,
        "timeout": Verdict.make_timeout,
        "resource_limit": Verdict.make_resource_limit,
        "unparseable": Verdict.make_unparseable,
        "verifier_error": Verdict.make_verifier_error,
    }[status]
    return make(f"rejected at {stage}: {reason}", stage=stage, fix=fix, **details)


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
    ) -> Candidate | Verdict:
        """Validate ``proposal``; ``timeout`` (default `RUN_TIMEOUT`) bounds each sandbox run.
        A shorter one screens candidates quickly: its successes are cached for the full check,
        its timeouts are not (the full limit might be enough)."""
        if proposal.family != family:
            return reject(
                "incorrect",
                "family",
                f"this round asks for a {family} problem, and the proposal is {proposal.family}",
                f"start the proposal with `family: {family}`",
            )
        if family == "math":
            result = self._math(proposal)
        else:
            result = self._program(proposal, rules, level, timeout or self.timeout)
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
    def _math(self, p: Proposal) -> tuple[Entry, tuple[Any, ...], tuple[Case, ...]] | Verdict:
        key = ("math", p.question, p.answer)
        checked = self._cache.get(key)
        if checked is None:
            checked = self._check_math(p)
            self._remember(key, checked)
        if isinstance(checked, Verdict):
            return checked
        assert isinstance(checked, str)
        entry = Entry.for_math(p.question, p.answer, checked)
        return entry, (), ()

    @staticmethod
    def _check_math(p: Proposal) -> str | Verdict:
        """The canonical form of a math proposal's answer, or why it is refused (cacheable:
        it depends on the proposal alone)."""
        from langgames.verifiers.math import parse_math, verify_math

        if len(p.question.split()) < 4:
            return reject(
                "incorrect",
                "shape",
                "the question is too short to be a question",
                "ask a complete question (at least four words) with one exact answer",
            )
        try:
            gold = parse_math(p.answer)
        except (ValueError, RecursionError) as exc:  # parse_math's errors are ValueErrors
            return reject(
                "unparseable",
                "answer",
                f"the answer {p.answer[:60]!r} cannot be read as math: {exc}",
                "write the exact answer as a number, fraction or expression, e.g. 19/12, "
                "2*sqrt(3) or x^2 + 1",
            )
        guesses = ["0", "1", *numbers_in(p.question)[:20]]
        for guess in guesses:
            if verify_math(p.answer, guess, timeout=2.0).correct:
                return reject(
                    "incorrect",
                    "triviality",
                    f"the answer equals {guess}, which a solver could guess without working "
                    "(it is 0, 1 or a number written in the question)",
                    "ask a question whose answer must be worked out",
                )
        squashed = "".join(p.answer.split())
        if len(squashed) >= 2 and squashed in "".join(p.question.split()):
            return reject(
                "incorrect",
                "triviality",
                "the answer is written in the question",
                "do not put the answer in the question",
            )
        return str(gold)

    # -- programs ---------------------------------------------------------------------------
    def _program(
        self, p: Proposal, rules: LevelRules, level: int, timeout: float
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
            return reject(
                refused.status.value,
                "subset",
                refused.reason,
                "use only the allowed imports ("
                + ", ".join(ALLOWED_IMPORTS)
                + "), no I/O (open, print, input), no random, time, id or hash, and no "
                "names that start and end with two underscores",
                violations=refused.details.get("violations", []),
            )
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
        execution = self._execute(p.code, kind, tuple(inputs), p.family == "abduction", timeout)
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
        return Entry(
            id=0,
            family=p.family,
            kind=kind,
            code=p.code,
            inputs=tuple(p.inputs),
            n_shown=p.n_shown,
            outputs=outputs,
            question="",
            answer="",
            code_hash=fp.code_hash,
            struct_hash=fp.struct_hash,
            struct_sketch=fp.struct_sketch,
            n_nodes=fp.n_nodes,
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
        self, code: str, kind: str, declared: tuple[Any, ...], abduction: bool, timeout: float
    ) -> _Execution | Verdict:
        key = (code, kind, canon(list(declared)), str(abduction))
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        result = self._run(code, kind, declared, abduction, timeout)
        status = result.status.value if isinstance(result, Verdict) else "ok"
        if status != "verifier_error" and (status != "timeout" or timeout >= self.timeout):
            self._remember(key, result)
        return result

    def _remember(self, key: tuple[str, ...], value: Any) -> None:
        self._cache[key] = value
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _run(
        self, code: str, kind: str, declared: tuple[Any, ...], abduction: bool, timeout: float
    ) -> _Execution | Verdict:
        base = [*declared, *probes(kind)]
        naive = _naive_inputs(kind) if abduction else []
        # The two sandboxes work at once: the same calls twice in one, once in the other.
        other = _executor().submit(self._call, other_sandbox(), code, base + naive, timeout)
        first = self._call(sandbox(), code, base + base, timeout)
        second = other.result()
        if isinstance(first, Verdict):
            return first
        half = len(base)
        for value, a, b in zip(base, first[:half], first[half:], strict=True):
            if canon(a) != canon(b):
                return reject(
                    "incorrect",
                    "determinism",
                    f"f({_clip(show_value(value))}) gave {_clip(show_value(a[1]))} the first time "
                    f"and {_clip(show_value(b[1]))} the second",
                    "make f a pure function: no state kept between calls, no time or randomness",
                )
        if isinstance(second, Verdict):
            return second
        for value, a, b in zip(base, first[:half], second[:half], strict=True):
            if canon(a) != canon(b):
                return reject(
                    "incorrect",
                    "determinism",
                    f"f({_clip(show_value(value))}) gave {_clip(show_value(a[1]))} with one "
                    f"string-hash seed and {_clip(show_value(b[1]))} with another",
                    "do not depend on the iteration order of sets of strings (sort them), "
                    "object addresses or hashes",
                )
        extra = list(second[half:])
        target = self._abduction_target(kind, first[: len(declared)]) if abduction else []
        if target:  # is the target itself an answer? (f(y) == y)
            itself = self._call(sandbox(), code, target, timeout)
            if isinstance(itself, Verdict):
                return itself
            extra = itself + extra
        return _Execution(
            declared=tuple(first[: len(declared)]),
            probes=tuple(first[len(declared) : half]),
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

    def _call(
        self, box: PythonSandbox, code: str, args: list[Any], timeout: float
    ) -> list[Case] | Verdict:
        from langgames.verifiers.python import RunStatus

        results = box.call(code, "f", [(a,) for a in args], timeout=timeout, policy=None)
        for arg, result in zip(args, results, strict=True):
            status = result.status
            if status in (RunStatus.OK, RunStatus.ERROR):
                continue
            where = f"f({_clip(show_value(arg))})"
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
