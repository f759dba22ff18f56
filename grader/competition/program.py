"""Re-running a submission's training program in a worker and collecting what it writes.

The program runs as ``__main__`` (a notebook: its code cells top to bottom) in a fresh
worker whose folder holds the submission and the competition's public data at the
same relative paths as in the assignment folder, and once more under their plain
names beside the program (``./covid.train.csv``, where the course's own notebooks
read them), with a fixed seed. Its budget is CPU seconds of its process tree, with a
wall-clock cap (budget.py); past either it is stopped and told how far it got.

The program is told its device in the environment variable ``GRADER_DEVICE``
(``manifest.DEVICE_ENV``): the manifest's ``[competition] device``, ``"cpu"`` unless
it says ``"cuda"``. A program reads it and falls back to the CPU when CUDA is not
there (``torch.cuda.is_available()``), so the same file trains on a GPU grader and
on a student's laptop. The worker sees the host's NVIDIA device files on Linux
(sandbox/rootfs.py); the CPU budget counts what the program's process tree computes
on the CPU, not the GPU's time.

A program that imports ``google.colab`` (a notebook written on Colab) finds a
harmless stand-in that says what it skipped (``drive.mount`` and the like): the
data is already in its folder.

The prediction file is read only after the worker is dead, through a descriptor that
refuses links and anything but a plain file, so a program cannot point the grader at
a file of its choosing. It is read whether or not the program finished: predictions
written before a later crash are scored, and only the "runs to the end" check fails.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .. import colab, environment
from ..manifest import DEVICE_ENV, Assignment
from ..sandbox.backend import Backend
from ..sandbox.client import WorkerSpec
from ..sandbox.errors import StudentCrash, StudentError, StudentTimeout
from ..session import explain, worker_limits
from ..submission import NOTEBOOK_MODULE, Submission
from . import budget

MAX_PREDICTION_BYTES = 50 * 1024 * 1024
SHOWN_LAST_LINES = 3


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
    cpu_seconds: float | None = None  # CPU time of its process tree (None: not measurable here)


def entry_point(assignment: Assignment, submission: Submission) -> str:
    """The file to run: the notebook, a single .py as given, or the manifest's program."""
    if submission.kind == "notebook":
        return NOTEBOOK_MODULE
    name = submission.files[0][0] if submission.kind == "file" else None
    if name is not None and (name == assignment.competition.program or name not in assignment.files):
        return name  # a single script of any name is the program, unless it is another task's file
    return assignment.competition.program


def data_placement(assignment: Assignment) -> dict[str, str]:
    """Path in the worker's folder -> the grader's copy: each data file at its path in the
    assignment folder (data/covid.train.csv) and under its plain name (covid.train.csv)."""
    placed = {}
    for path in assignment.competition.data_files:
        placed[str(path.relative_to(assignment.directory))] = str(path)
        placed.setdefault(path.name, str(path))
    return placed


def run(
    assignment: Assignment, submission: Submission, zygote: Backend, *, hide: tuple[str, ...], isolate: bool = True, progress=None
) -> RunResult:
    """Runs the program; ``progress(budget.Progress)`` is called about twice a second meanwhile."""
    competition = assignment.competition
    entry = entry_point(assignment, submission)
    shown = submission.shown(entry)
    data = data_placement(assignment)
    # the grader's copy of the data wins over whatever the submission carries at those paths;
    # a handed-in prediction file stays out, or a program that writes nothing would seem to
    files = tuple((rel, src) for rel, src in submission.files if rel not in data and rel != competition.prediction)
    files += tuple(data.items())
    texts = submission.texts
    if colab.wanted(_source(submission, entry)) and not colab.present(texts):  # a notebook has it already
        texts += colab.files()
    spec = WorkerSpec(
        files=files,
        texts=texts,
        limits=worker_limits(assignment),
        hide=hide,
        isolate=isolate,
        output_limit=assignment.limits.output_bytes,
        env=((DEVICE_ENV, competition.device),),
    )
    if hasattr(zygote, "warm_up"):  # a training program builds an optimizer: its first costs ~1.3 s, paid once
        zygote.warm_up()
    worker = zygote.worker(spec)
    try:
        message = ""
        watch = budget.Watch(worker, shown, budget=competition.time_budget, wall_cap=competition.wall_cap, progress=progress)
        with watch:
            try:
                # the watch stops the run; this timeout only backs it up
                worker.run(entry, timeout=competition.wall_cap + 10, seed=competition.seed)
            except StudentError as e:
                message = str(explain(e, submission, entry))
                if watch.stopped_for or isinstance(e, (StudentTimeout, StudentCrash)):
                    message = _stopped(watch, shown, assignment, e) or message
            cpu = watch.measure()  # the worker is idle (or dead) now: its last figure
            seconds = watch.elapsed
        worker.kill()  # nothing may change the file while (or after) we read it
        output = worker.read_output(tail=True)
        cpu_seconds = cpu if watch.measured else None
        if message:
            hint = environment.missing_module_hint(assignment, message)
            message += f" — {hint}" if hint else ""
        text, problem = read_prediction(Path(worker.cwd), competition.prediction, shown, finished=not message)
        if text is None and not os.path.lexists(Path(worker.cwd) / competition.prediction):  # say what it wrote
            problem += wrote_instead(Path(worker.cwd), set(dict(files)) | {rel for rel, _ in texts}, competition.prediction)
        return RunResult(not message, message, seconds, output, text, problem, worker.isolation, worker.isolation_reason, cpu_seconds)
    finally:
        worker.close()


