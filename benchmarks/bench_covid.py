"""hw1 part B: how long the reference and the starter train, inside the grader and alone.

For each program, alternately: `python covid.py` in a scratch folder holding the data,
with one thread as the grader runs it (the floor), and `grade hw1 --submission ...
--reveal-private --format json`, whose report gives the training run's seconds (worker
start to the end of the run), its CPU seconds (what the budget counts) and the public
and private scores. Medians of --repeat runs; the ratio compares the two side by side
on the same machine.

    python3 benchmarks/bench_covid.py --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = {"reference": ROOT / "reference" / "hw1", "starter": ROOT / "assignments" / "hw1"}


def alone(folder: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of `python covid.py` with one thread."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "assignments" / "hw1" / "data", work / "data")
        shutil.copy(folder / "covid.py", work / "covid.py")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        subprocess.run([sys.executable, "covid.py"], cwd=work, stdout=subprocess.DEVNULL, check=True, env=env)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.perf_counter() - start, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def graded(folder: Path) -> dict:
    done = subprocess.run(
        # the reference folder is graded as such (a --submission inside reference/ is refused)
        [sys.executable, "-m", "grader.cli", "hw1", *(["--reference"] if folder == PROGRAMS["reference"] else ["--submission", str(folder)]),
         "--reveal-private", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(done.stdout)["competition"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for name, folder in PROGRAMS.items():
        floors, cpus, runs, run_cpus, last = [], [], [], [], None
        for _ in range(args.repeat):
            wall, cpu = alone(folder)
            floors.append(wall)
            cpus.append(cpu)
            last = graded(folder)
            runs.append(last["run_seconds"])
            run_cpus.append(last["run_cpu_seconds"])
        f, r = statistics.median(floors), statistics.median(runs)
        print(f"{name}: python covid.py median {f:.1f}s ({', '.join(f'{x:.1f}' for x in floors)}); "
              f"in the grader median {r:.1f}s ({', '.join(f'{x:.1f}' for x in runs)}); ratio {r / f:.2f}x")
        print(f"{name}: CPU seconds alone median {statistics.median(cpus):.1f} ({', '.join(f'{x:.1f}' for x in cpus)}); "
              f"in the grader (the budget's count) median {statistics.median(run_cpus):.1f} ({', '.join(f'{x:.1f}' for x in run_cpus)})")
        print(f"{name}: public {last['public']:.4f} ({last['public_tier']}), private {last['private']:.4f} ({last['private_tier']})")


if __name__ == "__main__":
    main()
