"""Containment of one worker: namespaces, uid drop, rlimits, capabilities.

Three levels, strongest first, chosen per worker by what the host allows and
reported in every result:

- ``namespaces``: the grader runs as root; the worker gets private PID, network,
  mount and IPC namespaces, the grader's secret directories are covered by empty
  read-only tmpfs mounts, /proc shows only the worker's own processes, and the
  worker drops to an unprivileged uid of its own (so RLIMIT_NPROC bounds fork bombs).
- ``user-namespaces``: an unprivileged grader where the kernel allows user
  namespaces; the same namespaces and mounts, then every capability is dropped.
- ``rlimits-only``: neither is possible; rlimits, a scrubbed environment and a
  fresh session are all the worker gets.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
from dataclasses import dataclass

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REC = 16384
MS_PRIVATE = 1 << 18

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38

NAMESPACES = "namespaces"
USER_NAMESPACES = "user-namespaces"
RLIMITS_ONLY = "rlimits-only"

# Each worker running as root-dropped gets a uid of its own from this range.
UID_BASE = 1_900_000_000
UID_SPAN = 1_000_000

_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def prctl(option: int, arg: int) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0), "prctl")


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(
        _libc.mount(
            source.encode(),
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_capabilities() -> None:
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), ctypes.byref(data)), "capset")


@dataclass(frozen=True)
class Limits:
    """Resource limits for one worker (plain data so the zygote can receive it)."""

    memory_bytes: int
    open_files: int = 256
    processes: int = 128
    file_bytes: int = 256 * 1024 * 1024


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


MS_BIND = 4096
MNT_DETACH = 2


def umount(target: str) -> None:
    _check(_libc.umount2(target.encode(), MNT_DETACH), f"umount {target}")


def python_paths() -> list[str]:
    """Directories a worker must be able to read to import Python modules."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    paths.update(p for p in sys.path if p and os.path.isdir(p))
    return sorted(os.path.realpath(p) for p in paths)


def _blocked_ancestor(path: str) -> str | None:
    """The topmost ancestor of ``path`` that other users cannot traverse."""
    parts = path.strip("/").split("/")
    for i in range(1, len(parts)):
        anc = "/" + "/".join(parts[:i])
        try:
            if not os.stat(anc).st_mode & 0o001:
                return anc
        except OSError:
            return None
    return None


def expose_python(paths: list[str], stage: str) -> None:
    """Make the Python installation readable by a dropped uid, inside our mount namespace.

    Python often lives under a private home (/root/.pyenv); instead of opening the
    host's permissions, cover each non-traversable ancestor with a 0755 tmpfs and
    bind the needed directories back in beneath it.
    """
    wanted: dict[str, list[str]] = {}
    for p in paths:
        anc = _blocked_ancestor(p)
        if anc is not None:
            wanted.setdefault(anc, []).append(p)
    for anc, subs in wanted.items():
        tops = [p for p in subs if not any(p != q and p.startswith(q + "/") for q in subs)]
        staged = []
        for i, p in enumerate(tops):
            s = os.path.join(stage, str(len(staged)) + "-" + str(i))
            os.makedirs(s)
            mount(p, s, None, MS_BIND | MS_REC)
            staged.append((s, p))
        mount("tmpfs", anc, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755")
        for s, p in staged:
            os.makedirs(p, mode=0o755, exist_ok=True)
            mount(s, p, None, MS_BIND | MS_REC)
            umount(s)
            os.rmdir(s)


def enter_namespaces(hide: list[str], stage: str | None = None) -> str:
    """Called in the keeper (before it forks the worker). Returns the level reached."""
    if os.geteuid() == 0:
        level, flags = NAMESPACES, CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    else:
        level = USER_NAMESPACES
        flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    uid, gid = os.geteuid(), os.getegid()
    try:
        unshare(flags)
    except OSError:
        return RLIMITS_ONLY
    try:
        if level == USER_NAMESPACES:
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"{uid} {uid} 1")
            _write("/proc/self/gid_map", f"{gid} {gid} 1")
        mount("none", "/", None, MS_REC | MS_PRIVATE)
        if level == NAMESPACES and stage is not None:
            expose_python(python_paths(), stage)
        for path in hide:
            if os.path.isdir(path):
                mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0")
            elif os.path.exists(path):
                mount("/dev/null", path, None, MS_BIND)  # an empty file in its place
    except OSError:
        # The namespaces exist but could not be set up: the secrets may be visible,
        # so say so rather than claim more than we have.
        return RLIMITS_ONLY
    return level


def worker_uid(seq: int) -> int:
    return UID_BASE + seq % UID_SPAN


def contain_worker(level: str, limits: Limits, uid: int | None) -> None:
    """Called in the worker, before any student code runs."""
    if level in (NAMESPACES, USER_NAMESPACES):
        try:
            mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        except OSError:
            pass
    vm = _vm_size()
    # Address space is measured from the worker's own size after `import torch`.
    resource.setrlimit(resource.RLIMIT_AS, (vm + limits.memory_bytes, vm + limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails instead of killing
    if level == NAMESPACES and uid is not None:
        # A uid of its own: RLIMIT_NPROC then counts only this worker's processes.
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    elif level == USER_NAMESPACES:
        drop_capabilities()
    prctl(PR_SET_NO_NEW_PRIVS, 1)


def _vm_size() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def kill_descendants(me: int) -> None:
    """Kill every process whose parent is ``me`` until none is left.

    The keeper is a child subreaper, so a grandchild that detached with setsid is
    re-parented to it when its own parent dies, and is found on a later pass.
    """
    for _ in range(1000):
        children = _children_of(me)
        if not children:
            return
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def _children_of(ppid: int) -> list[int]:
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[1]) == ppid:
            out.append(int(name))
    return out


def weakest(levels: list[str]) -> str:
    """What a report may claim for several workers: the weakest level any of them reached."""
    order = [RLIMITS_ONLY, USER_NAMESPACES, NAMESPACES]
    return min(levels, key=order.index)
