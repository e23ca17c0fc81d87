"""Counterexample: refute a false claim over a declared domain with one checked counterexample."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from langgames.core import GameInfo, LanguageGame, Move, Opponent
from langgames.envs._exact_answer import final_answer, parse_rational, show_rational, strip_label
from langgames.errors import InvalidArgument, did_you_mean
from langgames.verifiers.verdict import Verdict

__all__ = ["CLAIMS", "Counterexample", "poly_text"]

#: The claim templates, in the order they are drawn from.
CLAIMS = ("prime_values", "product_divisibility", "square_residue", "positive_polynomial")

# Quadratics a*m^2 + b*m + c that are prime for a run of m around 0 (the host finds the run with
# sympy.isprime, see _prime_run): runs of 8-21 primes at level 1, 28-44 at 2, 57-80 at 3.
_PRIME_FORMS = {
    1: ((1, 1, 5), (2, 0, 5), (1, 1, 11), (2, 0, 11)),
    2: ((1, 1, 17), (4, 4, 59), (3, 3, 23)),
    3: ((1, 1, 41), (2, 0, 29), (6, 6, 31)),
}
# level -> (largest shift of the form, fewest values of the run inside the domain, how far past the
# run's first failure the domain may end)
_PRIME_LAYOUT = {1: (60, 6, 12), 2: (150, 15, 12), 3: (300, 50, 12)}
_VARIABLE = re.compile(r"(?i)^[nx]\s*=\s*")
_MAX_TRIES = 500


def poly_text(coeffs: list[int], var: str) -> str:
    """An integer polynomial, highest degree first, as a person writes it.

    >>> poly_text([1, -79, 1601], "n"), poly_text([4, 0, -1, 0], "x"), poly_text([0, 0], "x")
    ('n^2 - 79n + 1601', '4x^3 - x', '0')
    """
    degree = len(coeffs) - 1
    parts: list[str] = []
    for i, c in enumerate(coeffs):
        if c == 0:
            continue
        power = degree - i
        body = "" if power == 0 else var if power == 1 else f"{var}^{power}"
        size = abs(c)
        term = f"{size}{body}" if size != 1 or not body else body
        if not parts:
            parts.append(term if c > 0 else f"-{term}")
        else:
            parts.append(f"{'+' if c > 0 else '-'} {term}")
    return " ".join(parts) or "0"


def _poly_mul(p: list[int], q: list[int]) -> list[int]:
    out = [0] * (len(p) + len(q) - 1)
    for i, a in enumerate(p):
        for j, b in enumerate(q):
            out[i + j] += a * b
    return out


def _poly_value(coeffs: list[int], x: Fraction) -> Fraction:
    value = Fraction(0)
    for c in coeffs:
        value = value * x + c
    return value


def _isprime(n: int) -> bool:
    from sympy import isprime

    return bool(isprime(n))


#: How many uniformly drawn domain values `info["candidate_actions"]` offers.
_N_CANDIDATES = 8


@dataclass(frozen=True)
class _Claim:
    """One false claim over ``lo <= var <= hi``; a counterexample is what ``wanted`` says."""

    name: str
    var: str  # "n" (integers) or "x" (reals)
    lo: int
    hi: int
    statement: str
    wanted: str
    coeffs: tuple[int, ...] = ()  # the polynomial, for prime_values and positive_polynomial
    a: int = 0
    b: int = 0
    m: int = 0
    reference: Fraction = Fraction(0)
    found: tuple[int, ...] = ()  # every integer counterexample in the domain, ascending

    @property
    def integer(self) -> bool:
        return self.var == "n"


class Counterexample(LanguageGame):
    """Refute a false claim over a declared domain by giving one counterexample, checked exactly.

    ## Description
    The game states a claim over a finite range of integers or a closed interval of reals, drawn
    from four templates with random parameters, and says that it is false. Every instance is
    provably false inside its domain (the host finds a counterexample when it builds it):

    - ``prime_values``: "for every integer n with L <= n <= U, f(n) is prime" for a shifted
      prime-rich quadratic f (such as n^2 + n + 41 with n replaced by n - s) whose run of prime
      values ends inside the domain;
    - ``product_divisibility``: "every integer n with L <= n <= U divisible by both a and b is
      divisible by a*b" (false because gcd(a, b) > 1);
    - ``square_residue``: "for every integer n with L <= n <= U, n^2 + a is not divisible by m";
    - ``positive_polynomial``: "for every real x with lo <= x <= hi, p(x) > 0" for a polynomial
      with a narrow dip to or below zero (a quadratic; a cubic at level 3).

    The player answers one number. It is checked exactly: it must lie in the declared domain
    (an integer for integer claims) and violate the claim there (``sympy.isprime`` for
    primality, integer divisibility, exact rational evaluation of p). A number outside the
    domain, or one that satisfies the claim, earns nothing. The domain's end points are never
    counterexamples, so guessing an end point never pays. The reference solver finds a
    counterexample by search: the smallest integer one, or for real claims the first rational
    ``k/den`` of the domain with the smallest denominator. Known weak spot: a ``prime_values``
    run of primes must end inside the domain, so at levels 2-3 a blind guess two places in from
    an end wins about a quarter of those instances (about 8% of a level's instances overall);
    the tests bound every blind rule.

    ## Roles
    ``player`` (single role).

    ## Observation
    The claim, what a counterexample must satisfy, and the answer format.

    ## Action
    A reply whose final answer is in ``\\boxed{...}`` (otherwise its last non-empty line is
    read): one number, optionally written ``n = 40`` / ``x = 7/3``. Integer claims want an
    integer; real claims accept an integer, a fraction ``a/b`` or a finite decimal (read
    exactly, so ``0.333`` is not ``1/3``). Several numbers, words or expressions are unreadable.
    ``info["candidate_actions"]`` offers 8 values drawn uniformly from the domain: a random
    guesser's options, which win at the claim's designed base rate.

    ## Reward
    1.0 for a counterexample inside the domain; 0.0 for a number that satisfies the claim or lies
    outside the domain; -0.1 for an unreadable reply, after which the player may try again.

    ## Episode end
    Terminates after the first readable number; truncates after ``max_turns`` moves (default 3),
    which only unreadable replies can use up.

    ## Arguments
    ``difficulty``: counterexamples get rarer and numbers larger. The share of the domain that
    refutes the claim (what a blind guess in the domain wins) averages about 13% at level 1 (runs
    of 8-21 primes, moduli 6-15, wide dips), 5% at level 2 (runs of 28-44 primes, pairs a, b of
    10-45 over hundreds of values, moduli 20-60, dips narrower than the gaps between integers) and
    2% at level 3 (runs of 57-80 primes such as n^2 + n + 41, pairs of 40-160 over thousands of
    values, prime moduli 101-311, narrow dips of cubics), falling for every template.
    ``claim``: one of ``CLAIMS`` or ``None`` (default) to draw one per instance.

    ## Version History
    * v0: initial version.

    >>> game = Counterexample(difficulty=3)
    >>> obs, info = game.reset(seed=1)
    >>> obs, reward, terminated, truncated, info = game.step(game.reference_action())
    >>> reward, info["verdict"]["status"]
    (1.0, 'correct')
    """

    answer_marker = "boxed"
    game_info = GameInfo(
        name="Counterexample",
        version=0,
        roles=("player",),
        verifiers=("math", "exact"),
        answer_format=(
            "one number alone on the last line or in \\boxed{...}, optionally written `n = 40` "
            "or `x = 7/3`: an integer for claims about integers; an integer, a fraction a/b or a "
            "finite decimal for claims about real numbers"
        ),
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=3,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("number-theory", "proof", "search", "single-turn", "math"),
    )

    def __init__(
        self,
        *,
        claim: str | None = None,
        difficulty: int | None = None,
        max_turns: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        if claim is not None and claim not in CLAIMS:
            raise InvalidArgument(
                f"Counterexample: claim must be one of {CLAIMS} or None (got {claim!r})."
                f"{did_you_mean(str(claim), CLAIMS)}"
            )
        super().__init__(difficulty=difficulty, max_turns=max_turns, render_mode=render_mode)
        self.claim_choice = claim

    # ------------------------------------------------------------------ instances
    def _setup(self) -> str:
        rng = self.np_random
        name = self.claim_choice or CLAIMS[int(rng.integers(len(CLAIMS)))]
        build = {
            "prime_values": self._prime_values,
            "product_divisibility": self._product_divisibility,
            "square_residue": self._square_residue,
            "positive_polynomial": self._positive_polynomial,
        }[name]
        for _ in range(_MAX_TRIES):
            claim = build(self.difficulty)
            if claim is not None:
                self._claim = claim
                # A random guesser's options: values drawn uniformly from the domain, so that
                # the random baseline plays at the claim's designed guessing rate.
                size = claim.hi - claim.lo + 1
                # Listed in random order (sorted, the positions would say where in the domain
                # each value lies); shuffled by their own generator, so instances are unchanged.
                picks = rng.choice(size, size=min(_N_CANDIDATES, size), replace=False)
                order = np.random.default_rng([self._instance_seed or 0, 0xC0DE]).permutation(
                    len(picks)
                )
                self._options = [f"{claim.var} = {claim.lo + int(picks[i])}" for i in order]
                return "player"
        raise RuntimeError(f"Counterexample: no {name} instance after {_MAX_TRIES} draws (a bug)")

    def _int(self, low: int, high: int) -> int:
        """A uniform integer in ``[low, high]``."""
        return int(self.np_random.integers(low, high + 1))

    def _finish(self, claim: _Claim) -> _Claim | None:
        """Keep ``claim`` if it has counterexamples inside and none at the domain's ends."""
        found = tuple(n for n in range(claim.lo, claim.hi + 1) if not self._holds(claim, n)[0])
        if not found or found[0] == claim.lo or found[-1] == claim.hi:
            return None
        return dataclasses.replace(claim, found=found, reference=Fraction(found[0]))

    def _prime_values(self, level: int) -> _Claim | None:
        forms = _PRIME_FORMS[level]
        a, b, c = forms[self._int(0, len(forms) - 1)]
        most_shift, shortest, tail = _PRIME_LAYOUT[level]
        shift = self._int(-most_shift, most_shift)
        # a(n - s)^2 + b(n - s) + c, expanded
        coeffs = [a, b - 2 * a * shift, a * shift * shift - b * shift + c]
        first, last = _prime_run(a, b, c)
        # The run ends inside the domain, which goes on past the run's first failure to a point
        # drawn uniformly among the next `tail` values where f and its inner neighbour are
        # prime: the domain's end is never a counterexample, nor is the value next to it, and
        # the counterexamples sit a varying distance from the end.
        right = self.np_random.random() < 0.5
        if right:
            ends = _prime_pairs(coeffs, shift + last + 1, +1, tail)
        else:
            ends = _prime_pairs(coeffs, shift + first - 1, -1, tail)
        if not ends:
            return None
        end = ends[self._int(0, len(ends) - 1)]
        if right:
            lo, hi = self._int(shift + first, shift + last + 1 - shortest), end
        else:
            lo, hi = end, self._int(shift + first - 1 + shortest, shift + last)
        text = poly_text(coeffs, "n")
        return self._finish(
            _Claim(
                name="prime_values",
                var="n",
                lo=lo,
                hi=hi,
                coeffs=tuple(coeffs),
                statement=f"for every integer n with {lo} <= n <= {hi}, the number {text} "
                "is prime.",
                wanted=f"an integer n with {lo} <= n <= {hi} for which {text} is not a prime "
                "number (0, 1 and negative numbers are not primes)",
            )
        )

    def _product_divisibility(self, level: int) -> _Claim | None:
        low, high, span, start = {
            1: (2, 12, (20, 60), 200),
            2: (10, 45, (150, 400), 400),
            3: (40, 160, (2000, 5000), 20000),
        }[level]
        a, b = self._int(low, high), self._int(low, high)
        if a >= b or math.gcd(a, b) == 1 or (level == 3 and math.lcm(a, b) < 600):
            return None
        lo = self._int(1, start)
        hi = lo + self._int(*span)
        return self._finish(
            _Claim(
                name="product_divisibility",
                var="n",
                lo=lo,
                hi=hi,
                a=a,
                b=b,
                statement=f"every integer n with {lo} <= n <= {hi} that is divisible by both "
                f"{a} and {b} is also divisible by {a * b}.",
                wanted=f"an integer n with {lo} <= n <= {hi} that is divisible by {a} and by "
                f"{b} but not by {a * b}",
            )
        )

    def _square_residue(self, level: int) -> _Claim | None:
        if level == 1:
            m = self._int(6, 15)
            lo = self._int(-100, 200)
            hi = lo + self._int(8, 16)
        else:
            m = self._int(20, 60) if level == 2 else _prime_between(self, 101, 311)
            lo = self._int(0, 100 if level == 2 else 1000)
            hi = lo + self._int(m, 2 * m)
        root = self._int(1, m - 1)
        a = (-root * root) % m + m * self._int(0, 3)
        if a == 0:
            a = m
        return self._finish(
            _Claim(
                name="square_residue",
                var="n",
                lo=lo,
                hi=hi,
                a=a,
                m=m,
                statement=f"for every integer n with {lo} <= n <= {hi}, the number n^2 + {a} "
                f"is not divisible by {m}.",
                wanted=f"an integer n with {lo} <= n <= {hi} for which n^2 + {a} is divisible "
                f"by {m}",
            )
        )

    def _positive_polynomial(self, level: int) -> _Claim | None:
        # p(x) = scale * g(x) * (q x - s)^2 - drop: at x = s/q it is -drop < 0, and it is <= 0
        # only on a narrow interval around s/q.
        if level == 1:
            q, scale, half = self._int(2, 4), 1, self._int(1, 2)
            drop, span = half * half, (8, 14)
        else:
            q, scale, drop = self._int(3, 9), 4, self._int(1, 3)
            span = (8, 20) if level == 2 else (10, 30)
        s = self._int(-40 * q, 40 * q)
        if math.gcd(s, q) != 1:
            return None
        center = Fraction(s, q)  # p(center) = -drop < 0
        length = self._int(*span)
        lo = math.floor(center) - self._int(0, length - 1)
        hi = lo + length
        if not lo < center < hi:
            return None
        square = _poly_mul([q, -s], [q, -s])
        if level == 3:  # times (x - w) with w below the domain, so the factor stays positive
            w = lo - self._int(1, 5)
            square = _poly_mul(square, [1, -w])
        coeffs = [scale * c for c in square]
        coeffs[-1] -= drop
        if _poly_value(coeffs, Fraction(lo)) <= 0 or _poly_value(coeffs, Fraction(hi)) <= 0:
            return None
        text = poly_text(coeffs, "x")
        return _Claim(
            name="positive_polynomial",
            var="x",
            lo=lo,
            hi=hi,
            coeffs=tuple(coeffs),
            reference=_simplest_dip_point(coeffs, lo, hi, q),
            statement=f"for every real number x with {lo} <= x <= {hi}, {text} > 0.",
            wanted=f"a real number x with {lo} <= x <= {hi} for which {text} <= 0, written "
            "exactly (an integer, a fraction a/b or a finite decimal)",
        )

    # ------------------------------------------------------------------ the claim at one point
    def _holds(self, claim: _Claim, value: Fraction | int) -> tuple[bool, str]:
        """Whether the claim's property holds at ``value`` (inside the domain), and why."""
        var = claim.var
        if claim.name == "positive_polynomial":
            p = _poly_value(list(claim.coeffs), Fraction(value))
            shown = show_rational(p)
            at = f"at x = {show_rational(Fraction(value))} the polynomial equals {shown}"
            return p > 0, at + (", which is > 0" if p > 0 else ", which is not > 0")
        n = int(value)
        if claim.name == "prime_values":
            f = int(_poly_value(list(claim.coeffs), Fraction(n)))
            prime = _isprime(f)
            return (
                prime,
                f"at {var} = {n} the number is {f}, which is {'' if prime else 'not '}prime",
            )
        if claim.name == "product_divisibility":
            a, b = claim.a, claim.b
            if n % a or n % b:
                which = a if n % a else b
                return True, f"{n} is not divisible by {which}"
            ok = n % (a * b) == 0
            return ok, f"{n} is divisible by {a} and {b} and {'' if ok else 'not '}by {a * b}"
        value_ = n * n + claim.a
        divisible = value_ % claim.m == 0
        return (
            not divisible,
            f"at {var} = {n}, n^2 + {claim.a} = {value_} is "
            f"{'' if divisible else 'not '}divisible by {claim.m}",
        )

    # ------------------------------------------------------------------ the game
    def _prompt(self, role: str) -> str:
        claim = self._claim
        example = "n = 17" if claim.integer else "x = 7/3"
        return (
            "Counterexample hunt. The following claim is false.\n"
            f"Claim: {claim.statement}\n"
            f"Find a counterexample: {claim.wanted}.\n"
            f"Reply with the counterexample alone on the last line (or in \\boxed{{...}}), e.g. "
            f"`{example}`."
        )

    def _play(self, role: str, action: str) -> Move:
        claim = self._claim
        kind = "an integer" if claim.integer else "an exact number"
        text = strip_label(final_answer(action, what=f"{kind} such as {claim.var} = 17"))
        text = _VARIABLE.sub("", text, count=1).rstrip(".")
        value = parse_rational(text, what=f"the value of {claim.var}")
        shown = show_rational(value)
        details: dict[str, Any] = {"claim": claim.name, "answer": shown}
        domain = f"{claim.lo} <= {claim.var} <= {claim.hi}"
        if claim.integer and value.denominator != 1:
            verdict = Verdict.make_incorrect(
                f"{shown} is not an integer, so it is outside the domain {domain}", **details
            )
        elif not claim.lo <= value <= claim.hi:
            verdict = Verdict.make_incorrect(
                f"{claim.var} = {shown} is outside the domain {domain}", **details
            )
        else:
            holds, why = self._holds(claim, value)
            if holds:
                verdict = Verdict.make_incorrect(f"{why}: the claim holds there", **details)
            else:
                verdict = Verdict.make_correct(f"{why}: a counterexample", **details)
        return Move(verdict, {role: self._reward_for(verdict)}, next_role=None)

    def game_probes(self) -> dict[str, Opponent]:
        def span(env: Any) -> range:
            lo, hi = env.unwrapped.domain
            return range(lo, hi + 1)

        return {
            "the_claims_line": lambda obs, info, env: obs.splitlines()[1],
            "every_number_of_the_domain": lambda obs, info, env: ", ".join(map(str, span(env))),
            "many_boxed_candidates": lambda obs, info, env: " ".join(
                f"\\boxed{{{n}}}" for n in span(env)[:60]
            ),
            "the_lower_end": lambda obs, info, env: str(span(env)[0]),
            "the_upper_end": lambda obs, info, env: str(span(env)[-1]),
            "constant_one_half": lambda obs, info, env: "x = 1/2",
        }

    def _reference(self, role: str) -> str:
        return f"{self._claim.var} = {show_rational(self._claim.reference)}"

    def _candidates(self, role: str) -> list[str]:
        return list(self._options)

    # ------------------------------------------------------------------ measurements
    @property
    def claim_name(self) -> str:
        """The template of the current claim."""
        return self._claim.name

    @property
    def domain(self) -> tuple[int, int]:
        """The current claim's domain ``(low, high)``, both ends included."""
        return self._claim.lo, self._claim.hi

    def counterexample_rate(self) -> float:
        """The share of the domain that refutes the claim: the success rate of a player who
        answers a uniformly random point of the domain without checking it (for real claims,
        measured from the polynomial's real roots)."""
        claim = self._claim
        if claim.integer:
            return len(claim.found) / (claim.hi - claim.lo + 1)
        import numpy as np

        roots = sorted(
            float(r.real)
            for r in np.roots([float(c) for c in claim.coeffs])
            if abs(r.imag) < 1e-9 and claim.lo < r.real < claim.hi
        )
        cuts = [float(claim.lo), *roots, float(claim.hi)]
        below = sum(
            right - left
            for left, right in itertools.pairwise(cuts)
            if _poly_value(list(claim.coeffs), Fraction((left + right) / 2)) <= 0
        )
        return below / (claim.hi - claim.lo)


def _simplest_dip_point(coeffs: list[int], lo: int, hi: int, most: int) -> Fraction:
    """A search: the first x = k/den in [lo, hi] with p(x) <= 0, for den = 1, 2, ..., ``most``
    (p(s/q) < 0 by construction, so den = q at the latest finds one)."""
    for den in range(1, most + 1):
        for num in range(lo * den, hi * den + 1):
            x = Fraction(num, den)
            if _poly_value(coeffs, x) <= 0:
                return x
    raise AssertionError("the dip of a positive_polynomial claim was not found (a bug)")


@functools.cache
def _prime_run(a: int, b: int, c: int) -> tuple[int, int]:
    """The longest run ``first <= m <= last`` around 0 where a*m^2 + b*m + c is prime."""
    first = last = 0
    while _isprime(a * (first - 1) ** 2 + b * (first - 1) + c):
        first -= 1
    while _isprime(a * (last + 1) ** 2 + b * (last + 1) + c):
        last += 1
    return first, last


def _prime_pairs(coeffs: list[int], failure: int, step: int, tail: int) -> list[int]:
    """The n among the ``tail`` values past ``failure`` (walking by ``step``) where the
    polynomial is prime at n and at its neighbour towards ``failure``."""
    prime = [
        _isprime(int(_poly_value(coeffs, Fraction(failure + i * step)))) for i in range(tail + 1)
    ]
    return [failure + i * step for i in range(2, tail + 1) if prime[i] and prime[i - 1]]


def _prime_between(game: Counterexample, low: int, high: int) -> int:
    while True:
        m = game._int(low, high)
        if _isprime(m):
            return m
