"""Standings of many submissions on one competition, ranked by public score.

A submission is a prediction file (``.csv``, scored as it is) or anything ``grade``
accepts (folder, ``.py``, ``.ipynb``), whose predictions come by the manifest's
policy: re-run (``counts = "rerun"``) or the file handed in (``"submitted"``).
"""

from __future__ import annotations

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
    submission: str
    public: float | None
    private: float | None  # None unless revealed
    public_tier: str | None
    private_tier: str | None
    problem: str  # why it has no score


def standings(assignment: Assignment, paths: list[Path], zygote, *, hidden_dir: Path | None, reveal: bool, isolate: bool = True) -> list[Entry]:
    competition = assignment.competition
    if competition is None:
        raise GraderError(f"{assignment.name} has no [competition] section, so no leaderboard")
    answer, _ = answer_for(assignment, Options(hidden_dir=hidden_dir))
    if answer is None:
        raise GraderError(f"the leaderboard needs the test labels: {labels_path(assignment, hidden_dir)} is not here")
    from ..session import hidden_paths

    ids = expected_ids(competition)
    hide = hidden_paths(assignment, hidden_dir)
    entries = []
    for path in paths:
        predictions, problem = _predictions(assignment, path, ids, zygote, hide, isolate)
        if predictions is None:
            entries.append(Entry(path.name, None, None, None, None, problem))
            continue
        s = scoring.scores(competition, answer, predictions)
        entries.append(
            Entry(
                submission=path.name,
                public=s["public"],
                private=s["private"] if reveal else None,
                public_tier=scoring.tier(competition, "public", s["public"]),
                private_tier=scoring.tier(competition, "private", s["private"]) if reveal else None,
                problem="",
            )
        )
    # ranked by public score; unscored submissions last, in the order given
    return sorted(entries, key=lambda e: (e.public is None, e.public if e.public is not None else 0.0))


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
