"""A class roster: which repository is whose, and which of them a shard grades.

The roster is a CSV with a header holding ``student`` and ``repository`` columns, and
optionally ``clone`` (others are ignored). ``repository`` is ``owner/name`` on GitHub
(where a commit status goes); ``clone`` is what ``git clone`` takes (a URL, a mirror, a
path), by default the repository on GitHub. The student id names the submission's
folder, so it must be a plain file name; the shard a student falls in is decided by this
id alone (shards.py), as ``grade batch --shard`` decides it.

``clone`` fetches a shard's repositories, each as it stood at a deadline if one is
given. A token (``GH_TOKEN``) is handed to git for github.com only, through its
environment: never on a command line, in a URL or in a file a student's code could read.
"""

from __future__ import annotations

import base64
import csv
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import GraderError
from .shards import Shard

STUDENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
GITHUB_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class Entry:
    student: str
    repository: str  # owner/name on GitHub, or as the roster gives it
    clone_from: str = ""  # what to clone, where the roster says

    @property
    def clone_url(self) -> str:
        if self.clone_from:
            return self.clone_from
        return f"https://github.com/{self.repository}.git" if GITHUB_RE.match(self.repository) else self.repository


def read(path: Path) -> list[Entry]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise GraderError(f"roster {path} cannot be read: {e}") from None
    reader = csv.DictReader(text.splitlines())
    columns = [c.strip() for c in reader.fieldnames or []]
    if "student" not in columns or "repository" not in columns:
        raise GraderError(f"roster {path}: the first line must name the columns student,repository (it has: {','.join(columns) or 'nothing'})")
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        student, repository, clone_from = row.get("student", ""), row.get("repository", ""), row.get("clone", "")
        if not student and not repository:
            continue
        if not STUDENT_RE.match(student):
            raise GraderError(f"roster {path}, line {line}: student {student!r} must be letters, digits, '_', '.' or '-' (it names a folder)")
        if not repository or repository.startswith("-") or clone_from.startswith("-"):
            raise GraderError(f"roster {path}, line {line}: {student} has no repository (give owner/name, a URL or a path)")
        if student in seen:
            raise GraderError(f"roster {path}, line {line}: {student} is already on line {seen[student]}; one line per student")
        seen[student] = line
        entries.append(Entry(student, repository, clone_from))
    return entries


def of_shard(entries: list[Entry], shard: Shard) -> list[Entry]:
    return [e for e in entries if shard.holds(e.student)]


@dataclass(frozen=True)
class Cloned:
    entry: Entry
    commit: str = ""  # what was checked out; empty when nothing was
    problem: str = ""


def clone(entries: list[Entry], dest: Path, *, before: str = "", token: str = "") -> list[Cloned]:
    """Each entry's repository into ``dest/<student>``: the latest commit, or the last one
    before ``before`` (anything ``git rev-list --before`` takes). A repository that cannot
    be cloned is reported, not fatal: the others are graded."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0")
    if token:
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        env.update(GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="http.https://github.com/.extraheader", GIT_CONFIG_VALUE_0=f"AUTHORIZATION: basic {basic}")
    done = []
    for entry in entries:
        target = dest / entry.student
        if target.exists():
            done.append(Cloned(entry, problem=f"{target} is already there: clone into an empty folder"))
            continue
        done.append(_clone_one(entry, target, before, env))
    return done


def _clone_one(entry: Entry, target: Path, before: str, env: dict) -> Cloned:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], env=env, check=True, capture_output=True, text=True, stdin=subprocess.DEVNULL).stdout.strip()

    try:
        if before:
            git("clone", "--quiet", "--no-checkout", "--", entry.clone_url, str(target))
            commit = git("-C", str(target), "rev-list", "-1", f"--before={before}", "HEAD")
            if not commit:
                shutil.rmtree(target, ignore_errors=True)
                return Cloned(entry, problem=f"no commit before {before}")
            git("-C", str(target), "checkout", "--quiet", commit)
        else:
            git("clone", "--quiet", "--depth", "1", "--", entry.clone_url, str(target))
        return Cloned(entry, commit=git("-C", str(target), "rev-parse", "HEAD"))
    except subprocess.CalledProcessError as e:
        why = (e.stderr or "").strip().splitlines()
        return Cloned(entry, problem=(why[-1] if why else f"git exited with status {e.returncode}")[:300])
