"""ScholarsCircle: explorers propose problems, solvers solve them, critics judge; all grounded."""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from langgames.core import GameInfo, LanguageGame, Move, Opponent, ParseError
from langgames.envs._parsing import FENCE
from langgames.envs.scholars_circle.core import (
    FAMILIES,
    MAX_CODE_CHARS,
    MAX_LITERAL_CHARS,
    Proposal,
    canon,
    fits,
    format_hint,
    is_proposal,
    parse_code,
    parse_literal,
    parse_proposal,
    render_proposal,
    show_value,
)
from langgames.envs.scholars_circle.library import Entry, Library, LibraryStats
from langgames.envs.scholars_circle.policies import (
    propose,
    reference_answer,
)
from langgames.envs.scholars_circle.starter import starter_entries
from langgames.envs.scholars_circle.validate import (
    ALLOWED_IMPORTS,
    LEVELS,
    MATH_IMPORTS,
    RUN_TIMEOUT,
    Candidate,
    Conditions,
    LevelRules,
    Validator,
    circle_policy,
    run_program,
    sandbox,
    seed_pool,
)
from langgames.errors import InvalidArgument, did_you_mean
from langgames.verifiers.verdict import TIMING_KEYS, Status, Verdict

__all__ = ["ScholarsCircle"]

_PENALTY = -0.1
_SOLVE_TIMEOUT = 2.0
_MATH_TIMEOUT = 5.0
_MAX_SHOWN_ANSWER = 1_500
_SET_ORDER = (
    "(The program runs as ordinary Python, except that sets iterate in sorted order: by type "
    "name, then value.)\n"
)
_KIND_TEXT = {
    "int": "an int",
    "str": "a str",
    "list[int]": "a list of ints",
    "list[str]": "a list of strs",
}
_FAMILY_TEXT = {
    "deduction": "a program and an input; solvers predict the output",
    "abduction": "a program and one of its outputs; solvers find an input that produces it",
    "induction": "input/output examples of a hidden program; solvers write a program that "
    "passes hidden tests",
    "math": "a question with one exact answer (a number, fraction or expression), checked "
    "with SymPy",
}
# `answer:`, `**Answer:**`, `final answer =`, `input:`, `x =`... before the literal.
_ANSWER_PREFIX = re.compile(r"(?i)^[*_\s]*(?:final\s+)?(?:answer|output|input|x)[*_\s]*[:=][*_\s]*")
_CORRECT_LINE = re.compile(r"(?i)^correct[*_\s]*[:=][*_\s]*(yes|no|true|false)[*_\s.]*$")
_P_LINE = re.compile(
    r"(?i)^(?:p|p\s*\(\s*correct\s*\)|probability)[*_\s]*[:=][*_\s]*"
    r"(\d{1,3}(?:\.\d{1,12})?|\.\d{1,12})\s*(%?)[*_\s.]*$"
)


def _kind_text(kind: str) -> str:
    if kind.startswith("tuple["):
        return "a tuple (" + ", ".join(_KIND_TEXT[p] for p in kind[6:-1].split(",")) + ")"
    return _KIND_TEXT.get(kind, kind)


