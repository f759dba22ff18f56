"""Grade one submission: run the checks under pytest and build a Report.

This is the library behind ``grade hwN``; the CLI only parses options and renders.
The zygote is started before anything imports torch here, so its ``import torch``
overlaps ours.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from dataclasses import replace
from pathlib import Path

from . import bundle, environment, private_copy, threads, uploads
from . import manifest as manifest_mod
from . import submission as submission_mod
from .errors import GraderError, SubmissionError
from .policy import NO_STUDENT_CODE
from .results import CheckResult, Report, refused_tasks, score_tasks
from .sandbox import levels as levels_mod

PYTEST_INI = Path(__file__).with_name("pytest-grading.ini")


class RunPlugin:
    """Collects per-check outcomes from pytest's reports; hands the plugin our zygote."""

    grader_run = True  # how the plugin finds this object among pytest's plugins

    def __init__(self, zygote=None):
        self.zygote = zygote
        self.session = None
        self.records: dict[str, dict] = {}
        self.durations: dict[str, float] = {}
        self.errors: list[str] = []
        self.load_failures: dict[str, str] = {}  # check file nodeid -> why it could not be imported
        self.ctrl_c = False
        self.check_problems: list[str] = []  # checks written wrongly (no task marker, unknown task...)

    def pytest_runtest_logreport(self, report) -> None:
        self.durations[report.nodeid] = self.durations.get(report.nodeid, 0.0) + report.duration
        for key, value in report.user_properties:
            if key != "grader":
                continue
            previous = self.records.get(report.nodeid)
            # setup failures/skips stand; a teardown error turns a pass into an error
            if previous is None or (previous["status"] == "pass" and value["status"] == "error"):
                self.records[report.nodeid] = value
            elif previous["status"] == "pass" and value["phase"] == "call":
                self.records[report.nodeid] = value

    def pytest_exception_interact(self, node, call, report) -> None:
        import pytest

        if isinstance(report, pytest.CollectReport) and call.excinfo is not None:
            self.load_failures[report.nodeid] = _load_failure(node, call.excinfo.value)

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            detail = self.load_failures.get(report.nodeid)
            if detail is None:
                text = str(report.longrepr).strip().splitlines()
                detail = next((line.strip() for line in reversed(text) if line.strip().startswith("E ")), text[-1] if text else "")
                detail = detail.removeprefix("E").strip()[:300]
            self.errors.append(f"the check file {report.nodeid or '?'} cannot be loaded: {detail}")

    def pytest_collection_finish(self, session) -> None:
        from .plugin import META

        metas = (item.stash.get(META, None) for item in session.items)
        self.check_problems = [m.problem for m in metas if m is not None and m.problem]
        if self.check_problems:  # the author's mistake: run nothing, say what to fix
            session.items[:] = []

    def pytest_keyboard_interrupt(self, excinfo) -> None:
        import pytest

        # pytest stops on collection errors by raising its own KeyboardInterrupt subclass
        self.ctrl_c = not isinstance(excinfo.value, pytest.Session.Interrupted)


def _load_failure(node, exc: BaseException) -> str:
    """Why a check file could not be imported, in one line: the line of the check file
    (or of the module it imports) and the exception."""
    import pytest

    if isinstance(exc, pytest.Collector.CollectError) and exc.__cause__ is not None:
        exc = exc.__cause__  # pytest wraps syntax and import errors
    here = str(getattr(node, "path", ""))
    if isinstance(exc, SyntaxError):
        where = "" if exc.filename in (None, here) else f"{exc.filename}, "
        return f"{where}line {exc.lineno}: {type(exc).__name__}: {exc.msg}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == here]
    where = f"line {frames[-1].lineno}: " if frames else ""
    return f"{where}{type(exc).__name__}: {str(exc)[:300]}"


def hidden_status(assignment: manifest_mod.Assignment, hidden_dir: Path | None) -> tuple[Path | None, str]:
    if hidden_dir is not None:
        if not (hidden_dir / "tests").is_dir():  # e.g. a competition alone: labels, no checks
            return None, f"none: {hidden_dir} has no tests/ folder"
        return hidden_dir, "run"
    if assignment.hidden_tests.is_dir():
        return assignment.reference_dir, "run"
    return None, f"not run: {assignment.reference_dir} is not here (hidden checks run in CI and on the instructor's machine)"


