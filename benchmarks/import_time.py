"""How long `import langgames` takes, side by side with the interpreter alone and with Gymnasium.

Each import runs in a fresh interpreter, ``--repeats`` times, interleaved so that load on a shared
machine hits every row alike; the table gives medians. The issue-14 target is that
``import langgames`` stays under 0.3 s and that a verifier module loads no Gymnasium
(``python -X importtime -c "import langgames.verifiers.verdict"``)::

    python benchmarks/import_time.py --repeats 15
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from collections.abc import Sequence

#: What is imported, by row name.
ROWS = {
    "python alone": "pass",
    "import gymnasium": "import gymnasium",
    "import langgames": "import langgames",
    "import langgames.verifiers.verdict": "import langgames.verifiers.verdict",
    "gym.make(NumberHunt)": (
        "import gymnasium as gym, langgames; gym.make('langgames/NumberHunt-v0')"
    ),
}
TARGET_S = 0.3

_PROBE = (
    "import sys, time, json\n"
    "t = time.perf_counter()\n"
    "{code}\n"
    "print(json.dumps([time.perf_counter() - t, 'gymnasium' in sys.modules, len(sys.modules)]))\n"
)


def measure(code: str) -> tuple[float, bool, int]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(code=code)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    seconds, gym_loaded, modules = json.loads(out)
    return float(seconds), bool(gym_loaded), int(modules)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--json", default=None, help="also write the rows here")
    args = parser.parse_args(argv)
    times: dict[str, list[float]] = {name: [] for name in ROWS}
    facts: dict[str, tuple[bool, int]] = {}
    for _ in range(args.repeats):
        for name, code in ROWS.items():
            seconds, gym_loaded, modules = measure(code)
            times[name].append(seconds)
            facts[name] = (gym_loaded, modules)
    gym_median = statistics.median(times["import gymnasium"])
    print(f"medians of {args.repeats} fresh interpreters (time spent in the import itself)")
    print("| import | median s | vs import gymnasium | loads gymnasium | modules loaded |")
    print("|---|---|---|---|---|")
    rows = []
    for name in ROWS:
        median = statistics.median(times[name])
        gym_loaded, modules = facts[name]
        ratio = median / gym_median if gym_median else float("nan")
        print(f"| {name} | {median:.4f} | {ratio:.2f}x | {gym_loaded} | {modules} |")
        rows.append({"row": name, "median_s": median, "gymnasium": gym_loaded, "modules": modules})
    lg = statistics.median(times["import langgames"])
    verdict_gym = facts["import langgames.verifiers.verdict"][0]
    ok = lg < TARGET_S and not verdict_gym
    print(
        f"{'PASS' if ok else 'FAIL'}: import langgames {lg:.3f} s (target < {TARGET_S} s); "
        f"langgames.verifiers.verdict loads Gymnasium: {verdict_gym}"
    )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
