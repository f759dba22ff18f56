"""A worker's folder on the host: created, bounded, removed, and swept after a crash.

``<tmp>/grader-<pid>-XXXX/`` holds ``work/`` (the worker's working folder: the copy of
the submission and what it writes), ``output.log`` and ``stage/`` (where the worker
mounts its new root). The grading process's pid in the name lets a later run remove
what a killed one left behind.

When the grader is root on Linux (the fork backend), ``work/`` is a tmpfs of a fixed
size, so a worker cannot fill the host's disk however many files it writes (the
file-size rlimit bounds only each file). Elsewhere (a non-root grader, a container that
may not mount, the portable backend) the folder lives on the host's disk, bounded per
file at most, as docs/security.md says.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile

PREFIX = "grader-"
DISK_BYTES = 1 << 30  # a worker's folder, at most (root graders)
_NAME = re.compile(rf"^{PREFIX}(?:trusted-)?(\d+)-")  # workers' folders and root's private copies
_swept = False


class WorkDir:
    def __init__(self, disk_bytes: int = DISK_BYTES, *, bound: bool = True):
        sweep()
        self.base = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-")
        self.cwd = os.path.join(self.base, "work")
        self.output = os.path.join(self.base, "output.log")
        self.stage = os.path.join(self.base, "stage")
        self.bounded = False
        try:
            os.makedirs(self.cwd)
            os.makedirs(self.stage)
            open(self.output, "wb").close()
            self.bounded = bound and _bound(self.cwd, disk_bytes)
        except BaseException:  # Ctrl-C or SIGTERM mid-way too: no folder left behind
            self.remove()
            raise

    def remove(self) -> None:
        if self.bounded:
            _unmount(self.cwd)
        shutil.rmtree(self.base, ignore_errors=True)


def _bound(folder: str, size: int) -> bool:
    """A tmpfs of ``size`` bytes on ``folder``, when this process may mount (root)."""
    if not _root() or not hasattr(os, "sched_getaffinity"):  # Linux root only
        return False
    from . import linux

    try:
        linux.mount("tmpfs", folder, "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, f"size={size},mode=0755")
    except OSError:
        return False  # a container without CAP_SYS_ADMIN: the host's disk, per-file limits only
    return True


def _unmount(folder: str) -> None:
    if not os.path.ismount(folder):
        return
    from . import linux

    try:
        linux.umount(folder)
    except OSError:
        pass


def sweep() -> None:
    """Once per process: remove the folders of grading processes that no longer exist
    (workers' folders and a root grader's private copies), and only our own."""
    global _swept
    if _swept:
        return
    _swept = True
    tmp = tempfile.gettempdir()
    try:
        names = os.listdir(tmp)
    except OSError:
        return
    for name in names:
        match = _NAME.match(name)
        if not match:
            continue
        path = os.path.join(tmp, name)
        try:
            if os.lstat(path).st_uid != _euid() or _alive(int(match.group(1))):
                continue
        except OSError:
            continue
        if _root():
            _unmount(os.path.join(path, "work"))
        shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    import psutil  # not os.kill(pid, 0): on Windows that would end the process

    return psutil.pid_exists(pid)


def _euid() -> int:
    """Our effective uid; on Windows (no uids) 0, which is also what lstat gives as owner."""
    return os.geteuid() if hasattr(os, "geteuid") else 0


def _root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0
