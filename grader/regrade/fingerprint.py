"""What a grade was computed from: the assignment definition and the grader.

A result is current only while both are unchanged. The definition hash covers every
file the autograder bundle holds (manifest, public and hidden checks, reference,
data, labels, notebook, stubs): a point value, a check, the reference or a data file
changed, and every result graded before is stale. The grader version is the package
version plus a hash of the grader's own files, so an edited grader whose version
number did not move is still a different grader.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from ..manifest import Assignment

SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}
GRADER_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Fingerprint:
    definition: str
    grader_version: str

    def matches(self, record: dict) -> bool:
        return record.get("definition") == self.definition and record.get("grader_version") == self.grader_version


def of(assignment: Assignment) -> Fingerprint:
    return Fingerprint(definition=definition_hash(assignment), grader_version=grader_version())


def definition_hash(assignment: Assignment) -> str:
    """sha256 over every file of the bundle, by its place in the bundle: the same
    definition hashes the same from a course repository or from a bundle."""
    from ..release import bundle_trees

    h = hashlib.sha256()
    for folder, place in bundle_trees(assignment):
        _tree(h, folder, place)
    return "sha256:" + h.hexdigest()[:32]


@lru_cache(maxsize=1)
def grader_version() -> str:
    try:
        version = metadata.version("torch-grader")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        version = "unknown"
    h = hashlib.sha256()
    _tree(h, GRADER_ROOT, "grader")
    return f"{version}+{h.hexdigest()[:12]}"


def _tree(h, folder: Path, place: str) -> None:
    if not folder.is_dir():
        h.update(f"{place}: absent\0".encode())
        return
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if SKIP_PARTS & set(rel.parts) or path.suffix == ".pyc" or path.is_dir():
            continue
        data = path.read_bytes() if not path.is_symlink() else b"link:" + str(path.readlink()).encode()
        h.update(f"{place}/{rel.as_posix()}\0{len(data)}\0".encode())  # lengths: no two trees hash alike
        h.update(data)
