"""BaseConvert: rewrite a numeral from one base in another, checked exactly."""

from __future__ import annotations

import re

import numpy as np

from langgames.core import GameInfo, LanguageGame, Move, ParseError
from langgames.envs._parsing import last_line
from langgames.verifiers.verdict import Verdict

__all__ = ["BaseConvert", "to_base"]

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_NUMERAL = re.compile(r"[0-9a-z]{1,200}")
# difficulty -> (source bases, target bases, exclusive upper bound of the value)
_LEVELS: dict[int, tuple[tuple[int, ...], tuple[int, ...], int]] = {
    1: ((10,), (2, 8, 16), 256),
    2: (tuple(range(2, 17)), tuple(range(2, 17)), 65_536),
    3: (tuple(range(2, 37)), tuple(range(2, 37)), 10**12),
}


def to_base(value: int, base: int) -> str:
    """``value`` (>= 0) written in ``base`` with digits 0-9a-z.

    >>> to_base(255, 16), to_base(0, 2), to_base(35, 36)
    ('ff', '0', 'z')
    """
    if value == 0:
        return "0"
    out = []
    while value:
        value, digit = divmod(value, base)
        out.append(_DIGITS[digit])
    return "".join(reversed(out))


class BaseConvert(LanguageGame):
    """Rewrite a numeral from one base in another, checked exactly.

    ## Description
    The game shows a non-negative integer written in a source base and asks for the same number
    in a target base. Digits above 9 are the letters a-z (a = 10 ... z = 35). The answer is read as
    a numeral in the target base and compared exactly with the value (leading zeros and letter case
    do not matter; any other difference is wrong).

    ## Roles
    ``player`` (single role).

    ## Observation
    The numeral, its base, the target base and the answer format.

    ## Action
    A reply whose last non-empty line is the numeral in the target base alone (no ``0x``-style
    prefix, no spaces), optionally in backticks. Earlier lines are ignored.

    ## Reward
    1.0 if the value is right, 0.0 if it is wrong, -0.1 for an unreadable reply (wrong digits for
    the base, several words, nothing at all), after which the player may try again.

    ## Episode end
    Terminates after the first readable answer; truncates after ``max_turns`` moves (default 3),
    which only unreadable replies can use up.

    ## Arguments
    ``difficulty``: 1 (base 10 to base 2, 8 or 16, values below 256), 2 (bases 2-16, values below
    65,536), 3 (bases 2-36, values below 10^12).

    ## Version History
    * v0: initial version.

    >>> import gymnasium as gym, langgames
    >>> env = gym.make("langgames/BaseConvert-v0")
    >>> obs, info = env.reset(seed=3)
    >>> obs, reward, terminated, truncated, info = env.step(env.unwrapped.reference_action())
    >>> reward, terminated, info["verdict"]["status"]
    (1.0, True, 'correct')
    """

    answer_marker = "boxed"
    game_info = GameInfo(
        name="BaseConvert",
        version=0,
        roles=("player",),
        verifiers=("exact",),
        answer_format=(
            "the numeral in the target base in \\boxed{...} (or alone on the last line), digits "
            "0-9 then letters a-z, no prefix and no spaces (e.g. \\boxed{1f4})"
        ),
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=3,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("arithmetic", "single-turn", "exact"),
    )

    def _setup(self) -> str:
        sources, targets, bound = _LEVELS[self.difficulty]
        rng = self.np_random
        self._source = int(rng.choice(sources))
        self._target = int(rng.choice([b for b in targets if b != self._source]))
        self._value = int(rng.integers(1, bound))
        return "player"

    def _prompt(self, role: str) -> str:
        return (
            f"Convert the base-{self._source} numeral `{to_base(self._value, self._source)}` to "
            f"base {self._target}.\n"
            "Digits above 9 are written as lowercase letters (a = 10, b = 11, ..., z = 35).\n"
            f"Reply with the base-{self._target} numeral in \\boxed{{...}}, e.g. \\boxed{{1f4}}: "
            "no prefix such as 0x or 0b, no spaces."
        )

    def _play(self, role: str, action: str) -> Move:
        line = last_line(action, what=f"the base-{self._target} numeral")
        numeral = line.lower()
        if not _NUMERAL.fullmatch(numeral):
            shown = line if len(line) <= 40 else line[:40] + "..."
            raise ParseError(
                f"expected only the digits 0-9 and letters a-z on the last line, got {shown!r}"
            )
        bad = sorted({c for c in numeral if _DIGITS.index(c) >= self._target})
        if bad:
            raise ParseError(
                f"{', '.join(repr(c) for c in bad)} "
                f"{'is not a digit' if len(bad) == 1 else 'are not digits'} "
                f"in base {self._target} (its digits are {_DIGITS[: self._target]})"
            )
        if int(numeral, self._target) == self._value:
            verdict = Verdict.make_correct("the numeral has the right value")
        else:
            verdict = Verdict.make_incorrect(
                f"{numeral} (base {self._target}) is not the value of the given numeral"
            )
        return Move(verdict, {role: self._reward_for(verdict)}, next_role=None)

    def _reference(self, role: str) -> str:
        return to_base(self._value, self._target)

    def _candidates(self, role: str) -> list[str]:
        """Six numerals in the target base, shuffled: the right one and five near misses.

        The near misses are slips of one another (off by one, off by one in the second or third
        digit: ``+-1``, ``+-base``, ``+-base^2``), and the right answer is a uniformly random
        member of that cluster, never its centre: a shape of six values is grown by repeated
        slips, anchored at one of its members chosen uniformly, and the value is put at that
        anchor (counting modulo the level's range of values, so no shape is cut at its ends).
        Since the value is uniform over the range, every member of a list is equally likely to
        be the right one whatever the list looks like: a rule that reads the list but not the
        question (the candidate with most neighbours, the median, the longest...) wins 1/6 of the
        time, like a blind pick; `langgames.testing.check_question_blind` measures it. A pure
        function of the instance (its generator is seeded by the instance seed).
        """
        value, target = self._value, self._target
        rng = np.random.default_rng([self._instance_seed or 0, 0xBA5E])
        size = _LEVELS[self.difficulty][2] - 1  # values are uniform on 1..size: a cycle
        steps = [s for s in (1, target, target * target) if 2 * s < size]
        shape = [0]
        while len(shape) < 6:
            step = steps[int(rng.integers(len(steps)))] * int(rng.choice([-1, 1]))
            point = (shape[int(rng.integers(len(shape)))] + step) % size
            if point not in shape:
                shape.append(point)
        anchor = shape[int(rng.integers(len(shape)))]
        values = [1 + (value - 1 + point - anchor) % size for point in shape]
        return [to_base(values[int(i)], target) for i in rng.permutation(len(values))]
