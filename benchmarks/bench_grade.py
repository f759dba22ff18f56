"""`grade ASSIGNMENT --reference --skip-program` against the floor `python -c "import torch, pytest"`.

Runs the two commands alternately, several times each, and reports medians and their
ratio, so the comparison is side by side on the same (noisy, shared) machine.

    python3 benchmarks/bench_grade.py hw1 --repeat 7
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("assignment", nargs="?", default="hw1")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    floor_cmd = [sys.executable, "-c", "import torch, pytest"]
    # the checks only: a competition's training run is measured by bench_covid.py
    grade_cmd = [sys.executable, "-m", "grader.cli", args.assignment, "--reference", "--skip-program"]
    check = subprocess.run(grade_cmd, capture_output=True, text=True)
    if check.returncode != 0:
        sys.exit(f"grade {args.assignment} --reference did not give full marks:\n{check.stdout[-2000:]}")
    timed(floor_cmd)  # warm the page cache for both
    floors, grades = [], []
    for _ in range(args.repeat):
        floors.append(timed(floor_cmd))
        grades.append(timed(grade_cmd))
    f, g = statistics.median(floors), statistics.median(grades)
    print(f"floor  (import torch, pytest): median {f:.2f}s  runs {', '.join(f'{x:.2f}' for x in floors)}")
    print(f"grade {args.assignment} --reference:  median {g:.2f}s  runs {', '.join(f'{x:.2f}' for x in grades)}")
    print(f"ratio: {g / f:.2f}x")


if __name__ == "__main__":
    main()
