"""A circle on many machines: one library service shared by many explorer/solver workers (Ray).

**Shape.** `CircleLibraryService` is a Ray actor that owns the circle's `Library` and its SQLite
archive; every worker's ``ScholarsCircle(library=CircleLibraryClient(handle))`` reads and writes
through it. The actor runs one call at a time, so a novelty check and the write that follows it
(`Library.add_unique`, used at adjudication) are one step: two workers that propose the same
problem at once admit it once, and every novelty check sees every accepted problem, whoever
proposed it.

**Durability.** The same promise as a single-process archive: a write is acknowledged only after
its SQLite transaction (WAL, ``synchronous=FULL``) has committed, so every acknowledged write
survives SIGKILL of any process, the service's included. The actor is started with
``max_restarts=-1``: killed, Ray restarts it and it reloads the archive; a call that was in
flight is retried (``max_task_retries=-1``), and a retried write that had in fact committed is
found by the duplicate check instead of being admitted twice.

**Cost.** Each library call is one actor round trip (~0.3-1 ms locally); a round makes about
five. Validation and solving run in the workers, in their own sandboxes, so rounds scale with
workers until the service or the machine's cores saturate (``benchmarks/scholars_bench.py
--ray-workers``).

Ray is optional (``pip install 'langgames[ray]'``) and imported only here, lazily.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from langgames.envs.scholars_circle.core import FAMILIES, code_fingerprint, stable_hash
from langgames.envs.scholars_circle.env import ScholarsCircle
from langgames.envs.scholars_circle.library import Entry, Library, LibraryStats
from langgames.envs.scholars_circle.starter import starter_entries
from langgames.errors import InvalidArgument, MissingExtra

__all__ = ["CircleLibraryClient", "CircleLibraryService", "library_service"]


def _ray() -> Any:
    try:
        import ray
    except ImportError as err:  # pragma: no cover - the extra is installed in CI
        raise MissingExtra("a Ray-backed circle library", "ray", "ray") from err
    return ray


class CircleLibraryService:
    """The actor's body: a `Library` (persisted at ``path``) behind plain method calls."""

    def __init__(self, path: str, capacity: int = 5000) -> None:
        self.library = Library(capacity=capacity, path=path, starter=starter_entries())

    def pid(self) -> int:
        return os.getpid()

    def size(self) -> int:
        return len(self.library)

    def entries(self) -> list[Entry]:
        return list(self.library)

    def get(self, entry_id: int) -> Entry:
        return self.library.get(entry_id)

    def recent(self, n: int) -> list[Entry]:
        return self.library.recent(n)

    def duplicate_of(self, entry: Entry) -> tuple[int, str] | None:
        return self.library.duplicate_of(entry)

    def most_similar_recent(self, sketch: np.ndarray, window: int) -> tuple[float, int | None]:
        return self.library.most_similar_recent(sketch, window)

    def sample(
        self,
        seed: int,
        k: int,
        family: str | None,
        accept: Callable[[Entry], bool] | None,
    ) -> list[Entry]:
        return self.library.sample(np.random.default_rng(seed), k, family=family, accept=accept)

    def draw(self, seed: int, n: int, accept: Callable[[Entry], bool] | None) -> list[Entry]:
        return self.library.draw(np.random.default_rng(seed), n, accept)

    def add(self, entry: Entry) -> Entry:
        stored, duplicate = self.library.add_unique(entry)
        if stored is None:
            assert duplicate is not None
            return self.library.get(duplicate[0])
        return stored

    def add_unique(self, entry: Entry) -> tuple[Entry | None, tuple[int, str] | None]:
        return self.library.add_unique(entry)

    def stats(self) -> LibraryStats:
        return self.library.stats()

    def integrity(self) -> str:
        return self.library.integrity()

    def close(self) -> None:
        self.library.close()


def library_service(
    path: str | os.PathLike[str], *, capacity: int = 5000, name: str | None = None
) -> Any:
    """Start (or, with ``name``, get or start) the library actor for the archive at ``path``.
    Call ``ray.init(...)`` first (``ray.init(address=...)`` on a cluster: the archive path must
    then be on the node where the actor runs)."""
    ray = _ray()
    if not ray.is_initialized():
        raise InvalidArgument(
            "Ray is not initialised: call ray.init() (one machine) or "
            "ray.init(address='ray://head:10001') (a cluster) before library_service()"
        )
    actor = ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)(CircleLibraryService)
    options: dict[str, Any] = {}
    if name is not None:
        options.update(name=name, get_if_exists=True, lifetime="detached")
    return actor.options(**options).remote(os.fspath(path), capacity)


