"""A seccomp filter for workers: no network sockets, no new namespaces, no ptrace.

Installed last, after the worker's own set-up (mounts, uid drop), so it never blocks
the sandbox; it then holds for the student code and everything it starts. Denied
calls fail with EPERM (EAFNOSUPPORT for a socket family), the way a container's
default profile answers them, so libraries fall back instead of crashing.

- sockets: only ``AF_UNIX`` (torch's own worker pipes); no IP, netlink or packet sockets.
  Where the worker shares the host's file system and network namespace (the
  ``landlock`` tier) not even ``socket(AF_UNIX)``: Landlock does not govern connecting
  to a socket file, and the host's (docker.sock, ssh-agent, a user bus) would be in
  reach; ``socketpair`` stays;
- ``unshare``, ``setns``, ``clone``/``clone3`` with namespace flags, ``mount`` and the new
  mount API, ``pivot_root``, ``chroot``: no way to build a view of one's own;
- ``ptrace``, ``process_vm_readv``/``writev``, ``perf_event_open``, ``bpf``, keyrings,
  ``userfaultfd``, ``io_uring``, ``open_by_handle_at``, module loading, ``kexec``;
- System V IPC (``shmget``, ``semget``, ``msgget`` and their calls): at the ``landlock``
  tier it is the host's, a channel between workers that outlives them all.

Only x86_64 and aarch64 are known; elsewhere ``install`` raises and the tier says so.
``clone3`` answers ENOSYS (its flags live in memory a filter cannot read); glibc then
falls back to ``clone``, whose flags the filter checks.
"""

from __future__ import annotations

import ctypes
import errno
import struct

from . import linux

AF_UNIX = 1
_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_X32_BIT = 0x40000000

# name -> number, per architecture
_NUMBERS = {
    "x86_64": {
        "socket": 41, "socketpair": 53, "clone": 56, "clone3": 435, "unshare": 272, "setns": 308,
        "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161, "ptrace": 101,
        "process_vm_readv": 310, "process_vm_writev": 311, "perf_event_open": 298, "bpf": 321,
        "keyctl": 250, "add_key": 248, "request_key": 249, "userfaultfd": 323, "kexec_load": 246,
        "kexec_file_load": 320, "init_module": 175, "finit_module": 313, "delete_module": 176,
        "open_by_handle_at": 304, "name_to_handle_at": 303, "open_tree": 428, "move_mount": 429,
        "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442,
        "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "acct": 163,
        "shmget": 29, "shmat": 30, "shmctl": 31, "shmdt": 67, "semget": 64, "semop": 65, "semctl": 66,
        "semtimedop": 220, "msgget": 68, "msgsnd": 69, "msgrcv": 70, "msgctl": 71,
    },
    "aarch64": {
        "socket": 198, "socketpair": 199, "clone": 220, "clone3": 435, "unshare": 97, "setns": 268,
        "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51, "ptrace": 117,
        "process_vm_readv": 270, "process_vm_writev": 271, "perf_event_open": 241, "bpf": 280,
        "keyctl": 219, "add_key": 217, "request_key": 218, "userfaultfd": 282, "kexec_load": 104,
        "kexec_file_load": 294, "init_module": 105, "finit_module": 273, "delete_module": 106,
        "open_by_handle_at": 265, "name_to_handle_at": 264, "open_tree": 428, "move_mount": 429,
        "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442,
        "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "acct": 89,
        "shmget": 194, "shmat": 196, "shmctl": 195, "shmdt": 197, "semget": 190, "semop": 193, "semctl": 191,
        "semtimedop": 192, "msgget": 186, "msgsnd": 189, "msgrcv": 188, "msgctl": 187,
    },
}  # fmt: skip

WORKER_DENIED = (
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "ptrace", "process_vm_readv",
    "process_vm_writev", "perf_event_open", "bpf", "keyctl", "add_key", "request_key", "userfaultfd",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "open_by_handle_at",
    "name_to_handle_at", "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick",
    "mount_setattr", "io_uring_setup", "io_uring_enter", "io_uring_register", "acct",
    # System V IPC: at `landlock` it is the host's (no IPC namespace), its segments outlive
    # the worker and the grader, and no memory bound sees them; torch and multiprocessing
    # use POSIX shared memory (files) instead
    "shmget", "shmat", "shmctl", "shmdt", "semget", "semop", "semctl", "semtimedop",
    "msgget", "msgsnd", "msgrcv", "msgctl",
)  # fmt: skip
# What a container's default profile refuses that decides our tier (used to reproduce one in tests).
CONTAINER_DENIED = ("unshare", "setns", "mount", "umount2", "pivot_root")

