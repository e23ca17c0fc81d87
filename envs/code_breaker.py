"""CodeBreaker: find a hidden code of letters from exact "exact / misplaced" feedback."""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from langgames.core import GameInfo, LanguageGame, Move, ParseError
from langgames.envs._parsing import last_line
from langgames.verifiers.verdict import Status, Verdict

__all__ = ["CodeBreaker", "score_guess"]


@dataclass(frozen=True)
class _Level:
    """One difficulty: code length, alphabet size, guess budget and the reference's first guess.

    ``budget`` is the worst case of the reference strategy over *every* secret code of the level,
    computed exactly by walking its whole decision tree (`_strategy_depths`): 5, 7 and 9 guesses.
    Levels 1 and 2 are re-proved by the tests (about 10 s); level 3 (531,441 codes, a few
    minutes) by the same test when ``LANGGAMES_PROVE_BUDGETS=1`` is set.
    """

    length: int
    letters: int
    budget: int
    opening: tuple[int, ...]

    @property
    def size(self) -> int:
        return self.letters**self.length


_LEVELS = {
    1: _Level(4, 6, 5, (0, 0, 1, 1)),  # the classic game: 1,296 codes (Knuth's 5 guesses)
    2: _Level(5, 8, 7, (0, 0, 1, 1, 2)),  # 32,768 codes
    3: _Level(6, 9, 9, (0, 0, 1, 1, 2, 2)),  # 531,441 codes
}
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_MAX_TURNS = 24  # every level: 2 * budget guesses (where the score reaches 0) plus spare moves

# The reference's search limits (see `_choose`). They bound a move's cost at the hardest level
# to a few tens of milliseconds, and they are part of the strategy whose budget was proved.
_MAX_CONSISTENT = 512  # consistent codes tried as the next guess (evenly spaced when more)
_MAX_TARGETS = 1024  # consistent codes each tried guess is scored against
_EXTRA_GUESSES = 2048  # also try inconsistent codes (all, or this many evenly spaced) ...
_EXTRA_WHEN = 512  # ... once at most this many codes remain

_GUESS_LINE = re.compile(r"(?i)^(?:guess\s*[:=]?\s*)?(?P<code>[a-z][a-z ,]*)$")
_GUESS_START = re.compile(r"(?i)^\W{0,3}guess\s*[:=]")
_MAX_LINE = 200


def score_guess(secret: tuple[int, ...], guess: tuple[int, ...]) -> tuple[int, int]:
    """``(exact, misplaced)`` for ``guess`` against ``secret``: Mastermind's feedback.

    ``exact`` counts positions holding the same symbol; ``misplaced`` counts the other symbols of
    the guess that occur in the secret elsewhere, each symbol of the secret matched at most once.

    >>> score_guess((0, 0, 1, 2), (0, 1, 0, 0))
    (1, 2)
    """
    exact = sum(s == g for s, g in zip(secret, guess, strict=True))
    common = sum((Counter(secret) & Counter(guess)).values())
    return exact, common - exact


