"""Isolation levels, weakest first, and how they compare.

- ``none``: no containment (``--no-isolation``, or a host with none of the below):
  a student's self-check only, never an authoritative grade.
- ``landlock``: Linux without usable namespaces: a Landlock file-system allow-list,
  seccomp against network sockets and namespace syscalls, rlimits.
- ``namespaces``: private mount/PID/network/IPC/UTS namespaces (as root, or through an
  unprivileged user namespace) and an allow-list root built with ``pivot_root``.

Every report names the weakest level any of its workers reached.
"""

from __future__ import annotations

NONE = "none"
LANDLOCK = "landlock"
NAMESPACES = "namespaces"
ORDER = (NONE, LANDLOCK, NAMESPACES)
DEFAULT_MINIMUM = LANDLOCK  # what authoritative outputs need unless the manifest says otherwise


def weakest(reached: list[tuple[str, str]]) -> tuple[str, str]:
    """What a report may claim for several workers: the weakest (level, reason) any of
    them reached (the first of equals)."""
    return min(reached, key=lambda level_reason: rank(level_reason[0]))


def rank(level: str) -> int:
    """Position in ORDER; an unknown name ranks below ``none`` (never overstated)."""
    return ORDER.index(level) if level in ORDER else -1


def at_least(level: str, minimum: str) -> bool:
    return rank(level) >= rank(minimum)
