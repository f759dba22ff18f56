"""The allow-list root of a worker at the ``namespaces`` tier.

In a mount namespace of its own, the worker builds a new root on an empty tmpfs and
``pivot_root``s into it, then detaches the host's tree: what is not mounted into the
new root does not exist for it. The new root holds only:

- the Python runtime, read-only, at the same paths: each ``sys.path`` folder, the
  interpreter, the folders of the shared libraries already loaded, the system
  library folders, ``/etc/ld.so.cache`` and the CPU topology torch reads;
- the worker's own folder (the copy of the submission), writable;
- a private ``/tmp`` and ``/dev/shm`` (tmpfs of 128 and 64 MiB that vanish with the worker);
- a minimal ``/dev`` (null, zero, full, random, urandom, and the GPU devices if any);
- a ``/proc`` of the worker's own PID namespace.

A runtime folder that is, or holds, a protected path (the course, the reference, a
bundle) is never mounted: a ``.pth`` entry pointing at the course repository does not
open it to the worker.
"""

from __future__ import annotations

import glob
import os
import sys

from . import linux

SYSTEM_LIBS = ("/lib", "/lib64", "/lib32", "/usr/lib", "/usr/lib64", "/usr/lib32")
SYSTEM_FILES = ("/etc/ld.so.cache",)
SYSTEM_DIRS = ("/sys/devices/system/cpu", "/sys/devices/system/node")
DEVICES = ("null", "zero", "full", "random", "urandom")


def runtime_paths() -> list[str]:
    """Folders and files the Python runtime of this process may still read (as given,
    not resolved: links are recreated inside the new root)."""
    import grader

    paths = [p for p in sys.path if p and os.path.isabs(p) and os.path.exists(p)]
    paths.append(os.path.dirname(grader.__file__))
    paths.append(sys.executable)
    paths += _loaded_library_dirs()
    paths += [p for p in SYSTEM_LIBS + SYSTEM_FILES + SYSTEM_DIRS if os.path.exists(p)]
    return list(dict.fromkeys(paths))


def _loaded_library_dirs() -> list[str]:
    dirs = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                parts = line.split(None, 5)
                if len(parts) == 6 and parts[5].startswith("/") and ".so" in parts[5]:
                    dirs.append(os.path.dirname(parts[5].strip()))
    except OSError:
        pass
    return list(dict.fromkeys(dirs))


def allowed(paths: list[str], secrets: list[str], roots: list[str] = ()) -> list[str]:
    """The paths that expose nothing protected: neither a secret, nor above or inside one,
    nor a root (the user's home) or above it (a runtime inside the home stays usable)."""
    secrets = [os.path.realpath(p) for p in secrets]
    roots = [os.path.realpath(p) for p in roots]

    def above_or_at(real: str, guard: str) -> bool:
        return real == guard or guard.startswith(real.rstrip("/") + "/")

    out = []
    for path in paths:
        real = os.path.realpath(path)
        if any(above_or_at(real, g) or real.startswith(g + "/") for g in secrets) or any(above_or_at(real, r) for r in roots):
            continue
        out.append(path)
    return out


def _mirror(root: str, path: str, depth: int = 0) -> str:
    """Make ``path`` resolve inside ``root`` as it does on the host: recreate every link
    on the way and create the folders. Returns the host's real path."""
    if depth > 16:
        raise OSError(40, f"too many links under {path}")
    parts = [p for p in path.split("/") if p]
    current = "/"
    for i, part in enumerate(parts):
        step = os.path.join(current, part)
        if os.path.islink(step):
            inside = root + step
            if not os.path.lexists(inside):
                os.makedirs(os.path.dirname(inside), exist_ok=True)
                os.symlink(os.readlink(step), inside)
            return _mirror(root, os.path.join(os.path.realpath(step), *parts[i + 1 :]), depth + 1)
        current = step
    return current


