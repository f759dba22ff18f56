"""Regrading a whole class: one result per student, a gradebook, and a resumable run.

Each submission (a folder, a student repository, ``.py``, ``.ipynb`` or ``.zip`` in
the batch folder) is graded in a pool of processes forked from a parent that has
imported torch and started one zygote per process; each then grades many
submissions in turn, paying the start-up once. Every result is written to ``results/<student>.json``
by an atomic rename as soon as it exists; a restarted batch skips students whose
result matches their submission's content hash, so an interrupted run (Ctrl-C, a
killed process) loses nothing and counts nothing twice. ``gradebook.csv`` is rebuilt
from the result files at the end. A submission that breaks the grader is recorded
with its error and retried on the next run; it never stops the batch. One the grader
refuses (a symbolic link where the student's files should be) is the student's
result: 0, with the reason in the ``refused`` column.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .. import atomic, bundle, uploads
from ..errors import GraderError
from ..manifest import Assignment

KINDS = (".py", ".ipynb", ".zip")
MAX_ZIP_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class Job:
    student: str
    path: Path
    digest: str


def find_submissions(folder: Path) -> list[Job]:
    if not folder.is_dir():
        raise GraderError(f"{folder} is not a folder of submissions")
    jobs = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.is_symlink():
            continue
        if entry.is_dir() or entry.suffix.lower() in KINDS:
            jobs.append(Job(student=entry.stem if entry.is_file() else entry.name, path=entry, digest=digest(entry)))
    students = Counter(j.student for j in jobs)
    twice = sorted(s for s, n in students.items() if n > 1)
    if twice:
        raise GraderError(f"two submissions for {', '.join(twice)} in {folder}; keep one per student")
    return jobs


def digest(path: Path) -> str:
    """Content hash of a submission, so a changed one is graded again on resume."""
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink() and ".git" not in p.parts)
    for p in files:
        h.update(str(p.relative_to(path) if path.is_dir() else p.name).encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def result_path(out: Path, student: str) -> Path:
    return out / "results" / f"{student}.json"


def done(out: Path, job: Job) -> bool:
    try:
        data = json.loads(result_path(out, job.student).read_text())
    except (OSError, ValueError):
        return False
    return data.get("digest") == job.digest and not data.get("grader_error")


def _unpack(job: Job, scratch: Path) -> Path:
    """The path to hand to grade(): a student repository's assignment folder, or a zip's contents."""
    path = job.path
    if path.suffix.lower() == ".zip":
        target = scratch / job.student
        with zipfile.ZipFile(path) as z:
            if sum(i.file_size for i in z.infolist()) > MAX_ZIP_BYTES:
                raise GraderError(f"{path.name} unpacks to more than {MAX_ZIP_BYTES >> 20} MiB")
            for info in z.infolist():
                name = Path(info.filename)
                if name.is_absolute() or ".." in name.parts:
                    raise GraderError(f"{path.name} holds a path outside itself: {info.filename}")
            z.extractall(target)
        inner = [p for p in target.iterdir() if not p.name.startswith(("__MACOSX", "."))]
        path = inner[0] if len(inner) == 1 and inner[0].is_dir() else target
    return path


def _assignment_folder(path: Path, assignment: Assignment) -> Path:
    """A repository's assignment folder (a linked one too: grade() refuses it), else ``path``."""
    nested = uploads.nested(path, assignment.name) if path.is_dir() else None
    return nested if nested is not None else path


def modified_files(path: Path, assignment: Assignment) -> list[str]:
    """What a student's repository or folder changes of the trusted definition (see bundle.modified)."""
    return bundle.modified(path, assignment)


# --- the pool: each process grades many submissions with one zygote ----------------

_STATE: dict = {}


def prepare(assignment: Assignment, hidden: Path | None, out: Path, jobs: int, *, allow_weak: bool = False) -> tuple[str, str, bool]:
    """In the parent, before the pool forks: start one zygote per process (their torch
    imports overlap ours), then import torch and the grader. Children forked from here
    start warm; nothing has run a torch op yet, so forking is safe (as for the zygote).
    The isolation this host reaches is probed first: below the manifest's minimum the
    batch is refused (GraderError) unless ``allow_weak``. Returns (level, reason, whether
    only ``allow_weak`` let it through)."""
    from .. import policy
    from ..sandbox.client import Zygote

    os.environ["OMP_NUM_THREADS"] = "1"  # -j processes and their workers already fill the cores
    zygotes = [Zygote() for _ in range(jobs)]
    _STATE.update(zygotes=zygotes)
    level, reason = policy.probe(zygotes[0])  # before any student code runs; imports torch
    accepted = policy.require(assignment.name, "grade batch", level, reason, assignment.limits.min_isolation, allow_weak=allow_weak)
    import torch

    from .. import grading, plugin  # noqa: F401 - imported once, inherited by every child

    torch.set_num_threads(1)
    _STATE.update(assignment=assignment, hidden=hidden, out=out, allow_weak=allow_weak)
    return level, reason, accepted