class CircleLibraryClient:
    """What a `ScholarsCircle` needs of its library, served by a `CircleLibraryService` actor.

    Pass it as ``ScholarsCircle(library=client)``. A generator argument (``sample``, ``draw``)
    is turned into a seed drawn from it, so the caller's generator advances as with a local
    library."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self._ray = _ray()

    def __getstate__(self) -> dict[str, Any]:
        return {"handle": self.handle}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["handle"])  # type: ignore[misc]

    def _get(self, ref: Any) -> Any:
        return self._ray.get(ref)

    def __len__(self) -> int:
        return int(self._get(self.handle.size.remote()))

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._get(self.handle.entries.remote()))

    def get(self, entry_id: int) -> Entry:
        return self._get(self.handle.get.remote(entry_id))

    def recent(self, n: int) -> list[Entry]:
        return self._get(self.handle.recent.remote(n))

    def duplicate_of(self, entry: Entry) -> tuple[int, str] | None:
        return self._get(self.handle.duplicate_of.remote(entry))

    def most_similar_recent(self, sketch: np.ndarray, window: int) -> tuple[float, int | None]:
        return self._get(self.handle.most_similar_recent.remote(sketch, window))

    def sample(
        self,
        rng: np.random.Generator,
        k: int,
        *,
        family: str | None = None,
        accept: Callable[[Entry], bool] | None = None,
    ) -> list[Entry]:
        seed = int(rng.integers(0, 2**63 - 1))
        return self._get(self.handle.sample.remote(seed, k, family, accept))

    def draw(
        self, rng: np.random.Generator, n: int, accept: Callable[[Entry], bool] | None = None
    ) -> list[Entry]:
        seed = int(rng.integers(0, 2**63 - 1))
        return self._get(self.handle.draw.remote(seed, n, accept))

    def add(self, entry: Entry) -> Entry:
        return self._get(self.handle.add.remote(entry))

    def add_unique(self, entry: Entry) -> tuple[Entry | None, tuple[int, str] | None]:
        return self._get(self.handle.add_unique.remote(entry))

    def stats(self) -> LibraryStats:
        return self._get(self.handle.stats.remote())

    def integrity(self) -> str:
        return str(self._get(self.handle.integrity.remote()))

    def close(self) -> None:
        """The client owns nothing: the service outlives its workers."""


def synthetic_entry(serial: int) -> Entry:
    """A distinct, valid-looking library entry (for load tests and benchmarks): the same
    ``serial`` always gives the same problem, so two writers of one serial race to add it."""
    code = f"def f(x):\n    return x * {serial % 997 + 2} + {serial}\n"
    fp = code_fingerprint(code)
    return Entry.for_program(
        "deduction",
        "int",
        code,
        (serial,),
        1,
        (serial * (serial % 997 + 2) + serial,),
        fp,
        behaviour_hash="s" + format(stable_hash("synthetic", str(serial)), "016x"),
    )


class CircleWorker:
    """One explorer/solver worker (a Ray actor body): a `ScholarsCircle` on the shared library,
    played by the reference policies. (To play a model instead, run `langgames.rollout` over a
    `ScholarsCircle` built with ``library=CircleLibraryClient(handle)``.)"""

    def __init__(
        self, handle: Any, *, families: tuple[str, ...] | None = None, difficulty: int = 1
    ) -> None:
        self.client = CircleLibraryClient(handle)
        self.env = ScholarsCircle(
            families=families or FAMILIES,
            library=self.client,  # type: ignore[arg-type]  # duck-typed: the Library API over Ray
            difficulty=difficulty,
        )

    def pid(self) -> int:
        return os.getpid()

    def play(self, seeds: list[int]) -> dict[str, Any]:
        """One episode (``rounds=1``: one round) per seed; what was admitted and the returns."""
        import time

        start = time.perf_counter()
        returns: dict[str, float] = {}
        for seed in seeds:
            self.env.reset(seed=seed)
            done = False
            while not done:
                *_, terminated, truncated, info = self.env.step(self.env.reference_action())
                done = terminated or truncated
                for role, value in info["rewards"].items():
                    returns[role] = returns.get(role, 0.0) + value
        return {
            "rounds": len(seeds),
            "seconds": time.perf_counter() - start,
            "returns": returns,
        }

    def write(self, serials: list[int]) -> list[int]:
        """Add the synthetic problems ``serials`` (`synthetic_entry`) one by one; the ids this
        worker got acknowledged as *its* admissions (a lost race returns nothing)."""
        admitted = []
        for serial in serials:
            stored, _ = self.client.add_unique(synthetic_entry(serial))
            if stored is not None:
                admitted.append(stored.id)
        return admitted
