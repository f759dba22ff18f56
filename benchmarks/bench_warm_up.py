"""What the zygote's warm-up (``import torch._dynamo`` before forking, asked for by
assignments that train) saves per worker, and what it costs once.

A worker of training code pays ~1-2 s for its first optimizer (torch's lazy
``_disable_dynamo`` wrappers import torch._dynamo), and a worker is replaced after every
failing check. Two zygotes run side by side: one plain, one warmed; each forks N
workers that each build one SGD optimizer, timed from the request to the reply.

    python3 benchmarks/bench_warm_up.py --workers 6
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.sandbox.client import WorkerSpec  # noqa: E402
from grader.sandbox.fork import Zygote  # noqa: E402
from grader.sandbox.limits import Limits  # noqa: E402

STUDENT = "import torch\n\ndef first_optimizer():\n    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)\n    return 1\n"


def one_worker(zygote: Zygote, path: str) -> float:
    spec = WorkerSpec(files=(("opt.py", path),), limits=Limits(memory_bytes=2 << 30))
    start = time.perf_counter()
    worker = zygote.worker(spec)
    try:
        worker.load("opt", "opt.py", timeout=30)
        assert worker.call("opt", "opt.py", "first_optimizer", (), {}, timeout=30, seed=0) == 1
    finally:
        worker.close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "opt.py")
        Path(path).write_text(STUDENT)
        plain, warmed = Zygote(), Zygote()
        try:
            plain.wait_ready()
            warmed.wait_ready()
            start = time.perf_counter()
            warmed.warm_up()
            one_worker(warmed, path)  # the first worker waits for the warm-up itself
            warm_cost = time.perf_counter() - start
            times = {"plain": [], "warmed": []}
            for _ in range(args.workers):  # alternately, so that load falls on both alike
                times["plain"].append(one_worker(plain, path))
                times["warmed"].append(one_worker(warmed, path))
        finally:
            plain.close()
            warmed.close()
    p, w = statistics.median(times["plain"]), statistics.median(times["warmed"])
    print(f"per worker, first optimizer: plain zygote median {p:.3f}s, warmed {w:.3f}s ({p / w:.1f}x)")
    print(f"the warm-up itself, with its first worker: {warm_cost:.2f}s (paid once per grading run)")
    print("runs plain:  " + ", ".join(f"{t:.2f}" for t in times["plain"]))
    print("runs warmed: " + ", ".join(f"{t:.2f}" for t in times["warmed"]))


if __name__ == "__main__":
    main()
