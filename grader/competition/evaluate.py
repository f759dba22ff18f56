"""A competition's checks: the run, the prediction file, and each baseline on each split.

Produces ordinary ``CheckResult``s for the three tasks the manifest gives a
competition, so points, reports and renderers treat them like any other check:

- ``training``: the program runs to its end within the budget (CPU seconds, see
  budget.py); it writes a valid prediction file (scored even when the program
  crashed after writing it: only the first check fails then); (when one was
  submitted) it matches the submitted file.
- ``public_leaderboard`` / ``private_leaderboard``: one check per baseline, passed
  when the score is strictly better. Private checks are skipped, and the private
  score withheld, until the instructor reveals them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .. import uploads
from ..errors import GraderError
from ..manifest import PRIVATE_TASK, PUBLIC_TASK, TRAINING_TASK, Assignment, Competition
from ..results import CheckResult, CompetitionSummary
from ..submission import Submission
from . import program, scoring
from .predictions import PredictionError, Predictions, TableError, parse

SEALED = "sealed: private scores are shown once the instructor reveals them (grade --reveal-private)"


@dataclass(frozen=True)
class Options:
    hidden_dir: Path | None = None  # the reference bundle holding the labels (default: reference/<name>)
    use_labels: bool = True  # False with --public-only
    reveal_private: bool = False
    run_program: bool = True
    isolate: bool = True
    progress: Callable | None = None  # called with a budget.Progress while the program runs


def labels_path(assignment: Assignment, hidden_dir: Path | None) -> Path:
    competition = assignment.competition
    if hidden_dir is None:
        return competition.labels
    return hidden_dir / competition.labels.relative_to(assignment.reference_dir)


def answer_for(assignment: Assignment, options: Options) -> tuple[scoring.Answer | None, str]:
    """The labels and split, or None and why the leaderboard cannot be scored here."""
    if not options.use_labels:
        return None, "not scored: --public-only"
    path = labels_path(assignment, options.hidden_dir)
    if not path.is_file():
        return None, "not scored here: the test labels are not on this machine (CI and the instructor's grading score the leaderboard)"
    try:
        return scoring.load_answer(assignment.competition, path), ""
    except TableError as e:
        raise GraderError(str(e)) from None


def run_check_name(entry: str, competition: Competition) -> str:
    return f"{entry} runs to the end within {competition.time_budget:g} s of CPU"


def expected_ids(competition: Competition) -> list[str]:
    try:
        return scoring.test_ids(competition)
    except (TableError, OSError) as e:
        raise GraderError(f"the competition's test file cannot be used: {e}") from None


def submitted_text(submission_path: Path, submission: Submission, competition: Competition) -> tuple[str | None, str]:
    """The prediction file handed in with a folder submission, if any."""
    if submission.kind != "folder":
        return None, "no prediction file comes with a single-file submission"
    path = submission_path / competition.prediction
    link = uploads.first_link(submission_path, competition.prediction)
    if link is not None and link != competition.prediction:  # a linked folder above it (the file itself: below)
        return None, uploads.LINKED.format(link)
    if not path.exists() and not path.is_symlink():
        return None, f"no {competition.prediction} was handed in"
    text, problem = program.read_prediction(submission_path, competition.prediction, "the submission")
    return text, ("" if text is not None else problem)


def parse_predictions(text: str | None, why_not: str, ids: list[str], competition: Competition, name: str | None = None) -> tuple[Predictions | None, str]:
    if text is None:
        return None, why_not
    try:
        return parse(text, name or competition.prediction, ids, competition.id_column, competition.target, competition.num_classes), ""
    except PredictionError as e:
        return None, str(e)


def evaluate(
    assignment: Assignment, submission_path: Path, submission: Submission, zygote, *, hide: tuple[str, ...], options: Options
) -> tuple[list[CheckResult], CompetitionSummary, tuple[str, str] | None]:
    """Checks for the competition's tasks, a summary, and the isolation level the run reached
    with the sandbox's reason for not reaching more (None when nothing ran)."""
    competition = assignment.competition
    ids = expected_ids(competition)
    answer, unscored = answer_for(assignment, options)
    checks: list[CheckResult] = []

    def check(task: str, name: str, status: str, message: str = "", *, duration: float = 0.0, output: str = "", hidden: bool = False):
        checks.append(
            CheckResult(
                nodeid=f"competition::{name}",
                name=name,
                task=task,
                status=status,
                message=message,
                visibility="hidden" if hidden else "public",
                duration=round(duration, 4),
                output=output,
            )
        )

    # The run, and what it wrote.
    run = None
    rerun, rerun_problem = None, "not run: --skip-program"
    entry = submission.shown(program.entry_point(assignment, submission))
    runs = run_check_name(entry, competition)
    if options.run_program:
        run = program.run(assignment, submission, zygote, hide=hide, isolate=options.isolate, progress=options.progress)
        check(TRAINING_TASK, runs, "pass" if run.ok else "fail", run.message, duration=run.seconds, output=run.output)
        rerun, rerun_problem = parse_predictions(run.prediction, run.prediction_problem, ids, competition)
        check(TRAINING_TASK, f"writes a valid {competition.prediction}", "pass" if rerun else "fail", rerun_problem)
    else:
        for name in (runs, f"writes a valid {competition.prediction}"):
            check(TRAINING_TASK, name, "skip", rerun_problem)

    submitted_raw, submitted_missing = submitted_text(submission_path, submission, competition)
    submitted, submitted_problem = parse_predictions(submitted_raw, submitted_missing, ids, competition)
    flag = ""
    compare = f"matches the submitted {competition.prediction}"
    if submitted_raw is None:
        check(TRAINING_TASK, compare, "skip", f"nothing to compare: {submitted_missing}")
    elif rerun is None:
        check(TRAINING_TASK, compare, "skip" if run is None else "fail", f"nothing to compare: {rerun_problem}")
    elif submitted is None:
        check(TRAINING_TASK, compare, "fail", f"the submitted file is not valid: {submitted_problem}")
    else:
        gap = scoring.difference(competition, rerun, submitted)
        if gap > competition.max_difference:
            flag = (
                f"the submitted {competition.prediction} and the one {entry} writes {scoring.describe_difference(competition, gap)}: "
                "hand in the file your final code writes"
            )
            check(TRAINING_TASK, compare, "fail", flag)
        else:
            check(TRAINING_TASK, compare, "pass")

    # The leaderboard.
    if competition.counts == "submitted":
        scored, source, problem = submitted, "submitted", submitted_problem
    else:
        scored, source, problem = rerun, "rerun", rerun_problem
    results = scoring.scores(competition, answer, scored) if (answer is not None and scored is not None) else None
    reveal = options.reveal_private or competition.reveal_private
    sign, side = (">", "above") if competition.higher_is_better else ("<", "below")
    for split, task in (("public", PUBLIC_TASK), ("private", PRIVATE_TASK)):
        hidden = split == "private"
        for baseline in competition.baselines:
            name = f"{split}: beat {baseline.name} ({competition.metric} {sign} {getattr(baseline, split):g})"
            bar = getattr(baseline, split)
            if answer is None:
                check(task, name, "skip", unscored, hidden=hidden)
            elif hidden and not reveal:
                check(task, name, "skip", SEALED, hidden=True)
            elif scored is None and source == "rerun" and run is None:
                check(task, name, "skip", rerun_problem, hidden=hidden)  # skipped on purpose: no verdict
            elif results is None:
                check(task, name, "fail", f"no predictions to score: {problem}", hidden=hidden)
            elif competition.better(results[split], bar):
                check(task, name, "pass", hidden=hidden)
            else:
                shown = f"{results[split]:.4f}" if not hidden or reveal else "the score"
                check(task, name, "fail", f"{split} {competition.metric} {shown} is not {side} {baseline.name}'s {bar:g}", hidden=hidden)

    summary = CompetitionSummary(
        metric=competition.metric,
        source=source if scored is not None else "none",
        public=results["public"] if results else None,
        private=results["private"] if results and reveal else None,
        public_tier=scoring.tier(competition, "public", results["public"]) if results else None,
        private_tier=scoring.tier(competition, "private", results["private"]) if results and reveal else None,
        private_sealed=not reveal,
        run_seconds=round(run.seconds, 2) if run is not None else None,
        run_cpu_seconds=round(run.cpu_seconds, 2) if run is not None and run.cpu_seconds is not None else None,
        cpu_budget=competition.time_budget,
        problem=unscored if answer is None else ("" if scored is not None else problem),
        flag=flag,
    )
    return checks, summary, ((run.isolation, run.isolation_reason) if run is not None else None)
