"""CodeTests: programming problems with hidden tests from your own dataset, run in the sandbox."""

from __future__ import annotations

import ast
import contextlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from langgames.core import GameInfo, Move, ParseError
from langgames.envs._datasets import (
    DataArg,
    DatasetError,
    DatasetGame,
    DatasetSource,
    RowRef,
    seconds_arg,
)
from langgames.envs._parsing import FENCE, MAX_CODE
from langgames.verifiers.verdict import Verdict

__all__ = ["HARNESS", "CodeTests", "Problem"]

_IMPORT = re.compile(r"^(?:from[ \t]+[\w.]+[ \t]+import[ \t]+[^\n]+|import[ \t]+[^\n]+)$", re.M)
_ASSERT_CALL = re.compile(r"assert\s+(?:not\s+)?\(?\s*([A-Za-z_]\w*)\s*\(")
_DEF = re.compile(r"(?m)^[ \t]*def[ \t]+([A-Za-z_]\w*)[ \t]*\(")
#: Rounds of "call the candidate on inputs the tests asked for, replay the tests" per answer. A
#: test whose inputs never depend on the answers needs one (the inputs come from the reference).
_MAX_ROUNDS = 4

#: The trusted harness that runs a problem's tests inside the sandbox. The candidate's code is
#: never in this process: the tests call a *replayer* that returns what the candidate returned
#: (plain data from a separate sandboxed `call`) or raises what it raised. An object that equals
#: everything, an overridden ``assert``, ``sys.exit`` before the asserts, patched builtins or code
#: that looks for the tests cannot reach the tests. Unknown inputs are reported back as ``needs``.
HARNESS = r'''
import ast as _ast
import builtins as _builtins
import copy as _copy


class _Need(BaseException):
    """The tests called the function with inputs whose result is not known yet."""


class CandidateError(Exception):
    """The function raised an exception that is not one of Python's builtin exceptions."""


def _plain(value, depth=0):
    kind = type(value)
    if kind in (type(None), bool, int, float, str, bytes):
        return True
    if depth > 60:
        return False
    if kind in (list, tuple, set, frozenset):
        return all(_plain(v, depth + 1) for v in value)
    if kind is dict:
        return all(_plain(k, depth + 1) and _plain(v, depth + 1) for k, v in value.items())
    return False


def _key(value):
    kind = type(value)
    if kind in (list, tuple):
        return kind.__name__ + "(" + ",".join(_key(v) for v in value) + ")"
    if kind in (set, frozenset):
        return kind.__name__ + "{" + ",".join(sorted(_key(v) for v in value)) + "}"
    if kind is dict:
        items = sorted(_key(k) + ":" + _key(v) for k, v in value.items())
        return "dict{" + ",".join(items) + "}"
    return kind.__name__ + ":" + repr(value)


def _raised(text):
    name, _, message = str(text).partition(": ")
    cls = getattr(_builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            return cls(message)
        except Exception:
            pass
    return CandidateError(str(text))


def _calls_check_itself(tree):
    for node in tree.body:
        if isinstance(node, _ast.Expr) and isinstance(node.value, _ast.Call):
            func = node.value.func
            if isinstance(func, _ast.Name) and func.id == "check":
                return True
    return False


def _run(tests, setup, entry, function):
    results = []
    for snippet in tests:
        namespace = {"__name__": "__langgames_test__", "__builtins__": _builtins}
        try:
            tree = _ast.parse(snippet)
            if setup:
                exec(compile(setup, "<test setup>", "exec"), namespace)
            namespace[entry] = function
            namespace["candidate"] = function
            exec(compile(tree, "<test>", "exec"), namespace)
            if callable(namespace.get("check")) and not _calls_check_itself(tree):
                namespace["check"](function)
            results.append([True, ""])
        except _Need:
            results.append([False, "needs"])
        except BaseException as error:
            results.append([False, (type(error).__name__ + ": " + str(error))[:300]])
    return results


def discover(tests, setup, entry, reference):
    namespace = {"__name__": "__langgames_reference__"}
    exec(compile(reference, "<reference>", "exec"), namespace)
    solution = namespace.get(entry)
    if not callable(solution):
        return {"calls": [], "results": [], "unsupported": "the reference does not define " + entry}
    calls, seen, unsupported = [], set(), []

    def recorder(*args, **kwargs):
        if kwargs:
            unsupported.append("the tests pass keyword arguments")
        elif not _plain(args):
            unsupported.append("the tests pass values that are not plain data")
        else:
            key = _key(args)
            if key not in seen:
                seen.add(key)
                calls.append(_copy.deepcopy(args))
        return solution(*args, **kwargs)

    results = _run(tests, setup, entry, recorder)
    first = unsupported[0] if unsupported else ""
    return {"calls": calls, "results": results, "unsupported": first}


def replay(tests, setup, entry, table):
    known = {_key(tuple(args)): (ok, value) for args, ok, value in table}
    needs, seen = [], set()

    def replayer(*args, **kwargs):
        if kwargs:
            raise TypeError("the tests pass keyword arguments, which cannot be replayed")
        key = _key(args)
        if key not in known:
            if key not in seen and _plain(args) and len(needs) < 500:
                seen.add(key)
                needs.append(_copy.deepcopy(args))
            raise _Need()
        ok, value = known[key]
        if ok:
            return _copy.deepcopy(value)
        raise _raised(value)

    results = _run(tests, setup, entry, replayer)
    return {"results": results, "needs": needs}
'''


