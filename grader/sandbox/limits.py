"""A worker's resource limits: plain data, shared by every backend."""

from __future__ import annotations

import glob
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Resource limits for one worker (plain data so it can cross to the worker)."""

    memory_bytes: int
    open_files: int = 256
    processes: int = 128
    file_bytes: int = 256 * 1024 * 1024
    # Whether RLIMIT_AS bounds memory. Not on a host with an NVIDIA GPU: a CUDA context
    # reserves far more address space than any useful limit, so CUDA would not start
    # under one; the trusted side then bounds the worker tree's resident size instead.
    address_space: bool = True


def gpu_host() -> bool:
    """Whether NVIDIA device files are here (Linux): workers may start CUDA."""
    return bool(glob.glob("/dev/nvidia[0-9]*"))


def tree_rss(root, seen: dict | None = None) -> int:
    """The resident size of ``root`` (a psutil.Process) and every process below it, noting
    each in ``seen`` (pid -> process), so that a child that outlives it is still known."""
    import psutil

    try:
        members = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for process in members:
        try:
            total += process.memory_info().rss
            if seen is not None:
                seen.setdefault(process.pid, process)
        except psutil.Error:
            pass
    return total
