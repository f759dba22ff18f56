"""`grade batch hw2` over N copies of a submission against a loop of `grade hw2 --submission`.

The submission is the differently written correct hw2 from tests/submissions. Both are
run in this one session, one after the other, on the same copies.

    python3 benchmarks/bench_batch.py --copies 50 --jobs 2
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUBMISSION = ROOT / "tests" / "submissions" / "hw2_other_style.py"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        folder.mkdir()
        for i in range(args.copies):
            shutil.copy(SUBMISSION, folder / f"student{i:03d}.py")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "grader.cli", "batch", "hw2", str(folder), "-j", str(args.jobs), "--out", str(Path(tmp) / "grades")],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        batch = time.perf_counter() - start
        rows = (Path(tmp) / "grades" / "gradebook.csv").read_text().splitlines()[1:]
        assert len(rows) == args.copies and all(",12,12," in r for r in rows), "every copy should get 12/12"
        start = time.perf_counter()
        for path in sorted(folder.iterdir()):
            subprocess.run([sys.executable, "-m", "grader.cli", "hw2", "--submission", str(path), "--format", "json"],
                           cwd=ROOT, check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        loop = time.perf_counter() - start
    print(f"grade batch -j {args.jobs}: {batch:.1f}s for {args.copies} submissions ({batch / args.copies:.2f}s each)")
    print(f"loop of grade --submission: {loop:.1f}s ({loop / args.copies:.2f}s each)")
    print(f"speed-up: {loop / batch:.1f}x")


if __name__ == "__main__":
    main()
