"""The circle's memory: a bounded library of validated problems, optionally persisted in SQLite.

**Indexes (novelty in O(1)-ish).** Every lookup is a hash-table probe, never a scan:

- ``code``: the normalised-code hash (names canonical, constants kept) of every program, and the
  normalised-question hash of every math problem;
- ``behaviour``: the hash of a program's results on the 24 probe inputs of its kind (for math:
  the question's template together with its canonical answer);
- ``blocks``: *near*-duplicate behaviour. The 24 probe results are split into two blocks of 12;
  two programs that differ on at most one probe agree on a whole block (pigeonhole), so each block
  is a hash key and only programs sharing a block are compared (at most `BUCKET_SCAN` of them).

**Durability.** With ``path``, the library lives in a SQLite database in WAL mode with
``synchronous=FULL``; each `Library.add` is one transaction (insert plus evictions), so a process
killed at any moment leaves either the whole entry or none of it, and nothing committed is lost.
Each row also carries a checksum of its payload, verified on load. Several processes may share
one archive (SQLite locks it); each sees the others' problems from its next construction.

**Bounds.** When the library holds ``capacity`` problems, adding one evicts the oldest problem that
is not from the starter set.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import sqlite3
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from langgames.envs.scholars_circle.core import (
    FAMILIES,
    CodeFingerprint,
    jaccard,
    question_fingerprint,
    stable_hash,
)
from langgames.errors import InvalidArgument, LibraryCorrupt
from langgames.verifiers.codec import CodecError, decode_value, encode_value

__all__ = ["BUCKET_SCAN", "Entry", "Library", "LibraryCorrupt", "LibraryStats"]

logger = logging.getLogger(__name__)

#: Most entries compared per near-duplicate bucket (newest first), so a query stays O(1).
BUCKET_SCAN = 256
#: Payload format of the SQLite archive; a different stored value is refused with a message.
ARCHIVE_FORMAT = "langgames.ScholarsCircle.library/1"
_N_BLOCKS = 2


@dataclass(frozen=True)
class Entry:
    """One validated problem in the library.

    Attributes:
        id: sequential id (never reused), 0 before the problem is added.
        family: ``deduction``, ``abduction``, ``induction`` or ``math``.
        kind: the argument kind of the program (``""`` for math).
        code: the program (``""`` for math).
        inputs: the input (deduction, abduction) or the examples then the tests (induction).
        n_shown: how many of ``inputs`` are shown (induction examples).
        outputs: the program's output on each input, computed in the sandbox.
        question, answer: the math question and its exact answer (``""`` otherwise).
        code_hash, struct_hash, struct_sketch, n_nodes: see `CodeFingerprint`.
        behaviour: per-probe result hashes (24 for programs; empty for math).
        behaviour_hash: the hash of ``behaviour`` (for math: template and canonical answer).
        out_kind: the kind shared by the program's probe outputs, if any (used to compose).
        solve_rate: the fraction of solvers who solved it, or None (starter problems).
        n_judged: how many solver answers ``solve_rate`` is based on.
        source: ``"starter"`` or ``"explorer"``.
    """

    id: int
    family: str
    kind: str
    code: str
    inputs: tuple[Any, ...]
    n_shown: int
    outputs: tuple[Any, ...]
    question: str
    answer: str
    code_hash: str
    struct_hash: str
    struct_sketch: np.ndarray = field(compare=False, repr=False)
    n_nodes: int = 0
    behaviour: tuple[int, ...] = field(default=(), repr=False)
    behaviour_hash: str = ""
    out_kind: str = ""
    solve_rate: float | None = None
    n_judged: int = 0
    source: str = "explorer"

    @classmethod
    def for_math(
        cls, question: str, answer: str, canonical: str, *, source: str = "explorer"
    ) -> Entry:
        """A math problem's entry. Its identity (the behaviour hash) is the question's template
        with the canonical form of its answer; starter problems and validated proposals share
        this one definition, so novelty checks compare like with like."""
        fp = question_fingerprint(question)
        return cls(
            id=0,
            family="math",
            kind="",
            code="",
            inputs=(),
            n_shown=0,
            outputs=(),
            question=question,
            answer=answer,
            code_hash=fp.code_hash,
            struct_hash=fp.struct_hash,
            struct_sketch=fp.struct_sketch,
            n_nodes=fp.n_nodes,
            behaviour_hash="m" + format(stable_hash("math", fp.struct_hash, canonical), "016x"),
            source=source,
        )

    @classmethod
    def for_program(
        cls,
        family: str,
        kind: str,
        code: str,
        inputs: tuple[Any, ...],
        n_shown: int,
        outputs: tuple[Any, ...],
        fp: CodeFingerprint,
        *,
        behaviour: tuple[int, ...] = (),
        behaviour_hash: str,
        out_kind: str = "",
        source: str = "explorer",
    ) -> Entry:
        """A program problem's entry (deduction, abduction, induction): ``fp`` is the program's
        `code_fingerprint`, ``behaviour`` and ``behaviour_hash`` what it does on the probes."""
        return cls(
            id=0,
            family=family,
            kind=kind,
            code=code,
            inputs=inputs,
            n_shown=n_shown,
            outputs=outputs,
            question="",
            answer="",
            code_hash=fp.code_hash,
            struct_hash=fp.struct_hash,
            struct_sketch=fp.struct_sketch,
            n_nodes=fp.n_nodes,
            behaviour=behaviour,
            behaviour_hash=behaviour_hash,
            out_kind=out_kind,
            source=source,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "kind": self.kind,
            "code": self.code,
            "inputs": encode_value(list(self.inputs)),
            "n_shown": self.n_shown,
            "outputs": encode_value(list(self.outputs)),
            "question": self.question,
            "answer": self.answer,
            "code_hash": self.code_hash,
            "struct_hash": self.struct_hash,
            "struct_sketch": [int(v) for v in self.struct_sketch],
            "n_nodes": self.n_nodes,
            "behaviour": [str(b) for b in self.behaviour],
            "behaviour_hash": self.behaviour_hash,
            "out_kind": self.out_kind,
            "solve_rate": self.solve_rate,
            "n_judged": self.n_judged,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, entry_id: int, data: dict[str, Any]) -> Entry:
        return cls(
            id=entry_id,
            family=str(data["family"]),
            kind=str(data["kind"]),
            code=str(data["code"]),
            inputs=tuple(decode_value(data["inputs"])),
            n_shown=int(data["n_shown"]),
            outputs=tuple(decode_value(data["outputs"])),
            question=str(data["question"]),
            answer=str(data["answer"]),
            code_hash=str(data["code_hash"]),
            struct_hash=str(data["struct_hash"]),
            struct_sketch=np.asarray(data["struct_sketch"], dtype=np.uint32),
            n_nodes=int(data["n_nodes"]),
            behaviour=tuple(int(b) for b in data["behaviour"]),
            behaviour_hash=str(data["behaviour_hash"]),
            out_kind=str(data["out_kind"]),
            solve_rate=None if data["solve_rate"] is None else float(data["solve_rate"]),
            n_judged=int(data["n_judged"]),
            source=str(data["source"]),
        )


@dataclass(frozen=True)
class LibraryStats:
    """What the library reports about itself.

    Attributes:
        size, capacity: problems held, and the bound.
        by_family: problems per family.
        templates: distinct program/question templates (structure with constants abstracted).
        behaviours: distinct behaviour signatures (programs on the probes; math template+answer).
        kinds: distinct argument kinds among the programs.
        template_diversity: ``templates / size``.
        mean_distance: mean structural distance (1 - estimated Jaccard of template shingles) over
            a fixed sample of pairs: 0 when every problem looks alike, near 1 when all differ.
        rated: problems with a solve rate (everything the explorers added).
        solve_rate_mean, solve_rate_std: over the rated problems (None when none is rated).
        learnable: fraction of rated problems solved by some but not all solvers.
        solve_rate_histogram: counts for solve rates 0, (0, 1/4], (1/4, 1/2], (1/2, 3/4],
            (3/4, 1) and 1.
    """

    size: int
    capacity: int
    by_family: dict[str, int]
    templates: int
    behaviours: int
    kinds: int
    template_diversity: float
    mean_distance: float
    rated: int
    solve_rate_mean: float | None
    solve_rate_std: float | None
    learnable: float | None
    solve_rate_histogram: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "capacity": self.capacity,
            "by_family": dict(self.by_family),
            "templates": self.templates,
            "behaviours": self.behaviours,
            "kinds": self.kinds,
            "template_diversity": self.template_diversity,
            "mean_distance": self.mean_distance,
            "rated": self.rated,
            "solve_rate_mean": self.solve_rate_mean,
            "solve_rate_std": self.solve_rate_std,
            "learnable": self.learnable,
            "solve_rate_histogram": list(self.solve_rate_histogram),
        }


def _block_keys(kind: str, behaviour: tuple[int, ...]) -> list[int]:
    size = math.ceil(len(behaviour) / _N_BLOCKS)
    return [
        stable_hash("block", kind, str(b), *map(str, behaviour[b * size : (b + 1) * size]))
        for b in range(_N_BLOCKS)
    ]


def _checksum(payload: str) -> str:
    return hashlib.blake2b(payload.encode("utf-8"), digest_size=16).hexdigest()


class _Store:
    """The SQLite archive: one transaction per write, WAL journal, full fsync."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            self.conn.execute("PRAGMA busy_timeout=30000")
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS problems (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                "payload TEXT NOT NULL, checksum TEXT NOT NULL)"
            )
            self.conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('format', ?)", (ARCHIVE_FORMAT,)
            )
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise LibraryCorrupt(
                f"archive_path {str(path)!r} is not a usable ScholarsCircle library ({exc}); "
                "pass a new file name, or move this file away"
            ) from None
        if row[0] != ARCHIVE_FORMAT:
            raise LibraryCorrupt(
                f"archive_path {str(path)!r} holds a library in format {row[0]!r}, but this "
                f"version reads {ARCHIVE_FORMAT!r}; start a new archive file"
            )

    def is_seeded(self) -> bool:
        return self.conn.execute("SELECT 1 FROM meta WHERE key = 'seeded'").fetchone() is not None

    def load(self) -> tuple[list[tuple[int, dict[str, Any]]], int]:
        """Every intact row, oldest first, and the number of rows that failed their checksum."""
        rows, bad = [], 0
        for entry_id, payload, checksum in self.conn.execute(
            "SELECT id, payload, checksum FROM problems ORDER BY id"
        ):
            if _checksum(payload) != checksum:
                bad += 1
                continue
            try:
                rows.append((int(entry_id), json.loads(payload)))
            except ValueError:
                bad += 1
        return rows, bad

    def insert(self, payloads: list[str], evict: Iterable[int], *, seed: bool = False) -> list[int]:
        """Insert rows and delete evicted ones in ONE transaction; return the new ids."""
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            ids = []
            for payload in payloads:
                cur.execute(
                    "INSERT INTO problems (payload, checksum) VALUES (?, ?)",
                    (payload, _checksum(payload)),
                )
                assert cur.lastrowid is not None
                ids.append(int(cur.lastrowid))
            for entry_id in evict:
                cur.execute("DELETE FROM problems WHERE id = ?", (entry_id,))
            if seed:
                cur.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('seeded', '1')")
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        return ids

    def integrity(self) -> str:
        return str(self.conn.execute("PRAGMA integrity_check").fetchone()[0])

    def close(self) -> None:
        self.conn.close()


