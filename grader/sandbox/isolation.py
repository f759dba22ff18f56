"""Containment of one worker: which tier the host allows, and setting it up.

The keeper (the worker's parent) calls ``enter_namespaces``; the worker, first thing
after its fork and before any student code exists, calls ``contain``. Tiers, strongest
first (see levels.py and docs/security.md):

- ``namespaces``: PID, network, IPC and UTS namespaces from the keeper (through an
  unprivileged user namespace when not root), a mount namespace and the allow-list
  root (rootfs.py) from the worker, which is pid 1 of its namespace;
- ``landlock``: where namespaces cannot be had: the same allow-list by Landlock;
- ``none``: neither (or ``--no-isolation``): rlimits and a scrubbed environment only.

At every tier: rlimits (address space, files, file size, no core dumps, processes),
the seccomp filter (seccomp.py) where the architecture is known, no_new_privs, and,
when the grader runs as root, an unprivileged uid of the worker's own.

Each step that fails says so, and the level reported is the one actually reached.
"""

from __future__ import annotations

import os
import resource
import signal
import time
from dataclasses import dataclass

from . import landlock, linux, rootfs, seccomp
from .levels import LANDLOCK, NAMESPACES, NONE
from .limits import Limits  # noqa: F401 - its old import path

# Each worker of a root grader gets a uid of its own: every grading process (a batch
# forks many) draws from a block of its own, keyed by its pid, so no two live graders
# ever share a worker uid. 500 per block x pid_max (4194304) stays below 2**32 - 1.
UID_BASE = 1_900_000_000
UID_BLOCK = 500


@dataclass(frozen=True)
class Plan:
    """What the worker needs to contain itself (built by the zygote from a request)."""

    cwd: str
    stage: str  # an empty folder for the new root
    runtime: tuple[str, ...]  # runtime paths, already filtered against the protected ones
    limits: Limits
    uid: int | None  # a uid of its own, when the grader is root
    isolate: bool
    namespaces: bool  # the keeper entered the namespaces
    reason: str  # why the keeper could not, in words ("" when it did)


def enter_namespaces() -> tuple[bool, str]:
    """In the keeper, before it forks the worker: (entered, why not)."""
    root = os.geteuid() == 0
    flags = linux.CLONE_NEWPID | linux.CLONE_NEWNET | linux.CLONE_NEWIPC | linux.CLONE_NEWUTS
    uid, gid = os.geteuid(), os.getegid()
    try:
        linux.unshare(flags if root else flags | linux.CLONE_NEWUSER)
    except OSError as e:
        if root:
            return False, f"this host refuses new namespaces even to root ({e.strerror}: a container's seccomp profile?)"
        return False, (
            f"unprivileged user namespaces are not allowed here ({e.strerror}); run as root (sudo) or allow them "
            "(sysctl kernel.unprivileged_userns_clone=1, kernel.apparmor_restrict_unprivileged_userns=0, user.max_user_namespaces)"
        )
    if not root:
        try:
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"{uid} {uid} 1")
            _write("/proc/self/gid_map", f"{gid} {gid} 1")
        except OSError as e:
            return False, f"the user namespace could not be mapped ({e.strerror})"
    return True, ""


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def contain(plan: Plan) -> tuple[str, str]:
    """In the worker, before any student code: set up the best tier the host allows.
    Returns (level, what is missing for a stronger one, in words)."""
    notes = [plan.reason] if plan.reason else []
    level = NONE
    if not plan.isolate:
        notes = ["--no-isolation: the student code can read and change whatever this user can"]
    elif plan.namespaces:
        try:
            rootfs.build(plan.stage, cwd=plan.cwd, runtime=list(plan.runtime))
            level = NAMESPACES
        except OSError as e:
            notes.append(f"the allow-list root could not be built ({e})")
    processes = _process_limit(plan)
    if plan.isolate and level != NAMESPACES:
        try:
            _, missing = landlock.restrict(read=_landlock_reads(plan), write=[plan.cwd], devices=_devices())
            level = LANDLOCK
            notes += missing
        except OSError as e:
            notes.append(f"Landlock could not be used ({e})")
    _set_rlimits(plan.limits, processes)
    if _drop_privileges(plan, level) and level == NONE:
        notes.append("the worker can read every file on this host (its uid needs CAP_DAC_READ_SEARCH to reach the Python runtime)")
    if plan.isolate:
        try:
            # in the host's network namespace, no socket() at all (see seccomp.py)
            seccomp.install(sockets="unix" if level == NAMESPACES else "pairs")
        except OSError as e:
            notes.append(f"no seccomp filter ({e})")
            if level == LANDLOCK:  # without it, UDP and raw sockets stay open: not the landlock tier
                level = NONE
    linux.prctl(linux.PR_SET_NO_NEW_PRIVS, 1)
    return level, "; ".join(notes)


