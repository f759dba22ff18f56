"""Which isolation level a result may be produced at, and what each level means.

A student's self-check (the terminal, ``--format json``) runs at any level and says
which. An authoritative result (what a platform records, or a class regrade) is
refused below the manifest's ``[limits] min_isolation`` unless the instructor accepts
the risk with ``--allow-weak-isolation``; the acceptance is then written into the
result, never left silent. The level is probed before any student code runs.
"""

from __future__ import annotations

from .errors import GraderError
from .sandbox import levels

# Formats a platform records as the grade, or shows a student as their CI grade.
AUTHORITATIVE_FORMATS = ("github", "actions", "junit", "gradescope", "classroom50")
NO_STUDENT_CODE = "none (no student code ran)"
FIX = "run as root (sudo), allow unprivileged user namespaces, or pass --allow-weak-isolation to accept the risk"
FIX_NO_ISOLATION = "drop --no-isolation, or pass --allow-weak-isolation to accept the risk"

MEANING = {
    levels.NAMESPACES: "private namespaces: student code saw only its own files, processes and no network",
    levels.LANDLOCK: (
        "no private PID/network namespaces: a Landlock file-system allow-list, seccomp and limits "
        "held student code, but it shared this host's process table"
    ),
    levels.NONE: "no containment: student code could read and change anything your user can — a self-check, not a grade",
}


def meaning(level: str) -> str:
    """What a level means for whoever reads the report; an unknown name reads as ``none``."""
    return MEANING.get(level, MEANING[levels.NONE])


def below_top(level: str) -> bool:
    return level != NO_STUDENT_CODE and levels.rank(level) < levels.rank(levels.NAMESPACES)


def meets(level: str, minimum: str) -> bool:
    """No student code ran: nothing was at risk, whatever the host offers."""
    return level == NO_STUDENT_CODE or levels.at_least(level, minimum)


def probe(zygote, *, isolate: bool = True) -> tuple[str, str]:
    """The level this host gives a worker, and why not more. The probe waits for the
    zygote's `import torch`; ours runs meanwhile, as grading would need it anyway."""
    from concurrent.futures import ThreadPoolExecutor

    from .sandbox.client import probe_level

    with ThreadPoolExecutor(1) as pool:  # joined before returning: nothing is left running
        found = pool.submit(probe_level, zygote, isolate=isolate)
        import torch  # noqa: F401

        return found.result()


def refusal(name: str, what: str, level: str, reason: str, minimum: str, *, isolate: bool = True) -> str:
    lacks = reason.strip() or ("--no-isolation turns the sandbox off" if not isolate else "the sandbox gave no reason")
    fix = FIX if isolate else FIX_NO_ISOLATION
    return f"{name}: isolation {level} is below the minimum {minimum} for {what} ([limits] min_isolation): {lacks}; {fix}"


def require(name: str, what: str, level: str, reason: str, minimum: str, *, allow_weak: bool, isolate: bool = True) -> bool:
    """True when only ``--allow-weak-isolation`` lets the run through (to be recorded in
    the result); False when the level is enough. Raises GraderError when refused."""
    if meets(level, minimum):
        return False
    if not allow_weak:
        raise GraderError(refusal(name, what, level, reason, minimum, isolate=isolate))
    return True


def settle(report, name: str, what: str, minimum: str, *, allow_weak: bool):
    """The report as an authoritative result may carry it: refused (GraderError) if any
    worker ended below the minimum without the flag, marked as accepted if with it."""
    from dataclasses import replace

    accepted = require(name, what, report.isolation, report.isolation_reason, minimum, allow_weak=allow_weak)
    return replace(report, weak_isolation_accepted=True) if accepted else report


def accepted_note(level: str) -> str:
    return f"weak isolation accepted (--allow-weak-isolation): graded at {level}"
