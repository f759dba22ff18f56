"""Thin ctypes wrappers over the Linux calls the sandbox needs and Python lacks.

Each raises OSError with the call's name and errno, so a tier that cannot be set up
says exactly which step failed ("mount /proc: Operation not permitted").
"""

from __future__ import annotations

import ctypes
import os
import platform

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NEWTIME = 0x00000080
CLONE_NAMESPACES = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_RELATIME = 1 << 21
MNT_DETACH = 2

PR_SET_PDEATHSIG = 1
PR_SET_KEEPCAPS = 8
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_SECCOMP = 22
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38

CAP_DAC_READ_SEARCH = 2
CAP_LAST = 63  # PR_CAPBSET_DROP past the kernel's last cap fails with EINVAL: stop there

MACHINE = platform.machine()
# The few syscalls without a libc wrapper, by architecture (x86_64, then the generic table).
_SYSCALLS = {
    "x86_64": {"pivot_root": 155, "landlock_create_ruleset": 444, "landlock_add_rule": 445, "landlock_restrict_self": 446},
    "aarch64": {"pivot_root": 41, "landlock_create_ruleset": 444, "landlock_add_rule": 445, "landlock_restrict_self": 446},
}

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _check(ret: int, what: str) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return ret


def syscall(name: str, *args) -> int:
    number = _SYSCALLS.get(MACHINE, {}).get(name)
    if number is None:
        raise OSError(38, f"{name}: not supported on {MACHINE}")
    return _check(_libc.syscall(ctypes.c_long(number), *args), name)


def prctl(option: int, arg: int, what: str = "prctl") -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(arg), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)), what)


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(
        _libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


def umount(target: str) -> None:
    _check(_libc.umount2(target.encode(), MNT_DETACH), f"umount {target}")


def pivot_root(new_root: str, put_old: str) -> None:
    syscall("pivot_root", new_root.encode(), put_old.encode())


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def set_capabilities(caps: tuple[int, ...] = ()) -> None:
    """Effective and permitted sets become exactly ``caps``; inheritable empty."""
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    for cap in caps:
        data[cap // 32].effective |= 1 << (cap % 32)
        data[cap // 32].permitted |= 1 << (cap % 32)
    _check(_libc.capset(ctypes.byref(header), ctypes.byref(data)), "capset")


def drop_bounding_set(keep: tuple[int, ...] = ()) -> None:
    """No capability outside ``keep`` can ever be regained, even by a setuid program."""
    for cap in range(CAP_LAST + 1):
        if cap in keep:
            continue
        try:
            prctl(PR_CAPBSET_DROP, cap, "prctl(PR_CAPBSET_DROP)")
        except OSError as e:
            if e.errno == 22:  # EINVAL: past the kernel's last capability
                return
            raise