def grade(
    assignment: manifest_mod.Assignment,
    submission: Path | None = None,
    *,
    hidden_dir: Path | None = None,
    include_hidden: bool = True,
    isolate: bool = True,
    reveal_private: bool = False,
    run_program: bool = True,
    zygote=None,
    as_reference: bool | None = None,
    progress=None,
) -> Report:
    """Grades ``submission`` (default: the assignment folder). A submission inside the
    reference or the bundle is refused (SubmissionError), except the reference folder
    itself for a reference run: ``as_reference=True`` (``grade --reference``), or, when
    left None, the folder given as ``assignment.reference_dir``. A symbolic link where
    the student's files should be is their result: 0 with the reason (``refused``).
    ``progress`` is called with a ``competition.budget.Progress`` while a training
    program runs (a live line)."""
    started = time.perf_counter()
    threads.limit_this_process()  # one policy for every path, before torch is imported here
    own_zygote = zygote is None
    if own_zygote:
        from .sandbox.backend import start

        zygote = start()  # first: its torch import runs while we load ours
    try:
        from .competition.evaluate import Options

        options = Options(hidden_dir, include_hidden, reveal_private, run_program, isolate, progress)
        try:
            report = _grade(assignment, submission, zygote, started, options, as_reference)
        except uploads.LinkedSubmission as e:  # the student's mistake, and their result: 0 and why
            report = refused(assignment, submission, str(e), started)
        return replace(report, backend=zygote.name)  # every report names the backend
    finally:
        if own_zygote:
            zygote.close()


def refused(assignment: manifest_mod.Assignment, submission: Path | None, reason: str, started: float) -> Report:
    """The result of a submission the grader will not read (a symbolic link where the
    student's files should be): every task at 0 with the reason; no student code ran."""
    tasks = refused_tasks(assignment, reason)
    return Report(
        assignment=assignment.name,
        title=assignment.title,
        submission=str(submission if submission else assignment.directory),
        tasks=tasks,
        score=0.0,
        max_score=assignment.max_score,
        isolation=NO_STUDENT_CODE,
        hidden="not run: the submission was refused",
        duration=round(time.perf_counter() - started, 3),
        refused=reason,
    )


def trusted_place(assignment: manifest_mod.Assignment, path: Path, hidden_dir: Path | None, *, as_reference: bool | None = None) -> str | None:
    """What trusted material ``path`` resolves into, if any: the reference (every
    assignment's), the hidden material, or the bundle it was given with. None for the
    reference folder itself in a reference run (see ``grade``)."""
    if as_reference is not False and Path(path) == assignment.reference_dir:
        return None
    where = Path(path).resolve()
    places = [(assignment.reference_dir.parent, "the reference")]
    if hidden_dir is not None:  # a bundle: all of it decides a score
        places += [(Path(hidden_dir), "the hidden material"), (assignment.directory.parent.parent, "the autograder bundle")]
    for place, what in places:
        place = place.resolve()
        if where == place or place in where.parents:
            return f"{what} ({place})"
    return None


def _grade(assignment, submission, zygote, started, options, as_reference=None) -> Report:
    submission_path = Path(submission) if submission else assignment.directory
    if submission:  # none given: the definition's own folder (a self-check), not an upload
        uploads.refuse_links(submission_path, assignment.name)  # the student's links are never followed
        inside = trusted_place(assignment, submission_path, options.hidden_dir, as_reference=as_reference)
        if inside is not None:
            raise SubmissionError(
                f"submission {submission_path} lies inside {inside}: grade a student's copy, or the reference with --reference"
            )
    loaded = submission_mod.load(submission_path, assignment)  # fail early, before pytest, on a bad path
    submission_mod.require_readable(loaded)  # what each worker will be given
    missing_packages = environment.problem(assignment)  # before any student code runs
    modified: list[str] = []
    if separate(assignment, submission_path):
        # the definition is trusted and elsewhere: the submission gives only the student's
        # files; its copies of checks, manifest and data are ignored, and listed
        loaded = submission_mod.restricted(loaded, bundle.student_files(assignment))
        modified = bundle.modified(submission_path, assignment)
    # as root, grade from a 0700 copy that no worker uid could read, whatever the tier
    assignment, private_hidden = private_copy.private(assignment, options.hidden_dir)
    options = replace(options, hidden_dir=private_hidden)
    if options.use_labels:  # --public-only turns off the hidden checks and the labels alike
        hidden_dir, hidden = hidden_status(assignment, options.hidden_dir)
    else:
        hidden_dir, hidden = None, "not run: --public-only"
    paths = [str(assignment.public_tests)] if assignment.public_tests.is_dir() else []
    if hidden_dir is not None:
        paths.append(str(hidden_dir / "tests"))
    if not paths and assignment.competition is None:
        raise GraderError(f"{assignment.name} has no checks: {assignment.public_tests} does not exist")

    run = _run_checks(assignment, submission_path, paths, hidden_dir, options.isolate, zygote) if paths else RunPlugin(zygote)
    checks = []
    for nodeid, rec in run.records.items():
        checks.append(
            CheckResult(
                nodeid=nodeid,
                name=nodeid.split("::", 1)[-1],
                task=rec["task"],
                status=rec["status"],
                message=rec["message"],
                visibility=rec["visibility"],
                duration=round(run.durations.get(nodeid, 0.0), 4),
                weight=rec["weight"],
                output=rec["output"],
                violation=rec.get("violation", False),
                structure=rec.get("structure", False),
            )
        )
    from .static_checks import static_checks

    checks += static_checks(assignment, loaded)  # forbidden APIs in the source zero their task
    # (level, reason) of every kind of worker that ran student code
    levels = [(run.session.isolation, run.session.isolation_reason)] if run.session is not None and run.session.isolation else []
    summary = None
    if assignment.competition is not None:
        from .competition.evaluate import evaluate
        from .session import hidden_paths

        found, summary, level = evaluate(
            assignment, submission_path, loaded, zygote, hide=hidden_paths(assignment, hidden_dir), options=options
        )
        checks += found
        levels += [level] if level else []
    level, reason = levels_mod.weakest(levels) if levels else (NO_STUDENT_CODE, "")
    tasks = score_tasks(assignment, checks)
    return Report(
        assignment=assignment.name,
        title=assignment.title,
        submission=str(submission_path),
        tasks=tasks,
        score=sum(t.score for t in tasks),
        max_score=assignment.max_score,
        isolation=level,
        hidden=hidden,
        errors=tuple(run.errors),
        duration=round(time.perf_counter() - started, 3),
        competition=summary,
        isolation_reason=reason,
        modified=tuple(modified),
        environment=missing_packages,
    )


