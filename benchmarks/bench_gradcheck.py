"""The directional gradient check against torch.autograd.gradcheck, on a (64, 256) input.

The function is tanh(x @ w) with x (64, 256) and w (256, 32), in float64, and a
backward written by hand. Both checks are timed on the right backward (median of
--repeat runs, alternating), and both are run on four wrong backwards, to show they
catch the same ones. gradcheck needs an autograd Function, so the hand-written
backward is wrapped in one; the directional check takes the gradients as they are.

    python3 benchmarks/bench_gradcheck.py --repeat 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from grader.gradcheck import check_directional  # noqa: E402


def forward(x, w):
    return torch.tanh(x @ w)


def right(x, w, dout):
    t = torch.tanh(x @ w)
    d = dout * (1 - t * t)
    return d @ w.T, x.T @ d


BACKWARDS = {
    "right": right,
    "transposed dw": lambda x, w, d: (right(x, w, d)[0], right(x, w, d)[1].T.reshape(w.shape)),
    "missing tanh' factor": lambda x, w, d: (d @ w.T, x.T @ d),
    "scaled by 2": lambda x, w, d: tuple(2 * g for g in right(x, w, d)),
    "sign flipped": lambda x, w, d: tuple(-g for g in right(x, w, d)),
}


def as_function(backward):
    class Layer(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return torch.tanh(x @ w)

        @staticmethod
        def backward(ctx, dout):
            x, w = ctx.saved_tensors
            return backward(x, w, dout)

    return Layer.apply


def run_gradcheck(backward, x, w, fast: bool) -> bool:
    xs = (x.clone().requires_grad_(True), w.clone().requires_grad_(True))
    try:
        return torch.autograd.gradcheck(as_function(backward), xs, eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=fast)
    except Exception:  # gradcheck raises GradcheckError on a mismatch
        return False


def run_directional(backward, x, w) -> bool:
    dout = torch.randn(x.shape[0], w.shape[1], dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    try:
        check_directional(forward, (x, w), backward(x, w, dout), dout, names=("dx", "dw"))
        return True
    except AssertionError:
        return False


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 256, dtype=torch.float64, generator=g)
    w = torch.randn(256, 32, dtype=torch.float64, generator=g) * 0.05
    times = {"directional": [], "gradcheck": [], "gradcheck fast_mode": []}
    for _ in range(args.repeat):
        times["directional"].append(timed(lambda: run_directional(right, x, w)))
        times["gradcheck"].append(timed(lambda: run_gradcheck(right, x, w, fast=False)))
        times["gradcheck fast_mode"].append(timed(lambda: run_gradcheck(right, x, w, fast=True)))
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in times.items():
        print(f"{k:20} median {med[k] * 1000:9.1f} ms  runs {', '.join(f'{t * 1000:.1f}' for t in v)}")
    print(f"gradcheck / directional: {med['gradcheck'] / med['directional']:.0f}x; "
          f"gradcheck fast_mode / directional: {med['gradcheck fast_mode'] / med['directional']:.1f}x")
    print("verdicts (True = accepted):")
    for name, backward in BACKWARDS.items():
        print(f"  {name:22} directional {run_directional(backward, x, w)!s:5}  gradcheck {run_gradcheck(backward, x, w, False)!s:5}"
              f"  fast_mode {run_gradcheck(backward, x, w, True)!s:5}")


if __name__ == "__main__":
    main()
