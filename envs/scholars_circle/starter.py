"""The starter set of ScholarsCircle: problems written for this project, one library to begin with.

Every problem here passes the same validation pipeline as an explorer's proposal (a test runs
each one through it, in the sandbox, against the library without it). The programs are our own
source, so `starter_entries` fingerprints them by running them in this process (no sandbox
start-up at construction); the same test checks those fingerprints equal the sandbox's.

A math problem is a question and the program that computes its answer (as an explorer's must
be); the answer its program computes and that answer's canonical SymPy form
(``str(parse_math(answer))``) are precomputed here so that building the starter library runs no
sandbox and imports no SymPy; the test checks both.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any

from langgames.envs.scholars_circle.core import code_fingerprint, kind_of, probes
from langgames.envs.scholars_circle.library import Entry
from langgames.envs.scholars_circle.validate import (
    behaviour_of,
    common_kind,
    output_kind,
    run_trusted,
)

__all__ = ["STARTER", "StarterProblem", "starter_entries"]


@dataclass(frozen=True)
class StarterProblem:
    family: str
    code: str = ""
    inputs: tuple[Any, ...] = ()
    n_shown: int = 0
    question: str = ""
    answer: str = ""
    canonical: str = ""  # str(parse_math(answer)), for math


def _p(family: str, code: str, *inputs: Any, shown: int = 0) -> StarterProblem:
    return StarterProblem(family, code.strip() + "\n", tuple(inputs), shown or len(inputs))


def _m(question: str, code: str, answer: str, canonical: str) -> StarterProblem:
    return StarterProblem(
        "math", code.strip() + "\n", question=question, answer=answer, canonical=canonical
    )


STARTER: tuple[StarterProblem, ...] = (
    # ---- deduction: predict f(input) ------------------------------------------------------
    _p("deduction", """
def f(x):
    out = []
    total = 0
    for v in x:
        total += v
        out.append(total)
    return out
""", [3, -1, 4, 1, 5]),
    _p("deduction", """
def f(x):
    out = ''
    for c in x:
        if 'a' <= c <= 'z':
            out += chr((ord(c) - ord('a') + 3) % 26 + ord('a'))
        else:
            out += c
    return out
""", "zebra crossing"),
    _p("deduction", """
def f(x):
    steps = 0
    n = abs(x) + 1
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps
""", 6),
    _p("deduction", """
def f(x):
    values = sorted(set(x))
    return values[-2] if len(values) > 1 else None
""", [4, 9, 2, 9, 7]),
    _p("deduction", """
def f(x):
    out = []
    i = 0
    while i < len(x):
        j = i
        while j < len(x) and x[j] == x[i]:
            j += 1
        out.append(x[i] + str(j - i))
        i = j
    return ''.join(out)
""", "aaabccdd"),
    _p("deduction", """
def f(x):
    n = abs(x)
    while n >= 10:
        n = sum(int(d) for d in str(n))
    return n * 10 + len(str(abs(x)))
""", 98765),
    _p("deduction", """
def f(x):
    counts = {}
    for word in x:
        key = word[:1]
        counts[key] = counts.get(key, 0) + 1
    return counts
""", ["apple", "avocado", "banana", "blueberry", "cherry"]),
    _p("deduction", """
def f(x):
    xs, k = x
    pairs = 0
    for i in range(len(xs)):
        for j in range(i + 1, len(xs)):
            if xs[i] + xs[j] == k:
                pairs += 1
    return pairs
""", ([1, 5, 3, 3, 7, -1], 6)),
    _p("deduction", """
def f(x):
    ordered = sorted(x)
    return ordered[::2] + ordered[1::2][::-1]
""", [8, 3, 5, 1, 9, 2]),
    _p("deduction", """
def f(x):
    kept = [c for c in x if c.lower() not in 'aeiou']
    return ''.join(reversed(kept))
""", "Programming puzzles"),
    _p("deduction", """
def f(x):
    a, b = abs(x[0]), abs(x[1])
    steps = 0
    while b:
        a, b = b, a % b
        steps += 1
    return (a, steps)
""", (84, 36)),
    _p("deduction", """
def f(x):
    best = 0
    run = 0
    for i, v in enumerate(x):
        run = run + 1 if i and v > x[i - 1] else 1
        best = max(best, run)
    return best * 100 + len(x)
""", [5, 1, 2, 3, 0, 4, 6, 7, 8, 2]),
    _p("deduction", """
def f(x):
    counts = {}
    for c in x:
        if c.isalpha():
            counts[c] = counts.get(c, 0) + 1
    if not counts:
        return ''
    top = max(counts.values())
    return min(c for c in counts if counts[c] == top) + str(top)