@functools.lru_cache(maxsize=4)
def _table(length: int, letters: int) -> tuple[np.ndarray, np.ndarray]:
    """Every code of the level in lexicographic order, as symbols (N, L) and counts (N, A)."""
    index = np.arange(letters**length, dtype=np.int64)
    codes = np.empty((index.size, length), dtype=np.int8)
    for j in range(length):
        codes[:, j] = (index // letters ** (length - 1 - j)) % letters
    counts = np.zeros((index.size, letters), dtype=np.int8)
    for j in range(length):
        counts[index, codes[:, j].astype(np.int64)] += 1
    codes.flags.writeable = False
    counts.flags.writeable = False
    return codes, counts


def _feedback_against(level: _Level, rows: np.ndarray, guess: int) -> np.ndarray:
    """Feedback ``exact * (L + 1) + misplaced`` of code ``guess`` against each code in ``rows``."""
    codes, counts = _table(level.length, level.letters)
    exact = (codes[rows] == codes[guess]).sum(axis=1, dtype=np.int64)
    common = np.minimum(counts[rows], counts[guess]).sum(axis=1, dtype=np.int64)
    return exact * (level.length + 1) + (common - exact)


def _pair_feedback(level: _Level, guesses: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Feedback of every guess against every target: an int64 array (guesses, targets)."""
    codes, counts = _table(level.length, level.letters)
    shape = (guesses.size, targets.size)
    exact = np.zeros(shape, dtype=np.int8)
    g_codes, t_codes = codes[guesses].T.copy(), codes[targets].T.copy()
    for j in range(level.length):
        exact += g_codes[j][:, None] == t_codes[j][None, :]
    common = np.zeros(shape, dtype=np.int8)
    g_counts, t_counts = counts[guesses].T.copy(), counts[targets].T.copy()
    for a in range(level.letters):
        common += np.minimum(g_counts[a][:, None], t_counts[a][None, :])
    return exact.astype(np.int64) * (level.length + 1) + (common - exact)


def _spaced(values: np.ndarray, limit: int) -> np.ndarray:
    """``values`` itself, or ``limit`` of them evenly spaced (deterministic, no randomness)."""
    if values.size <= limit:
        return values
    return values[np.linspace(0, values.size - 1, limit).astype(np.int64)]


def _choose(level: _Level, consistent: np.ndarray) -> int:
    """The reference's next guess, a function of the consistent codes alone (ascending indices).

    Minimax (Knuth): among candidate guesses, take the one whose worst feedback leaves the fewest
    codes; ties go to a guess that could be the secret, then to more distinct feedbacks, then to
    the smaller index. Candidates are the consistent codes (at most `_MAX_CONSISTENT`, evenly
    spaced), plus inconsistent ones once few codes remain; partitions are measured on at most
    `_MAX_TARGETS` consistent codes.
    """
    n = consistent.size
    if n == level.size:
        return _code_index(level, level.opening)
    if n <= 2:
        return int(consistent[0])
    guesses = _spaced(consistent, _MAX_CONSISTENT)
    n_consistent = guesses.size
    if n <= _EXTRA_WHEN:
        every = np.arange(level.size, dtype=np.int64)
        guesses = np.concatenate([guesses, _spaced(every, _EXTRA_GUESSES)])
    targets = _spaced(consistent, _MAX_TARGETS)
    n_feedbacks = (level.length + 1) ** 2
    feedback = _pair_feedback(level, guesses, targets)
    feedback += (np.arange(guesses.size, dtype=np.int64) * n_feedbacks)[:, None]
    histogram = np.bincount(feedback.ravel(), minlength=guesses.size * n_feedbacks)
    histogram = histogram.reshape(guesses.size, n_feedbacks)
    inconsistent = np.zeros(guesses.size, dtype=np.int64)
    inconsistent[n_consistent:] = ~np.isin(guesses[n_consistent:], consistent)
    key = histogram.max(axis=1) * 100_000 + inconsistent * 1_000 - (histogram > 0).sum(axis=1)
    return int(guesses[int(np.argmin(key))])


def _code_index(level: _Level, code: tuple[int, ...]) -> int:
    index = 0
    for symbol in code:
        index = index * level.letters + symbol
    return index


def _strategy_depths(difficulty: int) -> np.ndarray:
    """The number of guesses the reference needs for every secret of a level (exhaustive).

    The reference's guess depends only on the set of codes consistent with the feedback so far,
    so its whole decision tree can be walked by splitting the code set by feedback; each code's
    depth is the guess that finds it. ``max()`` of the result is the level's proved budget.
    """
    level = _LEVELS[difficulty]
    win = level.length * (level.length + 1)
    depths = np.zeros(level.size, dtype=np.int16)
    stack: list[tuple[np.ndarray, int]] = [(np.arange(level.size, dtype=np.int64), 1)]
    while stack:
        consistent, depth = stack.pop()
        guess = _choose(level, consistent)
        feedback = _feedback_against(level, consistent, guess)
        order = np.argsort(feedback, kind="stable")
        ordered = feedback[order]
        cuts = np.flatnonzero(np.diff(ordered)) + 1
        for part, first in zip(
            np.split(consistent[order], cuts), ordered[np.r_[0, cuts]], strict=True
        ):
            if first == win:
                depths[part] = depth
            else:
                stack.append((part, depth + 1))
    return depths


class CodeBreaker(LanguageGame):
    """Find a hidden code of letters from exact "exact / misplaced" feedback (Mastermind).

    ## Description
    The game picks a secret code of ``L`` letters from an alphabet of ``A`` letters (letters may
    repeat). Each turn the player guesses a code and the game answers exactly, as in Mastermind:
    ``exact`` is the number of positions holding the right letter, ``misplaced`` the number of
    other letters of the guess that occur in the code at another position (each letter of the
    code is matched at most once). The alphabet is ``A`` letters drawn from A-Z for each episode,
    so instances differ in surface as well as in secret. Every level has a budget ``B``: the worst
    case, over every secret of the level, of the reference solver, proved by walking its whole
    decision tree. Scored exactly.

    ## Roles
    ``player`` (single role).

    ## Observation
    The code length, the alphabet, the feedback rule, the budget and scoring rule, every earlier
    guess with its feedback, then the request for the next guess.

    ## Action
    A reply whose last non-empty line is the guess: ``L`` letters of the alphabet, separated by
    spaces or commas or not at all, optionally after ``guess:`` (``guess: A D F K``); letter case
    does not matter. Earlier lines are ignored (room to reason), except that a reply with more than
    one line starting with ``guess:`` is ambiguous and unreadable. An unreadable reply costs a turn
    and -0.1, is not counted as a guess, and the next observation says how to fix it.
    ``info["candidate_actions"]`` lists a few legal guesses (some consistent with the feedback so
    far, some random) for agents that choose among moves.

    ## Reward
    0 for each guess that is not the code; when the code is found with the ``k``-th readable
    guess: 1.0 if ``k <= B``, else ``max(0, 1 - (k - B) / B)``. -0.1 for an unreadable reply.
    Finding the code is always judged ``correct``; over the budget the verdict says so (its reason,
    and ``details["over_budget"]``) and carries the reduced reward.

    ## Episode end
    Terminates when the code is guessed; truncates after ``max_turns`` moves (default 24).

    ## Arguments
    ``difficulty``: 1 (4 letters from 6: 1,296 codes, B = 5), 2 (5 letters from 8: 32,768
    codes, B = 7), 3 (6 letters from 9: 531,441 codes, B = 9).
    ``max_turns``: move limit (default 24).

    ## Version History
    * v0: initial version. Later, rewards unchanged: a code found over the budget is judged
      ``correct`` with the reduced reward (it was ``incorrect``), and its reason says so.

    >>> env = CodeBreaker()
    >>> obs, info = env.reset(seed=3)
    >>> obs, reward, terminated, truncated, info = env.step(env.reference_action())
    >>> info["verdict"]["status"], reward
    ('accepted', 0.0)
    """

    answer_marker = "line:guess"
    game_info = GameInfo(
        name="CodeBreaker",
        version=0,
        roles=("player",),
        verifiers=("exact",),
        answer_format=(
            "your guess as the last line of your reply: `guess:` then one letter of the alphabet "
            "per position, separated by spaces (e.g. `guess: A D F K`), and no other line "
            "starting with `guess:`"
        ),
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=_MAX_TURNS,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("deduction", "multi-turn", "search", "mastermind"),
    )

    def _setup(self) -> str:
        level = self._level = _LEVELS[self.difficulty]
        rng = self.np_random
        picked = rng.choice(len(_LETTERS), size=level.letters, replace=False)
        self._alphabet = "".join(sorted(_LETTERS[int(i)] for i in picked))
        self._secret_index = int(rng.integers(level.size))
        codes, _ = _table(level.length, level.letters)
        self._secret = tuple(int(s) for s in codes[self._secret_index])
        self._candidate_seed = int(rng.integers(2**63))
        self._history: list[tuple[tuple[int, ...], int, int]] = []
        # The codes still consistent with every answer (ascending indices into the level's table).
        self._consistent = np.arange(level.size, dtype=np.int64)
        return "player"

    # ------------------------------------------------------------------ text
    def _show(self, code: tuple[int, ...]) -> str:
        return " ".join(self._alphabet[s] for s in code)

    def _prompt(self, role: str) -> str:
        level = self._level
        letters = ", ".join(self._alphabet)
        example = " ".join(self._alphabet[: level.length])
        lines = [
            f"You are playing CodeBreaker. I have chosen a secret code of {level.length} letters; "
            f"each letter is one of {letters}, and letters may repeat.",
            "After each guess I answer with two numbers: exact = how many positions of your guess "
            "hold the right letter; misplaced = how many other letters of your guess occur in the "
            "code at a different position (each letter of the code is matched at most once).",
            f"Find the code within {level.budget} guesses to score 1.0; each guess beyond that "
            f"costs 1/{level.budget} of the score.",
        ]
        if self._history:
            lines.append("Your guesses so far:")
            lines.extend(
                f"  {i}. {self._show(code)} -> exact {exact}, misplaced {misplaced}"
                for i, (code, exact, misplaced) in enumerate(self._history, 1)
            )
        lines.append(
            f"Reply with your next guess on the last line of your reply: `guess:` then "
            f"{level.length} letters separated by spaces, e.g. `guess: {example}`."
        )
        return "\n".join(lines)

    # ------------------------------------------------------------------ moves
    def _read_guess(self, action: str) -> tuple[int, ...]:
        level = self._level
        line = last_line(action, what="your guess")
        # A reply listing several guesses (say, every candidate) is ambiguous, not a free pick.
        n_guesses = sum(
            _GUESS_START.match(s.lstrip()[:40]) is not None for s in action.splitlines()
        )
        if n_guesses > 1:
            raise ParseError(
                f"the reply has {n_guesses} lines starting with `guess:`; write exactly one "
                "guess, as the last line"
            )
        shown = line if len(line) <= 60 else line[:60] + "..."
        match = _GUESS_LINE.match(line) if len(line) <= _MAX_LINE else None
        if match is None:
            raise ParseError(
                f"expected `guess:` followed by {level.length} letters on the last line, got "
                f"{shown!r}"
            )
        symbols = [c.upper() for c in match["code"] if c.isalpha()]
        if len(symbols) != level.length:
            raise ParseError(
                f"the code has {level.length} letters, but the guess {shown!r} has {len(symbols)}"
            )
        bad = sorted({c for c in symbols if c not in self._alphabet})
        if bad:
            raise ParseError(
                f"{', '.join(bad)} {'is' if len(bad) == 1 else 'are'} not in the alphabet; "
                f"use only the letters {', '.join(self._alphabet)}"
            )
        return tuple(self._alphabet.index(c) for c in symbols)

    def _play(self, role: str, action: str) -> Move:
        level = self._level
        guess = self._read_guess(action)
        k = len(self._history) + 1
        shown = self._show(guess)
        if guess == self._secret:
            budget = level.budget
            reward = 1.0 if k <= budget else max(0.0, 1.0 - (k - budget) / budget)
            over = k > budget
            details = {
                "guess": shown,
                "guesses": k,
                "budget": budget,
                "found": True,
                "over_budget": over,
            }
            # Found is found: the status says the code is right, the reward how late it came.
            verdict = Verdict(
                Status.CORRECT,
                reward,
                f"found the code {shown} with guess {k}, over the budget of {budget} guesses "
                f"(score {reward:.3g})"
                if over
                else f"{shown} is the code, found with guess {k} (budget {budget})",
                details,
            )
            return Move(verdict, {role: reward}, next_role=None, feedback=verdict.reason + ".")
        exact, misplaced = score_guess(self._secret, guess)
        self._history.append((guess, exact, misplaced))
        index = _code_index(level, guess)
        observed = exact * (level.length + 1) + misplaced
        kept = _feedback_against(level, self._consistent, index) == observed
        self._consistent = self._consistent[kept]
        reason = f"{shown}: exact {exact}, misplaced {misplaced}"
        return Move(
            Verdict.make_accepted(reason, guess=shown, exact=exact, misplaced=misplaced),
            {role: 0.0},
            next_role=role,
            feedback=f"Guess {k}, {reason}. It is not the code.",
        )

    def _reference(self, role: str) -> str:
        codes, _ = _table(self._level.length, self._level.letters)
        choice = _choose(self._level, self._consistent)
        return f"guess: {self._show(tuple(int(s) for s in codes[choice]))}"

    def _candidates(self, role: str) -> list[str]:
        """Two codes consistent with the answers so far and four random codes, shuffled.

        A pure function of the state (its generator is seeded by the instance and the number of
        guesses), so asking for candidates never changes the episode.
        """
        rng = np.random.default_rng([self._candidate_seed, len(self._history)])
        consistent = self._consistent
        picks = consistent[rng.choice(consistent.size, size=min(2, consistent.size), replace=False)]
        random = rng.integers(self._level.size, size=4)
        codes, _ = _table(self._level.length, self._level.letters)
        unique = list(dict.fromkeys(int(i) for i in np.concatenate([picks, random])))
        order = rng.permutation(len(unique))
        return [f"guess: {self._show(tuple(int(s) for s in codes[unique[int(i)]]))}" for i in order]
