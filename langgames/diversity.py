"""Diversity of a set of texts: the one definition of each metric, for audits and monitors.

The audit measures how diverse a game's *prompts* are (coverage, on its card); `CoverageTracker`
and `CoverageMonitor` measure how diverse a policy's *actions* are (collapse). Both use these
functions, so "distinct-2" means the same thing on a card and in a training log.

Tokens are whitespace-separated words. A text with no words counts as the one token ``<empty>``,
and a text shorter than ``n`` tokens is padded with ``</s>`` to one n-gram, so that a constant
one-word reply repeated ``k`` times has ``distinct_n == 1/k`` (it is not "fully diverse" for want of
bigrams).
"""

from __future__ import annotations

import gzip
import math
from collections import Counter
from collections.abc import Iterable, Sequence

__all__ = [
    "compression_ratio",
    "distinct_n",
    "duplicate_rate",
    "entropy_bits",
    "ngrams",
    "vendi_score",
]


def ngrams(text: str, n: int) -> list[tuple[str, ...]]:
    """Word n-grams of ``text`` (see the module docstring for empty and short texts).

    >>> ngrams("a b c", 2)
    [('a', 'b'), ('b', 'c')]
    >>> ngrams("", 2)
    [('<empty>', '</s>')]
    """
    tokens = text.split() or ["<empty>"]
    if len(tokens) < n:
        tokens = tokens + ["</s>"] * (n - len(tokens))
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def distinct_n(texts: Iterable[str], n: int) -> float:
    """Distinct word n-grams / all word n-grams over ``texts`` (1.0 for no texts).

    >>> distinct_n(["a b", "a b"], 1)
    0.5
    >>> distinct_n(["42"] * 4, 2)
    0.25
    """
    grams = [g for t in texts for g in ngrams(t, n)]
    return len(set(grams)) / len(grams) if grams else 1.0


def compression_ratio(texts: Iterable[str]) -> float:
    """Raw bytes / gzip bytes of ``texts`` joined by newlines (deterministic: ``mtime=0``).

    High means repetitive. 1.0 for no text.
    """
    raw = "\n".join(texts).encode("utf-8")
    if not raw:
        return 1.0
    return len(raw) / len(gzip.compress(raw, compresslevel=9, mtime=0))


def duplicate_rate(texts: Sequence[str]) -> float:
    """``1 - distinct texts / texts`` (0.0 for no texts).

    >>> duplicate_rate(["a", "a", "b", "c"])
    0.25
    """
    return 1 - len(set(texts)) / len(texts) if texts else 0.0


def entropy_bits(counts: Counter[str]) -> float:
    """Shannon entropy, in bits, of the distribution ``counts`` describes.

    >>> entropy_bits(Counter({"a": 2, "b": 2}))
    1.0
    """
    total = sum(counts.values())
    return -sum((c / total) * math.log2(c / total) for c in counts.values() if c) if total else 0.0


def vendi_score(texts: Sequence[str], n_max: int = 3) -> float:
    """The Vendi score of ``texts`` with a cosine kernel over word 1..``n_max``-gram counts.

    The effective number of distinct texts: 1.0 for copies of one text, ``k`` for ``k`` texts
    with no n-gram in common.

    >>> round(vendi_score(["a b c", "a b c"]), 6), round(vendi_score(["a", "b"]), 6)
    (1.0, 2.0)
    """
    import numpy as np

    if not texts:
        return 0.0
    counts = [Counter(g for n in range(1, n_max + 1) for g in ngrams(t, n)) for t in texts]
    vocab = {g: i for i, g in enumerate(sorted({g for c in counts for g in c}))}
    x = np.zeros((len(texts), max(len(vocab), 1)))
    for row, c in enumerate(counts):
        for g, k in c.items():
            x[row, vocab[g]] = k
    norms = np.linalg.norm(x, axis=1)
    norms[norms == 0] = 1.0
    x = x / norms[:, None]
    k = x @ x.T
    np.fill_diagonal(k, 1.0)  # an empty text is still identical to itself
    eig = np.linalg.eigvalsh(k / len(texts))
    eig = eig[eig > 1e-12]
    return float(math.exp(-float(np.sum(eig * np.log(eig)))))
