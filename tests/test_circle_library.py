"""ScholarsCircle's library: bounded, indexed, diverse sampling, durable SQLite persistence."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import pytest

from langgames.envs.scholars_circle.library import Entry, Library, LibraryCorrupt
from langgames.envs.scholars_circle.starter import starter_entries
from langgames.errors import InvalidArgument

STARTER = starter_entries()


def synthetic(i: int, *, rate: float | None = None, template: str = "t") -> Entry:
    """A distinct problem (its own code and behaviour hashes) without running anything."""
    base = STARTER[0]
    return replace(
        base,
        code=f"# variant {i}\n{base.code}",
        code_hash=f"code-{i}",
        struct_hash=f"{template}-{i}" if template == "t" else template,
        behaviour=(),
        behaviour_hash=f"behaviour-{i}",
        source="explorer",
        solve_rate=rate,
        n_judged=3 if rate is not None else 0,
    )


def test_in_memory_library_starts_from_the_starter_set_and_reports_itself():
    library = Library(capacity=200, starter=STARTER)
    assert len(library) == len(STARTER) and library.path is None
    assert [e.id for e in library] == list(range(1, len(STARTER) + 1))
    for i, rate in enumerate([0.0, 1 / 3, 2 / 3, 1.0, 1 / 3]):
        library.add(synthetic(i, rate=rate))
    stats = library.stats()
    assert stats.size == len(STARTER) + 5 and stats.rated == 5
    assert stats.by_family["deduction"] >= 14 and stats.kinds >= 5
    assert stats.solve_rate_histogram == (1, 0, 2, 1, 0, 1)
    assert stats.learnable == pytest.approx(3 / 5)
    assert stats.solve_rate_mean == pytest.approx(np.mean([0, 1 / 3, 2 / 3, 1, 1 / 3]))
    assert 0.5 < stats.mean_distance <= 1.0
    assert set(stats.to_dict()) >= {"size", "templates", "behaviours", "solve_rate_std"}


def test_the_library_is_bounded_and_evicts_the_oldest_explorer_problem():
    library = Library(capacity=len(STARTER) + 3, starter=STARTER)
    added = [library.add(synthetic(i)) for i in range(5)]
    assert len(library) == len(STARTER) + 3
    assert added[0].id not in library and added[1].id not in library
    assert all(e.id in library for e in added[2:])
    assert all(e.id in library for e in STARTER if e.id)  # starter problems are never evicted
    assert library.duplicate_of(added[0]) is None  # evicted: its hashes left the indexes
    assert library.duplicate_of(added[4]) == (added[4].id, library.duplicate_of(added[4])[1])
    with pytest.raises(InvalidArgument, match="larger than the 50 starter problems"):
        Library(capacity=10, starter=STARTER)


def test_references_are_sampled_for_diversity_not_recency():
    library = Library(capacity=1000, starter=STARTER)
    clones = [library.add(synthetic(i, template="same-template")) for i in range(300)]
    clone_ids = {e.id for e in clones}
    for seed in range(5):
        rng = np.random.default_rng(seed)
        chosen = library.sample(rng, 5, family="abduction")
        assert len({e.id for e in chosen}) == 5
        assert sum(e.id in clone_ids for e in chosen) <= 1  # one clone at most, however many
        assert sum(e.family == "abduction" for e in chosen) >= 3  # about half from the family
    # the clones are most of the library and all of its newest problems
    assert [e.id for e in library.recent(5)] == [e.id for e in clones[::-1][:5]]


def test_an_archive_persists_and_reloads(tmp_path):
    path = tmp_path / "circle.sqlite"
    library = Library(capacity=500, path=path, starter=STARTER)
    first = library.add(synthetic(1, rate=0.5))
    library.close()
    again = Library(capacity=500, path=path, starter=STARTER)  # the starter set is not re-added
    assert len(again) == len(STARTER) + 1 and again.integrity() == "ok"
    reloaded = again.get(first.id)
    assert reloaded == first and np.array_equal(reloaded.struct_sketch, first.struct_sketch)
    assert again.duplicate_of(synthetic(1)) is not None
    second = again.add(synthetic(2))
    assert second.id == first.id + 1
    again.close()


def test_an_archive_written_with_a_larger_capacity_is_trimmed_on_load(tmp_path):
    path = tmp_path / "circle.sqlite"
    library = Library(capacity=500, path=path, starter=STARTER)
    ids = [library.add(synthetic(i)).id for i in range(6)]
    library.close()
    small = Library(capacity=len(STARTER) + 2, path=path, starter=STARTER)
    assert [e.id for e in small.recent(2)] == ids[:-3:-1]
    small.close()
    assert len(Library(capacity=500, path=path, starter=STARTER)) == len(STARTER) + 2


def test_a_corrupted_row_is_detected_and_skipped(tmp_path):
    path = tmp_path / "circle.sqlite"
    library = Library(capacity=500, path=path, starter=STARTER)
    victim = library.add(synthetic(7))
    library.close()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE problems SET payload = replace(payload, 'variant 7', 'variant 8') WHERE id = ?",
            (victim.id,),
        )
    reloaded = Library(capacity=500, path=path, starter=STARTER)
    assert reloaded.corrupt_rows == 1 and victim.id not in reloaded
    assert len(reloaded) == len(STARTER)


def test_a_file_that_is_not_a_library_is_refused_with_a_message(tmp_path):
    with pytest.raises(InvalidArgument, match="directory that does not exist"):
        Library(capacity=500, path=tmp_path / "missing" / "circle.sqlite", starter=STARTER)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LibraryCorrupt, match="not a usable ScholarsCircle library"):
        Library(capacity=500, path=junk, starter=STARTER)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO meta VALUES ('format', 'something-else/9')")
    with pytest.raises(LibraryCorrupt, match="start a new archive file"):
        Library(capacity=500, path=other, starter=STARTER)


_WRITER = """
import sys
from dataclasses import replace
from langgames.envs.scholars_circle.library import Library
from langgames.envs.scholars_circle.starter import starter_entries

