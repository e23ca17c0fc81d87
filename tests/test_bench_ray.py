"""`--executor ray` on a local Ray instance with 2 CPUs, started and shut down by the test."""

from __future__ import annotations

import json

import pytest

from langgames import bench
from langgames.verifiers.verdict import TIMING_KEYS


def _strip(value):
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in TIMING_KEYS | {"seconds"}}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


@pytest.mark.slow
def test_ray_executor_matches_local(tmp_path):
    ray = pytest.importorskip("ray")  # here, not at import: collection stays light
    kw = {"episodes": 2, "games": ["BaseConvert-v0"], "progress": False, "plots": False}
    bench.run_bench("core", "reference,random", out=tmp_path / "local", **kw)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        res = bench.run_bench(
            "core", "reference,random", out=tmp_path / "ray", executor="ray", chunk=1, **kw
        )
    finally:
        ray.shutdown()
    assert res.results["executor"] == "ray"

    def load(name):
        lines = (tmp_path / name / "episodes.jsonl").read_text().splitlines()
        return [_strip(json.loads(x)) for x in lines]

    assert load("ray") == load("local")
