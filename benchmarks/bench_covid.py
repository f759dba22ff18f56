"""hw1 part B: how long the reference and the starter train, inside the grader and alone.

For each program, alternately: `python covid.py` in a scratch folder holding the data
(the floor), and `grade hw1 --submission ... --reveal-private --format json`, whose
report gives the training run's seconds (worker start to the end of the run) and the
public and private scores. Medians of --repeat runs; the ratio compares the two
side by side on the same machine.

    python3 benchmarks/bench_covid.py --repeat 3
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = {"reference": ROOT / "reference" / "hw1", "starter": ROOT / "assignments" / "hw1"}


def alone(folder: Path) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "assignments" / "hw1" / "data", work / "data")
        shutil.copy(folder / "covid.py", work / "covid.py")
        start = time.perf_counter()
        subprocess.run([sys.executable, "covid.py"], cwd=work, stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - start


def graded(folder: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "grader.cli", "hw1", "--submission", str(folder), "--reveal-private", "--format", "json"],
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
        floors, runs, last = [], [], None
        for _ in range(args.repeat):
            floors.append(alone(folder))
            last = graded(folder)
            runs.append(last["run_seconds"])
        f, r = statistics.median(floors), statistics.median(runs)
        print(f"{name}: python covid.py median {f:.1f}s ({', '.join(f'{x:.1f}' for x in floors)}); "
              f"in the grader median {r:.1f}s ({', '.join(f'{x:.1f}' for x in runs)}); ratio {r / f:.2f}x")
        print(f"{name}: public {last['public']:.4f} ({last['public_tier']}), private {last['private']:.4f} ({last['private_tier']})")


if __name__ == "__main__":
    main()
