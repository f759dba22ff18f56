"""How many CPU threads grading uses: one, on every path.

``grade hwN`` on a laptop, CI's ``grade hwN --format github``, ``grade batch`` and
``grade leaderboard`` must give one submission the same grade. Two things depend on
the thread count: a training run's time (several threads on a busy machine spend more
CPU seconds than one, and the budget counts CPU seconds), and its numbers (a parallel
reduction adds in another order, so a seeded run's predictions differ in their last
digits from one core count to the next). So student code always runs with one
intra-op thread, whatever the host has or the caller's environment says; the trusted
process follows the same rule, so the references it computes are the same everywhere.

The rule reaches workers through their environment: the zygote imports torch with
``OMP_NUM_THREADS=1``, and every worker (and any process it starts) inherits it. A
program may still ask for more threads (``torch.set_num_threads``); its budget counts
what they use.
"""

from __future__ import annotations

import os
import sys

THREADS = 1
_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def environment() -> dict[str, str]:
    """The variables every zygote and worker is started with."""
    return {name: str(THREADS) for name in _VARIABLES}


def limit_this_process() -> None:
    """The trusted process's own torch (imported now or later) uses the same count."""
    os.environ.update(environment())
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != THREADS:
        torch.set_num_threads(THREADS)
