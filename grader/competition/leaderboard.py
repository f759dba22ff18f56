"""Standings of many submissions on one competition, ranked by public score (the best
first: the lowest error, or the highest accuracy / macro F1).

A submission is a prediction file (``.csv``, scored as it is) or anything ``grade``
accepts (folder, ``.py``, ``.ipynb``), whose predictions come by the manifest's
policy: re-run (``counts = "rerun"``) or the file handed in (``"submitted"``).

Each row is named by its student: ``NAME=PATH`` names it outright; otherwise a folder
by its name (a student repository's ``assignments/<hw>`` by the repository's), a file
the course names (``pred.csv``, ``covid.py``, ``hw1.ipynb``) by the folder it came
from, any other file by its stem (``alice.csv``: alice). Names that would still
repeat get as much of their path as tells them apart.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .. import submission as submission_mod
from ..errors import GraderError
from ..manifest import Assignment
from . import program, scoring
from .evaluate import Options, answer_for, expected_ids, labels_path, parse_predictions, submitted_text
from .predictions import Predictions


@dataclass(frozen=True)
class Entry:
    submission: str  # the student's name for the row
    public: float | None
    private: float | None  # None unless revealed
    public_tier: str | None
    private_tier: str | None
    problem: str  # why it has no score
    path: str = ""  # what was scored


def parse_arguments(args: list[str]) -> list[tuple[str | None, Path]]:
    """``NAME=PATH`` or ``PATH`` (a path that exists is a path, even with a ``=`` in it);
    a path that does not exist is one line (GraderError)."""
    found = []
    for arg in args:
        name, path = None, arg
        if "=" in arg and not os.path.lexists(arg):
            name, path = arg.split("=", 1)
            if not name.strip():
                raise GraderError(f"{arg!r}: give a name before '=' (NAME=PATH), or a path alone")
        if not os.path.lexists(path):
            raise GraderError(f"{path} does not exist (give pred.csv files, folders, .py or .ipynb files, or NAME=PATH)")
        found.append((name.strip() if name else None, Path(path)))
    return found


def student_name(assignment: Assignment, path: Path) -> str:
    """The row's name for ``path`` when none was given (see the module's docstring)."""
    named = _named_by(assignment, path)
    return named.stem if named.is_file() else named.name


def _named_by(assignment: Assignment, path: Path) -> Path:
    """The file or folder whose name the row takes."""
    path = Path(os.path.abspath(path))
    if path.is_file():
        competition = assignment.competition
        course_names = {competition.prediction, competition.program, f"{assignment.name}.ipynb", *assignment.files}
        if path.name not in course_names:
            return path
        path = path.parent
    if path.name == assignment.name and path.parent.name == "assignments":
        return path.parent.parent  # a student's repository
    return path


def names_for(assignment: Assignment, given: list[tuple[str | None, Path]]) -> list[str]:
    """One distinct name per submission; GraderError when two given names repeat."""
    named = Counter(n for n, _ in given if n)
    twice = sorted(n for n, k in named.items() if k > 1)
    if twice:
        raise GraderError(f"two submissions are named {', '.join(twice)}; give each NAME=PATH a different name")
    first = [n or student_name(assignment, p) for n, p in given]
    counts = Counter(first)
    names = list(first)
    for i, ((explicit, path), name) in enumerate(zip(given, first)):
        if counts[name] > 1 and not explicit:  # as much of the path as tells them apart
            alike = [str(_named_by(assignment, p)) for (e, p), n in zip(given, first) if n == name and not e]
            # (one alone here repeats a given name: its folder's folder tells it apart)
            common = os.path.commonpath(alike) if len(alike) > 1 else os.path.dirname(os.path.dirname(alike[0]))
            mine = str(_named_by(assignment, path))
            names[i] = os.path.relpath(mine, common) if mine != common else mine
    return names


def standings(
    assignment: Assignment, paths: list[Path | tuple[str | None, Path]], zygote, *, hidden_dir: Path | None, reveal: bool, isolate: bool = True
) -> list[Entry]:
    """``paths``: submissions, each a path or (its name or None, path)."""
    competition = assignment.competition
    if competition is None:
        raise GraderError(f"{assignment.name} has no [competition] section, so no leaderboard")
    answer, _ = answer_for(assignment, Options(hidden_dir=hidden_dir))
    if answer is None:
        raise GraderError(f"the leaderboard needs the test labels: {labels_path(assignment, hidden_dir)} is not here")
    from ..session import hidden_paths

    ids = expected_ids(competition)
    hide = hidden_paths(assignment, hidden_dir)
    given = [p if isinstance(p, tuple) else (None, Path(p)) for p in paths]
    entries = []
    for name, (_, path) in zip(names_for(assignment, given), given):
        predictions, problem = _predictions(assignment, path, ids, zygote, hide, isolate)
        if predictions is None:
            entries.append(Entry(name, None, None, None, None, problem, str(path)))
            continue
        s = scoring.scores(competition, answer, predictions)
        entries.append(
            Entry(
                submission=name,
                public=s["public"],
                private=s["private"] if reveal else None,
                public_tier=scoring.tier(competition, "public", s["public"]),
                private_tier=scoring.tier(competition, "private", s["private"]) if reveal else None,
                problem="",
                path=str(path),
            )
        )
    # ranked by public score; unscored submissions last, in the order given
    return sorted(entries, key=lambda e: scoring.rank_key(competition, e.public))


def _predictions(assignment: Assignment, path: Path, ids, zygote, hide, isolate) -> tuple[Predictions | None, str]:
    competition = assignment.competition
    if path.suffix.lower() == ".csv":
        text, problem = program.read_prediction(path.parent, path.name, str(path))
        return parse_predictions(text, problem, ids, competition, path.name)
    try:
        sub = submission_mod.load(path, assignment)
    except GraderError as e:
        return None, str(e)
    if competition.counts == "submitted":
        text, problem = submitted_text(path, sub, competition)
        return parse_predictions(text, problem, ids, competition)
    run = program.run(assignment, sub, zygote, hide=hide, isolate=isolate)
    return parse_predictions(run.prediction, run.prediction_problem, ids, competition)