def _mount_flags(path: str) -> int:
    """The flags a read-only remount must keep (a user namespace may not clear locked ones)."""
    f = os.statvfs(path).f_flag
    flags = linux.MS_RDONLY | linux.MS_NOSUID | linux.MS_NODEV
    for st, ms in ((os.ST_NOEXEC, linux.MS_NOEXEC), (os.ST_NOATIME, linux.MS_NOATIME), (os.ST_NODIRATIME, linux.MS_NODIRATIME), (os.ST_RELATIME, linux.MS_RELATIME)):
        if f & st:
            flags |= ms
    return flags


def _bind(root: str, source: str, *, writable: bool = False) -> None:
    target = root + source
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            open(target, "w").close()
    linux.mount(source, target, None, linux.MS_BIND | linux.MS_REC)
    flags = _mount_flags(source)
    if writable:
        flags &= ~linux.MS_RDONLY
    linux.mount(None, target, None, linux.MS_BIND | linux.MS_REMOUNT | flags)


def _tmpfs(target: str, mode: str, size: int, extra: int = 0) -> None:
    os.makedirs(target, exist_ok=True)
    linux.mount("tmpfs", target, "tmpfs", linux.MS_NOSUID | linux.MS_NODEV | extra, f"size={size},mode={mode}")


TMP_BYTES = 128 << 20  # the private /tmp; it is memory, outside the address-space limit
SHM_BYTES = 64 << 20  # the private /dev/shm (torch's DataLoader workers share tensors there)


def build(root: str, *, cwd: str, runtime: list[str]) -> None:
    """Build the new root at ``root`` (an empty folder) and pivot into it. ``runtime``
    is already filtered by ``allowed``. The caller is pid 1 of a fresh PID namespace and
    holds CAP_SYS_ADMIN in its user namespace."""
    os.umask(0o022)  # the folders made on the way must be traversable by the worker's uid
    linux.unshare(linux.CLONE_NEWNS)
    linux.mount(None, "/", None, linux.MS_REC | linux.MS_PRIVATE)
    _tmpfs(root, "0755", 8 << 20)
    _tmpfs(root + "/tmp", "1777", TMP_BYTES, linux.MS_NOEXEC)
    real_paths = sorted({_mirror(root, p) for p in runtime})
    for i, real in enumerate(real_paths):
        if any(real.startswith(prev.rstrip("/") + "/") for prev in real_paths[:i]):
            continue  # already visible through a folder above it
        _bind(root, real)
    _bind(root, _mirror(root, cwd), writable=True)
    _minimal_dev(root, SHM_BYTES)
    os.makedirs(root + "/proc", exist_ok=True)
    linux.mount("proc", root + "/proc", "proc", linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC)
    linux.mount(None, root, None, linux.MS_REMOUNT | linux.MS_RDONLY | linux.MS_NOSUID | linux.MS_NODEV)
    os.chdir(root)
    linux.pivot_root(".", ".")  # the old root is stacked beneath; detach it
    linux.umount(".")
    os.chdir("/")
    os.chdir(cwd)


def _minimal_dev(root: str, shm_bytes: int) -> None:
    dev = root + "/dev"
    _tmpfs(dev, "0755", 64 << 10, linux.MS_NOEXEC)
    for name in DEVICES:
        open(f"{dev}/{name}", "w").close()
        linux.mount(f"/dev/{name}", f"{dev}/{name}", None, linux.MS_BIND)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{dev}/{name}")
    _tmpfs(dev + "/shm", "1777", shm_bytes, linux.MS_NOEXEC)
    for gpu in gpu_devices():
        open(dev + gpu[len("/dev") :], "w").close()
        linux.mount(gpu, dev + gpu[len("/dev") :], None, linux.MS_BIND)


def gpu_devices() -> list[str]:
    """NVIDIA device files, for CUDA checks (character devices only)."""
    return sorted(p for p in glob.glob("/dev/nvidia*") if os.path.exists(p) and not os.path.isdir(p))
