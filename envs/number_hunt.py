"""NumberHunt: find a secret integer from "higher"/"lower" answers in as few guesses as possible."""

from __future__ import annotations

import math
import re

import numpy as np

from langgames.core import GameInfo, LanguageGame, Move, ParseError
from langgames.envs._parsing import last_line, parse_int
from langgames.verifiers.verdict import Status, Verdict

__all__ = ["NumberHunt"]

# difficulty -> number of candidate secrets
_RANGE_SIZE = {1: 100, 2: 10_000, 3: 1_000_000}
# The range's lower end is drawn from this interval, so the same secret offset is rarely repeated.
_LOW_SPAN = (-100_000, 100_000)
_ASK = "Reply with your next guess as one integer on the last line, e.g. `guess: 42`."
_GUESS = re.compile(r"(?i)^(?:guess\s*[:=]?\s*)?(?P<n>\S+)$")
# The plain form of a valid guess (``guess: 42``, ``42``), read in one match; the general readers
# (`last_line`, `_GUESS`, `parse_int`) take every other reply, and agree with this on these.
_PLAIN_GUESS = re.compile(r"(?:[Gg][Uu][Ee][Ss][Ss][ \t]*[:=]?[ \t]*)?([+-]?[0-9]{1,40})")


class NumberHunt(LanguageGame):
    """Find a secret integer from "higher"/"lower" answers, in as few guesses as possible.

    ## Description
    The game picks a secret integer in a range ``[low, high]`` that it states. Each turn the player
    guesses; the game answers "higher" (the secret is larger), "lower" (smaller) or ends the
    episode when the guess is right. An optimal player needs at most ``B = ceil(log2(size + 1))``
    guesses (binary search); the score rewards staying within that bound. Scored exactly.

    ## Roles
    ``player`` (single role).

    ## Observation
    The range, the guess budget ``B``, the scoring rule and every earlier guess with its answer,
    followed by the request for the next guess.

    ## Action
    A reply whose last non-empty line is one integer in digits, optionally written ``guess: 42``.
    Earlier lines are ignored (room to reason). Anything else is unparseable: it costs a turn and
    -0.1 reward, and the next observation repeats the format.

    ``candidate_actions()`` (and ``info["candidate_actions"]`` with ``candidates_in_info=True``)
    lists up to five guesses inside the range still possible, in ascending order: its midpoint
    and up to two values on each side. The list encodes the game's state by design, and so it
    reveals the optimal move: its median *is* the binary-search guess. A rule that never reads
    the question, "pick the middle candidate", plays as well as the reference (mean return 0.99
    to 1.0 at every level against the reference's 1.0, and 0.76 to 0.88 for a uniform pick
    among the candidates; measured by `langgames.testing.episode_rule_returns` over 30 evaluation
    seeds). It never reveals the secret: at any one turn every candidate is equally likely to be
    it (`langgames.testing.check_question_blind` finds every rule at chance). Agents that choose
    among these moves learn binary search from the list, not from the feedback.

    ## Reward
    0 for each guess that is not the secret; when the secret is found with the ``k``-th valid
    guess: 1.0 if ``k <= B``, else ``max(0, 1 - (k - B) / B)``. -0.1 for an unreadable move.

    ## Episode end
    Terminates when the secret is guessed; truncates after ``max_turns`` moves (default 42).

    ## Arguments
    ``difficulty``: 1 (100 candidates, B = 7), 2 (10,000, B = 14), 3 (1,000,000, B = 20).
    ``max_turns``: move limit (default 42).

    ## Version History
    * v0: initial version. Later, rewards unchanged: a secret found over the budget is judged
      ``correct`` with the reduced reward, and its reason says so (it was ``incorrect``).

    >>> import gymnasium as gym, langgames
    >>> env = gym.make("langgames/NumberHunt-v0")
    >>> obs, info = env.reset(seed=7)
    >>> info["role"]
    'player'
    >>> obs, reward, terminated, truncated, info = env.step("guess: 1000000")
    >>> info["verdict"]["status"], reward
    ('accepted', 0.0)
    """

    answer_marker = "line:guess"
    game_info = GameInfo(
        name="NumberHunt",
        version=0,
        roles=("player",),
        verifiers=("exact",),
        answer_format="one integer in digits as the last line of your reply, e.g. `guess: 42`",
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=42,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("deduction", "multi-turn", "search"),
    )

    def _setup(self) -> str:
        size = _RANGE_SIZE[self.difficulty]
        self._low = int(self.np_random.integers(*_LOW_SPAN, endpoint=True))
        self._high = self._low + size - 1
        self._secret = int(self.np_random.integers(self._low, self._high, endpoint=True))
        self._budget = math.ceil(math.log2(size + 1))
        self._history: list[tuple[int, str]] = []
        # What an optimal player still considers possible (used by the reference solver only).
        self._lo, self._hi = self._low, self._high
        # The prompt's rules, fixed for the episode, and its list of guesses, grown by `_play`
        # one line at a time (so a step costs the same early and late in an episode).
        self._rules = (
            f"You are playing NumberHunt. I have chosen a secret integer between {self._low} and "
            f"{self._high} inclusive.\n"
            f"Guess it. After each guess I answer 'higher' (the secret is larger) or 'lower' "
            f"(the secret is smaller). Finding it within {self._budget} guesses scores 1.0; each "
            f"guess beyond that costs 1/{self._budget} of the score.\n"
        )
        self._guesses_text = ""
        return "player"

    def _prompt(self, role: str) -> str:
        if self._guesses_text:
            return f"{self._rules}Your guesses so far:{self._guesses_text}\n{_ASK}"
        return self._rules + _ASK

    def _play(self, role: str, action: str) -> Move:
        plain = _PLAIN_GUESS.fullmatch(action)
        if plain is not None:
            guess = int(plain[1])
        else:
            match = _GUESS.match(last_line(action, what="your guess"))
            if match is None:
                raise ParseError("expected one integer such as `guess: 42` on the last line")
            guess = parse_int(match["n"], what="the guess")
        k = len(self._history) + 1
        if guess == self._secret:
            reward = 1.0 if k <= self._budget else max(0.0, 1.0 - (k - self._budget) / self._budget)
            over = k > self._budget
            # Found is found: the status says the secret is right, the reward how late it came.
            verdict = Verdict(
                Status.CORRECT,
                reward,
                f"found the secret {guess} with guess {k}, over the budget of {self._budget} "
                f"guesses (score {reward:.3g})"
                if over
                else f"{guess} is the secret, found with guess {k} (budget {self._budget})",
                {"guesses": k, "budget": self._budget, "found": True, "over_budget": over},
            )
            return Move(verdict, {role: reward}, next_role=None, feedback=verdict.reason + ".")
        answer = "higher" if self._secret > guess else "lower"
        self._history.append((guess, answer))
        self._guesses_text += f"\n  {guess} -> {answer}"
        if answer == "higher":
            self._lo = max(self._lo, guess + 1)
        else:
            self._hi = min(self._hi, guess - 1)
        return Move(
            # (`Verdict.make_accepted`, without its keyword packing: this runs on every guess)
            Verdict(
                Status.ACCEPTED,
                0.0,
                f"{guess}: the secret is {answer}",
                {"guess": guess, "answer": answer},
            ),
            {role: 0.0},
            next_role=role,
            feedback=f"{guess} is not the secret: it is {answer}.",
        )

    def _reference(self, role: str) -> str:
        return f"guess: {(self._lo + self._hi) // 2}"

    def _candidates(self, role: str) -> list[str]:
        """Up to five distinct guesses inside the still-possible range, in ascending order: its
        midpoint (the binary-search move), up to two below it and up to two above it.

        Every candidate is consistent with the answers so far, so picking one at random is a
        random search; picking the midpoint is optimal. A pure function of the state (its generator
        is seeded by the instance seed and the number of guesses), so asking for candidates never
        changes the episode.
        """
        lo, hi = self._lo, self._hi
        mid = (lo + hi) // 2
        rng = np.random.default_rng([self._instance_seed or 0, len(self._history)])
        picks = {mid}
        if mid > lo:
            picks.update(int(n) for n in rng.integers(lo, mid, size=2))
        if hi > mid:
            picks.update(int(n) for n in rng.integers(mid + 1, hi + 1, size=2))
        return [f"guess: {n}" for n in sorted(picks)]
