"""Run a ScholarsCircle on N Ray workers that share one library, locally or on a cluster.

One `CircleLibraryService` actor owns the SQLite archive; each worker is a ``CircleWorker``
actor playing reference rounds on ``ScholarsCircle(library=CircleLibraryClient(service))``.
Novelty checks go through the service, so no duplicate is admitted whoever proposes it, and
every acknowledged write is on disk before the worker continues.

Usage::

    # one machine: Ray starts here with --workers CPUs
    .venv/bin/python examples/circle_ray.py --workers 2 --rounds 20 --archive /tmp/circle.sqlite
    # a cluster: the same code, connected to its head (the archive is on the service's node)
    .venv/bin/python examples/circle_ray.py --ray-address ray://head:10001 --workers 16 \\
        --rounds 500 --archive /shared/circle.sqlite

Arguments:
    --workers N       worker actors (default 2)
    --rounds N        rounds per worker (default 10)
    --archive PATH    the library's SQLite file (default: a temporary file)
    --ray-address A   connect to this Ray cluster instead of starting one here
    --difficulty D    1, 2 or 3 (default 1)
    --seed S          first episode seed; worker k plays seeds S + k * rounds ... (default 0)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import TextIO


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(
        description="A ScholarsCircle on Ray workers sharing one library service.",
        epilog="example: examples/circle_ray.py --workers 2 --rounds 20",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--archive", default=None)
    parser.add_argument("--ray-address", default=None)
    parser.add_argument("--difficulty", type=int, default=1, choices=(1, 2, 3))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import ray

    from langgames.envs.scholars_circle.service import (
        CircleLibraryClient,
        CircleWorker,
        library_service,
    )

    if args.ray_address:
        ray.init(address=args.ray_address, log_to_driver=False)
    else:
        ray.init(
            num_cpus=args.workers,
            include_dashboard=False,
            log_to_driver=False,
            _node_ip_address="127.0.0.1",
        )
    try:
        with tempfile.TemporaryDirectory() as scratch:
            archive = args.archive or os.path.join(scratch, "circle.sqlite")
            service = library_service(archive)
            library = CircleLibraryClient(service)
            out.write(f"library starts with {len(library)} problems ({archive})\n")
            worker = ray.remote(num_cpus=1)(CircleWorker)
            pool = [worker.remote(service, difficulty=args.difficulty) for _ in range(args.workers)]
            start = time.perf_counter()
            results = ray.get(
                [
                    w.play.remote([args.seed + k * args.rounds + i for i in range(args.rounds)])
                    for k, w in enumerate(pool)
                ]
            )
            elapsed = time.perf_counter() - start
            rounds = sum(r["rounds"] for r in results)
            stats = library.stats()
            out.write(
                f"{args.workers} workers played {rounds} rounds in {elapsed:.1f} s "
                f"({rounds / elapsed:.1f} rounds/s); library {stats.size} problems, "
                f"{stats.templates} templates, integrity {library.integrity()}\n"
            )
    finally:
        ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