def _landlock_reads(plan: Plan) -> list[str]:
    # /proc: torch reads /proc/self; Landlock itself refuses access to other processes'
    # environ, memory and descriptors (the ptrace rule)
    return [*plan.runtime, "/proc", "/dev/random", "/dev/urandom"]


def _devices() -> list[str]:
    return ["/dev/null", "/dev/zero", "/dev/full", *rootfs.gpu_devices()]


def _process_limit(plan: Plan) -> int:
    """RLIMIT_NPROC for this worker. The kernel counts every task of the real uid: with a
    uid (or a user namespace) of its own that is the worker's tree; otherwise the user's
    other processes count too, so the bound is set above their present number."""
    if plan.uid is not None or (plan.namespaces and os.geteuid() != 0 and plan.isolate):
        return plan.limits.processes
    return _tasks_of(os.getuid()) + plan.limits.processes


def _tasks_of(uid: int) -> int:
    count = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        if int(fields.get("Uid", "-1").split()[0]) == uid:
            count += int(fields.get("Threads", "1"))
    return count


def _set_rlimits(limits: Limits, processes: int) -> None:
    if limits.address_space:  # else the trusted side polls the tree's resident size (a GPU host)
        vm = _vm_size()
        # Address space is measured from the worker's own size after `import torch`.
        resource.setrlimit(resource.RLIMIT_AS, (vm + limits.memory_bytes, vm + limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails instead of killing


def _drop_privileges(plan: Plan, level: str) -> bool:
    """Returns whether the worker kept the right to read past file permissions."""
    if plan.uid is not None:
        # Root: a uid of its own. If the runtime sits where other users cannot look (a
        # pyenv under /root) and no new root re-exposes it, keep only the right to read
        # past permissions: at landlock, Landlock confines it to the allow-list; at none
        # it opens every file for reading, and the reason says so (none is no containment).
        keep = (linux.CAP_DAC_READ_SEARCH,) if level != NAMESPACES and not _runtime_readable(plan.runtime) else ()
        linux.drop_bounding_set(keep)
        if keep:
            linux.prctl(linux.PR_SET_KEEPCAPS, 1)
        os.setgroups([])
        os.setresgid(plan.uid, plan.uid, plan.uid)
        os.setresuid(plan.uid, plan.uid, plan.uid)
        if keep:
            linux.set_capabilities(keep)
        return bool(keep)
    if plan.namespaces:  # capabilities held in our user namespace
        linux.drop_bounding_set()
        linux.set_capabilities(())
    return False


def _runtime_readable(paths: tuple[str, ...]) -> bool:
    """Whether a uid that owns nothing can reach every runtime path."""
    for path in paths:
        parts = os.path.realpath(path).strip("/").split("/")
        for i in range(1, len(parts)):
            try:
                if not os.stat("/" + "/".join(parts[:i])).st_mode & 0o001:
                    return False
            except OSError:
                return False
    return True


def _vm_size() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def worker_uids(pid: int) -> range:
    """The worker uids of the grading process ``pid``."""
    start = UID_BASE + pid * UID_BLOCK
    return range(start, start + UID_BLOCK)


def worker_uid(seq: int) -> int:
    """The ``seq``-th worker uid of this process (cycling through its block)."""
    return worker_uids(os.getpid())[seq % UID_BLOCK]


def kill_descendants(me: int) -> None:
    """Kill every process below ``me`` (the keeper), however it keeps forking.

    The keeper is a child subreaper: whatever detaches (setsid, double fork) is
    re-parented to it, so the whole tree stays below it. Killing children pass by pass
    loses to a chain that forks as fast as it dies, so each round first freezes: SIGSTOP
    every process of the tree, walking it again until a walk finds nobody new (a stopped
    process forks no more), then SIGKILLs them all and reaps. A fork that was under way
    during the walk can still leave a child behind: rounds go on until the tree is empty.
    """
    while True:
        frozen: set[int] = set()
        while True:
            new = _tree_below(me) - frozen
            if not new:
                break
            for pid in new:
                _signal(pid, signal.SIGSTOP)
            frozen |= new
        if not frozen:
            return
        for pid in frozen:
            _signal(pid, signal.SIGKILL)
        _reap()
        time.sleep(0.001)  # let the kills land before the next walk


def _reap() -> None:
    """Collect every child of ours that has died (never blocks)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _tree_below(root: int) -> set[int]:
    parents: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        parents.setdefault(int(fields[1]), []).append(int(name))
    found, todo = set(), [root]
    while todo:
        for child in parents.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found
