"""Regrading a whole class: one result per student, a gradebook, and a resumable run.

Each submission (a folder, a student repository, ``.py``, ``.ipynb`` or ``.zip`` in
the batch folder) is graded in a pool of processes forked from a parent that has
imported torch and started one zygote per process; each then grades many
submissions in turn, paying the start-up once. Every result is written to ``results/<student>.json``
by an atomic rename as soon as it exists; a restarted batch skips students whose
result matches their submission's content hash, so an interrupted run (Ctrl-C, a
killed process) loses nothing and counts nothing twice. A result is current only
while its submission, the assignment definition and the grader are what they were
(see fingerprint.py): change a point value, a check, the reference or a data file and
every student is graded again. ``gradebook.csv`` is rebuilt from the result files of
the students in this run at the end.

A submission that breaks the grader, or whose grading process dies (the OOM killer),
is recorded with its error and retried on the next run; it never stops the batch
(see pool.py). A submission that is itself unreadable (a corrupt notebook, a bad or
hostile zip) or that the grader refuses (a symbolic link where the student's files
should be) is the student's result: 0, with the reason in the ``refused`` column,
final until the file changes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import tempfile
import time
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .. import atomic, bundle, uploads
from ..errors import GraderError, SubmissionError
from ..manifest import Assignment
from . import shards
from .fingerprint import Fingerprint

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


def read_result(out: Path, student: str) -> dict | None:
    try:
        return json.loads(result_path(out, student).read_text())
    except (OSError, ValueError):
        return None


def done(out: Path, job: Job, fingerprint: Fingerprint) -> bool:
    """A result stands while the submission, the definition and the grader are the ones it
    was graded with, and it is not a grader error (those are tried again)."""
    data = read_result(out, job.student)
    return data is not None and data.get("digest") == job.digest and fingerprint.matches(data) and not data.get("grader_error")


def stale(out: Path, job: Job, fingerprint: Fingerprint) -> bool:
    """The submission is unchanged but the definition or the grader is not."""
    data = read_result(out, job.student)
    return data is not None and data.get("digest") == job.digest and not fingerprint.matches(data)


def _unpack(job: Job, scratch: Path) -> Path:
    """The path to hand to grade(): a student repository's assignment folder, or a zip's contents."""
    path = job.path
    if path.suffix.lower() == ".zip":
        target = scratch / job.student
        try:
            with zipfile.ZipFile(path) as z:
                if sum(i.file_size for i in z.infolist()) > MAX_ZIP_BYTES:
                    raise SubmissionError(f"{path.name} unpacks to more than {MAX_ZIP_BYTES >> 20} MiB")
                for info in z.infolist():
                    name = Path(info.filename)
                    if name.is_absolute() or ".." in name.parts:
                        raise SubmissionError(f"{path.name} holds a path outside itself: {info.filename}")
                z.extractall(target)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError) as e:
            raise SubmissionError(f"{path.name} is not a readable zip file ({e})") from None
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


def prepare(
    assignment: Assignment, hidden: Path | None, out: Path, jobs: int, fingerprint: Fingerprint, *, allow_weak: bool = False
) -> tuple[str, str, bool]:
    """In the parent, before the pool forks: start one zygote per process (their torch
    imports overlap ours), then import torch and the grader. Children forked from here
    start warm; nothing has run a torch op yet, so forking is safe (as for the zygote).
    The isolation this host reaches is probed first: below the manifest's minimum the
    batch is refused (GraderError) unless ``allow_weak``. Returns (level, reason, whether
    only ``allow_weak`` let it through)."""
    from .. import policy, threads
    from ..sandbox.backend import start

    threads.limit_this_process()  # before torch is imported here: the policy of every path (grader/threads.py)
    zygotes = [start() for _ in range(jobs)]
    _STATE.update(zygotes=zygotes)
    level, reason = policy.probe(zygotes[0])  # before any student code runs; imports torch
    accepted = policy.require(assignment.name, "grade batch", level, reason, assignment.limits.min_isolation, allow_weak=allow_weak)
    import torch  # noqa: F401 - imported once, inherited by every child

    from .. import grading, plugin  # noqa: F401 - imported once, inherited by every child

    _STATE.update(assignment=assignment, hidden=hidden, out=out, allow_weak=allow_weak, fingerprint=fingerprint)
    return level, reason, accepted


def child_start(n: int):
    """For the pool: what its n-th child runs first, in the parent before that child is
    forked. The first children take the zygotes started in ``prepare``; one forked to
    replace a dead child gets a fresh zygote (the old one may be mid-request)."""
    zygotes = _STATE["zygotes"]
    if n >= len(zygotes):
        from ..sandbox.backend import start as start_backend

        zygotes.append(start_backend())
    zygote = zygotes[n]

    def start() -> None:
        _STATE["zygote"] = zygote

    return start


def close() -> None:
    for zygote in _STATE.pop("zygotes", []):
        zygote.close()


def _base_record(job: Job, fingerprint: Fingerprint) -> dict:
    return {
        "student": job.student, "submission": job.path.name, "digest": job.digest,
        "definition": fingerprint.definition, "grader_version": fingerprint.grader_version,
    }  # fmt: skip


def _outcome(record: dict) -> dict:
    return {"student": record["student"], "score": record.get("score", 0.0), "error": record.get("grader_error", "")}


def grade_one(job: Job) -> dict:
    """Grades one submission and writes its result file; never raises."""
    from .. import grading, policy
    from ..render import json_report

    assignment, out = _STATE["assignment"], _STATE["out"]
    record = _base_record(job, _STATE["fingerprint"])
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="grader-batch-") as scratch:
            try:
                path = _unpack(job, Path(scratch))
                record["modified"] = modified_files(path, assignment)
                report = grading.grade(
                    assignment, _assignment_folder(path, assignment), hidden_dir=_STATE["hidden"], zygote=_STATE["zygote"],
                    reveal_private=True, as_reference=False,
                )  # fmt: skip
            except SubmissionError as e:  # the student's file cannot be read: their result, not ours
                report = grading.refused(assignment, job.path, _first_line(e), started)
        report = policy.settle(report, assignment.name, "grade batch", assignment.limits.min_isolation, allow_weak=_STATE["allow_weak"])
        record.update(json_report.as_dict(report))
    except Exception as e:  # noqa: BLE001 - one broken submission never stops the batch
        record.update(grader_error=_first_line(e), score=0.0, tasks=[])
    atomic.write_text(result_path(out, job.student), json.dumps(record, indent=1))
    return _outcome(record)


def record_death(out: Path, job: Job, fingerprint: Fingerprint, how: str) -> dict:
    """In the parent, for a job whose grading process died before writing its result: a
    grader error (not the student's doing, as far as anyone can tell), tried again next run."""
    record = _base_record(job, fingerprint)
    record.update(grader_error=f"{how} while grading this submission", score=0.0, tasks=[])
    atomic.write_text(result_path(out, job.student), json.dumps(record, indent=1))
    return _outcome(record)


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0][:500] if str(e).strip() else type(e).__name__


