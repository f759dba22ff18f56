"""Worker start cost per isolation tier: fork from the zygote + sandbox set-up + ready.

Each tier runs in a child process of its own, alternately, so all are measured side
by side on the same (noisy) machine:

- the tier this host gives (``namespaces`` as root or with user namespaces);
- ``landlock``: the same, with namespaces refused by a container-like seccomp filter
  (tests/tiers/no_namespaces.py);
- ``none``: ``isolate=False`` (no sandbox set-up at all: the fork and handshake alone);
- with ``--user NAME`` (as root): the first two again as that user (``user-host``:
  user namespaces; ``user-landlock``), through tests/tiers/as_user.py.

    python3 benchmarks/bench_worker_start.py --workers 40 --rounds 3 --user grader-student
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def child(isolate: bool, workers: int) -> None:
    sys.path.insert(0, REPO)
    from grader.sandbox import isolation
    from grader.sandbox.client import WorkerSpec
    from grader.sandbox.fork import Zygote

    zygote = Zygote()
    zygote.wait_ready()
    spec = WorkerSpec(files=(), limits=isolation.Limits(memory_bytes=1 << 30), isolate=isolate)
    zygote.worker(spec).close()  # warm
    times, level = [], None
    for _ in range(workers):
        start = time.perf_counter()
        worker = zygote.worker(spec)
        times.append((time.perf_counter() - start) * 1000)
        level = worker.isolation
        worker.close()
    zygote.close()
    print(json.dumps({"level": level, "ms": times}))


def run(kind: str, workers: int, user: str | None) -> dict:
    child = kind.removeprefix("user-")
    cmd = [sys.executable, os.path.abspath(__file__), "--child", child, "--workers", str(workers)]
    if child == "landlock":
        cmd = [sys.executable, os.path.join(REPO, "tests", "tiers", "no_namespaces.py"), *cmd]
    if kind.startswith("user-"):
        cmd = [sys.executable, os.path.join(REPO, "tests", "tiers", "as_user.py"), user, *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", choices=["host", "landlock", "none"])
    parser.add_argument("--user", help="also measure as this (non-root) user")
    args = parser.parse_args()
    if args.child:
        child(args.child != "none", args.workers)
        return
    kinds = ["host", "landlock", "none"] + (["user-host", "user-landlock"] if args.user else [])
    results: dict[str, list[float]] = {k: [] for k in kinds}
    levels = {}
    for _ in range(args.rounds):
        for kind in results:
            r = run(kind, args.workers, args.user)
            results[kind] += r["ms"]
            levels[kind] = r["level"]
    base = statistics.median(results["none"])
    for kind, ms in results.items():
        med = statistics.median(ms)
        print(f"{kind:13} level {levels[kind]:10}  median {med:6.1f} ms  p90 {sorted(ms)[int(len(ms) * 0.9)]:6.1f} ms  ({med / base:.2f}x none)")


if __name__ == "__main__":
    main()
