"""Shards: a deterministic part of a class, so a regrade can spread over many machines.

``--shard I/N`` (I from 0 to N-1, as a Kubernetes completion index or a Slurm array
task id counts) takes the students whose id hashes to I modulo N. The hash is of the
id alone, never of a position in a list, so a student added to the class joins one
shard and moves nobody else.

Each batch output records what it is in ``shard.json``: the shard, the assignment, the
definition hash and grader version it was graded with, the task columns, the students
it holds and whether the run finished. A merge checks these before it trusts a shard.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import atomic
from ..errors import GraderError

RECORD = "shard.json"
FORMAT = 1


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def holds(self, student: str) -> bool:
        return shard_of(student, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


WHOLE = Shard(0, 1)


def parse(text: str | None) -> Shard:
    """``"2/8"`` -> Shard(2, 8); None -> the whole class."""
    if text is None:
        return WHOLE
    index, sep, count = text.partition("/")
    if not (sep and index.strip().isdigit() and count.strip().isdigit()):
        raise GraderError(f"--shard {text}: give I/N, e.g. --shard 0/4 for the first of 4 shards")
    index, count = int(index), int(count)
    if count < 1 or index >= count:
        raise GraderError(f"--shard {text}: I counts from 0 to N-1 (the shards of 4 are 0/4 to 3/4)")
    return Shard(index, count)


def shard_of(student: str, count: int) -> int:
    """The shard a student id falls in: sha256 of the id, modulo the number of shards."""
    return int.from_bytes(hashlib.sha256(student.encode("utf-8")).digest()[:8], "big") % count


@dataclass(frozen=True)
class Record:
    """What ``shard.json`` says about one batch output."""

    assignment: str
    shard: int
    of: int
    definition: str
    grader_version: str
    tasks: list  # [{"id": ..., "points": ...}] in manifest order: the gradebook's columns
    max_score: float
    students: list
    complete: bool
    merged_from: int | None = None  # a merge's output: how many shards it joined
    format: int = FORMAT

    @property
    def label(self) -> str:
        return f"{self.shard}/{self.of}"


def write(out: Path, record: Record) -> None:
    atomic.write_text(Path(out) / RECORD, json.dumps(asdict(record), indent=1))


def read(out: Path) -> Record | None:
    """The record of ``out``; None where there is none; GraderError where it is not one."""
    path = Path(out) / RECORD
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise GraderError(f"{path} cannot be read ({e}): is {out} the output of grade batch?") from None
    try:
        return Record(**data)
    except TypeError:
        raise GraderError(f"{path} is not a shard record of this grader (rerun grade batch into {out})") from None
