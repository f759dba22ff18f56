"""One submission being graded: its worker, its modules, and the student's view of errors.

The session owns the (single) live worker for the submission, replaces it after
any failure, and remembers import failures so a broken file fails every check that
needs it at once instead of re-running (or re-timing-out) for each.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .manifest import Assignment
from .sandbox import levels
from .sandbox.backend import Backend
from .sandbox.client import Worker, WorkerSpec
from .sandbox.limits import Limits, gpu_host
from .sandbox.errors import StudentError, StudentForbidden, StudentImportError, StudentMissing, forbidden_message
from .submission import NOTEBOOK_MODULE, Submission


@dataclass(frozen=True)
class CallResult:
    value: Any
    output: str


class GradingSession:
    def __init__(self, assignment: Assignment, submission: Submission, backend: Backend, *, hide: tuple[str, ...], isolate: bool = True):
        self.assignment = assignment
        self.submission = submission
        self.backend = backend  # started once, it may serve many sessions (a batch, a re-grade)
        # each task function with the API groups its task forbids (empty when none do)
        forbids = any(t.forbidden for t in assignment.tasks)
        self.spec = WorkerSpec(
            files=submission.files,
            texts=submission.texts,
            limits=worker_limits(assignment),
            hide=hide,
            isolate=isolate,
            output_limit=assignment.limits.output_bytes,
            guards=forbids,
        )
        self.rules = {f: t.forbidden for t in assignment.tasks for f in t.functions} if forbids else {}
        self.worker: Worker | None = None
        self.isolation: str | None = None
        self.isolation_reason = ""  # the weakest worker's reason for not reaching more
        self._loaded: set[str] = set()
        self._import_failures: dict[str, StudentError] = {}
        self._lock = threading.Lock()
        if trains(assignment) and hasattr(backend, "warm_up"):
            backend.warm_up()

    def _live_worker(self) -> Worker:
        if self.worker is not None and not self.worker.alive:
            self.worker.close()
            self.worker = None
        if self.worker is None:
            self.worker = self.backend.worker(self.spec)
            self._loaded = set()
            reached = [(self.worker.isolation, self.worker.isolation_reason)]
            if self.isolation is not None:
                reached.insert(0, (self.isolation, self.isolation_reason))
            self.isolation, self.isolation_reason = levels.weakest(reached)
        return self.worker

    def call(self, function: str, args: tuple, kwargs: dict, *, timeout: float, seed: int, keep_objects: bool = False) -> CallResult:
        """Calls a student function. Raises StudentError (with the output so far attached).

        The function works on private copies of the arguments: only those its task
        declares (``in_place`` in the manifest) come back changed into the caller's objects.
        """
        task = self._task_of(function)
        return self._in_worker(function, timeout, lambda worker, name, path: worker.call(
            name, path, function, args, kwargs, timeout=timeout, seed=seed,
            rules=self.rules, keep_objects=keep_objects, in_place=task.in_place_arguments(function),
        ))  # fmt: skip

    def drive(self, driver: dict, charged: tuple[str, ...], args: tuple, kwargs: dict, *, timeout: float, seed: int) -> CallResult:
        """Runs a check's driver (``driver``: its source, name and entry function) in the
        worker around the student's task functions; ``charged`` are the functions of the
        task the check scores (the first names the call in messages; forbidden-API uses
        count against them). The arguments are copies: nothing is written back."""
        spec = {**driver, "functions": self._places, "charged": list(charged)}
        first = charged[0]
        self._task_of(first)
        return self._in_worker(first, timeout, lambda worker, name, path: worker.call(
            name, path, first, args, kwargs, timeout=timeout, seed=seed, rules=self.rules, driver=spec,
        ))  # fmt: skip

    def restart(self) -> None:
        """The next call runs in a fresh worker, which has seen nothing of the earlier
        ones (a checkpoint saved in one worker is loaded in another)."""
        with self._lock:
            self.close()

    @functools.cached_property
    def _places(self) -> dict[str, list]:
        """Every task function -> [module name, module path, whether it may be defined there]."""
        return {f: list(self._place(task, f)) for task in self.assignment.tasks for f in task.functions}

    def _place(self, task, function: str) -> tuple[str, str, bool]:
        """Where ``function`` of ``task`` lives in the submission, and whether it may (a
        notebook none of whose cells defines it may not)."""
        path = self.submission.modules.get(task.file, task.file)
        notebook = self.submission.notebook
        return Path(task.file).stem, path, not (path == NOTEBOOK_MODULE and notebook is not None and not notebook.may_define(function))

    def _task_of(self, function: str):
        task = self.assignment.task_of(function)
        if task is None:
            raise LookupError(f"no task in {self.assignment.manifest_path.name} lists a function named `{function}`")
        return task

    def _in_worker(self, function: str, timeout: float, run) -> CallResult:
        """``run(worker, module name, module path)`` in the live worker, once the module of
        ``function`` is imported there; student errors explained in the student's terms."""
        module_name, module_path, defined = self._place(self._task_of(function), function)
        with self._lock:
            if not defined:
                # no cell defines it: running every cell (a course notebook trains) would tell nothing more
                raise self._explain(StudentMissing(f"`{function}` is not defined in {module_path}"), module_path)
            if module_path in self._import_failures:
                # a fresh traceback each time: re-raising one exception object grows its
                # traceback by every raise, and pytest formats all of it (minutes for ~100 checks)
                raise self._import_failures[module_path].with_traceback(None)
            worker = self._live_worker()
            try:
                if module_path not in self._loaded:
                    try:
                        worker.load(module_name, module_path, timeout=max(timeout, self.assignment.limits.call_timeout))
                    except StudentError as e:
                        self._import_failures[module_path] = self._explain(e, module_path)
                        raise self._import_failures[module_path] from None
                    self._loaded.add(module_path)
                value = run(worker, module_name, module_path)
            except StudentError as e:
                error = self._explain(e, module_path)
                error.output = worker.read_output()
                raise error from None
            return CallResult(value, worker.read_output())

    def _explain(self, error: StudentError, module_path: str) -> StudentError:
        # The worker's error goes no further than here: drop its traceback and context,
        # whose frames hold the reply (a hostile one may be large), so that the reports
        # pytest keeps for every failed check do not keep every reply alive.
        _detach(error)
        return explain(error, self.submission, module_path)

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()
            self.worker = None