@dataclass(frozen=True)
class Problem:
    """One row, read: what is shown, how it is tested, and the reference solution."""

    prompt: str
    entry: str | None  # None: a program judged on stdin/stdout pairs
    snippets: tuple[str, ...] = ()  # assert-based tests (each one a test)
    io: tuple[tuple[str, str], ...] = ()  # (stdin, expected stdout)
    setup: str = ""
    solution: str = ""
    imports: str = ""

    @property
    def n_tests(self) -> int:
        return len(self.snippets) or len(self.io)


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "\n".join(str(v) for v in value)
    return "" if value is None else str(value)


def _io_pairs(tests: Any) -> list[tuple[str, str]] | None:
    if isinstance(tests, Mapping) and "inputs" in tests and "outputs" in tests:
        ins, outs = tests["inputs"], tests["outputs"]
        if isinstance(ins, list) and isinstance(outs, list) and len(ins) == len(outs):
            return [(_text(i), _text(o)) for i, o in zip(ins, outs, strict=True)]
        return None
    if isinstance(tests, Mapping) and "input" in tests and "output" in tests:
        return [(_text(tests["input"]), _text(tests["output"]))]
    if isinstance(tests, list) and tests and all(isinstance(t, Mapping) for t in tests):
        pairs = []
        for t in tests:
            if "input" not in t or "output" not in t:
                return None
            pairs.append((_text(t["input"]), _text(t["output"])))
        return pairs
    return None


