"""A circle on many machines: workers share one library service (a Ray actor owning the SQLite
archive). Concurrent writers admit each problem once; SIGKILL of a worker mid-write, or of the
service itself, loses no acknowledged write and leaves the archive intact."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

import pytest

from langgames.envs.scholars_circle.library import Library
from langgames.envs.scholars_circle.service import (
    CircleLibraryClient,
    CircleWorker,
    library_service,
    synthetic_entry,
)
from langgames.envs.scholars_circle.starter import starter_entries


@pytest.fixture
def local_ray():
    ray = pytest.importorskip("ray")  # here, not at import: collection stays light
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        _node_ip_address="127.0.0.1",
    )
    try:
        yield ray
    finally:
        ray.shutdown()


def _no_duplicates(entries) -> None:
    codes = Counter(e.code_hash for e in entries)
    behaviours = Counter(e.behaviour_hash for e in entries)
    assert max(codes.values()) == 1, [c for c, n in codes.items() if n > 1][:3]
    assert max(behaviours.values()) == 1


def test_add_unique_admits_a_problem_once():
    library = Library(capacity=100)
    first, _ = library.add_unique(synthetic_entry(7))
    again, duplicate = library.add_unique(synthetic_entry(7))
    assert first is not None and again is None and duplicate[0] == first.id


@pytest.mark.slow
def test_concurrent_workers_share_one_library_and_survive_sigkill(local_ray, tmp_path):
    ray = local_ray
    path = tmp_path / "circle.sqlite"
    service = library_service(path)
    client = CircleLibraryClient(service)
    assert len(client) == len(starter_entries())
    worker_cls = ray.remote(num_cpus=1)(CircleWorker)
    keeper, victim = (worker_cls.remote(service) for _ in range(2))
    victim_pid = ray.get(victim.pid.remote())

    # Both write the SAME 300 problems at once: each must be admitted exactly once.
    serials = list(range(300))
    kept = keeper.write.remote(serials)
    doomed = victim.write.remote(serials[::-1])
    start = len(client)
    while len(client) < start + 60:  # the victim is mid-way through its writes
        time.sleep(0.01)
    os.kill(victim_pid, signal.SIGKILL)
    acknowledged = ray.get(kept)
    with pytest.raises(ray.exceptions.RayError):
        ray.get(doomed)

    entries = list(client)
    _no_duplicates(entries)
    ids = {e.id for e in entries}
    assert set(acknowledged) <= ids
    assert len(entries) == len(starter_entries()) + 300  # every serial, once, whoever wrote it
    assert client.integrity() == "ok"

    # Reference rounds on a worker: the library keeps growing, still without duplicates.
    played = ray.get(keeper.play.remote([0, 1, 2, 3]))
    assert played["rounds"] == 4 and played["returns"]["solver"] == 12.0

    # SIGKILL the service itself while a worker writes: Ray restarts it from the archive, the
    # in-flight call is retried, and every acknowledged write is there.
    service_pid = ray.get(service.pid.remote())
    more = keeper.write.remote(list(range(1000, 1200)))
    before = len(client)
    while len(client) < before + 40:
        time.sleep(0.01)
    os.kill(service_pid, signal.SIGKILL)
    acknowledged = ray.get(more, timeout=120)
    assert ray.get(service.pid.remote()) != service_pid  # restarted
    entries = list(client)
    _no_duplicates(entries)
    assert set(acknowledged) <= {e.id for e in entries}
    assert sum(e.code.endswith(f"+ {s}\n") for e in entries for s in (1000, 1199)) == 2

    # The archive on disk, opened afresh, holds the same problems and passes its checks.
    reopened = Library(capacity=5000, path=path, starter=starter_entries())
    assert reopened.integrity() == "ok" and reopened.corrupt_rows == 0
    assert sorted(e.id for e in reopened) == sorted(e.id for e in entries)
    reopened.close()
