"""`grade hw2 --watch`: from a save of layers.py to the new report, against a cold `grade hw2`.

Starts `grade hw2 --submission COPY --watch` once, then saves the reference
`layers.py` (a comment changed each time, so every check runs to the end) into COPY
and times until the round's report is on the screen; cold runs of `grade hw2
--submission COPY` of the same file are timed alternately, on the same machine.

    python3 benchmarks/bench_watch.py --repeat 9
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GRADE = [sys.executable, "-m", "grader.cli", "hw2", "--root", str(REPO)]
DONE = "save to grade again"  # the last line of a round


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    solution = (REPO / "reference" / "hw2" / "layers.py").read_text()
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as tmp:
        folder = Path(tmp) / "student"
        folder.mkdir()
        target = folder / "layers.py"
        target.write_text(solution)
        watcher = subprocess.Popen(
            [*GRADE, "--submission", str(folder), "--watch"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, env=dict(os.environ, COLUMNS="200"),
        )  # fmt: skip
        try:
            started = time.perf_counter()
            first = _round(watcher)
            print(f"first round (start-up included): {time.perf_counter() - started:.2f}s")
            if "Score: 12/12" not in first:
                sys.exit("the reference did not score 12/12 under --watch:\n" + first[-2000:])
            saves, colds = [], []
            for i in range(args.repeat):
                saved = time.perf_counter()
                target.write_text(solution + f"\n# save {i}\n")
                shown = _round(watcher)
                saves.append(time.perf_counter() - saved)
                if "Score: 12/12" not in shown:
                    sys.exit("a round did not score 12/12:\n" + shown[-2000:])
                start = time.perf_counter()
                subprocess.run([*GRADE, "--submission", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
                colds.append(time.perf_counter() - start)
        finally:
            watcher.terminate()
            watcher.wait()
    s, c = statistics.median(saves), statistics.median(colds)
    print(f"save -> report (--watch): median {s:.2f}s  runs {', '.join(f'{x:.2f}' for x in saves)}")
    print(f"cold grade hw2:           median {c:.2f}s  runs {', '.join(f'{x:.2f}' for x in colds)}")
    print(f"ratio: {s / c:.2f}x")


def _round(proc: subprocess.Popen) -> str:
    """What the watcher prints up to the end of its next round."""
    lines = []
    while True:
        line = proc.stdout.readline()
        if not line:
            sys.exit("grade --watch ended:\n" + "".join(lines)[-2000:])
        lines.append(line)
        if DONE in line:
            return "".join(lines)


if __name__ == "__main__":
    main()