def _strip_timings(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _strip_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [_strip_timings(v) for v in value]
    return value


def _last_line(text: str, what: str) -> str:
    for line in reversed(text.splitlines()):
        line = line.strip().strip("*").strip()
        if len(line) >= 2 and line[0] == line[-1] == "`":
            line = line.strip("`").strip()
        if line:
            return line
    raise ParseError(f"the reply is empty; write {what} on the last line")


@dataclass
class _Answer:
    text: str
    verdict: Verdict
    correct: bool | None  # None: the verifier failed (not counted)


class ScholarsCircle(LanguageGame):
    """A circle of scholars: an explorer proposes problems, solvers solve them, a critic judges.

    ## Description
    Self-play with grounded rewards. Each round, the **explorer** sees a few problems from the
    circle's library (chosen for variety) and proposes a new problem in the round's family:

    * ``deduction``: a program and an input; solvers predict the output;
    * ``abduction``: a program and an output; solvers find an input that produces it;
    * ``induction``: input/output examples of a hidden program; solvers write a program that
      passes hidden tests;
    * ``math``: a question with one exact answer and the program that computes it.

    Before anyone sees it, the proposal is validated: the format parses; the program stays in a
    declared pure Python subset (RestrictedPython: imports only from ``math, itertools, functools,
    collections, operator, string, bisect, heapq, re``, plus ``fractions`` for math; no I/O,
    ``random``, ``time``, ``id``, ``hash`` or dunder access), **checked in the source and enforced
    as it runs**: every attribute access is guarded, builtins and modules are allow-listed read-only
    views, object addresses are scrubbed from text, sets iterate in sorted order (never in
    hash-table order: no coin from a hash seed or an address; solvers are told), and every call runs
    in a fresh namespace through the same harness, so a program cannot assemble ``__globals__`` at
    run time, read a frame, keep state, or tell a validation run from a judging run
    (module ``runtime``). In the Python sandbox it terminates within 3 s on its inputs, on 24 fixed
    probe inputs of its kind and on 8 inputs drawn fresh for this validation, and gives identical
    results twice in one process and once more in each of two other processes, the three with
    ``PYTHONHASHSEED`` values drawn from the episode's generator (never a fixed, public pair); it is
    not trivial (runs on at least half of the probes, not constant, not the identity, not solved by
    a naive guess); and it is new (not the same normalised program, not the same behaviour on the
    probes, nor differing on only one). A math problem is grounded: its answer is what its program's
    ``f()`` computes, never the explorer's claim; the question states the answer's form; a program
    that returns the set of answers must return exactly one, and a question that asks to solve an
    equation exposes it (``equation()``) so the validator solves it and refuses it unless the
    solution is unique and equals the program's answer. A rejected proposal costs -0.1 and its
    reason, with how to fix it, opens the explorer's next observation; after ``max_retries`` retries
    the round ends.

    Then ``n_solvers`` **solver** turns answer independently (none sees another's answer), each
    verified on the host's terms: deduction by exact comparison with the output computed in the
    sandbox (the answer read with ``ast.literal_eval``, never ``eval``); abduction by running the
    program on the solver's input in the sandbox, under two freshly drawn hash seeds (if the two
    runs disagree the problem is *withdrawn*: the explorer pays -0.1, the solver is not charged,
    the problem stays out of the library); induction by running the solver's program, under the
    same run-time subset, on the hidden tests; math with ``verify_math`` against the program's
    answer. The **critic** then sees the
    problem and one solver's answer (drawn by the env's generator) and states whether it is
    correct, with a probability, scored by the Brier rule. Finally the round is adjudicated and
    the problem enters the library with its solve rate.

    The library starts from a starter set of 50 problems written for this project, is bounded
    (``library_size``), and persists to SQLite with ``archive_path``. The environment is
    *stateful*: the library grows from episode to episode by design.

    ## Roles
    ``explorer`` (proposes), ``solver`` (``n_solvers`` turns per round, one agent), ``critic``.
    Turn order per round: explorer (plus retries), solver x ``n_solvers``, critic. The solver
    turns are indistinguishable: every solver of a round sees the same observation (no index, no
    order), and ``info["seat"]`` names an opaque seat (``solver-<hex>``, shuffled per round;
    ``explorer`` and ``critic`` for the others) so that chat views keep one conversation per
    seat: `langgames.chat.ChatMessages` keys conversations by seat when a game names one, so no
    solver reads an earlier solver's answer.

    **Shared-policy self-play: the remaining risk.** When one policy plays every role, the
    explorer's learnability reward depends on the *same* policy's solving: it is paid most when
    its solvers fail on some seats and succeed on others. Indistinguishable seats stop a policy
    from choosing which seat fails, but not from solving *worse* in general, or from proposing
    problems that it alone finds hard in ways other solvers would not (a private convention).
    To train safely: (1) compute the explorer's reward from solvers that are *frozen snapshots*
    of the policy (refreshed every few hundred updates), not from the policy being updated;
    (2) give each role its own advantage baseline (per-role normalisation), never a sum of the
    roles' rewards; (3) never let the explorer's gradient flow through the solvers' actions;
    (4) audit the library's solve rates against an independent solver now and then.

    ## Observation
    Text beginning with a header ``[ScholarsCircle | role: <role> | round r of R | ...]`` and a
    line saying what is expected. The explorer sees the family, the rules, ``K`` library problems
    (3, 4 or 5 by difficulty) and the exact format; a solver sees the problem and the answer
    format; the critic sees the problem, one solver's answer and the critique format.

    ## Action
    Explorer, exactly (text before the last ``family:`` line is ignored)::

        family: deduction          # or abduction
        program:
        ```python
        def f(x):
            ...
        ```
        input: <Python literal>    # abduction: kept secret; solvers see f(input)

        family: induction
        program:
        ```python
        def f(x):
            ...
        ```
        examples: [<input>, ...]   # 2 to 6 inputs, shown with their outputs
        tests: [<input>, ...]      # 4-6 (by difficulty) to 12 hidden inputs

        family: math
        question: <the question, stating the answer's form, e.g. "as an integer">
        program:
        ```python
        from fractions import Fraction
        def equation():            # only for a question that asks to solve an equation:
            return '3x + 5 = 26'   # the equation, exactly as the question writes it
        def f():
            return {Fraction(26 - 5, 3)}   # the exact answer (int, Fraction, expression
                                           # text), or the set of all answers (one element)
        ```

    ``f`` takes exactly one argument: an int, a str (at most 60 characters), a list of at most
    20 ints or strs, or a tuple of 2 or 3 of those; at difficulty 1, 2, 3 it has 5-60, 12-150,
    30-400 syntax nodes.

    Solver: deduction, the output as a Python literal on the last line (``answer: [1, 2]``);
    abduction, an input as a literal on the last line (``input: 42``); induction, a program
    defining ``f(x)`` in a fenced ```` ```python ```` block; math, the answer in ``\\boxed{...}``
    or on a last line ``answer: ...``.

    Critic: ``correct: yes`` or ``correct: no``, optionally with ``p: <probability that the
    answer is correct>`` on another line, or one line ``P(correct) = <probability>``. A ``p``
    that contradicts the yes/no is unreadable.

    A solver's or critic's reply that contains a proposal (a ``family:`` line) is unreadable: a
    proposal is not an answer, and one constant text must not be both a problem and, since it
    holds the hidden answer, its solution.

    ## Reward
    Range [-0.1, 1].

    * Solver: 1 when verified correct, 0 when wrong, -0.1 when unreadable or when the answer times
      out, exceeds a limit or is refused (0, and not counted in the solve rate, when the verifier
      itself fails).
    * Critic: ``1 - (p - y)^2``, where ``y`` is 1 if the judged answer was verified correct (a
      proper scoring rule: always saying "correct" earns exactly the solve rate); -0.1 when
      unreadable.
    * Explorer: -0.1 for each rejected proposal (0 if the sandbox itself failed), and -0.1 when
      its problem is withdrawn (its program disagreed with itself on a solver's input). At
      adjudication
      (in ``info["rewards"]``, at the critic's step) the *learnability* ``1 - s`` when the
      fraction ``s`` of solvers who succeeded is strictly between 0 and 1, else 0, minus
      ``similarity_weight * max(0, (J - 0.5) / 0.5)``, where ``J`` is the highest template
      similarity to the ``recent_window`` newest library problems; floored at -0.1.

    ``max_return`` is ``n_solvers * rounds`` for the solver, ``rounds`` for the critic and
    ``rounds * (1 - 1/n_solvers)`` (the learnability bound) for the explorer.

    ## Episode end
    Terminates after the last round's adjudication (or its explorer's last rejected attempt);
    truncates after ``max_turns`` moves (default ``rounds * (max_retries + n_solvers + 2)``).

    ## Arguments
    ``families``: the families a round is drawn from (default all four). ``n_solvers`` (3),
    ``rounds`` (1), ``max_retries`` (2). ``library_size`` (5000): the library's bound.
    ``archive_path``: a SQLite file to persist the library (default: in memory, no file).
    ``library``: a shared library instead (e.g. a ``CircleLibraryClient`` of a Ray
    ``CircleLibraryService``, for many workers; see ``examples/circle_ray.py``); a problem that
    another worker admitted first earns its explorer at most 0.
    ``similarity_weight`` (0.5) and ``recent_window`` (16): the similarity penalty.
    ``difficulty``: 1, 2 or 3: the program size range, the number of hidden tests, the number
    of library problems shown, and the reference explorer's mutations (one change to a small
    program; two changes to a larger one; a composition of two programs, and harder math
    templates).

    ## Version History
    * v0: initial version. Revised (issue 19) without an id change yet, which the registry table
      and its users must make together: the run-time subset and per-call fresh namespace; hash
      seeds and fresh probe inputs drawn per validation, and the abduction judge's two-seed check
      with withdrawal; math proposals carry the program that computes the answer (the
      ``answer:`` line is gone); solver observations carry no index and the critic's no solver
      number; ``info["seat"]``.

    >>> env = ScholarsCircle(families=("deduction",))
    >>> obs, info = env.reset(seed=0)
    >>> obs.splitlines()[0]
    '[ScholarsCircle | role: explorer | round 1 of 1 | attempt 1 of 3]'
    >>> obs, reward, terminated, truncated, info = env.step("family: deduction")
    >>> info["verdict"]["status"], reward
    ('unparseable', -0.1)
    """

    game_info = GameInfo(
        name="ScholarsCircle",
        version=0,
        roles=("explorer", "solver", "critic"),
        verifiers=("python", "math"),
        answer_format=(
            "explorer: a proposal starting `family: <family>` in the format of the prompt; "
            "solver: the answer on the last line (`answer: <literal>`, `input: <literal>`, a "
            "```python block defining f, or \\boxed{...}); critic: `correct: yes|no` and "
            "`p: <probability>`"
        ),
        reward_range=(_PENALTY, 1.0),
        max_turns=7,
        max_return=1.0,
        deterministic=True,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("self-play", "multi-role", "code", "math", "proposer", "calibration", "sandbox"),
        reference_roles=("solver", "critic"),
        stateful=True,
    )

    def __init__(
        self,
        *,
        families: Iterable[str] = FAMILIES,
        n_solvers: int = 3,
        rounds: int = 1,
        max_retries: int = 2,
        library_size: int = 5000,
        archive_path: str | os.PathLike[str] | None = None,
        similarity_weight: float = 0.5,
        recent_window: int = 16,
        library: Library | None = None,
        difficulty: int | None = None,
        max_turns: int | None = None,
        render_mode: str | None = None,
        opponents: Mapping[str, Opponent] | None = None,
    ) -> None:
        self.families = _check_families(families)
        self.n_solvers = _check_int("n_solvers", n_solvers, 1, 16)
        self.rounds = _check_int("rounds", rounds, 1, 10_000)
        self.max_retries = _check_int("max_retries", max_retries, 0, 10)
        self.recent_window = _check_int("recent_window", recent_window, 0, 10_000)
        if (
            isinstance(similarity_weight, bool)
            or not isinstance(similarity_weight, (int, float))
            or not 0.0 <= similarity_weight <= 1.0
        ):
            raise InvalidArgument(
                f"similarity_weight must be a number from 0 to 1 (got {similarity_weight!r}); "
                "0 turns the similarity penalty off"
            )
        self.similarity_weight = float(similarity_weight)
        if archive_path is not None and not isinstance(archive_path, (str, os.PathLike)):
            raise InvalidArgument(
                f"archive_path must be a file path or None (got {type(archive_path).__name__})"
            )
        turns = self.rounds * (self.max_retries + self.n_solvers + 2)
        super().__init__(
            difficulty=difficulty,
            max_turns=turns if max_turns is None else max_turns,
            render_mode=render_mode,
            opponents=opponents,
        )
        if library is not None and archive_path is not None:
            raise InvalidArgument(
                "pass either archive_path (this env owns its library) or library (a shared one, "
                "e.g. a CircleLibraryClient), not both"
            )
        self._owns_library = library is None
        self.library = (
            Library(capacity=library_size, path=archive_path, starter=starter_entries())
            if library is None
            else library
        )
        self._validator = Validator()
        self._round = 0
        self._family = self.families[0]
        self._rules = LEVELS[self._base_difficulty]
        self._refs: list[Entry] = []
        self._attempt = 0
        self._candidate: Candidate | None = None
        self._answers: list[_Answer] = []
        self._pick: int | None = None
        self._notes: dict[str, str] = {}
        self._ref_cache: dict[tuple[int, int], str] = {}
        self._conditions: Conditions | None = None
        self._seats: list[str] = []
        self._judged_inputs: dict[str, Any] = {}
        self._judged_programs: dict[str, Verdict] = {}
        self._withdrawn: Verdict | None = None

    # ------------------------------------------------------------------ public, for policies
    @property
    def family(self) -> str:
        """The family of the current round."""
        return self._family

    @property
    def rules(self) -> LevelRules:
        """What the current difficulty asks of a problem."""
        return self._rules

    @property
    def candidate(self) -> Candidate | None:
        """The validated problem the solvers and critic are playing (None while proposing)."""
        return self._candidate

    @property
    def references(self) -> list[Entry]:
        """The library problems shown to the explorer this round."""
        return list(self._refs)

    def validate(
        self, proposal: Proposal | str, *, timeout: float | None = None
    ) -> Candidate | Verdict:
        """Run this round's validation on a proposal (text or parsed): a `Candidate`, or the
        rejection `Verdict`. Does not change the game. ``timeout`` shortens the sandbox limit
        to screen candidates quickly (see `Validator.validate`)."""
        if isinstance(proposal, str):
            try:
                proposal = parse_proposal(proposal)
            except ParseError as err:
                return Verdict.make_unparseable(err.reason)
        if self._conditions is None:
            self._conditions = Conditions.draw(self.np_random)
        return self._validator.validate(
            proposal,
            family=self._family,
            rules=self._rules,
            level=self.difficulty,
            library=self.library,
            recent_window=self.recent_window,
            timeout=timeout,
            conditions=self._conditions,
        )

    def oracle_truth(self) -> bool:
        """Whether the answer the critic judges was verified correct (for oracle policies)."""
        if self._pick is None:
            raise InvalidArgument("oracle_truth() is only defined while the critic is to act")
        return bool(self._answers[self._pick].correct)

    def max_return(self, role: str) -> float:
        if role == "solver":
            return float(self.n_solvers * self.rounds)
        if role == "critic":
            return float(self.rounds)
        return self.rounds * (1.0 - 1.0 / self.n_solvers)

    def stats(self) -> LibraryStats:
        """The library's size, coverage and solve-rate spread."""
        return self.library.stats()

    def close(self) -> None:
        if self._owns_library:
            self.library.close()
        super().close()

    # ------------------------------------------------------------------ hooks
    def _setup(self) -> str:
        self._round = 0
        self._notes = {}
        self._start_round()
        return "explorer"

    def _start_round(self) -> None:
        self._family = self.families[int(self.np_random.integers(len(self.families)))]
        self._rules = LEVELS[self.difficulty]
        rules = self._rules
        self._refs = self.library.sample(
            self.np_random,
            rules.references,
            family=self._family,
            accept=lambda e: e.family == "math" or rules.min_nodes <= e.n_nodes <= rules.max_nodes,
        )
        self._attempt = 0
        self._candidate = None
        self._answers = []
        self._pick = None
        self._ref_cache = {}
        self._conditions = Conditions.draw(self.np_random)
        self._judged_inputs = {}
        self._judged_programs = {}
        self._withdrawn = None
        # Opaque seat labels in a shuffled order: chat views give each seat its own conversation
        # (`info["seat"]`), and nothing a solver sees says which seat it is.
        tags = [f"solver-{int(v):08x}" for v in self.np_random.integers(0, 2**32, self.n_solvers)]
        self._seats = [tags[int(i)] for i in self.np_random.permutation(self.n_solvers)]

    def _header(self, role: str) -> str:
        where = f"round {self._round + 1} of {self.rounds}"
        if role == "explorer":
            where += f" | attempt {self._attempt + 1} of {self.max_retries + 1}"
        return f"[ScholarsCircle | role: {role} | {where}]"

    def _info(
        self, verdict: Verdict | None, rewards: Mapping[str, float], actor: str | None
    ) -> dict[str, Any]:
        info = super()._info(verdict, rewards, actor)
        # The conversation a chat view should continue: the explorer and critic have one each;
        # every solver seat has its own, so no solver sees another's answer in its history.
        if self.role == "solver" and len(self._answers) < len(self._seats):
            info["seat"] = self._seats[len(self._answers)]
        elif self.role is not None:
            info["seat"] = self.role
        return info

    def _prompt(self, role: str) -> str:
        note = self._notes.pop(role, "")
        if role == "explorer":
            body = self._explorer_prompt()
        elif role == "solver":
            body = self._solver_prompt()
        else:
            body = self._critic_prompt()
        head, _, rest = body.partition("\n")
        parts = [self._header(role), head]
        if note:
            parts.append(note)
        parts.append(rest)
        return "\n".join(parts)

    def _play(self, role: str, action: str) -> Move:
        if role == "explorer":
            return self._propose(parse_proposal(action))
        if is_proposal(self._reply or action):
            # The whole reply, not only the answer the contract picked out of it.
            # A proposal is not an answer. (Without this, one constant text could be both the
            # explorer's problem and, since it holds the hidden answer, every solver's answer.)
            raise ParseError(
                f"this reply is a proposal (it has a `family:` line), not a {role}'s answer; "
                f"reply in the {role}'s format below"
            )
        if role == "solver":
            return self._solver_done(self._judge_answer(action), action)
        p = _parse_critique(action)
        return self._critique(p)

    def _on_unparseable(self, role: str, verdict: Verdict) -> Move:
        if role == "explorer":
            fix = "reply in the format below, starting with the line `family: " + self._family + "`"
            return self._reject(verdict.with_details(stage="format", fix=fix))
        if role == "solver":
            return self._solver_done(verdict, "")
        return self._critique(None, verdict)

    def _reference(self, role: str) -> str:
        if role == "explorer":
            key = (self._round, self._attempt)
            if key not in self._ref_cache:
                seed = [int(self._instance_seed or 0), self._round, self._attempt, 0x5C]
                self._ref_cache[key] = propose(self, np.random.default_rng(seed))
            return self._ref_cache[key]
        assert self._candidate is not None
        if role == "solver":
            return reference_answer(self._candidate.entry)
        return "correct: yes\np: 1" if self.oracle_truth() else "correct: no\np: 0"

    # ------------------------------------------------------------------ explorer
    def _explorer_prompt(self) -> str:
        family, rules, level = self._family, self._rules, self.difficulty
        left = self.max_retries + 1 - self._attempt
        lines = [
            f"Your task: propose ONE new {family} problem at difficulty {level}: "
            f"{_FAMILY_TEXT[family]}.",
            "",
            f"The circle's library holds {len(self.library)} problems. {len(self._refs)} of them, "
            "chosen for variety:",
        ]
        for entry in self._refs:
            lines += ["", _describe(entry)]
        lines += ["", "Rules (checked in a sandbox before anyone sees your problem):"]
        if family == "math":
            lines += [
                "- the answer is what your program's `f()` returns, computed in the sandbox with "
                f"exact arithmetic (imports only from {', '.join(MATH_IMPORTS)}): an int, a "
                "Fraction, an expression as text (e.g. 'x^2 + 1'), or the set of ALL answers, "
                "which must have exactly one element;",
                "- the question says what form the answer takes (e.g. 'as an integer', 'as a "
                "reduced fraction', 'in standard form', 'as an exact value');",
                "- a question that asks to solve an equation defines `equation()` returning the "
                "equation as the question writes it (a polynomial of degree 1 to 4 with one real "
                "solution);",
                "- the answer is not 0, 1, a number written in the question or a copy of its text;",
                "- the question is new: not one in the library, nor the same kind of question "
                "with the same answer.",
            ]
        else:
            tests = (
                f"; `examples:` lists 2 to 6 inputs (shown with their outputs) and `tests:` "
                f"lists {rules.min_tests} to 12 hidden inputs, all different"
                if family == "induction"
                else ""
            )
            lines += [
                "- the program defines `def f(x):` with one argument x: an int, a str (at most "
                "60 characters), a list of at most 20 ints or strs, or a tuple of 2 or 3 of "
                f"those{tests};",
                f"- it has {rules.min_nodes} to {rules.max_nodes} syntax nodes; it may import "
                f"only {', '.join(ALLOWED_IMPORTS)}; no I/O (open, print, input), no random, "
                "time, id or hash, no names with double underscores, and no attribute built at "
                "run time that the rules forbid in the source (the rules are enforced as it "
                "runs);",
                f"- it finishes within {RUN_TIMEOUT:g} s on your input(s), on 24 probe inputs "
                "of its kind and on inputs drawn at random for this check; it returns the same "
                "results every time, in several processes with unknown string-hash seeds (top-"
                "level code runs again before every call: nothing is kept between calls); it "
                "works on at least half of the probes, is not constant or the identity, and its "
                "answer cannot be guessed;",
                "- it is new: not a library program with renamed variables, and not one that "
                "behaves the same on the probes (differing on one probe counts as the same).",
            ]
        lines += [
            "",
            f"Reward: -0.1 for a rejected proposal (you have {left} attempt(s) left this round). "
            f"Once {self.n_solvers} solvers have tried a valid problem you earn 1 - (fraction "
            "solved) if some but not all of them solve it, else 0, minus up to "
            f"{self.similarity_weight:g} if it resembles the {self.recent_window} newest library "
            "problems.",
            "",
            "Reply in exactly this format (anything before the `family:` line is ignored):",
            format_hint(family),
        ]
        return "\n".join(lines)

    def _propose(self, proposal: Proposal) -> Move:
        result = self.validate(proposal)
        if isinstance(result, Verdict):
            return self._reject(result)
        self._candidate = result
        entry = result.entry
        penalty = self._penalty(result.similarity)
        verdict = Verdict.make_accepted(
            f"a valid {entry.family} problem; {self.n_solvers} solvers will now try it",
            family=entry.family,
            kind=entry.kind,
            n_nodes=entry.n_nodes,
            similarity=round(result.similarity, 4),
            similar_to=result.similar_to,
            similarity_penalty=round(penalty, 4),
        )
        return Move(verdict, {"explorer": 0.0}, next_role="solver")

    def _reject(self, verdict: Verdict) -> Move:
        self._attempt += 1
        self._conditions = Conditions.draw(self.np_random)  # fresh for the next validation
        reward = 0.0 if verdict.status is Status.VERIFIER_ERROR else _PENALTY
        total = self.max_retries + 1
        fix = verdict.details.get("fix")
        how = f"\nHow to fix it: {fix}." if fix else ""
        verdict = Verdict(verdict.status, 0.0, verdict.reason, _strip_timings(verdict.details))
        if self._attempt < total:
            self._notes["explorer"] = (
                f"Your proposal (attempt {self._attempt} of {total}) was rejected, reward "
                f"{reward:+g}: {verdict.reason}{how}"
            )
            return Move(verdict, {"explorer": reward}, next_role="explorer")
        summary = (
            f"Round {self._round + 1} ended without a problem: all {total} proposals were "
            f"rejected (the last, reward {reward:+g}: {verdict.reason}).{how}"
        )
        return self._end_round(verdict, {"explorer": reward}, summary)

    def _penalty(self, similarity: float) -> float:
        return self.similarity_weight * max(0.0, (similarity - 0.5) / 0.5)

    # ------------------------------------------------------------------ the reply contract
    def _answer_marker(self, role: str) -> str | None:
        """The explorer's proposal and the critic's two lines are read whole; a solver's answer is
        marked the way its round's family asks (`langgames.contract`)."""
        if role != "solver" or self._candidate is None:
            return None
        return {
            "deduction": "line:answer",
            "abduction": "line:input",
            "induction": "code",
            "math": "boxed",
        }.get(self._candidate.entry.family)

    # ------------------------------------------------------------------ solvers
    def _statement(self) -> str:
        assert self._candidate is not None
        entry = self._candidate.entry
        if entry.family == "math":
            return f"Question: {entry.question}"
        code = f"```python\n{entry.code.rstrip()}\n```"
        if entry.family == "deduction":
            return (
                f"Here is a Python function:\n{code}\nWhat does "
                f"f({show_value(entry.inputs[0])}) return?"
            )
        if entry.family == "abduction":
            return (
                f"Here is a Python function:\n{code}\nFind an input x, {_kind_text(entry.kind)}, "
                f"such that f(x) == {show_value(entry.outputs[0])}."
            )
        shown = "\n".join(
            f"  f({show_value(x)}) == {show_value(y)}"
            for x, y in zip(
                entry.inputs[: entry.n_shown], entry.outputs[: entry.n_shown], strict=True
            )
        )
        return (
            f"A hidden Python function f(x), where x is {_kind_text(entry.kind)}, gives:\n{shown}"
            f"\nWrite a function f(x) that behaves the same way; it will be run on "
            f"{len(entry.inputs) - entry.n_shown} hidden inputs of the same kind."
        )

    def _answer_format(self) -> str:
        assert self._candidate is not None
        family = self._candidate.entry.family
        if family == "deduction":
            return (
                f"{_SET_ORDER}Give the exact return value as a Python literal (types matter: 1 "
                "is not 1.0 or True, (1, 2) is not [1, 2]) on the last line, as: answer: <value>"
            )
        if family == "abduction":
            return f"{_SET_ORDER}Give x as a Python literal on the last line, as: input: <value>"
        if family == "induction":
            return (
                f"Reply with the code in a fenced block (imports only from "
                f"{', '.join(ALLOWED_IMPORTS)}; no files, no random or time; printing is "
                f"ignored; {_SOLVE_TIMEOUT:g} s for all the tests):\n"
                "```python\ndef f(x):\n    ...\n```"
            )
        return (
            "Give the exact answer (a number, fraction or expression; no rounded decimals) in "
            "\\boxed{...} or on the last line as: answer: <answer>"
        )

    def _solver_prompt(self) -> str:
        return (
            f"Your task: solve this {self._family} problem. Several solvers answer it "
            "independently; none sees another's answer. A correct answer earns 1, a wrong one "
            f"0, an unreadable one {_PENALTY:g}.\n\n{self._statement()}\n\n{self._answer_format()}"
        )

    def _judge_answer(self, action: str) -> Verdict:
        assert self._candidate is not None
        entry = self._candidate.entry
        if entry.family == "math":
            from langgames.verifiers.math import verify_math

            verdict = verify_math(entry.answer, action, timeout=_MATH_TIMEOUT)
            details = {k: v for k, v in verdict.details.items() if k in ("method", "received")}
            return Verdict(verdict.status, verdict.reward, verdict.reason, details)
        if entry.family == "induction":
            return self._judge_program(action, entry)
        line = _ANSWER_PREFIX.sub("", _last_line(action, what="your answer"))
        what = "the answer" if entry.family == "deduction" else "the input"
        value = parse_literal(line, what=what, limit=MAX_LITERAL_CHARS)
        from langgames.verifiers.python import values_equal

        if entry.family == "deduction":
            if values_equal(value, entry.outputs[0]):
                return Verdict.make_correct("the predicted output is f's output")
            return Verdict.make_incorrect(
                "the predicted output is not f's output", received=show_value(value)[:200]
            )
        if not fits(value, entry.kind):
            return Verdict.make_incorrect(
                f"x must be {_kind_text(entry.kind)}; got {show_value(value)[:80]}",
                received=show_value(value)[:200],
            )
        result = self._run_target(entry, value)
        if isinstance(result, Verdict):
            return result
        status, out = result
        shown = show_value(value)[:200]
        if status == "ok":
            if values_equal(out, entry.outputs[0]):
                return Verdict.make_correct("f(x) equals the target output", received=shown)
            return Verdict.make_incorrect(
                f"f(x) returned {show_value(out)[:80]}, not the target output", received=shown
            )
        return Verdict.make_incorrect(f"f(x) raised {str(out)[:200]}", received=shown)

    def _run_target(self, entry: Entry, value: Any) -> tuple[str, Any] | Verdict:
        """The explorer's ``f`` on a solver's input, run under two hash seeds drawn now (the
        same harness and call shape as validation). Two runs that disagree withdraw the problem
        (`_withdrawn`): the explorer pays, no solver is charged."""
        key = canon(value)
        if key in self._judged_inputs:
            return self._judged_inputs[key]
        assert self._candidate is not None
        # Inputs validation already ran (the explorer's own, the probes) were run under three
        # drawn seeds there, through this same harness: their results are reused.
        known = [(entry.inputs[0], ("ok", entry.outputs[0]))]
        known += zip(self._candidate.probe_inputs, self._candidate.probe_cases, strict=True)
        for x, case in known:
            if canon(x) == key:
                self._judged_inputs[key] = case
                return case
        seeds = seed_pool().draw(self.np_random, 2)
        runs = self._validator.run_on(entry.code, [value], seeds, _SOLVE_TIMEOUT)
        shown = show_value(value)[:200]
        if isinstance(runs, Verdict):
            status = runs.status
            if status is Status.VERIFIER_ERROR:
                verdict = Verdict(status, 0.0, runs.reason, {"received": shown})
            else:  # f hangs or blows a limit on the solver's input: the solver's input is bad
                reason = runs.reason.replace("rejected at termination: ", "")
                verdict = Verdict(status, 0.0, f"f(x): {reason}", {"received": shown})
            return verdict
        (first,), (second,) = runs
        if canon(first) != canon(second):
            self._withdrawn = Verdict.make_incorrect(
                "withdrawn: the program gave two different results on a solver's input "
                f"{shown[:80]} in two runs; its answer is not well defined",
                stage="determinism",
                fix="make f a pure function of its input: no set order of strings, addresses "
                "or hashes",
            )
            return self._withdrawn
        self._judged_inputs[key] = first
        return first

    def _judge_program(self, action: str, entry: Entry) -> Verdict:
        blocks = FENCE.findall(action)
        if blocks:
            code = blocks[-1]
        elif "def f" in action:
            code = action
        else:
            raise ParseError(
                "no program found: reply with a fenced block that starts with ```python and "
                "defines def f(x):"
            )
        if len(code) > MAX_CODE_CHARS:
            raise ParseError(
                f"the code is {len(code):,} characters; the limit is {MAX_CODE_CHARS:,}"
            )
        try:
            tree = parse_code(code)
        except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
            if isinstance(exc, ValueError) and "nested" in str(exc):
                raise ParseError(str(exc)) from None
            line = getattr(exc, "lineno", None)
            raise ParseError(
                f"the code does not parse ({type(exc).__name__}"
                + (f" on line {line}" if line else "")
                + "); fix the syntax"
            ) from None
        if not any(isinstance(n, ast.FunctionDef) and n.name == "f" for n in tree.body):
            raise ParseError("the code does not define `f` at top level; write def f(x):")
        refused = circle_policy(solver=True).check(code)
        if refused is not None:
            return refused
        cached = self._judged_programs.get(code)
        if cached is None:  # solvers that send the same program get the same verdict, run once
            cached = self._judged_programs[code] = self._run_solver_program(code, entry)
        return cached

    def _run_solver_program(self, code: str, entry: Entry) -> Verdict:
        from langgames.verifiers.python import RunStatus, values_equal

        tests = list(
            zip(entry.inputs[entry.n_shown :], entry.outputs[entry.n_shown :], strict=True)
        )
        results = run_program(
            sandbox(),
            code,
            [(x,) for x, _ in tests],
            timeout=_SOLVE_TIMEOUT,
            allow_print=True,
        )
        passed = 0
        first_failure = ""
        for (_, y), result in zip(tests, results, strict=True):
            if result.status is RunStatus.OK and values_equal(result.value, y):
                passed += 1
                continue
            if result.status not in (RunStatus.OK, RunStatus.ERROR):
                status = {
                    RunStatus.TIMEOUT: Status.TIMEOUT,
                    RunStatus.RESOURCE_LIMIT: Status.RESOURCE_LIMIT,
                    RunStatus.FORBIDDEN: Status.FORBIDDEN,
                }.get(result.status, Status.VERIFIER_ERROR)
                return Verdict(
                    status,
                    0.0,
                    f"your program: {(result.error or result.status.value)[:200]}",
                    {"cases": len(tests), "passed": passed},
                )
            if not first_failure:
                first_failure = "a hidden test failed" + (
                    f" ({(result.error or '')[:120]})" if result.status is RunStatus.ERROR else ""
                )
        details = {"cases": len(tests), "passed": passed}
        if passed == len(tests):
            return Verdict.make_correct(f"all {len(tests)} hidden tests pass", **details)
        return Verdict.make_incorrect(
            f"{passed} of {len(tests)} hidden tests pass; {first_failure}", **details
        )

    def _solver_done(self, verdict: Verdict, text: str) -> Move:
        if self._withdrawn is not None:
            return self._withdraw()
        correct = None if verdict.status is Status.VERIFIER_ERROR else verdict.correct
        reward = _PENALTY if verdict.failed else (1.0 if correct else 0.0)
        self._answers.append(_Answer(text, verdict, correct))
        if len(self._answers) < self.n_solvers:
            return Move(verdict, {"solver": reward}, next_role="solver")
        eligible = [i for i, a in enumerate(self._answers) if a.correct is not None]
        if not eligible:
            move = self._adjudicate(None, None)
            return replace(move, verdict=verdict, rewards={**move.rewards, "solver": reward})
        self._pick = eligible[int(self.np_random.integers(len(eligible)))]
        return Move(verdict, {"solver": reward}, next_role="critic")

    def _withdraw(self) -> Move:
        """The problem's answer turned out not to be well defined: no solver is charged, the
        explorer pays the rejection penalty, the problem stays out of the library."""
        assert self._withdrawn is not None
        summary = (
            f"Round {self._round + 1} ended: the problem was withdrawn ({self._withdrawn.reason}). "
            f"The explorer earns {_PENALTY:+g}; no solver is charged."
        )
        return self._end_round(self._withdrawn, {"solver": 0.0, "explorer": _PENALTY}, summary)

    # ------------------------------------------------------------------ critic
    def _critic_prompt(self) -> str:
        assert self._pick is not None
        text = self._answers[self._pick].text
        if len(text) > _MAX_SHOWN_ANSWER:
            text = (
                text[:_MAX_SHOWN_ANSWER]
                + f"\n[... {len(text) - _MAX_SHOWN_ANSWER:,} more characters]"
            )
        return (
            "Your task: judge whether one solver's answer to this problem is correct, and say "
            "how sure you are.\n\n"
            f"The problem, as the solvers saw it:\n{self._statement()}\n\n"
            f"{self._answer_format()}\n\n"
            f"One solver's answer:\n<<<\n{text}\n>>>\n\n"
            "Reward: 1 - (p - y)^2, where p is your probability that the answer is correct and "
            "y is 1 if it is verified correct, else 0 (state your true belief). Reply with:\n"
            "correct: yes   (or: correct: no)\n"
            "p: 0.8         (your probability, from 0 to 1, that the answer is correct)\n"
            "or with one line: P(correct) = 0.8"
        )

    def _critique(self, p: float | None, unreadable: Verdict | None = None) -> Move:
        assert self._pick is not None
        truth = bool(self._answers[self._pick].correct)
        if p is None:
            assert unreadable is not None
            return self._adjudicate(unreadable, _PENALTY)
        brier = 1.0 - (p - (1.0 if truth else 0.0)) ** 2
        called = p >= 0.5 if p != 0.5 else None
        status = Status.CORRECT if called is not None and called == truth else Status.INCORRECT
        verdict = Verdict(
            status,
            brier,
            f"the answer was verified {'correct' if truth else 'incorrect'}; you said "
            f"p = {p:.4g}; Brier reward 1 - (p - y)^2 = {brier:.4g}",
            {"p": p, "y": int(truth)},
        )
        return self._adjudicate(verdict, brier)

    # ------------------------------------------------------------------ adjudication
    def _adjudicate(self, verdict: Verdict | None, critic_reward: float | None) -> Move:
        assert self._candidate is not None
        judged = [a.correct for a in self._answers if a.correct is not None]
        solved, n = sum(bool(c) for c in judged), len(judged)
        rate = solved / n if n else None
        learn = 1.0 - rate if rate is not None and 0.0 < rate < 1.0 else 0.0
        penalty = self._penalty(self._candidate.similarity)
        explorer = max(_PENALTY, learn - penalty)
        entry, duplicate = self.library.add_unique(
            replace(self._candidate.entry, solve_rate=rate, n_judged=n)
        )
        if entry is None:  # a shared library admitted the same problem meanwhile (another worker)
            assert duplicate is not None
            explorer = min(explorer, 0.0)
            entry = replace(self._candidate.entry, id=duplicate[0])
        critic = ""
        rewards = {"explorer": explorer}
        if critic_reward is not None and verdict is not None:
            rewards["critic"] = critic_reward
            critic = f" The critic earns {critic_reward:+.4g} ({verdict.reason})."
        summary = (
            f"Round {self._round + 1} adjudicated: the {entry.family} problem, now library "
            f"problem #{entry.id}, was solved by {solved} of {n} solvers; learnability "
            f"{learn:.4g} minus similarity penalty {penalty:.4g}: the explorer earns "
            f"{explorer:+.4g}.{critic}"
        )
        final = verdict if verdict is not None else Verdict.make_accepted("adjudicated")
        return self._end_round(final, rewards, summary)

    def _end_round(self, verdict: Verdict, rewards: dict[str, float], summary: str) -> Move:
        if self._round + 1 < self.rounds:
            self._round += 1
            self._start_round()
            self._notes["explorer"] = summary
            return Move(verdict, rewards, next_role="explorer")
        return Move(verdict, rewards, next_role=None, feedback=summary)


def _describe(entry: Entry) -> str:
    """A library problem as the explorer sees it: in the proposal format, with its outputs."""
    rate = (
        "not yet rated"
        if entry.solve_rate is None
        else f"solve rate {entry.solve_rate:.2f} over {entry.n_judged} solvers"
    )
    head = f"--- library problem #{entry.id} ({entry.family}, {rate}) ---"
    proposal = Proposal(
        entry.family, entry.code, entry.inputs, entry.n_shown, entry.question, entry.answer
    )
    text = render_proposal(proposal)
    if entry.family in ("deduction", "abduction"):
        text += f"\n# f(input) == {show_value(entry.outputs[0])}"
    elif entry.family == "induction":
        text += "\n# outputs: " + show_value(list(entry.outputs))
    return f"{head}\n{text}"


def _parse_critique(action: str) -> float:
    """The critic's probability that the answer is correct; `ParseError` if unreadable."""
    lines = [ln.strip().strip("*`").strip() for ln in action.splitlines() if ln.strip()][-20:]
    call: bool | None = None
    p: float | None = None
    for line in lines:
        match = _CORRECT_LINE.match(line)
        if match:
            call = match[1].lower() in ("yes", "true")
            continue
        match = _P_LINE.match(line)
        if match:
            value = float(match[1]) / (100.0 if match[2] else 1.0)
            if not 0.0 <= value <= 1.0:
                raise ParseError(f"p must be a probability from 0 to 1 (got {line!r})")
            p = value
    if p is None and call is None:
        raise ParseError(
            "no verdict found: end with `correct: yes` or `correct: no`, and `p: <probability "
            "that the answer is correct>` (or one line `P(correct) = 0.8`)"
        )
    if p is None:
        return 1.0 if call else 0.0
    if call is not None and ((call and p < 0.5) or (not call and p > 0.5)):
        raise ParseError(
            f"`correct: {'yes' if call else 'no'}` contradicts p = {p:g}; p is your probability "
            "that the answer is CORRECT (e.g. `correct: no` with `p: 0.1`)"
        )
    return p


def _check_families(families: Iterable[str]) -> tuple[str, ...]:
    if isinstance(families, str) or not isinstance(families, Iterable):
        raise InvalidArgument(
            f"families must be a collection of family names such as ('deduction', 'math') "
            f"(got {families!r}); wrap a single family in a tuple"
        )
    out: list[str] = []
    for name in families:
        if name not in FAMILIES:
            raise InvalidArgument(
                f"unknown family {name!r}.{did_you_mean(str(name), FAMILIES)} The families are: "
                f"{', '.join(FAMILIES)}"
            )
        if name not in out:
            out.append(name)
    if not out:
        raise InvalidArgument(f"families must name at least one of {', '.join(FAMILIES)}")
    return tuple(out)


def _check_int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidArgument(f"{name} must be an int from {low} to {high} (got {value!r})")
    return value
