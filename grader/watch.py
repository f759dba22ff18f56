"""Re-grading on save: what to watch, when a save is over, and what changed.

``grade hwN --watch`` keeps the expensive part warm — this trusted process with torch,
pytest and the grader imported, and one zygote — and grades afresh on every save:
each round is a new pytest session with new workers forked from the zygote, and the
check modules, conftest files and reference modules the previous round imported are
dropped from ``sys.modules`` first, so no state of theirs carries over. A round's
report is the one a cold ``grade hwN`` gives for the same files.
"""

from __future__ import annotations

import hashlib
import os
import sys
import sysconfig
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import GraderError
from .manifest import Assignment
from .results import Report

# Editors save in bursts (write a backup, truncate, write, rename, chmod): a round
# starts once the watched files have been quiet this long.
DEBOUNCE_S = 0.05


def student_files(assignment: Assignment, submission: Path) -> tuple[Path, ...]:
    """The files whose saves start a round: the manifest's student files in a folder,
    or the one ``.py`` or notebook given. Never checks, the reference or outputs."""
    submission = Path(submission).absolute()
    if submission.is_dir():
        return tuple(submission / f for f in assignment.files)
    return (submission,)


def fingerprint(files: tuple[Path, ...]) -> str:
    """The content of the watched files: a save that changes nothing starts no round."""
    h = hashlib.sha256()
    for path in files:
        h.update(str(path).encode() + b"\0")
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(b"\1missing")
    return h.hexdigest()


class Saves:
    """Saves of a fixed set of files, seen by watchdog (inotify, FSEvents, ReadDirectoryChangesW).

    Only the folders holding a watched file are watched, not recursively, and only
    writes, creations, renames onto and deletions of a watched name count: reading a
    file (as every round does) is no save."""

    def __init__(self, files: tuple[Path, ...]):
        try:
            from watchdog.events import FileSystemEventHandler
            from watchdog.observers import Observer
        except ImportError:  # pragma: no cover - a dependency; only a broken install lacks it
            raise GraderError("--watch needs the watchdog package: pip install watchdog") from None
        self.files = frozenset(os.path.abspath(f) for f in files)
        self._changed = threading.Event()
        self._last = 0.0
        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event) -> None:
                if event.event_type not in ("modified", "created", "moved", "deleted", "closed"):
                    return  # "opened", "closed_no_write": a read, ours included
                paths = {os.path.abspath(os.fsdecode(p)) for p in (event.src_path, getattr(event, "dest_path", "")) if p}
                if paths & watcher.files:
                    watcher._last = time.monotonic()
                    watcher._changed.set()

        self._observer = Observer()
        for folder in sorted({os.path.dirname(f) for f in self.files}):
            if not os.path.isdir(folder):
                raise GraderError(f"cannot watch {folder}: it is not a folder")
            self._observer.schedule(Handler(), folder, recursive=False)

    def __enter__(self) -> Saves:
        self._observer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._observer.stop()
        self._observer.join(timeout=5)

    def pending(self) -> bool:
        return self._changed.is_set()

    def wait(self, debounce: float = DEBOUNCE_S, timeout: float | None = None) -> bool:
        """Blocks until a watched file is saved and then quiet for ``debounce`` seconds;
        False if ``timeout`` seconds pass with no save."""
        give_up = None if timeout is None else time.monotonic() + timeout
        while not self._changed.wait(0.25):  # short waits: Ctrl-C is seen at once
            if give_up is not None and time.monotonic() >= give_up:
                return False
        while True:
            quiet = time.monotonic() - self._last
            if quiet >= debounce:
                break
            time.sleep(debounce - quiet)
        self._changed.clear()
        return True


@dataclass(frozen=True)
class Changes:
    """What a round changed against the one before: checks by display name."""

    newly_passing: tuple[str, ...]
    newly_failing: tuple[str, ...]
    score_before: float
    score_after: float


def changes(before: Report, after: Report) -> Changes:
    was = {c.nodeid: c.status for c in before.checks}
    now = {c.nodeid: c for c in after.checks}
    passing = tuple(c.name for n, c in now.items() if c.status == "pass" and was.get(n, "pass") != "pass")
    failing = tuple(c.name for n, c in now.items() if c.status in ("fail", "error") and was.get(n) == "pass")
    return Changes(passing, failing, before.score, after.score)


def _library_dirs() -> tuple[str, ...]:
    """Where installed code lives (the standard library, site-packages, the grader):
    modules from there stay imported between rounds; anything else a round imported
    (checks, conftest files, the reference, helpers beside them) is dropped."""
    paths = sysconfig.get_paths()
    dirs = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    dirs.add(str(Path(__file__).resolve().parent))
    return tuple(os.path.join(os.path.realpath(d), "") for d in dirs)


def _from_library(module, libraries: tuple[str, ...]) -> bool:
    try:  # a namespace package's __path__ is computed from its parent's, which may be gone
        places = [getattr(module, "__file__", None), *list(getattr(module, "__path__", None) or [])]
    except Exception:  # noqa: BLE001 - nowhere to be found: not installed code
        return False
    places = [p for p in places if isinstance(p, str)]
    if not places:
        return True  # built-in or frozen
    return all(os.path.realpath(p).startswith(libraries) for p in places)


class FreshModules:
    """Within it, a round; on leaving, the modules the round imported from outside the
    libraries are dropped.

    pytest's importlib mode returns a module already in ``sys.modules`` under the same
    name instead of importing the file again, so without this a second round would run
    the first round's check modules, module-level state and all."""

    def __init__(self) -> None:
        self._libraries = _library_dirs()
        self._before: set[str] = set()
        self._torch = _torch_settings()  # as a cold run starts

    def __enter__(self) -> FreshModules:
        self._before = set(sys.modules)
        return self

    def __exit__(self, *exc) -> None:
        for name in sorted(set(sys.modules) - self._before, key=lambda n: -n.count(".")):  # children first
            module = sys.modules.get(name)
            if module is not None and not _from_library(module, self._libraries):
                del sys.modules[name]
        _restore_torch(self._torch)


def _torch_settings() -> tuple:
    """torch's process-wide settings a check could change and leave changed; the RNGs
    need nothing: every check is seeded."""
    import torch

    return (torch.get_default_dtype(), torch.is_grad_enabled(), torch.get_num_threads(), torch.are_deterministic_algorithms_enabled())


def _restore_torch(settings: tuple) -> None:
    import torch

    dtype, grad, threads, deterministic = settings
    torch.set_default_dtype(dtype)
    torch.set_grad_enabled(grad)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic)


def rounds(
    grade_once: Callable[[], Report], files: tuple[Path, ...], *, debounce: float = DEBOUNCE_S, timeout: float | None = None
) -> Iterator[Report | GraderError]:
    """Grades once, then again after every save that changed a watched file; forever
    (or until ``timeout`` seconds pass with no save: TimeoutError).

    ``grade_once()`` grades the files as they stand; a GraderError (a notebook saved
    half-written) is yielded in place of a report, and watching goes on."""
    fresh = FreshModules()
    with Saves(files) as saves:
        graded = None
        while True:
            if graded is not None:
                if not saves.wait(debounce, timeout):
                    raise TimeoutError(f"no save of {', '.join(str(f) for f in files)} in {timeout:g} s")
                if fingerprint(files) == graded:
                    continue  # saved as it was (or a burst already graded)
            graded = fingerprint(files)
            try:
                with fresh:
                    result = grade_once()
            except GraderError as e:
                result = e
            yield result
