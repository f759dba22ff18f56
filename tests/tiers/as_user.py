"""Run a command as another (non-root) user, with this Python runtime and this
checkout reachable.

If the runtime or the checkout sits where other users cannot look (a pyenv, or a CI
clone, under /root), a private mount namespace of the command alone shows them: a
tmpfs over the blocked folder, with those folders bound back beneath it. Nothing on
the host changes. Needs root and util-linux's ``runuser`` (tests/test_tiers.py,
benchmarks/bench_worker_start.py).

    python tests/tiers/as_user.py USER COMMAND [ARGS...]
"""

import os
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)
from grader.sandbox import linux  # noqa: E402


def blocked_ancestor(path: str) -> str | None:
    parts = path.strip("/").split("/")
    for i in range(1, len(parts) + 1):
        folder = "/" + "/".join(parts[:i])
        if not os.stat(folder).st_mode & 0o001:
            return folder
    return None


def expose(paths: list[str]) -> None:
    """In a mount namespace of our own: make each path traversable for everyone."""
    linux.unshare(linux.CLONE_NEWNS)
    linux.mount(None, "/", None, linux.MS_REC | linux.MS_PRIVATE)
    for path in paths:
        blocked = blocked_ancestor(path)
        if blocked is None or blocked == path:
            continue
        stash = tempfile.mkdtemp()
        linux.mount(path, stash, None, linux.MS_BIND | linux.MS_REC)
        keep = [(p, tempfile.mkdtemp()) for p in paths if p != path and p.startswith(blocked + "/")]
        for other, place in keep:
            linux.mount(other, place, None, linux.MS_BIND | linux.MS_REC)
        linux.mount("tmpfs", blocked, "tmpfs", 0, "mode=0755,size=1m")
        for target, source in [(path, stash), *keep]:
            os.makedirs(target, exist_ok=True)
            linux.mount(source, target, None, linux.MS_BIND | linux.MS_REC)
            linux.umount(source)


if __name__ == "__main__":
    expose(sorted({os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix), REPO}))  # a venv's base too
    os.execvp("runuser", ["runuser", "-u", sys.argv[1], "--", *sys.argv[2:]])
