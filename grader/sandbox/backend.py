"""Which worker backend runs student code here, behind the one interface sessions use.

- ``fork`` (fork.py): Linux with fork and pidfds. Workers are forked from a warm zygote
  and contain themselves at the strongest tier the host allows (namespaces, landlock).
- ``spawn`` (spawn.py): everywhere else (macOS, Windows). Workers are fresh
  interpreters with no sandbox: isolation ``none``, a student's self-check.

The choice is automatic; ``GRADER_BACKEND=fork|spawn`` forces it. Both speak the same
protocol (client.py) over the same channel and codec. A backend is started once and
serves any number of sessions (a batch, a re-grade) until ``close()``:

    backend.name                   "fork" or "spawn", as every report gives it
    backend.worker(spec)           a started client.Worker for one submission
    backend.probe(isolate=...)     (level, why not more) that a worker reaches here
    backend.alive                  False once it can start no more workers: start another
    backend.close()                every worker gone, and the zygote or spare interpreter
"""

from __future__ import annotations

import os
import sys
from typing import Protocol

from ..errors import GraderError
from .client import Worker, WorkerSpec

ENV = "GRADER_BACKEND"
NAMES = ("fork", "spawn")


class Backend(Protocol):
    name: str

    @property
    def alive(self) -> bool: ...  # False once it can start no more workers (its zygote died)

    def worker(self, spec: WorkerSpec) -> Worker: ...

    def probe(self, *, isolate: bool = True) -> tuple[str, str]: ...

    def close(self) -> None: ...


def fork_missing() -> str:
    """Why the fork backend cannot run on this host ("" when it can)."""
    if not sys.platform.startswith("linux"):
        return f"it needs Linux (this host is {sys.platform})"
    import signal
    import socket

    for owner, name in ((os, "fork"), (os, "pidfd_open"), (signal, "pidfd_send_signal"), (socket, "send_fds")):
        if not hasattr(owner, name):
            return f"this Python has no {owner.__name__}.{name}"
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError as e:  # a kernel older than 5.3, or a seccomp profile that refuses it
        return f"this kernel refuses pidfd_open ({e.strerror})"
    return ""


def choose() -> str:
    """The backend's name: ``GRADER_BACKEND`` if set, else fork where it can run."""
    forced = os.environ.get(ENV, "").strip()
    if forced:
        if forced not in NAMES:
            raise GraderError(f"{ENV} must be fork or spawn, not {forced!r}; unset it to choose automatically")
        missing = fork_missing() if forced == "fork" else ""
        if missing:
            raise GraderError(f"{ENV}=fork cannot run here: {missing}; unset {ENV} (or set it to spawn) to use the portable backend")
        return forced
    return "spawn" if fork_missing() else "fork"


def start(name: str | None = None) -> Backend:
    """Starts the chosen backend (or ``name``). Start it early: its `import torch` overlaps ours."""
    asked = name is not None
    name = name or choose()
    if name == "fork":
        from .fork import Zygote  # Linux-only modules load here, and only here

        return Zygote()
    from .spawn import Spawner

    missing = fork_missing()
    if asked or not missing:
        why = f"{ENV}=spawn chose the portable backend" if not asked else "the portable backend was asked for"
        why += ", which has no sandbox (the fork backend has one)"
    else:
        why = f"this host cannot run the fork backend's sandbox ({missing}): the portable backend has none"
    return Spawner(why + "; student code runs as your user and can read and change what you can")
