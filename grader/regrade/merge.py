"""One gradebook from the outputs of ``grade batch --shard I/N``, or a refusal saying why not.

A merge trusts a shard only if every shard of 0..N-1 is there once, all were graded
with one definition (the bundle's hash) and one grader, each batch finished, each
student is in one shard only (the one their id hashes to) and each result was graded
with that same definition and grader. The output is a batch output of its own
(``results/``, ``gradebook.csv``, ``shard.json`` for the whole class), the same as an
unsharded batch of the whole class writes.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

from .. import atomic
from ..errors import GraderError
from . import batch, shards


def merge(out: Path, shard_dirs: list[Path]) -> tuple[Path, shards.Record]:
    out = Path(out).resolve()
    dirs = [Path(d).resolve() for d in shard_dirs]
    if out in dirs:
        raise GraderError(f"{out} is one of the shards: give the merged gradebook a folder of its own")
    records = [(d, _record(d)) for d in dirs]
    first_dir, first = records[0]
    for d, r in records[1:]:
        _same(first_dir, first, d, r)
    by_index: dict[int, Path] = {}
    for d, r in records:
        if r.shard in by_index:
            raise GraderError(f"shard {r.label} is given twice: {_shown(by_index[r.shard])} and {_shown(d)}")
        by_index[r.shard] = d
    missing = [i for i in range(first.of) if i not in by_index]
    if missing:
        shown = ", ".join(f"{i}/{first.of}" for i in missing)
        raise GraderError(f"shard {shown} {'is' if len(missing) == 1 else 'are'} missing: run grade batch --shard {missing[0]}/{first.of} and give its output too")
    home: dict[str, tuple[Path, shards.Record]] = {}
    results: dict[str, dict] = {}
    for d, r in records:
        for student in r.students:
            if student in home:
                other_dir, other = home[student]
                raise GraderError(f"{student} is in shard {other.label} ({_shown(other_dir)}) and in shard {r.label} ({_shown(d)}): grade each student in one shard")
            home[student] = (d, r)
            if shards.shard_of(student, r.of) != r.shard:
                raise GraderError(f"{student} is in shard {r.label} ({_shown(d)}) but belongs to shard {shards.shard_of(student, r.of)}/{r.of}: regrade that shard")
            results[student] = _result(d, r, student)
    _prepare(out)
    merged = replace(first, shard=0, of=1, students=sorted(home), complete=True, merged_from=first.of)
    for student, data in results.items():
        atomic.write_text(batch.result_path(out, student), json.dumps(data, indent=1))
    book = batch.write_gradebook(out, merged, [batch.gradebook_row(results[s], merged) for s in merged.students])
    shards.write(out, merged)
    return book, merged


def _record(d: Path) -> shards.Record:
    if not d.is_dir():
        raise GraderError(f"{d} is not a folder: give the output folders of grade batch --shard")
    r = shards.read(d)
    if r is None:
        raise GraderError(f"{_shown(d)} has no {shards.RECORD}: give the --out folder of a grade batch --shard run")
    if not r.complete:
        raise GraderError(f"shard {r.label} ({_shown(d)}) did not finish: run its grade batch again, then merge")
    return r


def _same(first_dir: Path, first: shards.Record, d: Path, r: shards.Record) -> None:
    def refuse(what: str, a, b) -> GraderError:
        return GraderError(f"shards differ in {what}: {_shown(first_dir)} has {a}, {_shown(d)} has {b}; regrade them alike")

    if r.assignment != first.assignment:
        raise refuse("assignment", first.assignment, r.assignment)
    if r.of != first.of:
        raise refuse("the number of shards", f"{first.label}", f"{r.label}")
    if r.definition != first.definition:
        raise GraderError(
            f"shards were graded with different bundles: {_shown(first_dir)} with {first.definition}, {_shown(d)} with "
            f"{r.definition}; regrade every shard with one bundle"
        )
    if r.grader_version != first.grader_version:
        raise GraderError(
            f"shards were graded by different graders: {_shown(first_dir)} by {first.grader_version}, {_shown(d)} by "
            f"{r.grader_version}; regrade every shard with one installed grader"
        )
    if (r.tasks, r.max_score) != (first.tasks, first.max_score):
        raise refuse("their tasks", first.tasks, r.tasks)


def _result(d: Path, r: shards.Record, student: str) -> dict:
    data = batch.read_result(d, student)
    if data is None:
        raise GraderError(f"shard {r.label} ({_shown(d)}) has no result for {student}: run its grade batch again, then merge")
    if (data.get("definition"), data.get("grader_version")) != (r.definition, r.grader_version):
        raise GraderError(f"{student}'s result in shard {r.label} ({_shown(d)}) was graded with another bundle or grader: run its grade batch again")
    return data


def _prepare(out: Path) -> None:
    """An empty folder, or a previous merge (replaced whole); anything else is kept and refused."""
    if out.exists() and any(out.iterdir()):
        previous = shards.read(out) if (out / shards.RECORD).is_file() else None
        if previous is None or previous.merged_from is None:
            raise GraderError(f"{out} is not empty and not a merged gradebook: give a new folder")
        shutil.rmtree(out / "results", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)


def _shown(d: Path) -> str:
    try:
        return os.path.relpath(d)
    except ValueError:
        return str(d)