""", "mississippi river"),
    _p("deduction", """
import itertools

def f(x):
    return [a * b for a, b in itertools.combinations(x, 2) if (a + b) % 3 == 0]
""", [1, 2, 4, 5, 8]),
    # ---- abduction: find an input that gives the output ------------------------------------
    _p("abduction", """
def f(x):
    return (x * 7 + 3) % 50
""", 21),
    _p("abduction", """
def f(x):
    return ''.join(sorted(x.lower())) + str(len(x) % 3)
""", "Maple"),
    _p("abduction", """
def f(x):
    return sum(v * v for v in x) - len(x)
""", [1, 2, 5]),
    _p("abduction", """
def f(x):
    return x * x - 6 * x + 8
""", 11),
    _p("abduction", """
def f(x):
    return x[::-1].upper() + '!'
""", "hello"),
    _p("abduction", """
def f(x):
    return [v % 4 for v in x if v > 0]
""", [7, -2, 10, 5, 12]),
    _p("abduction", """
def f(x):
    a, b = x
    return a * b - a + b
""", (6, 4)),
    _p("abduction", """
def f(x):
    return tuple(x.lower().count(v) for v in 'aeiou')
""", "education is key"),
    _p("abduction", """
def f(x):
    n = abs(x)
    return sum(1 for d in range(1, n + 1) if n % d == 0) if n < 5000 else -1
""", 48),
    _p("abduction", """
def f(x):
    return max(x) - min(x) + len(x) if x else -1
""", [4, 11, 6]),
    _p("abduction", """
def f(x):
    return ' '.join(w[:1].upper() + w[1:] for w in x if w)
""", ["the", "big", "world"]),
    _p("abduction", """
def f(x):
    return int(str(abs(x))[::-1]) + x
""", 47),
    # ---- induction: infer the hidden rule from examples ------------------------------------
    _p("induction", """
def f(x):
    return x * 3 - 2
""", 1, 4, 10, -3, 0, 7, 25, -8, 12, shown=3),
    _p("induction", """
def f(x):
    return x.swapcase()
""", "Hello", "abc", "XyZ", "Python", "aBcD", "Q", "mixed Case", "UPPER", shown=3),
    _p("induction", """
def f(x):
    return [2 * v for v in x if v % 2 == 0]
""", [1, 2, 3, 4], [6], [5, 7], [0, 8, 3], [10, 11, 12], [2, 2], [9, -4, 4], [1], shown=3),
    _p("induction", """
def f(x):
    return sorted(set(x), reverse=True)
""", [3, 1, 3], [5], [2, 9, 4, 9], [1, 1, 1, 2], [7, 3, 5], [0, -1, 0], [8, 6, 8, 6],
       [4, 2], shown=3),
    _p("induction", """
def f(x):
    return x[-1] + x[1:-1] + x[0] if len(x) > 1 else x
""", "hello", "ab", "python", "x", "stone", "kayak", "data", "mirror", shown=3),
    _p("induction", """
def f(x):
    return x * (x + 1) // 2 if x >= 0 else 0
""", 3, 5, 1, 10, 0, 7, -4, 20, shown=3),
    _p("induction", """
def f(x):
    return [b - a for a, b in zip(x, x[1:])]
""", [1, 4, 9], [5, 5], [2, 8, 3, 7], [10], [0, 1, 3, 6], [9, 7, 5], [1, -1, 1],
       [3, 3, 4, 4], shown=3),
    _p("induction", """
def f(x):
    return len(x.split()) * 10 + len(x)
""", "one two", "hello", "a b c", "the quick fox", "", "lorem ipsum dolor", "x y",
       "single", shown=3),
    _p("induction", """
def f(x):
    a, b = x
    return abs(a - b) + min(a, b)
""", (3, 8), (10, 2), (5, 5), (0, 7), (-3, 4), (12, 9), (6, -6), (1, 100), shown=3),
    _p("induction", """
def f(x):
    return sorted(x, key=lambda w: (len(w), w))
""", ["pear", "fig", "apple"], ["bb", "a", "ccc"], ["kiwi", "date"], ["melon", "lime", "plum"],
       ["x", "yy", "x"], ["grape", "apple", "banana"], ["c", "b", "a"], ["aa", "b", "ab"],
       shown=3),
    _p("induction", """
def f(x):
    return x // 2 if x % 2 == 0 else 3 * x + 1
""", 6, 7, 1, 10, 3, 16, 9, 0, -5, shown=3),
    _p("induction", """
def f(x):
    return ''.join(c for i, c in enumerate(x) if i % 2 == 0)
