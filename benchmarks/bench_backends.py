"""`grade hw2 --reference` on each worker backend against `python -c "import torch, pytest"`.

The fork backend (GRADER_BACKEND=fork: a warm zygote forks each worker) and the portable
one (GRADER_BACKEND=spawn: each worker a fresh interpreter that imports torch) run
alternately with the floor, several times each, and the medians and their ratios to the
floor are printed side by side. Target: spawn within 2.5x the floor (one interpreter
start per submission, not one per check).

    python3 benchmarks/bench_backends.py --repeat 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time


def timed(cmd: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("assignment", nargs="?", default="hw2")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    floor = [sys.executable, "-c", "import torch, pytest"]
    grade = [sys.executable, "-m", "grader.cli", args.assignment, "--reference", "--skip-program", "--format", "json"]
    envs = {name: dict(os.environ, GRADER_BACKEND=name) for name in ("fork", "spawn")}
    for name, env in envs.items():  # each must give full marks, and say it ran on that backend
        done = subprocess.run(grade, capture_output=True, text=True, env=env)
        if done.returncode != 0 or f'"backend": "{name}"' not in done.stdout:
            sys.exit(f"GRADER_BACKEND={name} grade {args.assignment} --reference did not give full marks:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    timed(floor)  # warm the page cache
    runs: dict[str, list[float]] = {"floor": [], "fork": [], "spawn": []}
    for _ in range(args.repeat):
        runs["floor"].append(timed(floor))
        for name, env in envs.items():
            runs[name].append(timed(grade, env))
    medians = {name: statistics.median(times) for name, times in runs.items()}
    labels = {"floor": "floor (import torch, pytest)", "fork": f"fork  grade {args.assignment} --reference", "spawn": f"spawn grade {args.assignment} --reference"}
    for name, times in runs.items():
        ratio = "" if name == "floor" else f"  {medians[name] / medians['floor']:.2f}x the floor"
        print(f"{labels[name]:<32} median {medians[name]:.2f}s{ratio}  runs {', '.join(f'{x:.2f}' for x in times)}")
    print(f"spawn / fork: {medians['spawn'] / medians['fork']:.2f}x")


if __name__ == "__main__":
    main()
