"""The portable backend's worker process: a fresh interpreter that spawn.py started.

While it waits, unassigned, it imports torch (so a submission's first check need not
wait for it); then it takes the folder, output file, environment and limits of the
worker it becomes and answers calls with worker.begin, the same dispatch as a forked
worker (which puts the forbidden-API guards in place where a task forbids one). It contains nothing: isolation
``none``. Nothing here is Linux-only: ``resource`` is used where it exists.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time

from . import channel

SOCKET_FD_ENV = "GRADER_SPAWN_FD"


def main() -> None:
    sock = _socket()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the grader's to handle
    _exit_with_parent()

    import numpy  # noqa: F401 - loaded before the spec arrives: the worker starts warm
    import torch  # noqa: F401

    from . import forbidden, worker

    forbidden.preload()  # loaded before the spec arrives

    try:
        spec, _ = channel.recv(sock)
    except (channel.ChannelClosed, channel.FrameError, OSError):
        os._exit(0)  # never used: the grader is done
    signal.signal(signal.SIGINT, signal.default_int_handler)  # student code sees signals as in any process
    worker.settle_in(spec["output"], spec["cwd"], spec["env"])
    applied = _limit(spec["limits"])
    worker.begin(sock, spec["cwd"], "none", "; ".join(applied), guards=bool(spec.get("guards")))


def _socket() -> socket.socket:
    """The call socket: inherited as a descriptor (POSIX), or shared through stdin (Windows)."""
    if os.name == "nt":
        return socket.fromshare(sys.stdin.buffer.read())
    return socket.socket(fileno=int(os.environ.pop(SOCKET_FD_ENV)))


def _exit_with_parent() -> None:
    """If the grader dies without closing us (killed), we go too, even mid-call."""
    import psutil

    parent = psutil.Process(os.getppid())

    def watch() -> None:
        while parent.is_running():  # also False once its pid is someone else's
            time.sleep(0.5)
        os._exit(70)

    threading.Thread(target=watch, daemon=True, name="grader-parent-watch").start()


def _limit(limits: dict) -> list[str]:
    """The rlimits this platform takes (none on Windows). Returns what could not be set,
    in words; the trusted side polls memory whatever happens here."""
    try:
        import resource
    except ImportError:  # Windows
        return ["no rlimits on this platform: memory is bounded by polling alone"]
    import psutil

    vm = psutil.Process().memory_info().vms  # measured after `import torch`, as the fork backend does
    wanted = [
        *([("RLIMIT_AS", vm + int(limits["memory_bytes"]), "address space")] if limits.get("address_space", True) else []),
        ("RLIMIT_NOFILE", int(limits["open_files"]), "open files"),
        ("RLIMIT_FSIZE", int(limits["file_bytes"]), "file size"),
        ("RLIMIT_CORE", 0, "core dumps"),
    ]
    missing = []
    for name, value, words in wanted:
        which = getattr(resource, name, None)
        try:
            _, hard = resource.getrlimit(which)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (value, hard if name == "RLIMIT_CORE" else value))
        except (TypeError, ValueError, OSError) as e:
            missing.append(f"no {words} limit ({e})")
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails instead of killing
    return missing
