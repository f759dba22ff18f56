"""Run a command as another (non-root) user, with this Python runtime reachable.

If the runtime sits where other users cannot look (a pyenv under /root), a private
mount namespace of the command alone shows it to them (a tmpfs over the blocked folder
with the runtime bound back beneath); nothing on the host changes. Needs root,
util-linux's ``unshare`` and ``runuser`` (tests/test_tiers.py, benchmarks).

    python tests/tiers/as_user.py USER COMMAND [ARGS...]
"""

import os
import sys


def blocked_ancestor(path: str) -> str | None:
    parts = path.strip("/").split("/")
    for i in range(1, len(parts)):
        folder = "/" + "/".join(parts[:i])
        if not os.stat(folder).st_mode & 0o001:
            return folder
    return None


def command(user: str, argv: list[str]) -> list[str]:
    prefix = os.path.realpath(sys.prefix)
    blocked = blocked_ancestor(prefix)
    run = ["runuser", "-u", user, "--", *argv]
    if blocked is None:
        return run
    script = (
        'set -e; stash=$(mktemp -d); mount --bind "$1" "$stash"; '
        'mount -t tmpfs -o mode=0755,size=1m tmpfs "$2"; mkdir -p "$1"; mount --bind "$stash" "$1"; '
        'umount -l "$stash"; shift 2; exec "$@"'
    )
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", prefix, blocked, *run]


if __name__ == "__main__":
    argv = command(sys.argv[1], sys.argv[2:])
    os.execvp(argv[0], argv)
