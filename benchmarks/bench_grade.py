"""`grade ASSIGNMENT --reference --skip-program` against the floor `python -c "import torch, pytest"`.

Runs the two commands alternately, several times each, and reports medians and their
ratio, so the comparison is side by side on the same (noisy, shared) machine.

    python3 benchmarks/bench_grade.py hw1 --repeat 7

On a machine too loaded for the floor to mean much, ``--against DIR`` also times the
same command from another checkout (its ``grader`` first on the path, its course),
alternately with this one, so a change can be compared with what it changes:

    python3 benchmarks/bench_grade.py hw2 --repeat 7 --against /path/to/main-checkout
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time


def timed(cmd: list[str], **where) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, **where)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("assignment", nargs="?", default="hw1")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--against", metavar="DIR", help="another checkout to time the same command from, alternately")
    args = parser.parse_args()
    floor_cmd = [sys.executable, "-c", "import torch, pytest"]
    # the checks only: a competition's training run is measured by bench_covid.py
    grade_cmd = [sys.executable, "-m", "grader.cli", args.assignment, "--reference", "--skip-program"]
    check = subprocess.run(grade_cmd, capture_output=True, text=True)
    if check.returncode != 0:
        sys.exit(f"grade {args.assignment} --reference did not give full marks:\n{check.stdout[-2000:]}")
    other = None
    if args.against:
        root = os.path.abspath(args.against)
        other = {"cwd": root, "env": {**os.environ, "PYTHONPATH": root}}
        if subprocess.run(grade_cmd, capture_output=True, **other).returncode != 0:
            sys.exit(f"grade {args.assignment} --reference did not give full marks in {root}")
    timed(floor_cmd)  # warm the page cache for both
    floors, grades, others = [], [], []
    for _ in range(args.repeat):
        floors.append(timed(floor_cmd))
        grades.append(timed(grade_cmd))
        if other is not None:
            others.append(timed(grade_cmd, **other))
    f, g = statistics.median(floors), statistics.median(grades)
    runs = lambda xs: ", ".join(f"{x:.2f}" for x in xs)  # noqa: E731
    print(f"floor  (import torch, pytest): median {f:.2f}s  runs {runs(floors)}")
    print(f"grade {args.assignment} --reference:  median {g:.2f}s  runs {runs(grades)}")
    print(f"ratio: {g / f:.2f}x")
    if other is not None:
        o = statistics.median(others)
        print(f"the same from {args.against}:  median {o:.2f}s  runs {runs(others)}")
        print(f"ratio to the floor: {o / f:.2f}x; this checkout / that one: {g / o:.2f}x")


if __name__ == "__main__":
    main()
