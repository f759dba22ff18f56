"""The result model: what a grading run found, independent of how it is shown."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .manifest import Assignment


@dataclass(frozen=True)
class CheckResult:
    nodeid: str
    name: str
    task: str | None
    status: str  # "pass", "fail", "error" or "skip"
    message: str
    visibility: str
    duration: float
    weight: float = 1.0
    output: str = ""
    score: float = 0.0
    max_score: float = 0.0
    violation: bool = False  # used an API the task forbids: the whole task scores 0
    structure: bool = False  # checks shapes, keys, types or a premise only: a gate, never points alone


@dataclass(frozen=True)
class TaskResult:
    id: str
    title: str
    points: float
    score: float
    checks: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        counted = [c for c in self.checks if c.status != "skip"]
        return bool(counted) and all(c.status == "pass" for c in counted)


@dataclass(frozen=True)
class CompetitionSummary:
    """A Kaggle-style task's outcome. Private numbers are None unless revealed."""

    metric: str
    source: str  # whose predictions were scored: "rerun", "submitted" or "none"
    public: float | None = None
    private: float | None = None
    public_tier: str | None = None  # hardest baseline beaten, or "none"
    private_tier: str | None = None
    private_sealed: bool = True
    run_seconds: float | None = None
    problem: str = ""  # why nothing was scored
    flag: str = ""  # submitted and re-run predictions disagree
    run_cpu_seconds: float | None = None  # CPU time of the run's process tree (None: not run, or not measurable)
    cpu_budget: float | None = None  # the run's budget, in CPU seconds


@dataclass(frozen=True)
class Report:
    assignment: str
    title: str
    submission: str
    tasks: tuple[TaskResult, ...]
    score: float
    max_score: float
    isolation: str
    hidden: str  # "run", or why the hidden checks did not run
    errors: tuple[str, ...] = ()  # problems outside any check (a test file that did not load)
    duration: float = 0.0
    competition: CompetitionSummary | None = None
    isolation_reason: str = ""  # why the sandbox reached no stronger level ("" at the top)
    weak_isolation_accepted: bool = False  # graded below [limits] min_isolation by --allow-weak-isolation
    modified: tuple[str, ...] = ()  # student edits to the trusted definition, ignored for scoring
    refused: str = ""  # why the submission was not graded at all (a symbolic link): every task at 0
    environment: str = ""  # what the declared grading environment lacks here ("" when complete), one line
    backend: str = ""  # the worker backend that ran (or would have run) student code: fork or spawn

    @property
    def checks(self) -> tuple[CheckResult, ...]:
        return tuple(c for t in self.tasks for c in t.checks)

    @property
    def all_passed(self) -> bool:
        """Nothing failed: skipped checks (no GPU, a sealed private leaderboard) fail nothing,
        but a task with no check at all does."""
        return not self.errors and all(t.passed or (t.checks and all(c.status == "skip" for c in t.checks)) for t in self.tasks)

    def to_dict(self) -> dict:
        return asdict(self)


REFUSED_CHECK = "submission refused"
GATED = "passed, but a structure check scores only when the task's value checks pass"


def refused_tasks(assignment: Assignment, reason: str) -> tuple[TaskResult, ...]:
    """Every task at 0 with one failed check that says why nothing was graded, so each
    format shows the reason where it shows a task."""
    check = CheckResult(nodeid=REFUSED_CHECK, name=REFUSED_CHECK, task=None, status="error", message=reason, visibility="public", duration=0.0)
    return score_tasks(assignment, [_replace(check, task=t.id) for t in assignment.tasks])


def score_tasks(assignment: Assignment, checks: list[CheckResult]) -> tuple[TaskResult, ...]:
    """Points, resolved in one place: a task's points are shared among its checks by weight.

    Skipped checks (e.g. CUDA on a machine without a GPU) do not count either way; a
    task with no check that ran scores 0. A structure check (``@pytest.mark.structure``)
    is a gate: failing, it takes its share away; passing, it earns its share only when
    every value check of its task that ran passed (and at least one ran), so shapes and
    keys alone never earn points for wrong values.
    """
    tasks = []
    for task in assignment.tasks:
        mine = [c for c in checks if c.task == task.id]
        total = sum(c.weight for c in mine if c.status != "skip")
        values = [c for c in mine if not c.structure and c.status != "skip"]
        values_right = bool(values) and all(c.status == "pass" for c in values)
        earns = lambda c: c.status == "pass" and (values_right or not c.structure)  # noqa: E731
        scored = []
        for c in mine:
            share = task.points * c.weight / total if total and c.status != "skip" else 0.0
            if c.status == "pass" and not earns(c):
                c = _replace(c, message=GATED)
            # exact shares: rounding is for display only, or totals stop adding up
            scored.append(_replace(c, max_score=share, score=share if earns(c) else 0.0))
        passed = sum(c.weight for c in mine if earns(c))
        score = task.points * passed / total if total else 0.0  # not a sum of shares: 9 x 1/9 != 1
        if any(c.violation for c in mine):
            score = 0.0
            scored = [_replace(c, score=0.0) for c in scored]
        tasks.append(TaskResult(task.id, task.title, task.points, score, tuple(scored)))
    return tuple(tasks)


def _replace(check: CheckResult, **changes) -> CheckResult:
    data = asdict(check)
    data.update(changes)
    return CheckResult(**data)