def _source(submission: Submission, entry: str) -> str:
    """The program's text, to see whether it needs a stand-in ("" when unreadable)."""
    texts = dict(submission.texts)
    if entry in texts:
        return texts[entry]
    path = dict(submission.files).get(entry)
    if path is None:
        return ""
    try:  # the submission's own file, read as the worker copy was: no link, nothing but a plain file
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return ""
    with open(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        return f.read(4 << 20).decode("utf-8", "replace")


def _stopped(watch: budget.Watch, shown: str, assignment: Assignment, error: StudentError) -> str:
    """The message for a run the watch (or the backing timeout) stopped: how far it got,
    what it last printed, and what to do; "" when it died of something else."""
    competition = assignment.competition
    if watch.stopped_for is None and not isinstance(error, StudentTimeout):
        return ""
    cpu, elapsed = watch.cpu, watch.elapsed
    last = budget.last_lines(watch.worker.output_path, SHOWN_LAST_LINES)
    said = "; its last lines: " + " | ".join(f"`{line}`" for line in last) if last else "; it printed nothing"
    if watch.stopped_for == "cpu":
        return (
            f"{shown} used its budget of {competition.time_budget:g} s of CPU time and was stopped, "
            f"{elapsed:.0f} s after it started{said}. To finish in time, train for fewer epochs or stop "
            f"earlier (early stopping), use a smaller model or fewer features, and time it with `grade "
            f"{assignment.name}`: the budget counts CPU seconds, so a busy machine does not count against you"
        )
    return (
        f"{shown} was still running after {elapsed:.0f} s, the wall-clock limit, having used {cpu:.1f} s of "
        f"its {competition.time_budget:g} s of CPU{said}. A run that long without computing is waiting for "
        f"something (a sleep, input, a download, a lock): remove the wait"
    )


def wrote_instead(folder: Path, given: set[str], name: str, limit: int = 5) -> str:
    """``; it wrote a.csv, out/pred.csv ...`` for the CSV files a program wrote in its folder
    (not those it was given), or that it wrote none."""
    found = []
    for top, dirs, names in os.walk(folder):  # links are not followed
        depth = len(Path(top).relative_to(folder).parts)
        dirs[:] = sorted(d for d in dirs if depth < 4 and not d.startswith("."))
        for n in sorted(names):
            rel = str(Path(top, n).relative_to(folder))
            if n.lower().endswith(".csv") and rel not in given:
                found.append(rel)
    if not found:
        return "; it wrote no CSV file"
    more = f" and {len(found) - limit} more" if len(found) > limit else ""
    return f"; it wrote {', '.join(found[:limit])}{more} (write {name} in the folder the program starts in)"


def read_prediction(folder: Path, name: str, writer: str, *, finished: bool = True) -> tuple[str | None, str]:
    """(text, "") or (None, why not), reading ``folder/name`` without following links."""
    path = folder / name
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        if not finished:
            return None, f"{writer} stopped before writing {name}"
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