class Library:
    """A bounded, indexed library of problems (see the module docstring).

    Args:
        capacity: the most problems held; the oldest non-starter problem is evicted beyond it.
        path: a SQLite file to persist to and reload from (``None``: in memory only).
        starter: problems to begin with when the library is new (ids 1, 2, ...).
    """

    def __init__(
        self,
        capacity: int = 5000,
        path: str | os.PathLike[str] | None = None,
        starter: Iterable[Entry] = (),
    ) -> None:
        starter = list(starter)
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity <= len(starter):
            raise InvalidArgument(
                f"library_size must be an int larger than the {len(starter)} starter problems "
                f"(got {capacity!r}); the default is 5000"
            )
        self.capacity = capacity
        self._entries: dict[int, Entry] = {}
        self._ids: list[int] = []  # for uniform sampling by position
        self._pos: dict[int, int] = {}
        self._family_ids: dict[str, list[int]] = {}  # the same, per family
        self._family_pos: dict[int, int] = {}
        self._evictable: deque[int] = deque()
        self._code: dict[str, int] = {}
        self._behaviour: dict[str, int] = {}
        self._blocks: dict[int, dict[int, None]] = {}
        self._templates: Counter[str] = Counter()
        self._kinds: Counter[str] = Counter()
        self._next_id = 1
        self.version = 0
        self.corrupt_rows = 0
        self._store: _Store | None = None
        if path is None:
            for entry in starter:
                self._index(replace(entry, id=self._next_id))
                self._next_id += 1
            return
        if not Path(path).parent.is_dir():
            raise InvalidArgument(
                f"archive_path {str(path)!r} is in a directory that does not exist; create "
                f"{str(Path(path).parent)!r} first, or pass another path"
            )
        self._store = _Store(Path(path))
        if not self._store.is_seeded():
            self._store.insert([json.dumps(e.to_json()) for e in starter], (), seed=True)
        rows, self.corrupt_rows = self._store.load()
        if self.corrupt_rows:
            logger.warning(
                "%s: %d rows failed their checksum and were skipped", path, self.corrupt_rows
            )
        for entry_id, data in rows:
            try:
                self._index(Entry.from_json(entry_id, data))
            except (KeyError, TypeError, ValueError, CodecError):
                self.corrupt_rows += 1
            self._next_id = entry_id + 1
        excess = []
        while len(self._ids) > capacity and self._evictable:
            excess.append(self._evictable[0])
            self._unindex(self._evictable[0])
        if excess:  # the archive was written with a larger capacity
            self._store.insert([], excess)

    # -- reading ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._entries

    def __iter__(self) -> Iterator[Entry]:
        """The problems, oldest first (a snapshot: adding while iterating is safe)."""
        return iter(list(self._entries.values()))

    def get(self, entry_id: int) -> Entry:
        return self._entries[entry_id]

    @property
    def path(self) -> Path | None:
        return None if self._store is None else self._store.path

    def recent(self, n: int) -> list[Entry]:
        """The ``n`` most recently added problems, newest first."""
        out: list[Entry] = []
        for entry_id in reversed(self._entries):
            if len(out) >= n:
                break
            out.append(self._entries[entry_id])
        return out

    def duplicate_of(self, candidate: Entry) -> tuple[int, str] | None:
        """``(id, why)`` of a library problem ``candidate`` duplicates, or None. O(1)-ish."""
        program = candidate.family != "math"
        hit = self._code.get(candidate.code_hash)
        if hit is not None:
            why = (
                "is the same program (after renaming variables and ignoring formatting)"
                if program
                else "asks the same question"
            )
            return hit, why
        hit = self._behaviour.get(candidate.behaviour_hash)
        if hit is not None:
            why = (
                f"behaves exactly like it on all {len(candidate.behaviour)} probe inputs"
                if program
                else "is the same kind of question with the same answer"
            )
            return hit, why
        if program and candidate.behaviour:
            for key in _block_keys(candidate.kind, candidate.behaviour):
                bucket = self._blocks.get(key)
                if not bucket:
                    continue
                for scanned, entry_id in enumerate(reversed(bucket)):
                    if scanned >= BUCKET_SCAN:
                        break
                    other = self._entries[entry_id].behaviour
                    same = sum(a == b for a, b in zip(other, candidate.behaviour, strict=True))
                    if same >= len(other) - 1:
                        return entry_id, (
                            f"behaves like it on {same} of the {len(other)} probe inputs "
                            "(a near-duplicate)"
                        )
        return None

    def most_similar_recent(self, sketch: np.ndarray, window: int) -> tuple[float, int | None]:
        """The highest estimated template similarity to the ``window`` newest problems."""
        best, best_id = 0.0, None
        for entry in self.recent(window):
            sim = jaccard(sketch, entry.struct_sketch)
            if sim > best:
                best, best_id = sim, entry.id
        return best, best_id

    def draw(
        self, rng: np.random.Generator, n: int, accept: Callable[[Entry], bool] | None = None
    ) -> list[Entry]:
        """Up to ``n`` distinct problems drawn uniformly among those ``accept`` allows (at most
        ``8 n`` draws, so the cost does not grow with the library)."""
        if not self._ids or n <= 0:
            return []
        found: dict[int, Entry] = {}
        for position in rng.integers(0, len(self._ids), size=8 * n):
            entry = self._entries[self._ids[int(position)]]
            if entry.id not in found and (accept is None or accept(entry)):
                found[entry.id] = entry
                if len(found) >= n:
                    break
        return list(found.values())

    def sample(
        self,
        rng: np.random.Generator,
        k: int,
        *,
        family: str | None = None,
        accept: Callable[[Entry], bool] | None = None,
    ) -> list[Entry]:
        """``k`` problems chosen for diversity: a random pool (``4k`` uniform draws from
        ``family`` and ``8k`` from the whole library: never the newest alone), then greedy
        max-min template distance, about half of them from ``family``, preferring problems
        ``accept`` allows. O(k^2), whatever the library's size."""
        n = len(self._ids)
        if n == 0 or k <= 0:
            return []
        seen: dict[int, None] = {}
        members = self._family_ids.get(family or "", [])
        if members:
            for position in rng.integers(0, len(members), size=4 * k):
                seen.setdefault(members[int(position)], None)
        for position in rng.integers(0, n, size=8 * k):
            seen.setdefault(self._ids[int(position)], None)
        pool = [self._entries[i] for i in seen]
        if accept is not None:
            preferred = [e for e in pool if accept(e)]
            pool = preferred if len(preferred) >= k else pool
        sketches = np.stack([e.struct_sketch for e in pool])
        ours = np.array([e.family == family for e in pool])
        free = np.ones(len(pool), dtype=bool)
        distance = np.full(len(pool), np.inf)  # to the nearest chosen problem
        want_family = math.ceil(k / 2) if family is not None else 0
        chosen: list[Entry] = []
        while len(chosen) < min(k, len(pool)):
            allowed = free.copy()
            if family is not None:  # about half from the family, the rest from the others
                side = allowed & (ours if len(chosen) < want_family else ~ours)
                allowed = side if side.any() else allowed
            # the first pick is the first allowed; then the farthest from those chosen
            best = int(np.argmax(np.where(allowed, distance, -1.0)))
            chosen.append(pool[best])
            free[best] = False
            similar = np.count_nonzero(sketches == pool[best].struct_sketch, axis=1)
            distance = np.minimum(distance, 1.0 - similar / sketches.shape[1])
        return chosen

    def stats(self) -> LibraryStats:
        """Size, coverage and solve-rate spread (see `LibraryStats`)."""
        entries = list(self._entries.values())
        by_family = {f: 0 for f in FAMILIES}
        for e in entries:
            by_family[e.family] = by_family.get(e.family, 0) + 1
        rates = np.array([e.solve_rate for e in entries if e.solve_rate is not None], dtype=float)
        rng = np.random.default_rng(0)
        distances = []
        if len(entries) >= 2:
            for _ in range(min(200, len(entries) * (len(entries) - 1) // 2)):
                i, j = rng.choice(len(entries), size=2, replace=False)
                distances.append(
                    1.0 - jaccard(entries[int(i)].struct_sketch, entries[int(j)].struct_sketch)
                )
        bins = [0] * 6
        for r in rates:
            if r <= 0:
                bins[0] += 1
            elif r >= 1:
                bins[5] += 1
            else:
                bins[min(4, math.ceil(r * 4))] += 1
        return LibraryStats(
            size=len(entries),
            capacity=self.capacity,
            by_family=by_family,
            templates=len(self._templates),
            behaviours=len(self._behaviour),
            kinds=len(self._kinds),
            template_diversity=len(self._templates) / max(1, len(entries)),
            mean_distance=float(np.mean(distances)) if distances else 0.0,
            rated=int(rates.size),
            solve_rate_mean=float(rates.mean()) if rates.size else None,
            solve_rate_std=float(rates.std()) if rates.size else None,
            learnable=float(np.mean((rates > 0) & (rates < 1))) if rates.size else None,
            solve_rate_histogram=tuple(bins),
        )

    def integrity(self) -> str:
        """SQLite's ``integrity_check`` (``"ok"``) for an archive; ``"ok"`` in memory."""
        return "ok" if self._store is None else self._store.integrity()

    # -- writing ----------------------------------------------------------------------------
    def add(self, entry: Entry) -> Entry:
        """Add a problem (its ``id`` is assigned here); evict beyond ``capacity``. Durable when
        persisted: the entry and the evictions are one transaction."""
        evict: list[int] = []
        room = len(self._ids) + 1 - self.capacity
        for entry_id in self._evictable:
            if len(evict) >= room:
                break
            evict.append(entry_id)
        if self._store is not None:
            (entry_id,) = self._store.insert([json.dumps(entry.to_json())], evict)
        else:
            entry_id = self._next_id
        self._next_id = entry_id + 1
        for old in evict:
            self._unindex(old)
        stored = replace(entry, id=entry_id)
        self._index(stored)
        return stored

    def add_unique(self, entry: Entry) -> tuple[Entry | None, tuple[int, str] | None]:
        """Add ``entry`` unless it duplicates a library problem: ``(stored, None)``, or
        ``(None, (id, why))``. The check and the write are one step, so two explorers racing to
        add the same problem (through one `CircleLibraryService`) admit it once."""
        duplicate = self.duplicate_of(entry)
        if duplicate is not None:
            return None, duplicate
        return self.add(entry), None

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    # -- indexes ----------------------------------------------------------------------------
    def _index(self, entry: Entry) -> None:
        self._entries[entry.id] = entry
        self._pos[entry.id] = len(self._ids)
        self._ids.append(entry.id)
        family_ids = self._family_ids.setdefault(entry.family, [])
        self._family_pos[entry.id] = len(family_ids)
        family_ids.append(entry.id)
        if entry.source != "starter":
            self._evictable.append(entry.id)
        self._code.setdefault(entry.code_hash, entry.id)
        self._behaviour.setdefault(entry.behaviour_hash, entry.id)
        if entry.family != "math" and entry.behaviour:
            for key in _block_keys(entry.kind, entry.behaviour):
                self._blocks.setdefault(key, {})[entry.id] = None
        self._templates[entry.struct_hash] += 1
        if entry.kind:
            self._kinds[entry.kind] += 1
        self.version += 1

    def _unindex(self, entry_id: int) -> None:
        entry = self._entries.pop(entry_id)
        position = self._pos.pop(entry_id)
        last = self._ids.pop()
        if last != entry_id:  # move the last id into the hole (O(1))
            self._ids[position] = last
            self._pos[last] = position
        family_ids = self._family_ids[entry.family]
        position = self._family_pos.pop(entry_id)
        last = family_ids.pop()
        if last != entry_id:
            family_ids[position] = last
            self._family_pos[last] = position
        if self._evictable and self._evictable[0] == entry_id:
            self._evictable.popleft()
        else:
            self._evictable.remove(entry_id)
        if self._code.get(entry.code_hash) == entry_id:
            del self._code[entry.code_hash]
        if self._behaviour.get(entry.behaviour_hash) == entry_id:
            del self._behaviour[entry.behaviour_hash]
        if entry.family != "math" and entry.behaviour:
            for key in _block_keys(entry.kind, entry.behaviour):
                bucket = self._blocks.get(key)
                if bucket is not None:
                    bucket.pop(entry_id, None)
                    if not bucket:
                        del self._blocks[key]
        self._templates[entry.struct_hash] -= 1
        if self._templates[entry.struct_hash] <= 0:
            del self._templates[entry.struct_hash]
        if entry.kind:
            self._kinds[entry.kind] -= 1
            if self._kinds[entry.kind] <= 0:
                del self._kinds[entry.kind]
        self.version += 1
