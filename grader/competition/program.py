"""Re-running a submission's training program in a worker and collecting what it writes.

The program runs as ``__main__`` (a notebook: its code cells top to bottom) in a fresh
worker whose folder holds the submission and the competition's public data at the
same relative paths as in the assignment folder, with a fixed seed and the
manifest's time budget for the whole run. The prediction file is read only after
the worker is dead, through a descriptor that refuses links and anything but a
plain file, so a program cannot point the grader at a file of its choosing.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from ..manifest import Assignment
from ..sandbox.client import Worker, WorkerSpec, Zygote
from ..sandbox.errors import StudentError
from ..session import explain, worker_limits
from ..submission import NOTEBOOK_MODULE, Submission

MAX_PREDICTION_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class RunResult:
    ok: bool  # the program ran to its end within the budget
    message: str  # why not, in the student's terms ("" when ok)
    seconds: float
    output: str  # the end of what it printed
    prediction: str | None  # the prediction file's text, when one was written and readable
    prediction_problem: str  # why there is no prediction text ("" when there is)
    isolation: str
    isolation_reason: str = ""


def entry_point(assignment: Assignment, submission: Submission) -> str:
    """The file to run: the notebook, a single .py as given, or the manifest's program."""
    if submission.kind == "notebook":
        return NOTEBOOK_MODULE
    name = submission.files[0][0] if submission.kind == "file" else None
    if name is not None and (name == assignment.competition.program or name not in assignment.files):
        return name  # a single script of any name is the program, unless it is another task's file
    return assignment.competition.program


def run(assignment: Assignment, submission: Submission, zygote: Zygote, *, hide: tuple[str, ...], isolate: bool = True) -> RunResult:
    competition = assignment.competition
    entry = entry_point(assignment, submission)
    shown = submission.shown(entry)
    data = {str(p.relative_to(assignment.directory)): str(p) for p in competition.data_files}
    # the grader's copy of the data wins over whatever the submission carries at those paths;
    # a handed-in prediction file stays out, or a program that writes nothing would seem to
    files = tuple((rel, src) for rel, src in submission.files if rel not in data and rel != competition.prediction)
    files += tuple(data.items())
    spec = WorkerSpec(
        files=files,
        texts=submission.texts,
        limits=worker_limits(assignment),
        hide=hide,
        isolate=isolate,
        output_limit=assignment.limits.output_bytes,
    )
    started = time.monotonic()
    worker = Worker(zygote, spec)
    try:
        message = ""
        try:
            worker.run(entry, timeout=competition.time_budget, seed=competition.seed)
        except StudentError as e:
            message = str(explain(e, submission, entry))
        seconds = time.monotonic() - started
        worker.kill()  # nothing may change the file while (or after) we read it
        output = worker.read_output(tail=True)
        if message:
            return RunResult(False, message, seconds, output, None, message, worker.isolation, worker.isolation_reason)
        text, problem = read_prediction(Path(worker.cwd), competition.prediction, shown)
        return RunResult(True, "", seconds, output, text, problem, worker.isolation, worker.isolation_reason)
    finally:
        worker.close()


def read_prediction(folder: Path, name: str, writer: str) -> tuple[str | None, str]:
    """(text, "") or (None, why not), reading ``folder/name`` without following links."""
    path = folder / name
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None, f"{writer} finished without writing {name} in its working folder"
    except OSError as e:
        if os.path.islink(path):
            return None, f"{name} is a symbolic link; write a plain file"
        return None, f"{name} cannot be read ({e.strerror})"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None, f"{name} is not a plain file"
        if info.st_size > MAX_PREDICTION_BYTES:
            return None, f"{name} is {info.st_size >> 20} MiB; a prediction file is at most {MAX_PREDICTION_BYTES >> 20} MiB"
        chunks, size = [], 0
        while size <= MAX_PREDICTION_BYTES:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("utf-8"), ""
    except UnicodeDecodeError:
        return None, f"{name} is not UTF-8 text"