def trains(assignment: Assignment) -> bool:
    """Whether student code here builds optimizers: a training program, or checks that
    run loops through drivers."""
    from .checks.drivers import FOLDER

    return assignment.competition is not None or (assignment.public_tests / FOLDER).is_dir()


def _detach(error: BaseException) -> None:
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        following = error.__context__ or error.__cause__
        error.__traceback__ = error.__context__ = error.__cause__ = None
        error = following


def hidden_paths(assignment: Assignment, hidden_dir: Path | None) -> tuple[str, ...]:
    """Folders no runtime path given to a worker may be, hold or lie in: the reference
    (solution, hidden checks, labels), the bundle, and the folders a private copy of them
    was made from. (A worker sees only an allow-list; this keeps the allow-list clean.)"""
    from .private_copy import origins

    paths = {str(assignment.reference_dir), str(assignment.reference_dir.parent), *origins(assignment)}
    if hidden_dir is not None:
        paths.add(str(hidden_dir))
    return tuple(sorted(paths))


def worker_limits(assignment: Assignment) -> Limits:
    limits = assignment.limits
    return Limits(
        memory_bytes=limits.memory_mb * 1024 * 1024, open_files=limits.open_files, processes=limits.processes,
        address_space=not gpu_host(),  # CUDA does not start under RLIMIT_AS: resident size is polled instead
    )  # fmt: skip


def explain(error: StudentError, sub: Submission, module_path: str) -> StudentError:
    """Rewrites a worker error in the student's terms: their file or notebook cell."""
    shown = sub.shown(module_path)
    message = error.message.replace(module_path, shown) if module_path != shown else error.message
    if isinstance(error, StudentMissing) and sub.kind == "notebook":
        message = message.replace(f"in {shown}", f"in {shown} (define it in a code cell)")
    if isinstance(error, StudentForbidden):
        place = lambda path, line: f"{sub.shown(path)}, {sub.locate(path, line)}"  # noqa: E731
        message = forbidden_message(error.info.get("function", "this function"), error.info.get("uses", []), place)
    elif error.info.get("syntax"):
        lineno = int(error.info.get("lineno") or 0)
        detail = error.info.get("detail", "invalid syntax")
        message = f"{shown} has a syntax error in {sub.locate(module_path, lineno)}: {detail}"
        text = str(error.info.get("text", "")).strip()
        if text:
            message += f" — `{text[:120]}`"
    elif sub.kind == "notebook" and isinstance(error, StudentImportError) and "took longer than" in message:
        message += (
            " — code at the top level of a notebook runs whenever the grader imports it; "
            'put training in main() and call it under `if __name__ == "__main__":`'
        )
    elif error.frames:
        path, line, _name, code = error.frames[-1]
        where = f"{sub.shown(path)}, {sub.locate(path, int(line or 0))}"
        message += f" (at {where}" + (f": {str(code).strip()[:120]}" if code else "") + ")"
    return type(error)(message, frames=error.frames, **error.info)
