"""A worker's resource limits: plain data, shared by every backend."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Resource limits for one worker (plain data so it can cross to the worker)."""

    memory_bytes: int
    open_files: int = 256
    processes: int = 128
    file_bytes: int = 256 * 1024 * 1024