starter = starter_entries()
library = Library(capacity=1_000_000, path=sys.argv[1], starter=starter)
base = starter[0]
print("ready", flush=True)
i = 0
while True:
    entry = replace(base, code=f"# {i}\\n{base.code}", code_hash=f"c{i}", behaviour=(),
                    behaviour_hash=f"b{i}", source="explorer", solve_rate=(i % 4) / 3, n_judged=3)
    stored = library.add(entry)
    print(stored.id, flush=True)
    i += 1
"""


@pytest.mark.slow
def test_a_writer_killed_mid_write_loses_nothing_it_committed(tmp_path):
    """SIGKILL a process that writes in a loop, at several moments: every entry it reported as
    committed is there after reload, the database is intact and no half entry exists."""
    path = tmp_path / "killed.sqlite"
    committed: list[int] = []
    rng = np.random.default_rng(0)
    for round_ in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
        target = int(rng.integers(20, 120))
        reported = []
        while len(reported) < target:
            line = proc.stdout.readline()
            assert line, f"the writer died early: {proc.stderr.read() if proc.stderr else ''}"
            reported.append(int(line))
        time.sleep(float(rng.uniform(0, 0.01)))  # kill at an arbitrary point of a write
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        committed += reported
        library = Library(capacity=1_000_000, path=path, starter=STARTER)
        assert library.integrity() == "ok" and library.corrupt_rows == 0, round_
        ids = {e.id for e in library}
        assert set(committed) <= ids, round_  # nothing committed is lost
        extra = ids - set(committed) - set(range(1, len(STARTER) + 1))
        assert all(i > max(committed) for i in extra)  # written after the last line we read
        for entry in library:  # every row reads back whole
            assert entry.code.startswith(("# ", "def ", "import ")) or entry.family == "math"
        committed = sorted(ids - set(range(1, len(STARTER) + 1)))
        library.close()
