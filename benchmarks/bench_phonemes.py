"""hw5 part B: how long the reference and the starter phonemes.py train in the grader, and what they score.

Each program is graded as a submission (part B only: a folder holding just
phonemes.py, so part A's checks find nothing to call and are not timed here) with the
private split revealed; the report gives the run's wall seconds (worker start to the
program's end), its CPU seconds (what the budget counts) and the public and private
accuracy and tiers. The device is the manifest's (`device = "cuda"`: a GPU where there
is one, here the CPU). Medians of --repeat runs.

    python3 benchmarks/bench_phonemes.py --repeat 1
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader import manifest  # noqa: E402
from grader.grading import grade  # noqa: E402
from grader.sandbox.backend import start  # noqa: E402

PROGRAMS = {"reference": ROOT / "reference" / "hw5" / "phonemes.py", "starter": ROOT / "assignments" / "hw5" / "phonemes.py"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    hw5 = manifest.find("hw5", ROOT)
    zygote = start()
    try:
        for name, program in PROGRAMS.items():
            walls, cpus, comp = [], [], None
            for _ in range(args.repeat):
                with tempfile.TemporaryDirectory() as tmp:
                    folder = Path(tmp) / name
                    folder.mkdir()
                    shutil.copy(program, folder / "phonemes.py")
                    report = grade(hw5, folder, zygote=zygote, reveal_private=True)
                comp = report.competition
                walls.append(comp.run_seconds)
                cpus.append(comp.run_cpu_seconds)
            points = sum(t.score for t in report.tasks if t.id in ("training", "public_leaderboard", "private_leaderboard"))
            most = sum(t.points for t in hw5.tasks if t.kind == "competition")
            print(f"{name}: in the grader median {statistics.median(walls):.1f}s wall ({', '.join(f'{x:.1f}' for x in walls)}), "
                  f"median {statistics.median(cpus):.1f} s CPU ({', '.join(f'{x:.1f}' for x in cpus)}) of a {hw5.competition.time_budget:g} s budget")
            print(f"{name}: public {comp.public:.4f} ({comp.public_tier}), private {comp.private:.4f} ({comp.private_tier}); part B {points:g}/{most:g}")
    finally:
        zygote.close()


if __name__ == "__main__":
    main()