""", "abcdef", "hello", "xy", "python", "a", "racecar", "abcdefgh", "mississippi", shown=3),
    # ---- math: a question and the program that computes its answer --------------------------
    _m("Compute 3/4 + 5/6 and give the result as a reduced fraction.", """
from fractions import Fraction

def f():
    return Fraction(3, 4) + Fraction(5, 6)
""", "19/12", "19/12"),
    _m("Solve for x: 3x + 7 = 25. Give x as an integer.", """
from fractions import Fraction

def equation():
    return '3x + 7 = 25'

def f():
    a, b, c = 3, 7, 25
    return {Fraction(c - b, a)}
""", "6", "6"),
    _m("What is the derivative of x^3 - 4x evaluated at x = 2? Give the answer as an integer.",
       """
def f():
    coeffs = {3: 1, 1: -4}
    x = 2
    return sum(c * p * x ** (p - 1) for p, c in coeffs.items())
""", "8", "8"),
    _m("Compute the definite integral of 2x + 1 from x = 0 to x = 3. Give the answer as an "
       "integer.", """
from fractions import Fraction

def f():
    coeffs = {1: 2, 0: 1}
    antiderivative = lambda x: sum(Fraction(c, p + 1) * x ** (p + 1) for p, c in coeffs.items())
    return antiderivative(3) - antiderivative(0)
""", "12", "12"),
    _m("How many positive divisors does 360 have? Give the answer as an integer.", """
def f():
    n = 360
    return sum(1 for d in range(1, n + 1) if n % d == 0)
""", "24", "24"),
    _m("What is the sum of the first 20 positive odd integers? Give the answer as an integer.", """
def f():
    return sum(2 * k - 1 for k in range(1, 21))
""", "400", "400"),
    _m("Simplify (x^2 - 9)/(x - 3) for x not equal to 3, and write it in standard form.", """
def f():
    # divide x^2 + 0x - 9 by x - 3 (synthetic division by the root 3)
    coeffs, root = [1, 0, -9], 3
    quotient = [coeffs[0]]
    for c in coeffs[1:]:
        quotient.append(c + quotient[-1] * root)
    remainder = quotient.pop()
    assert remainder == 0
    a, b = quotient
    return f"{a if a != 1 else ''}x + {b}"
""", "x + 3", "x + 3"),
    _m("What is the least common multiple of 12, 18 and 30? Give the answer as an integer.", """
import math

def f():
    out = 1
    for n in (12, 18, 30):
        out = out * n // math.gcd(out, n)
    return out
""", "180", "180"),
    _m("Find the remainder when 5^6 is divided by 13. Give the answer as an integer.", """
def f():
    return pow(5, 6, 13)
""", "12", "12"),
    _m("Expand (x + 2)^3 and write the polynomial in standard form.", """
import math

def f():
    a, n = 2, 3
    terms = []
    for k in range(n + 1):
        c, p = math.comb(n, k) * a ** k, n - k
        coeff = '' if c == 1 and p else str(c)
        var = '' if p == 0 else ('x' if p == 1 else f'x^{p}')
        terms.append(coeff + var)
    return ' + '.join(terms)
""", "x^3 + 6x^2 + 12x + 8", "x**3 + 6*x**2 + 12*x + 8"),
    _m("A rectangle has perimeter 30 and one side of length 9. What is its area? Give the answer "
       "as an integer.", """
def f():
    other = 30 // 2 - 9
    return 9 * other
""", "54", "54"),
    _m("What is 15% of 240? Give the answer as an integer.", """
from fractions import Fraction

def f():
    return Fraction(15, 100) * 240
""", "36", "36"),
)  # fmt: skip


@functools.lru_cache(maxsize=1)
def starter_entries() -> tuple[Any, ...]:
    """The starter problems as library entries (ids 0: the library numbers them)."""
    out = []
    for p in STARTER:
        if p.family == "math":
            entry = Entry.for_math(p.question, p.answer, p.canonical, source="starter")
            out.append(replace(entry, code=p.code))
            continue
        kind = common_kind(list(p.inputs)) or kind_of(p.inputs[0]) or ""
        fp = code_fingerprint(p.code)
        cases = run_trusted(p.code, [*p.inputs, *probes(kind)])
        declared, probe_cases = cases[: len(p.inputs)], cases[len(p.inputs) :]
        behaviour, behaviour_hash = behaviour_of(kind, probe_cases)
        out.append(
            Entry.for_program(
                p.family,
                kind,
                p.code,
                p.inputs,
                p.n_shown,
                tuple(v for _, v in declared),
                fp,
                behaviour=behaviour,
                behaviour_hash=behaviour_hash,
                out_kind=output_kind(probe_cases),
                source="starter",
            )
        )
    return tuple(out)