# classic BPF
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JSET_K = 0x45
_JGE_K = 0x35
_RET_K = 0x06
_ALLOW = 0x7FFF0000
_ERRNO = 0x00050000
_OFF_NR, _OFF_ARCH, _OFF_ARG0 = 0, 4, 16  # struct seccomp_data; args are 64-bit, low word first
_SECCOMP_MODE_FILTER = 2


def _stmt(code: int, k: int) -> tuple:
    return (code, 0, 0, k)


def _jump(code: int, k: int, jt: int, jf: int) -> tuple:
    return (code, jt, jf, k)


def program(denied: tuple[str, ...], *, sockets: str, arch: str = linux.MACHINE) -> list[tuple]:
    """The filter as (code, jt, jf, k) instructions. ``sockets``: "any" (not filtered),
    "unix" (``AF_UNIX`` only) or "pairs" (only ``socketpair(AF_UNIX)``, no ``socket()``)."""
    if arch not in _ARCH:
        raise OSError(errno.ENOSYS, f"seccomp: no syscall table for {arch}")
    nr = _NUMBERS[arch]
    eperm = _stmt(_RET_K, _ERRNO | errno.EPERM)
    prog = [
        _stmt(_LD_W_ABS, _OFF_ARCH),
        _jump(_JEQ_K, _ARCH[arch], 1, 0),
        eperm,  # a foreign ABI (32-bit calls on a 64-bit kernel): nothing allowed
        _stmt(_LD_W_ABS, _OFF_NR),
    ]
    if arch == "x86_64":
        prog += [_jump(_JGE_K, _X32_BIT, 0, 1), eperm]  # x32 numbers alias the 64-bit ones
    for name in denied:
        prog += [_jump(_JEQ_K, nr[name], 0, 1), eperm]
    # clone with a namespace flag (flags are the first argument on both architectures)
    prog += [
        _jump(_JEQ_K, nr["clone"], 0, 3),
        _stmt(_LD_W_ABS, _OFF_ARG0),
        _jump(_JSET_K, linux.CLONE_NAMESPACES, 0, 1),
        eperm,
        _stmt(_LD_W_ABS, _OFF_NR),
        _jump(_JEQ_K, nr["clone3"], 0, 1),
        _stmt(_RET_K, _ERRNO | errno.ENOSYS),
    ]
    if sockets == "pairs":  # no socket() at all: a path or abstract name could reach the host's
        prog += [_jump(_JEQ_K, nr["socket"], 0, 1), _stmt(_RET_K, _ERRNO | errno.EAFNOSUPPORT)]
    if sockets in ("unix", "pairs"):
        for name in ("socket", "socketpair"):
            prog += [
                _jump(_JEQ_K, nr[name], 0, 4),
                _stmt(_LD_W_ABS, _OFF_ARG0),
                _jump(_JEQ_K, AF_UNIX, 0, 1),
                _stmt(_RET_K, _ALLOW),
                _stmt(_RET_K, _ERRNO | errno.EAFNOSUPPORT),
            ]
    prog.append(_stmt(_RET_K, _ALLOW))
    return prog


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install(denied: tuple[str, ...] = WORKER_DENIED, *, sockets: str = "unix") -> None:
    """Apply the filter to this thread's process from now on (and to every child)."""
    prog = program(denied, sockets=sockets)
    raw = b"".join(struct.pack("HBBI", *ins) for ins in prog)
    buf = ctypes.create_string_buffer(raw, len(raw))
    fprog = _SockFprog(len(prog), ctypes.cast(buf, ctypes.c_void_p))
    linux.prctl(linux.PR_SET_NO_NEW_PRIVS, 1, "prctl(PR_SET_NO_NEW_PRIVS)")
    ret = linux._libc.prctl(linux.PR_SET_SECCOMP, ctypes.c_ulong(_SECCOMP_MODE_FILTER), ctypes.byref(fprog), ctypes.c_ulong(0), ctypes.c_ulong(0))
    linux._check(ret, "prctl(PR_SET_SECCOMP)")
