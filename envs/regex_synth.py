"""RegexSynth: write a regular expression that accepts the positive strings and rejects the rest."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from langgames.core import GameInfo, LanguageGame, Move, ParseError
from langgames.envs._regex_worker import default_judge
from langgames.verifiers.verdict import Verdict

__all__ = ["MAX_PATTERN", "RegexSynth"]

#: Longest pattern the game runs, in characters. A concept's shortest pattern is well under 40;
#: an alternation of every shown positive fits too, but the hidden strings reject it.
MAX_PATTERN = 120
#: Seconds the matcher may take for one whole judgement (every string of the episode).
DEADLINE = 2.0

_DIGITS = "0123456789"


@dataclass(frozen=True)
class _Concept:
    pattern: str  # our own pattern (no nested quantifiers: safe to run in the host)
    sample: Callable[[np.random.Generator], str]  # draws one positive string
    alphabet: str  # characters negatives are drawn from


def _word(rng: np.random.Generator, alphabet: str, low: int, high: int) -> str:
    n = int(rng.integers(low, high + 1))
    return "".join(alphabet[int(i)] for i in rng.integers(0, len(alphabet), size=n))


def _cls(chars: str) -> str:
    return "[" + "".join(sorted(chars)) + "]"


def _letters(rng: np.random.Generator, n: int) -> str:
    pool = "abcdehkmnprstuxyz"
    return "".join(sorted(pool[int(i)] for i in rng.permutation(len(pool))[:n]))


# Concept families by level: each draws its parameters and returns a _Concept.
def _prefix(rng: np.random.Generator) -> _Concept:
    a = _letters(rng, 3)
    p = _word(rng, a, 1, 2)
    return _Concept(f"{p}{_cls(a)}*", lambda r: p + _word(r, a, 0, 6), a + _letters(rng, 1))


def _suffix(rng: np.random.Generator) -> _Concept:
    a = _letters(rng, 3)
    s = _word(rng, a, 2, 2)
    return _Concept(f"{_cls(a)}*{s}", lambda r: _word(r, a, 0, 6) + s, a)


def _contains(rng: np.random.Generator) -> _Concept:
    a = _letters(rng, 3)
    w = _word(rng, a, 2, 2)
    c = _cls(a)
    return _Concept(f"{c}*{w}{c}*", lambda r: _word(r, a, 0, 3) + w + _word(r, a, 0, 3), a)


def _length_range(rng: np.random.Generator) -> _Concept:
    a = _letters(rng, 2)
    lo = int(rng.integers(2, 4))
    hi = lo + int(rng.integers(1, 3))
    extra = _letters(rng, 1) if rng.random() < 0.5 else "0"
    return _Concept(f"{_cls(a)}{{{lo},{hi}}}", lambda r: _word(r, a, lo, hi), a + extra)


def _letters_digits(rng: np.random.Generator) -> _Concept:
    a = _letters(rng, 3)
    k = int(rng.integers(1, 4))
    return _Concept(
        f"{_cls(a)}+[0-9]{{{k}}}",
        lambda r: _word(r, a, 1, 5) + _word(r, _DIGITS, k, k),
        a + "0123",
    )


def _units(rng: np.random.Generator) -> _Concept:
    a = _letters(rng, 3)
    u1 = _word(rng, a, 2, 2)
    u2 = _word(rng, a, 2, 2)
    while u2 == u1 or u2[0] == u1[0]:
        u2 = _word(rng, a, 2, 2)
    return _Concept(
        f"(?:{u1}|{u2})+",
        lambda r: "".join((u1, u2)[int(i)] for i in r.integers(0, 2, size=int(r.integers(1, 6)))),
        a,
    )


def _prefix_suffix(rng: np.random.Generator) -> _Concept:
    a = _letters(rng, 3)
    p, s = _word(rng, a, 1, 1), _word(rng, a, 1, 2)
    return _Concept(f"{p}{_cls(a)}*{s}", lambda r: p + _word(r, a, 0, 6) + s, a)


def _dashed(rng: np.random.Generator) -> _Concept:
    a = _letters(rng, 2)
    c = _cls(a)

    def sample(r: np.random.Generator) -> str:
        return "-".join(_word(r, a, 1, 3) for _ in range(int(r.integers(1, 4))))

    return _Concept(f"{c}+(?:-{c}+)*", sample, a + "-")


def _exactly_two(rng: np.random.Generator) -> _Concept:
    a = _letters(rng, 3)
    c, rest = a[0], a[1:]
    b = _cls(rest)

    def sample(r: np.random.Generator) -> str:
        return _word(r, rest, 0, 3) + c + _word(r, rest, 0, 3) + c + _word(r, rest, 0, 3)

    return _Concept(f"{b}*{c}{b}*{c}{b}*", sample, a)


def _no_double(rng: np.random.Generator) -> _Concept:
    a = _letters(rng, 3)
    c, rest = a[0], a[1:]
    b = _cls(rest)

    def sample(r: np.random.Generator) -> str:
        text = _word(r, a, 3, 9)
        while c + c in text:
            text = text.replace(c + c, c + rest[int(r.integers(len(rest)))], 1)
        return text

    return _Concept(f"{b}*(?:{c}{b}+)*{c}?", sample, a)


def _kth_from_end(rng: np.random.Generator) -> _Concept:
    a = _letters(rng, 2)
    c = a[int(rng.integers(2))]
    k = int(rng.integers(1, 3))
    cls = _cls(a)
    return _Concept(
        f"{cls}*{c}{cls}{{{k}}}", lambda r: _word(r, a, 0, 5) + c + _word(r, a, k, k), a
    )


def _even_length(rng: np.random.Generator) -> _Concept:
    a = _letters(rng, 2)
    cls = _cls(a)
    return _Concept(
        f"(?:{cls}{cls})+",
        lambda r: _even(r, a),
        a,
    )


def _even(r: np.random.Generator, a: str) -> str:
    n = 2 * int(r.integers(1, 5))
    return _word(r, a, n, n)


_FAMILIES: dict[int, tuple[Callable[[np.random.Generator], _Concept], ...]] = {
    1: (_prefix, _suffix, _contains, _length_range),
    2: (_letters_digits, _units, _prefix_suffix, _dashed),
    3: (_exactly_two, _no_double, _kth_from_end, _even_length),
}
# (shown positives, shown negatives, hidden positives, hidden negatives) per level.
_COUNTS = {1: (6, 6, 16, 16), 2: (7, 7, 20, 20), 3: (8, 8, 24, 24)}
_REGEX_LINE = re.compile(r"(?i)^[\W_]{0,3}regex[*_`]{0,3}[ \t]{0,4}[:=][ \t]?(?P<pattern>.*)$")


def _mutate(rng: np.random.Generator, text: str, alphabet: str) -> str:
    """One random edit of ``text``: insert, delete or replace a character."""
    kind = int(rng.integers(3)) if text else 0
    i = int(rng.integers(len(text) + (kind == 0))) if text or kind == 0 else 0
    char = alphabet[int(rng.integers(len(alphabet)))]
    if kind == 0:
        return text[:i] + char + text[i:]
    if kind == 1:
        return text[:i] + text[i + 1 :]
    return text[:i] + char + text[i + 1 :]


def parse_pattern(text: str) -> str:
    """The pattern on a ``regex: <pattern>`` line (one pair of backticks around it is removed).

    >>> parse_pattern("regex: `a+b`")
    'a+b'
    """
    line = ""
    for candidate in reversed(text.splitlines()):
        if candidate.strip():
            line = candidate.strip()
            break
    match = _REGEX_LINE.match(line[:1000])
    if match is None:
        shown = line[:60] + ("..." if len(line) > 60 else "")
        raise ParseError(f"expected a last line `regex: <pattern>`, got {shown!r}")
    pattern = match["pattern"].strip()
    if len(pattern) >= 2 and pattern[0] == pattern[-1] == "`":
        pattern = pattern[1:-1].strip()
    if not pattern:
        raise ParseError("the pattern after `regex:` is empty")
    if len(pattern) > MAX_PATTERN:
        raise ParseError(
            f"the pattern is {len(pattern):,} characters long; the limit is {MAX_PATTERN} (a "
            "list of the shown strings would not generalise anyway)"
        )
    return pattern


class RegexSynth(LanguageGame):
    """Write a regular expression that accepts the positive strings and rejects the negatives.

    ## Description
    The game draws a regular language from a family (a prefix, a suffix, a substring, a length
    range; letters then digits, repeated units, dashed words; exactly two of a letter, no letter
    twice in a row, the k-th letter from the end, even length) with random letters and
    parameters, then samples strings from it (positives) and near misses and random strings
    outside it (negatives). The prompt shows some of each; as many again and more are hidden.
    The player's pattern is judged with Python's ``re.fullmatch`` (the whole string must match)
    on every shown and hidden string; it earns the reward only if it classifies all of them
    correctly. Hidden positives are all different from the shown ones, so an alternation of the
    shown positives (or any memorised list) fails, and ``.*`` accepts the negatives.

    Untrusted patterns never run in the host: they are matched in a separate worker process
    (standard library only, 512 MB address space) with a 2 s deadline per judgement; a worker
    that overruns is killed (its whole process group) and replaced, and the move is judged
    ``timeout``. So catastrophic backtracking (``(a+)+$``) cannot stall the host. Patterns are
    limited to 120 characters.

    ## Roles
    ``player`` (single role).

    ## Observation
    The shown positive and negative strings, the rules and the answer format.

    ## Action
    A reply whose last line is ``regex: <pattern>`` (Python ``re`` syntax; one pair of
    backticks around the pattern is removed). Only the last line is read.

    ## Reward
    1.0 if the pattern fully matches every positive and no negative, shown and hidden; 0.0 if it
    misclassifies any (the reason names one), or if matching times out or exhausts memory;
    -0.1 for an unreadable reply, a pattern that does not compile or one longer than 120
    characters, after which the player may try again.

    ## Episode end
    Terminates after the first pattern that compiles; truncates after ``max_turns`` moves
    (default 3), which only unreadable replies can use up.

    ## Arguments
    ``difficulty``: 1 (prefix, suffix, substring, length range over 2-3 letters; 6+6 shown,
    16+16 hidden), 2 (letters then digits, repeated two-letter units, prefix and suffix, dashed
    words; 7+7 shown, 20+20 hidden), 3 (exactly two of a letter, no letter twice in a row, the
    k-th letter from the end, even length; 8+8 shown, 24+24 hidden).

    ## Version History
    * v0: initial version.

    >>> game = RegexSynth(difficulty=2)
    >>> obs, info = game.reset(seed=1)
    >>> obs, reward, terminated, truncated, info = game.step(game.reference_action())
    >>> reward, info["verdict"]["status"]
    (1.0, 'correct')
    """

    answer_marker = "line:regex"
    game_info = GameInfo(
        name="RegexSynth",
        version=0,
        roles=("player",),
        verifiers=("regex",),
        answer_format=(
            "a last line `regex: <pattern>` in Python re syntax, at most 120 characters, e.g. "
            "`regex: ab[cd]*`; it must fully match every positive string and no negative one"
        ),
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=3,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("regex", "induction", "strings", "single-turn", "exact"),
    )

    # ------------------------------------------------------------------ instance
    def _setup(self) -> str:
        rng = self.np_random
        n_pos, n_neg, h_pos, h_neg = _COUNTS[self.difficulty]
        families = _FAMILIES[self.difficulty]
        while True:
            concept = families[int(rng.integers(len(families)))](rng)
            target = re.compile(concept.pattern)
            positives: list[str] = []
            for _ in range(400):
                s = concept.sample(rng)
                if s not in positives and target.fullmatch(s):
                    positives.append(s)
                if len(positives) == n_pos + h_pos:
                    break
            if len(positives) < n_pos + h_pos:
                continue  # too small a language for this many distinct strings
            negatives: list[str] = []
            for k in range(2000):
                if k % 2 == 0:
                    base = positives[int(rng.integers(len(positives)))]
                    s = _mutate(rng, base, concept.alphabet)
                    if rng.random() < 0.3:
                        s = _mutate(rng, s, concept.alphabet)
                else:
                    s = _word(rng, concept.alphabet, 1, 8)
                if s and s not in negatives and not target.fullmatch(s):
                    negatives.append(s)
                if len(negatives) == n_neg + h_neg:
                    break
            if len(negatives) < n_neg + h_neg:
                continue
            self._pattern = concept.pattern
            self._shown_pos = sorted(positives[:n_pos], key=lambda s: (len(s), s))
            self._shown_neg = sorted(negatives[:n_neg], key=lambda s: (len(s), s))
            self._hidden_pos = positives[n_pos:]
            self._hidden_neg = negatives[n_neg:]
            return "player"

    def _prompt(self, role: str) -> str:
        pos = "\n".join(f"  {s}" for s in self._shown_pos)
        neg = "\n".join(f"  {s}" for s in self._shown_neg)
        return (
            "Regex synthesis. Find a regular expression that matches every string of a hidden "
            "language and no string outside it.\n"
            f"Strings in the language (positives):\n{pos}\n"
            f"Strings not in the language (negatives):\n{neg}\n"
            "Your pattern is checked with Python's re.fullmatch (the whole string must match) on "
            f"these strings and on {len(self._hidden_pos)} hidden positives and "
            f"{len(self._hidden_neg)} hidden negatives drawn the same way; the hidden positives "
            "differ from the shown ones, so describe the language, do not list the examples. "
            f"Every string must be classified correctly. At most {MAX_PATTERN} characters.\n"
            "Reply with the pattern on the last line: `regex: <pattern>`, e.g. `regex: ab[cd]*`."
        )

    # ------------------------------------------------------------------ judging
    def _play(self, role: str, action: str) -> Move:
        pattern = parse_pattern(action)
        strings = self._shown_pos + self._shown_neg + self._hidden_pos + self._hidden_neg
        result = default_judge().classify(pattern, strings, deadline=DEADLINE)
        details = {"pattern": pattern}
        if result.status == "invalid":
            raise ParseError(f"the pattern does not compile in Python's re: {result.reason}")
        if result.status == "timeout":
            return Move(Verdict.make_timeout(result.reason, **details), {role: 0.0})
        if result.status == "resource_limit":
            return Move(Verdict.make_resource_limit(result.reason, **details), {role: 0.0})
        if result.status != "ok":
            raise RuntimeError(f"the regex worker failed: {result.reason}")
        n1, n2, n3 = (
            len(self._shown_pos),
            len(self._shown_pos) + len(self._shown_neg),
            len(self._shown_pos) + len(self._shown_neg) + len(self._hidden_pos),
        )
        groups = [
            ("shown positive", strings[:n1], result.matches[:n1], True),
            ("shown negative", strings[n1:n2], result.matches[n1:n2], False),
            ("hidden positive", strings[n2:n3], result.matches[n2:n3], True),
            ("hidden negative", strings[n3:], result.matches[n3:], False),
        ]
        wrong = {name: [s for s, m in zip(ss, ms, strict=True) if m != want]
                 for name, ss, ms, want in groups}  # fmt: skip
        counts = {name.replace(" ", "_") + "_wrong": len(v) for name, v in wrong.items()}
        for name, missed in wrong.items():
            if missed:
                does = "does not match" if name.endswith("positive") else "matches"
                total = sum(len(v) for v in wrong.values())
                verdict = Verdict.make_incorrect(
                    f"the pattern {does} the {name} {missed[0]!r} ({total} of {len(strings)} "
                    "strings misclassified)",
                    **details,
                    **counts,
                )
                return Move(verdict, {role: 0.0})
        verdict = Verdict.make_correct(
            f"the pattern classifies all {len(strings)} shown and hidden strings correctly",
            **details,
        )
        return Move(verdict, {role: 1.0})

    def _reference(self, role: str) -> str:
        return f"regex: {self._pattern}"