def _same_output(got: str, want: str) -> bool:
    def norm(s: str) -> list[str]:
        lines = [ln.rstrip() for ln in s.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
        while lines and not lines[-1]:
            lines.pop()
        return lines

    return norm(got) == norm(want)


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return False
    return True


class CodeTests(DatasetGame):
    r"""Solve code problems from a dataset (yours, or the shipped sample): hidden tests judge.

    ## Description
    Each episode is one row of a code dataset: a problem statement, an entry point and tests, in
    either style: assert-based (MBPP's ``assert f(2) == 4`` lines, or HumanEval's
    ``def check(candidate)``), or stdin/stdout pairs for a whole program. The tests are never
    shown. The reply's code runs only in the isolated sandbox (``langgames.verifiers.python``),
    and never in the same process as the tests: the function is called on the inputs the tests
    use (found once per row by running the tests against the reference solution) and its results
    cross back as plain data; the tests then run, in another sandboxed process, against a
    stand-in that returns those results. So an object equal to everything, ``sys.exit(0)`` before
    the asserts, an overridden ``assert`` or ``AssertionError``, patched builtins or code that
    hunts for the tests on disk or in memory can only fail. Program problems run once per pair
    and their output is compared line by line (trailing spaces ignored). Without ``data_files``
    or ``dataset`` the game plays a sample written for langgames
    (``langgames/data/code_tests_sample.jsonl``).

    Seeds, splits, levels and ``info["row"]`` work as in `MathQA`.

    ## Roles
    ``coder`` (single role).

    ## Observation
    The problem statement (a function signature with its docstring is shown as code), the name
    of the function to write, or a request for a complete stdin/stdout program.

    ## Action
    Python code in a fenced ```` ```python ```` block (the last one counts; CRLF line endings are
    fine). A reply without a fence is read as code when it defines the function (or, for a
    program, parses as Python). At most 20,000 characters.

    ## Reward
    1.0 when every test passes; 0.0 otherwise (with ``partial_credit=True``: the fraction of
    tests passed, each assert line or stdin/stdout pair being one test); -0.1 when no code can be
    read, or the program times out, exhausts a resource limit or is refused by the sandbox.

    ## Episode end
    Terminates after the first readable program; truncates after ``max_turns`` moves (default 3).

    ## Arguments
    The data arguments of `MathQA` (``data_files``, ``dataset``, ``dataset_config``,
    ``train_split``, ``eval_split``, ``eval_fraction``, ``split_key``, ``level_key``,
    ``shuffle_seed``), the field names ``prompt_key`` (default ``prompt``), ``tests_key``
    (``tests``), ``entry_point_key`` (``entry_point``; without one, the function called by the
    asserts or defined by the solution), ``solution_key`` (``solution``) and ``setup_key``
    (``test_setup``; code run before the tests); ``partial_credit`` (False), ``timeout`` (seconds
    per answer, 5) and ``require_solution`` (True: rows without a reference solution are skipped
    and reported, since the reference could not earn the maximum on them). ``difficulty`` as in
    `MathQA`.

    ## Version History
    * v0: initial version.
    """

    game_info = GameInfo(
        name="CodeTests",
        version=0,
        roles=("coder",),
        verifiers=("python",),
        answer_format="Python code in a fenced block: ```python\\n...\\n```",
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=3,
        difficulty_levels=(1,),
        default_difficulty=1,
        tags=("code", "dataset", "single-turn", "sandbox"),
    )
    #: The reply contract: the answer is the reply's last fenced Python block.
    answer_marker: ClassVar[str] = "code"

    def __init__(
        self,
        *,
        data_files: DataArg = None,
        dataset: Any = None,
        dataset_config: str | None = None,
        prompt_key: str = "prompt",
        tests_key: str = "tests",
        entry_point_key: str = "entry_point",
        solution_key: str = "solution",
        setup_key: str = "test_setup",
        train_split: str = "train",
        eval_split: str | None = None,
        eval_fraction: float = 0.2,
        split_key: str | None = "split",
        level_key: str | None = "auto",
        shuffle_seed: int = 0,
        partial_credit: bool = False,
        timeout: float = 5.0,
        require_solution: bool = True,
        difficulty: int | None = None,
        max_turns: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        self.keys = {
            "prompt": prompt_key,
            "tests": tests_key,
            "entry": entry_point_key,
            "solution": solution_key,
            "setup": setup_key,
        }
        source = DatasetSource(
            game="CodeTests",
            data_files=data_files,
            dataset=dataset,
            dataset_config=dataset_config,
            sample="code_tests_sample.jsonl",
            required={prompt_key: "prompt_key", tests_key: "tests_key"},
            train_split=train_split,
            eval_split=eval_split,
            eval_fraction=eval_fraction,
            split_key=split_key,
            level_key=level_key,
            shuffle_seed=shuffle_seed,
        )
        self.use_source(source)
        for name, flag in (("partial_credit", partial_credit), ("require_solution",
                                                                 require_solution)):  # fmt: skip
            if not isinstance(flag, bool):
                raise DatasetError(f"{name} must be True or False (got {flag!r})")
        self.timeout = seconds_arg("timeout", timeout)
        self.partial_credit = partial_credit
        self.require_solution = require_solution
        self._read: dict[RowRef, Problem | str] = {}  # row -> problem, or why it cannot be played
        self._calls: dict[RowRef, dict[str, Any]] = {}  # row -> what discovery found
        super().__init__(difficulty=difficulty, max_turns=max_turns, render_mode=render_mode)
        self._problem: Problem | None = None

    # ------------------------------------------------------------------ rows
    def problem_of(self, ref: RowRef) -> Problem | str:
        """Row ``ref`` read as a `Problem`, or the reason it cannot be played. Cached."""
        if ref not in self._read:
            self._read[ref] = self._parse_row(ref)
        return self._read[ref]

    def row_problem(self, ref: RowRef) -> str | None:
        """Why row ``ref`` cannot be played (``None`` if it can), from the row alone."""
        read = self.problem_of(ref)
        return read if isinstance(read, str) else None

    def _parse_row(self, ref: RowRef) -> Problem | str:
        get = self.source.field
        prompt = get(ref, self.keys["prompt"])
        if not isinstance(prompt, str) or not prompt.strip():
            return f"the {self.keys['prompt']!r} field is missing, empty or not text"
        tests = get(ref, self.keys["tests"])
        if isinstance(tests, str) and tests.lstrip()[:1] in ("[", "{"):
            with contextlib.suppress(json.JSONDecodeError):
                tests = json.loads(tests)
        solution = get(ref, self.keys["solution"])
        solution = solution.replace("\r\n", "\n") if isinstance(solution, str) else ""
        setup = get(ref, self.keys["setup"])
        setup = setup if isinstance(setup, str) else ""
        pairs = _io_pairs(tests)
        if pairs is not None:
            if not pairs:
                return "the tests field holds no input/output pair"
            problem = Problem(prompt.strip(), None, io=tuple(pairs), solution=solution)
        else:
            if isinstance(tests, str):
                snippets = [tests]
            elif (
                isinstance(tests, (list, tuple))
                and tests
                and all(isinstance(t, str) for t in tests)
            ):
                snippets = list(tests)
            else:
                return (
                    f"the {self.keys['tests']!r} field is neither assert-based tests (a string or "
                    "a list of strings) nor input/output pairs"
                )
            snippets = [s.replace("\r\n", "\n") for s in snippets if s.strip()]
            bad = next((s for s in [*snippets, setup] if not _parses(s)), None)
            if not snippets or bad is not None:
                return f"a test does not parse as Python: {(bad or '')[:80]!r}"
            entry = get(ref, self.keys["entry"])
            if not (isinstance(entry, str) and entry.isidentifier()):
                entry = self._guess_entry(snippets, solution)
            if entry is None:
                return (
                    "no entry point: add an entry_point field (the name of the function the "
                    "tests call)"
                )
            if solution and f"def {entry}" not in solution and f"def {entry}" in prompt:
                # HumanEval: the solution is the body that follows the prompt's signature.
                solution = prompt.rstrip("\n") + "\n" + solution
            imports = "\n".join(_IMPORT.findall(prompt))
            problem = Problem(
                prompt.strip(), entry, snippets=tuple(snippets), setup=setup,
                solution=solution, imports=imports,
            )  # fmt: skip
        if problem.solution and not _parses(problem.solution):
            return "the reference solution does not parse as Python"
        if self.require_solution and not problem.solution:
            return (
                f"no reference solution in the {self.keys['solution']!r} field (pass "
                "require_solution=False to play rows without one)"
            )
        return problem

    @staticmethod
    def _guess_entry(snippets: Sequence[str], solution: str) -> str | None:
        defined = _DEF.findall(solution)
        called = [m for s in snippets for m in _ASSERT_CALL.findall(s)]
        for name in called:
            if name in defined or not defined:
                return name
        return defined[0] if defined and any(defined[0] in s for s in snippets) else None

    # ------------------------------------------------------------------ hooks
    def _setup(self) -> str:
        ref = self.pick_row()
        problem = self.problem_of(ref)
        assert isinstance(problem, Problem)
        self._problem = problem
        return "coder"

    def _prompt(self, role: str) -> str:
        problem = self._problem
        assert problem is not None
        if problem.entry is None:
            return (
                f"{problem.prompt}\n\nWrite a complete Python program that reads the input from "
                "standard input and prints the answer to standard output. It will be run on "
                "hidden tests in a sandbox (standard library only, a few seconds at most)."
            )
        if f"def {problem.entry}" in problem.prompt:
            head = f"Complete this Python function:\n```python\n{problem.prompt}\n```"
        else:
            head = f"{problem.prompt}\n\nWrite it as a Python function named `{problem.entry}`."
        return (
            f"{head}\nReply with the whole function (and any imports it needs); it will be run "
            "on hidden tests in a sandbox (standard library only, a few seconds at most)."
        )

    def _code(self, action: str) -> str:
        problem = self._problem
        assert problem is not None
        text = action.replace("\r\n", "\n").replace("\r", "\n")
        blocks = FENCE.findall(text)
        code = blocks[-1] if blocks else text
        if len(code) > MAX_CODE:
            raise ParseError(f"the code is {len(code):,} characters; the limit is {MAX_CODE:,}")
        if problem.entry is not None:
            if not re.search(rf"(?m)^\s*def\s+{re.escape(problem.entry)}\s*\(", code):
                raise ParseError(
                    f"no definition of `{problem.entry}` found: reply with "
                    f"```python\\ndef {problem.entry}(...):\\n    ...\\n```"
                )
        elif not code.strip() or not _parses(code):
            raise ParseError(
                "no Python program found: put the whole program in a fenced block starting with "
                "```python"
            )
        return code

    def _play(self, role: str, action: str) -> Move:
        problem = self._problem
        assert problem is not None and self._row is not None
        code = self._code(action)
        if problem.entry is None:
            verdict = self._judge_io(problem, code)
        else:
            verdict = self._judge_function(self._row, problem, code)
        return Move(verdict, {role: self._reward_for(verdict)}, next_role=None)

    def _reference(self, role: str) -> str:
        problem = self._problem
        assert problem is not None
        return f"```python\n{problem.solution.rstrip()}\n```"

    # ------------------------------------------------------------------ judging
    def _verdict(self, passed: int, total: int, first_failure: str, **details: Any) -> Verdict:
        if passed == total:
            return Verdict.make_correct(f"all {total} tests passed", passed=passed, total=total)
        reason = f"{passed} of {total} tests passed; the first failure: {first_failure}"
        if self.partial_credit:
            return Verdict.make_incorrect(
                reason + " (partial credit)", reward=passed / total, passed=passed, total=total
            )
        return Verdict.make_incorrect(reason, passed=passed, total=total, **details)

    @staticmethod
    def _failure(status: Any, error: str | None, what: str) -> Verdict | None:
        from langgames.verifiers.python import RunStatus

        reason = f"{what}: {error or status}"
        if status is RunStatus.TIMEOUT:
            return Verdict.make_timeout(reason)
        if status is RunStatus.RESOURCE_LIMIT:
            return Verdict.make_resource_limit(reason)
        if status is RunStatus.FORBIDDEN:
            return Verdict.make_forbidden(reason)
        if status is RunStatus.VERIFIER_ERROR:
            return Verdict.make_verifier_error(reason)
        return None

    def _judge_io(self, problem: Problem, code: str) -> Verdict:
        from langgames.verifiers.python import RunStatus, default_sandbox

        sandbox = default_sandbox()
        passed, first = 0, ""
        for number, (stdin, want) in enumerate(problem.io, 1):
            result = sandbox.run(code, stdin=stdin, timeout=self.timeout)
            failure = self._failure(result.status, result.error, f"test {number}")
            if failure is not None:
                return failure
            if result.status is RunStatus.OK and _same_output(result.stdout, want):
                passed += 1
                continue
            first = first or (
                f"test {number} raised {result.error}"
                if result.status is not RunStatus.OK
                else f"test {number} printed the wrong output"
            )
            if not self.partial_credit:
                break
        return self._verdict(passed, len(problem.io), first)

    def _discover(self, ref: RowRef, problem: Problem) -> dict[str, Any]:
        """The inputs the tests give the reference (cached per row); ``{}`` without one."""
        if ref in self._calls:
            return self._calls[ref]
        from langgames.verifiers.python import default_sandbox

        found: dict[str, Any] = {"calls": [], "results": [], "unsupported": ""}
        if problem.solution:
            (result,) = default_sandbox().call(
                HARNESS,
                "discover",
                [(list(problem.snippets), problem.setup, problem.entry, problem.solution)],
                timeout=max(self.timeout, 10.0),
            )
            if not result.ok:  # e.g. a slow reference: not cached, so a later step retries
                return {"calls": [], "results": [], "unsupported": "", "error": result.error}
            found = dict(result.value)
        self._calls[ref] = found
        return found

    def _judge_function(self, ref: RowRef, problem: Problem, code: str) -> Verdict:
        from langgames.verifiers.python import RunStatus, default_sandbox

        assert problem.entry is not None
        found = self._discover(ref, problem)
        if found.get("unsupported"):
            return Verdict.make_verifier_error(
                f"this row's tests cannot be run safely: {found['unsupported']}", row=str(ref)
            )
        sandbox = default_sandbox()
        program = f"{problem.imports}\n{code}" if problem.imports else code
        table: list[tuple[Any, bool, Any]] = []
        pending: list[Any] = [tuple(args) for args in found.get("calls", [])]
        tests = list(problem.snippets)
        for _ in range(_MAX_ROUNDS):
            if pending:
                results = sandbox.call(program, problem.entry, pending, timeout=self.timeout)
                for args, result in zip(pending, results, strict=True):
                    failure = self._failure(result.status, result.error, "the function")
                    if failure is not None:
                        return failure
                    ok = result.status is RunStatus.OK
                    table.append((list(args), ok, result.value if ok else result.error or "error"))
            (replayed,) = sandbox.call(
                HARNESS,
                "replay",
                [(tests, problem.setup, problem.entry, table)],
                timeout=max(self.timeout, 10.0),
            )
            if not replayed.ok:
                return Verdict.make_verifier_error(
                    f"the test harness failed: {replayed.error}", row=str(ref)
                )
            pending = [tuple(args) for args in replayed.value["needs"]]
            if pending:
                continue
            outcomes = replayed.value["results"]
            passed = sum(1 for ok, _ in outcomes if ok)
            first = next((f"test {i}: {err}" for i, (ok, err) in enumerate(outcomes, 1)
                          if not ok), "")  # fmt: skip
            return self._verdict(passed, len(outcomes), first)
        return Verdict.make_incorrect(
            f"the tests kept calling the function on new inputs after {_MAX_ROUNDS} rounds (its "
            "answers differ from the reference's)"
        )

    # ------------------------------------------------------------------ dataset audit
    def dataset_rows(self, *, run_reference: bool = True) -> list[dict[str, Any]]:
        """Every row as ``{"row", "pool", "level", "question", "gold", "problem"}`` (for audits).

        With ``run_reference``, each playable row's reference solution is judged by its own
        tests in the sandbox, and a failure becomes the row's ``problem``.
        """
        out = []
        for pool, ref in self.pool_refs():
            read = self.problem_of(ref)
            problem = read if isinstance(read, str) else None
            if problem is None and run_reference:
                problem = self._check_reference(ref)
            prompt = self.source.field(ref, self.keys["prompt"])
            out.append(
                {
                    "row": ref.as_dict(),
                    "pool": pool,
                    "level": self.source.level(ref),
                    "question": prompt.strip() if isinstance(prompt, str) else "",
                    "gold": None if isinstance(read, str) else read.solution.strip(),
                    "problem": problem,
                }
            )
        return out

    def _check_reference(self, ref: RowRef) -> str | None:
        problem = self.problem_of(ref)
        assert isinstance(problem, Problem)
        if not problem.solution:
            return None
        saved = (self._row, self._problem)
        self._row, self._problem = ref, problem
        try:
            verdict = self._play("coder", self._reference("coder")).verdict
        except ParseError as err:
            return f"the reference solution cannot be read: {err.reason}"
        finally:
            self._row, self._problem = saved
        return None if verdict.correct else f"the reference solution fails: {verdict.reason}"
