"""MathQA: questions and gold answers from your own dataset, judged by the safe math verifier."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from langgames.core import GameInfo, Move, ParseError
from langgames.envs._datasets import (
    DataArg,
    DatasetError,
    DatasetGame,
    DatasetSource,
    RowRef,
    check_gold_format,
    extract_gold,
    last_boxed,
    seconds_arg,
)
from langgames.envs._parsing import last_line
from langgames.verifiers.verdict import Status, Verdict

__all__ = ["DEFAULT_TEMPLATE", "MathQA"]

#: The default prompt: ``{examples}`` (few-shot block, may be empty) and ``{question}`` are filled
#: in by plain replacement, so LaTeX braces need no escaping. The base class ends every prompt
#: with the answer instruction of the reply contract (the last ``\boxed{}`` is read).
DEFAULT_TEMPLATE = "{examples}Solve the following problem.\n\nProblem: {question}"
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_MAX_ANSWER_CHARS = 2_000
_SELF_CHECK_TIMEOUT = 30.0


def _reply_answer(action: str) -> str:
    r"""The answer text of a reply: its last ``\boxed{}``, else what the math reader finds.

    Works on a whole reply and on the bare answer the base class may pass (``"42"``).
    """
    text = _THINK.sub("", action.replace("\r\n", "\n").replace("\r", "\n"))
    if "</think>" in text:  # an unclosed opening: what follows the last close is the reply
        text = text.rsplit("</think>", 1)[1]
    boxed = last_boxed(text)
    if boxed is None:
        from langgames.verifiers.math import extract_answer

        boxed = extract_answer(text)
    if boxed is None:
        boxed = last_line(text, what="the final answer in \\boxed{...}")
    boxed = boxed.strip()
    if not boxed:
        raise ParseError("the answer is empty; put the final answer in \\boxed{...}")
    if len(boxed) > _MAX_ANSWER_CHARS:
        raise ParseError(
            f"the answer is {len(boxed):,} characters long; the limit is {_MAX_ANSWER_CHARS:,}"
        )
    return boxed


class MathQA(DatasetGame):
    r"""Answer questions from a dataset (yours, or the shipped sample); the math verifier judges.

    ## Description
    Each episode is one row of a question/answer dataset: GSM8K- or MATH-style files, your own
    JSON Lines or CSV, Parquet, a ``datasets`` object or a Hugging Face dataset already in your
    cache (never downloaded). The gold is read from the answer field: the last ``\boxed{}`` of a
    worked solution, a final ``#### 42`` line, or the bare answer (``gold_format``). The reply's
    final answer is compared with the gold by ``langgames.verifiers.math`` (exact numbers,
    equivalent expressions, sets, intervals...), in a worker process with a deadline. Without
    ``data_files`` or ``dataset`` the game plays a small sample written for langgames
    (``langgames/data/math_qa_sample.jsonl``: 40 evaluation and 12 training problems).

    Seeds: seed ``s`` in `TRAIN_SEEDS` plays training row ``s % n`` of a fixed shuffle, and
    ``EVAL_SEEDS[i]`` evaluation row ``i % n``: the dataset's own splits when it has them
    (``train_split``/``eval_split``), else a held-out ``eval_fraction`` of the rows. ``info["row"]``
    names the row (``{"split": ..., "index": ..., "pool": "train" | "eval"}``; the split is
    ``""`` for data without splits). A row whose gold cannot be read is skipped
    (the seed plays the next row) and reported by ``langgames._dataset_audit``.

    ## Roles
    ``player`` (single role).

    ## Observation
    The prompt template filled with the question, after optional few-shot examples (training
    rows, never evaluation rows).

    ## Action
    A reply whose final answer is its last ``\boxed{...}``; ``<think>`` blocks are ignored. Without
    a box, a "final answer" statement or the last line is read.

    ## Reward
    1.0 when the answer equals the gold; 0.0 when it differs; -0.1 when no answer can be read
    (the player may try again) or checking it times out.

    ## Episode end
    Terminates after the first readable answer; truncates after ``max_turns`` moves (default 3).

    ## Arguments
    ``data_files`` (a path, a list, or ``{split: path}``), ``dataset`` (rows, a ``datasets``
    object, a pandas DataFrame, or the name of a cached Hugging Face dataset, with
    ``dataset_config``), ``question_key`` / ``answer_key`` (default ``question`` / ``answer``),
    ``gold_format`` (``auto``, ``boxed``, ``####``, ``raw`` or a callable), ``train_split``,
    ``eval_split``, ``eval_fraction`` (0.2), ``split_key`` (a column naming each row's split,
    default ``split``), ``level_key`` (default: a ``level`` or ``difficulty`` column),
    ``shuffle_seed``,
    ``few_shot`` (a number of training rows, or a list of example rows), ``prompt_template``
    (with ``{question}`` and optionally ``{examples}``), ``rel_tol`` (for decimal answers) and
    ``check_timeout`` (seconds per answer). ``difficulty``: with a level column, 0 plays every
    row and ``k`` only rows of level ``k``; otherwise the single level 1.

    ## Version History
    * v0: initial version.

    >>> game = MathQA()
    >>> obs, info = game.reset(seed=1_000_000_003)
    >>> info["row"]["split"]
    'test'
    >>> obs, reward, terminated, truncated, info = game.step(game.reference_action())
    >>> reward, info["verdict"]["status"]
    (1.0, 'correct')
    """

    game_info = GameInfo(
        name="MathQA",
        version=0,
        roles=("player",),
        verifiers=("math",),
        answer_format="put the final answer in \\boxed{...}, e.g. \\boxed{42}",
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=3,
        difficulty_levels=(1,),
        default_difficulty=1,
        tags=("math", "dataset", "single-turn", "word-problems"),
    )
    #: The reply contract: the final answer is the reply's last ``\boxed{}``.
    answer_marker: ClassVar[str] = "boxed"

    def __init__(
        self,
        *,
        data_files: DataArg = None,
        dataset: Any = None,
        dataset_config: str | None = None,
        question_key: str = "question",
        answer_key: str = "answer",
        gold_format: str | Callable[[Any], Any] = "auto",
        train_split: str = "train",
        eval_split: str | None = None,
        eval_fraction: float = 0.2,
        split_key: str | None = "split",
        level_key: str | None = "auto",
        shuffle_seed: int = 0,
        few_shot: int | Sequence[Mapping[str, Any]] = 0,
        prompt_template: str | None = None,
        rel_tol: float | None = None,
        check_timeout: float = 5.0,
        difficulty: int | None = None,
        max_turns: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        self.question_key, self.answer_key = question_key, answer_key
        self.gold_format = check_gold_format(gold_format)
        source = DatasetSource(
            game="MathQA",
            data_files=data_files,
            dataset=dataset,
            dataset_config=dataset_config,
            sample="math_qa_sample.jsonl",
            required={question_key: "question_key", answer_key: "answer_key"},
            train_split=train_split,
            eval_split=eval_split,
            eval_fraction=eval_fraction,
            split_key=split_key,
            level_key=level_key,
            shuffle_seed=shuffle_seed,
        )
        self.use_source(source)
        template = DEFAULT_TEMPLATE if prompt_template is None else prompt_template
        if not isinstance(template, str) or "{question}" not in template:
            raise DatasetError(
                "prompt_template must be text containing {question} (and optionally {examples}),"
                f" e.g. 'Q: {{question}}\\nA:' (got {template!r:.80})"
            )
        self.prompt_template = template
        self.few_shot = self._check_few_shot(few_shot)
        self.rel_tol = rel_tol
        self.check_timeout = seconds_arg("check_timeout", check_timeout)
        self._problems: dict[RowRef, str | None] = {}  # row -> why it cannot be played (or None)
        self._answers: dict[RowRef, str] = {}  # row -> the answer the reference gives
        self._examples_text: str | None = None
        super().__init__(difficulty=difficulty, max_turns=max_turns, render_mode=render_mode)
        self._gold = ""
        self._question = ""

    # ------------------------------------------------------------------ rows
    @staticmethod
    def _check_few_shot(few_shot: Any) -> int | list[Mapping[str, Any]]:
        if isinstance(few_shot, int) and not isinstance(few_shot, bool) and 0 <= few_shot <= 64:
            return few_shot
        if (
            isinstance(few_shot, Sequence)
            and not isinstance(few_shot, str)
            and all(isinstance(e, Mapping) for e in few_shot)
        ):
            return list(few_shot)
        raise DatasetError(
            "few_shot must be a number of training rows to show (0 to 64) or a list of example "
            f"rows with the question and answer fields (got {few_shot!r:.80})"
        )

    def gold_of(self, ref: RowRef) -> str | None:
        """The gold answer of a row, or ``None`` when none can be found in its answer field."""
        return extract_gold(self.source.field(ref, self.answer_key), self.gold_format)

    def question_of(self, ref: RowRef) -> str | None:
        text = self.source.field(ref, self.question_key)
        return text.strip() if isinstance(text, str) and text.strip() else None

    def row_problem(self, ref: RowRef) -> str | None:
        """Why row ``ref`` cannot be played (``None`` if it can). Cached."""
        if ref not in self._problems:
            self._problems[ref] = self._diagnose(ref)
        return self._problems[ref]

    def _diagnose(self, ref: RowRef) -> str | None:
        from langgames.errors import InvalidArgument
        from langgames.verifiers.math import verify_math

        if self.question_of(ref) is None:
            return f"the {self.question_key!r} field is missing, empty or not text"
        gold = self.gold_of(ref)
        if gold is None:
            value = self.source.field(ref, self.answer_key)
            return f"no gold answer found in the {self.answer_key!r} field ({str(value)[:60]!r})"

        def check(answer: str) -> Verdict:
            return verify_math(
                gold, f"\\boxed{{{answer}}}", timeout=_SELF_CHECK_TIMEOUT, rel_tol=self.rel_tol
            )

        try:
            verdict = check(gold)
            if not verdict.correct:
                # A gold written as something to compute (an integral, a sum...) is not its own
                # answer: try its value as the checker shows it.
                shown = check("0").details.get("expected")
                if isinstance(shown, str) and shown != gold and check(shown).correct:
                    self._answers[ref] = shown
                    return None
        except InvalidArgument as err:
            return f"the gold {gold[:60]!r} cannot be read: {str(err)[:160]}"
        if not verdict.correct:
            return f"the gold {gold[:60]!r} does not verify against itself: {verdict.reason[:120]}"
        self._answers[ref] = gold
        return None

    def _examples(self) -> str:
        if self._examples_text is None:
            if isinstance(self.few_shot, list):
                rows = [(e.get(self.question_key), e.get(self.answer_key)) for e in self.few_shot]
            else:
                rows = []
                for ref in self.source.order(False, 0):
                    if len(rows) >= self.few_shot:
                        break
                    if self.row_problem(ref) is None:
                        rows.append(
                            (self.question_of(ref), self.source.field(ref, self.answer_key))
                        )
            blocks = [self._example(str(q).strip(), a) for q, a in rows]
            self._examples_text = "".join(f"{b}\n\n" for b in blocks if b)
        return self._examples_text

    def _example(self, question: str, answer: Any) -> str:
        gold = extract_gold(answer, self.gold_format)
        if gold is None or not question:
            return ""
        solution = answer if isinstance(answer, str) else gold
        if last_boxed(solution) is None:
            lines = [ln for ln in solution.replace("\r\n", "\n").split("\n")
                     if not ln.strip().startswith("####")]  # fmt: skip
            body = "\n".join(lines).strip()
            solution = (
                f"{body}\nThe final answer is \\boxed{{{gold}}}."
                if body and body != gold
                else f"\\boxed{{{gold}}}"
            )
        return f"Example problem: {question}\nExample solution: {solution.strip()}"

    # ------------------------------------------------------------------ hooks
    def _setup(self) -> str:
        ref = self.pick_row()
        self._gold = self.gold_of(ref) or ""
        self._question = self.question_of(ref) or ""
        return "player"

    def _prompt(self, role: str) -> str:
        return self.prompt_template.replace("{examples}", self._examples()).replace(
            "{question}", self._question
        )

    def _play(self, role: str, action: str) -> Move:
        from langgames.verifiers.math import verify_math

        answer = _reply_answer(action)
        verdict = verify_math(self._gold, answer, timeout=self.check_timeout, rel_tol=self.rel_tol)
        if verdict.status in (Status.UNPARSEABLE, Status.RESOURCE_LIMIT):
            raise ParseError(f"{verdict.reason}; put the final answer in \\boxed{{...}}")
        return Move(verdict, {role: self._reward_for(verdict)}, next_role=None)

    def _reference(self, role: str) -> str:
        assert self._row is not None
        return f"\\boxed{{{self._answers.get(self._row, self._gold)}}}"

    # ------------------------------------------------------------------ dataset audit
    def dataset_rows(self) -> list[dict[str, Any]]:
        """Every row as ``{"row", "pool", "level", "question", "gold", "problem"}`` (for audits)."""
        out = []
        for pool, ref in self.pool_refs():
            out.append(
                {
                    "row": ref.as_dict(),
                    "pool": pool,
                    "level": self.source.level(ref),
                    "question": self.question_of(ref) or "",
                    "gold": self.gold_of(ref),
                    "problem": self.row_problem(ref),
                }
            )
        return out
