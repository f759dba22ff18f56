"""Landlock: the file-system allow-list where namespaces are not available.

Landlock (Linux 5.13+) lets an unprivileged process restrict itself and every process
it later starts. We hand it the paths a worker may use, by kind of access; everything
else on the host is denied, whatever its Unix permissions. Newer ABIs add what we
use when present:

- ABI 2: linking and renaming across folders (``REFER``) is handled (denied outside the allow-list);
- ABI 3: truncation; ABI 4: TCP bind/connect (denied: no rules allow any port);
- ABI 5: ioctl on device files (only the GPU devices get it);
- ABI 6: scoping: no signals to, and no abstract Unix sockets of, processes outside the sandbox.

Landlock also keeps a sandboxed process from ptrace-like access (``/proc/PID/environ``,
``/proc/PID/mem``) to any process outside its domain.
"""

from __future__ import annotations

import ctypes
import os

from . import linux

EXECUTE = 1 << 0
WRITE_FILE = 1 << 1
READ_FILE = 1 << 2
READ_DIR = 1 << 3
REMOVE_DIR = 1 << 4
REMOVE_FILE = 1 << 5
MAKE_CHAR = 1 << 6
MAKE_DIR = 1 << 7
MAKE_REG = 1 << 8
MAKE_SOCK = 1 << 9
MAKE_FIFO = 1 << 10
MAKE_BLOCK = 1 << 11
MAKE_SYM = 1 << 12
REFER = 1 << 13
TRUNCATE = 1 << 14
IOCTL_DEV = 1 << 15

NET_BIND_TCP = 1 << 0
NET_CONNECT_TCP = 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
SCOPE_SIGNAL = 1 << 1

_FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # the rights a rule on a file may carry

READ = READ_FILE | READ_DIR | EXECUTE
WRITE = READ | WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_DIR | MAKE_REG | MAKE_SOCK | MAKE_FIFO | MAKE_SYM | REFER | TRUNCATE
DEVICE = READ_FILE | WRITE_FILE | IOCTL_DEV

_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def abi() -> int:
    """The kernel's Landlock ABI version; 0 when Landlock is missing or disabled."""
    try:
        return linux.syscall("landlock_create_ruleset", None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    except OSError:
        return 0


def _fs_rights(version: int) -> int:
    return next(mask for v, mask in sorted(_FS_BY_ABI.items(), reverse=True) if version >= v)


def restrict(read: list[str], write: list[str], devices: list[str]) -> tuple[int, list[str]]:
    """Confine this process (and its future children) to the given paths.

    ``read``: read and execute; ``write``: full access beneath; ``devices``: read, write
    and ioctl on those device files. Paths that do not exist are left out. Returns the
    ABI used and what that ABI cannot restrict, in words. Raises OSError if Landlock
    is unavailable or refuses.
    """
    version = abi()
    if version < 1:
        raise OSError(38, "Landlock is not available in this kernel (Linux 5.13+ with landlock in the lsm= list)")
    handled = _fs_rights(version)
    attr = _RulesetAttr(handled, 0, 0)
    size = 8
    missing = []
    if version >= 4:
        attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP
        size = 16
    else:
        missing.append("TCP is not restricted by Landlock (ABI < 4); seccomp denies network sockets instead")
    if version >= 6:
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        size = 24
    else:
        missing.append(f"Landlock ABI {version} cannot stop signals to your other processes (ABI 6 can)")
    ruleset = linux.syscall("landlock_create_ruleset", ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    try:
        for paths, rights in ((read, READ), (write, WRITE), (devices, DEVICE)):
            for path in paths:
                _allow(ruleset, path, rights & handled)
        linux.prctl(linux.PR_SET_NO_NEW_PRIVS, 1, "prctl(PR_SET_NO_NEW_PRIVS)")
        linux.syscall("landlock_restrict_self", ctypes.c_int(ruleset), ctypes.c_uint32(0))
    finally:
        os.close(ruleset)
    return version, missing


def _allow(ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # nothing there: nothing to allow
    try:
        if not os.path.isdir(path):
            rights &= FILE_ONLY
        rule = _PathBeneath(rights, fd)
        linux.syscall("landlock_add_rule", ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH), ctypes.byref(rule), ctypes.c_uint32(0))
    finally:
        os.close(fd)