def _take_zygote(counter) -> None:
    """Pool initializer: each child takes its own zygote from those the parent started."""
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    _STATE["zygote"] = _STATE["zygotes"][index]


def close() -> None:
    for zygote in _STATE.pop("zygotes", []):
        zygote.close()


def grade_one(job: Job) -> dict:
    """Grades one submission and writes its result file; never raises."""
    from .. import policy
    from ..grading import grade
    from ..render import json_report

    assignment, out = _STATE["assignment"], _STATE["out"]
    record: dict = {"student": job.student, "submission": job.path.name, "digest": job.digest}
    try:
        with tempfile.TemporaryDirectory(prefix="grader-batch-") as scratch:
            path = _unpack(job, Path(scratch))
            record["modified"] = modified_files(path, assignment)
            report = grade(assignment, _assignment_folder(path, assignment), hidden_dir=_STATE["hidden"], zygote=_STATE["zygote"], reveal_private=True, as_reference=False)
        report = policy.settle(report, assignment.name, "grade batch", assignment.limits.min_isolation, allow_weak=_STATE["allow_weak"])
        record.update(json_report.as_dict(report))
    except Exception as e:  # noqa: BLE001 - one broken submission never stops the batch
        message = str(e).strip().splitlines()[0][:500] if str(e).strip() else type(e).__name__
        record.update(grader_error=message, score=0.0, tasks=[])
    atomic.write_text(result_path(out, job.student), json.dumps(record, indent=1))
    return {"student": job.student, "score": record.get("score", 0.0), "error": record.get("grader_error", "")}


def gradebook(assignment: Assignment, out: Path) -> Path:
    """Rebuilt from every result file: one row per student, one column per task, total."""
    rows = []
    for path in sorted((out / "results").glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        scores = {t["id"]: t["score"] for t in data.get("tasks", [])}
        rows.append(
            [data.get("student", path.stem)]
            + [_num(scores.get(t.id, 0.0)) for t in assignment.tasks]
            + [_num(data.get("score", 0.0)), _num(assignment.max_score), "; ".join(data.get("modified", [])), data.get("grader_error", "")]
            + [data.get("isolation", ""), "yes" if data.get("weak_isolation_accepted") else "", data.get("refused", "")]
        )
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["student", *(t.id for t in assignment.tasks), "total", "max", "modified", "grader_error", "isolation", "weak_isolation_accepted", "refused"])
    w.writerows(rows)
    target = out / "gradebook.csv"
    atomic.write_text(target, buf.getvalue())
    return target


def _num(x: float) -> str:
    return f"{x:.4f}".rstrip("0").rstrip(".")


def summary(out: Path) -> list[tuple[str, str, int, int]]:
    """Per check (parameter variants together): (task, check, students who failed it,
    students it ran for), the most failed first."""
    failed: dict[str, set] = {}
    ran: dict[str, set] = {}
    tasks: dict[str, str] = {}
    for path in (out / "results").glob("*.json"):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        student = data.get("student", path.stem)
        for test in data.get("tests", []):
            if test["status"] == "skip":
                continue
            key = test["name"].split("[")[0]
            tasks[key] = test.get("task") or ""
            ran.setdefault(key, set()).add(student)
            if test["status"] != "pass":
                failed.setdefault(key, set()).add(student)
    rows = [(tasks[k], k, len(failed.get(k, ())), len(ran[k])) for k in ran]
    return sorted(rows, key=lambda r: (-r[2], r[1]))


def clear_scratch(out: Path) -> None:
    for stale in (out / "results").glob(".*.json.*") if (out / "results").is_dir() else []:
        stale.unlink(missing_ok=True)  # half-written files of a killed run
    shutil.rmtree(out / "scratch", ignore_errors=True)