# --- what a batch output holds: shard.json, results/, gradebook.csv ---------------


def shard_record(assignment: Assignment, shard: shards.Shard, fingerprint: Fingerprint, students: list[str], *, complete: bool) -> shards.Record:
    return shards.Record(
        assignment=assignment.name, shard=shard.index, of=shard.count, definition=fingerprint.definition,
        grader_version=fingerprint.grader_version, tasks=[{"id": t.id, "points": t.points} for t in assignment.tasks],
        max_score=assignment.max_score, students=sorted(students), complete=complete,
    )  # fmt: skip


def claim(out: Path, assignment: Assignment, shard: shards.Shard) -> None:
    """Refuses an output folder that holds another assignment's or another shard's results."""
    found = shards.read(out)
    if found is None:
        return
    if found.merged_from is not None:
        raise GraderError(f"{out} is a merged gradebook (grade gradebook merge): give grade batch another --out")
    if found.assignment != assignment.name:
        raise GraderError(f"{out} holds {found.assignment}'s results: give another --out for {assignment.name}")
    if (found.shard, found.of) != (shard.index, shard.count):
        raise GraderError(f"{out} holds the results of shard {found.label}: give another --out for shard {shard}")


def gradebook(out: Path, record: shards.Record) -> Path:
    """Rebuilt from the result files of ``record.students``: one row per student, one
    column per task, total."""
    rows = []
    for student in record.students:
        data = read_result(out, student)
        if data is not None:
            rows.append(gradebook_row(data, record))
    return write_gradebook(out, record, rows)


def gradebook_row(data: dict, record: shards.Record) -> list[str]:
    scores = {t["id"]: t["score"] for t in data.get("tasks", [])}
    return (
        [data["student"]]
        + [_num(scores.get(t["id"], 0.0)) for t in record.tasks]
        + [_num(data.get("score", 0.0)), _num(record.max_score), "; ".join(data.get("modified", [])), data.get("grader_error", "")]
        + [data.get("isolation", ""), "yes" if data.get("weak_isolation_accepted") else "", data.get("refused", ""), data.get("backend", "")]
    )


def write_gradebook(out: Path, record: shards.Record, rows: list[list[str]]) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["student", *(t["id"] for t in record.tasks), "total", "max", "modified", "grader_error", "isolation", "weak_isolation_accepted", "refused", "backend"])
    w.writerows(sorted(rows, key=lambda row: row[0]))
    target = out / "gradebook.csv"
    atomic.write_text(target, buf.getvalue())
    return target


def _num(x: float) -> str:
    return f"{x:.4f}".rstrip("0").rstrip(".")


def summary(out: Path, students: list[str]) -> list[tuple[str, str, int, int]]:
    """Per check (parameter variants together): (task, check, students who failed it,
    students it ran for), the most failed first."""
    failed: dict[str, set] = {}
    ran: dict[str, set] = {}
    tasks: dict[str, str] = {}
    for student in students:
        data = read_result(out, student)
        for test in (data or {}).get("tests", []):
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
    for stale_file in (out / "results").glob(".*.json.*") if (out / "results").is_dir() else []:
        stale_file.unlink(missing_ok=True)  # half-written files of a killed run
    shutil.rmtree(out / "scratch", ignore_errors=True)