def separate(assignment: manifest_mod.Assignment, submission_path: Path) -> bool:
    """A folder graded against a definition that lives elsewhere (a bundle, the course repo)."""
    path = Path(submission_path).resolve()
    return path.is_dir() and path not in (assignment.directory, assignment.reference_dir)


_PYTEST_ENV = ("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")


def _run_checks(assignment, submission_path, paths, hidden_dir, isolate, zygote) -> RunPlugin:
    import pytest

    from . import plugin

    run = RunPlugin(zygote)
    args = [
        *paths,
        "-c", str(PYTEST_INI),
        "--rootdir", str(assignment.directory.parent.parent),
        # conftest.py files only from inside the definition: one in the student's checkout
        # around a bundle (or in /tmp above a private copy) would run in this process
        "--confcutdir", str(assignment.directory.parent.parent),
        "-p", "no:grader",  # the entry-point copy; we register the module ourselves
        "-p", "no:cacheprovider",
        "-p", "no:terminal",
        # these gc.collect() several times at exit: half a second with torch loaded
        "-p", "no:unraisableexception",
        "-p", "no:threadexception",
        # per-check bookkeeping a grading run has no use for
        "-p", "no:logging", "-p", "no:warnings", "-p", "no:doctest", "-p", "no:junitxml",
        "-p", "no:pastebin", "-p", "no:nose", "-p", "no:legacypath", "-p", "no:stepwise",
        "--import-mode=importlib",
        "--grader-assignment", str(assignment.directory),
        # as given, not resolved: the plugin loads it with the same no-link rule
        "--grader-submission", str(submission_path.absolute()),
    ]
    if hidden_dir is not None:
        args += ["--grader-hidden", str(hidden_dir)]
    if not isolate:
        args.append("--grader-no-isolation")
    # No plugins from entry points: ours is passed in, and others installed beside it
    # (coverage, xdist...) have no business in a grading run. It also stops pytest from
    # re-writing the assertions of every grader module on each run (0.1 s).
    # Nor options or plugins from the environment (PYTEST_ADDOPTS, PYTEST_PLUGINS): what
    # runs in the trusted process is this list and nothing a CI job's env adds.
    saved = {k: os.environ.pop(k) for k in _PYTEST_ENV if k in os.environ}
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    imported = set(sys.modules)
    try:
        code = pytest.main(args, plugins=[plugin, run])
    finally:
        for k in _PYTEST_ENV:
            os.environ.pop(k, None)
        os.environ.update(saved)
        _forget_checks(imported, assignment.directory.parent.parent)
    if run.ctrl_c:
        raise KeyboardInterrupt
    if run.errors or run.check_problems:  # check files that do not import, checks written wrongly
        raise GraderError(_one_line([*run.errors, *run.check_problems]))  # the author's to fix
    if code == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt
    if code == pytest.ExitCode.USAGE_ERROR:
        raise GraderError("the checks could not be started (see the message above)")
    return run


def _forget_checks(imported: set[str], root: Path) -> None:
    """Drops the check modules a run imported. pytest names them by their path under the
    root and reuses a module already of that name: the next run in this process (another
    bundle, a fixed check file at the same place) would get this run's checks."""
    inside = str(root.resolve()) + os.sep

    def ours(module) -> bool:
        places = [getattr(module, "__file__", None) or "", *(getattr(module, "__path__", None) or [])]
        return any(str(p).startswith(inside) for p in places)

    # all found first: a namespace package's path is worked out from its parent's
    for name in [n for n in set(sys.modules) - imported if ours(sys.modules[n])]:
        del sys.modules[name]


def _one_line(problems: list[str]) -> str:
    return problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
