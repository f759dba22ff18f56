"""The pytest plugin: markers, the ``student``/``ref``/``device``/``drivers`` fixtures, seeding, reports.

Markers (on a check or a whole module via ``pytestmark``):

- ``@pytest.mark.task("mse_loss")`` — the manifest task this check scores for (required).
- ``@pytest.mark.points(2)`` — this check's weight within its task (default 1).
- ``@pytest.mark.visibility("hidden")`` — override the visibility given by the folder.
- ``@pytest.mark.time_limit(30)`` — wall-clock seconds per student call in this check.
- ``@pytest.mark.structure`` — this check tests shapes, keys, types or a premise only: it
  can take its share away but earns it only when every value check of its task passes.

The plugin is inert unless pytest is told which assignment it grades, by
``--grader-assignment`` or by collecting checks from inside an assignment folder.
Student code runs only in sandbox workers; the checks, the reference and every
verdict stay in this process.
"""

from __future__ import annotations

import functools
import hashlib
import random
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from . import manifest as manifest_mod
from . import submission as submission_mod
from .errors import GraderError
from .sandbox.errors import StudentError, StudentForbidden
from .sandbox.worker import seed_torch

VISIBILITIES = ("public", "hidden")


@dataclass(frozen=True)
class Settings:
    """Options resolved once per pytest run."""

    assignment: manifest_mod.Assignment
    submission: Path
    hidden_dir: Path | None  # reference bundle: solution files + tests/
    isolate: bool = True

    @property
    def hide(self) -> tuple[str, ...]:
        from .session import hidden_paths

        return hidden_paths(self.assignment, self.hidden_dir)


@dataclass
class CheckMeta:
    task: str | None
    weight: float
    visibility: str
    time_limit: float | None
    problem: str | None = None  # a mistake in how the check was written
    structure: bool = False  # a gate: points only when the task's value checks pass


@dataclass
class CheckRecord:
    seed: int = 0
    output: list[str] = field(default_factory=list)
    last_call: tuple[str, Any] | None = None  # (function, Returned): what the latest call gave back
    # objects a call updated in place (declared in_place), with their names and the function
    changed: list[tuple[Any, str, str]] = field(default_factory=list)
    drove: bool = False  # a driver's result reached the check: whatever it holds came from the worker


META = pytest.StashKey[CheckMeta]()
RECORD = pytest.StashKey[CheckRecord]()
STATE = pytest.StashKey["State"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grader", "grading student submissions")
    group.addoption("--grader-assignment", metavar="DIR", help="the assignment folder (holds assignment.toml)")
    group.addoption("--grader-submission", metavar="PATH", help="folder, .py or .ipynb to grade (default: the assignment folder)")
    group.addoption("--grader-hidden", metavar="DIR", help="reference bundle with the solution and hidden tests/")
    group.addoption("--grader-no-isolation", action="store_true", help="no sandbox at all (isolation none); for debugging")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "task(id): the assignment task this check scores for")
    config.addinivalue_line("markers", "points(weight): this check's weight within its task (default 1)")
    config.addinivalue_line("markers", "visibility(level): 'public' or 'hidden', overriding the folder's")
    config.addinivalue_line("markers", "time_limit(seconds): wall-clock limit per call into student code")
    config.addinivalue_line("markers", "structure: checks shapes, keys, types or a premise only; scores only when the task's value checks pass")
    state = State(config)
    config.stash[STATE] = state
    if config.getoption("grader_assignment"):
        state.settings_from_options()
        state.start_zygote()


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    """A plain ``pytest`` run says, as every report does, how student code was run."""
    state = config.stash.get(STATE, None)
    session = state.session if state is not None else None
    if session is not None and session.isolation:
        why = f" (why not stronger: {session.isolation_reason})" if session.isolation_reason else ""
        terminalreporter.write_line(f"grader: isolation: {session.isolation} · backend: {session.backend.name}{why}")


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is not None:
        state.close()


class State:
    """Per-run state: settings, the zygote, the grading session, the reference."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self.settings: Settings | None = None
        self.zygote = None
        self.own_zygote = False
        self.session = None
        self.reference = None
        self._returns: dict[str, tuple[str, ...] | None] = {}
        self._drivers = None

    def settings_from_options(self) -> Settings:
        opt = self.config.getoption
        directory = Path(opt("grader_assignment"))
        return self._settle(directory, opt("grader_submission"), opt("grader_hidden"), not opt("grader_no_isolation"))

    def settings_for(self, path: Path) -> Settings:
        """Settings for a plain ``pytest`` run: find the assignment from the check's path."""
        if self.settings is not None:
            return self.settings
        for folder in (path, *path.parents):
            if (folder / manifest_mod.MANIFEST).is_file():
                return self._settle(folder, None, None, True)
            ref_manifest = folder.parent.parent / "assignments" / folder.name / manifest_mod.MANIFEST
            if folder.parent.name == "reference" and ref_manifest.is_file():
                return self._settle(ref_manifest.parent, None, None, True)
        raise pytest.UsageError(f"{path} is not inside an assignment folder; pass --grader-assignment DIR")

    def _settle(self, directory: Path, submission: str | None, hidden: str | None, isolate: bool) -> Settings:
        try:
            assignment = manifest_mod.load(directory)
        except GraderError as e:
            raise pytest.UsageError(str(e)) from None
        hidden_dir = Path(hidden).resolve() if hidden else (assignment.reference_dir if assignment.reference_dir.is_dir() else None)
        self.settings = Settings(
            assignment=assignment,
            submission=Path(submission).absolute() if submission else assignment.directory,  # links not resolved
            hidden_dir=hidden_dir,
            isolate=isolate,
        )
        return self.settings

    def start_zygote(self) -> None:
        if self.zygote is not None:
            return
        run = self.run_plugin()
        if run is not None and getattr(run, "zygote", None) is not None:
            self.zygote = run.zygote
            return
        from .sandbox.backend import start

        try:
            self.zygote = start()
        except GraderError as e:  # a GRADER_BACKEND this host cannot run
            raise pytest.UsageError(str(e)) from None
        self.own_zygote = True

    def run_plugin(self):
        """The collector a `grade` run registered, if any (it carries a started zygote)."""
        return next((p for p in self.config.pluginmanager.get_plugins() if getattr(p, "grader_run", False) is True), None)

    def grading_session(self):
        if self.session is None:
            from .session import GradingSession

            settings = self.settings
            try:
                submission = submission_mod.load(settings.submission, settings.assignment)
                submission_mod.require_readable(submission)
            except GraderError as e:
                raise pytest.UsageError(str(e)) from None
            self.start_zygote()
            self.session = GradingSession(settings.assignment, submission, self.zygote, hide=settings.hide, isolate=settings.isolate)
            run = self.run_plugin()
            if run is not None:
                run.session = self.session
        return self.session

    def reference_modules(self):
        if self.reference is None:
            from .reference import ReferenceModules

            base = self.settings.hidden_dir
            if base is None or not base.is_dir():
                pytest.skip(NO_REFERENCE)
            self.reference = ReferenceModules(self.settings.assignment, base)
        return self.reference

    def drivers(self):
        if self._drivers is None:
            from .checks.drivers import FOLDER, Drivers

            assignment = self.settings.assignment
            self._drivers = Drivers(assignment.public_tests / FOLDER, assignment.name)
        return self._drivers

    def documented_return(self, function: str) -> tuple[str, ...] | None:
        """What the trusted definition (reference, else the released stub) says ``function`` returns."""
        if function not in self._returns:
            from .checks.returns import expected_from

            settings, file = self.settings, self.settings.assignment.file_of(function)
            paths = [d / file for d in (settings.hidden_dir, settings.assignment.directory) if d is not None and file]
            self._returns[function] = expected_from(paths, function)
        return self._returns[function]

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
        if self.own_zygote and self.zygote is not None:
            self.zygote.close()


def _active(config: pytest.Config) -> bool:
    state = config.stash.get(STATE, None)
    return state is not None and state.settings is not None


NO_CUDA = "CUDA is not available on this machine"
NO_REFERENCE = "the reference solution is not available here"


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    state = config.stash[STATE]
    cuda = None
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("device") == "cuda":
            if cuda is None:
                import torch

                cuda = torch.cuda.is_available()
            if not cuda:
                # a skip marker, not a skip raised in the fixture: pytest would build a
                # traceback (and parse the file) for each of dozens of CUDA variants
                item.add_marker(pytest.mark.skip(reason=NO_CUDA))
        uses_grader = any(name in getattr(item, "fixturenames", ()) for name in ("student", "ref"))
        if state.settings is None and uses_grader:
            state.settings_for(Path(item.path))
        if state.settings is None:
            continue
        item.stash[META] = _meta(item, state.settings)
        item.stash[RECORD] = CheckRecord()


def _meta(item: pytest.Item, settings: Settings) -> CheckMeta:
    assignment = settings.assignment
    problem = None
    task_mark = item.get_closest_marker("task")
    task = task_mark.args[0] if task_mark and task_mark.args else None
    if task is None:
        problem = f"{item.nodeid} has no @pytest.mark.task(...) marker naming the task it scores for"
    elif assignment.task(task) is None:
        problem = f"{item.nodeid} names task {task!r}, which {assignment.manifest_path.name} does not list"
    weight, bad = _positive(item, "points", "a positive number")
    weight = weight or 1.0
    problem = bad or problem
    hidden_root = settings.hidden_dir
    path = Path(item.path).resolve()
    in_hidden = hidden_root is not None and hidden_root in path.parents
    visibility = "hidden" if in_hidden else "public"
    vis_mark = item.get_closest_marker("visibility")
    if vis_mark is not None:
        value = vis_mark.args[0] if vis_mark.args else None
        if value not in VISIBILITIES:
            problem = f"{item.nodeid}: @pytest.mark.visibility takes 'public' or 'hidden', got {value!r}"
        else:
            visibility = value
    time_limit, bad = _positive(item, "time_limit", "a positive number of seconds")
    problem = bad or problem
    structure = item.get_closest_marker("structure") is not None
    return CheckMeta(task=task, weight=weight, visibility=visibility, time_limit=time_limit, problem=problem, structure=structure)


def _positive(item: pytest.Item, marker: str, wanted: str) -> tuple[float | None, str | None]:
    """A marker's single positive-number argument: (value, None) or (None, problem)."""
    mark = item.get_closest_marker(marker)
    if mark is None:
        return None, None
    value = mark.args[0] if mark.args else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None, f"{item.nodeid}: @pytest.mark.{marker} needs {wanted}, got {value!r}"
    return float(value), None


def pytest_runtest_setup(item: pytest.Item) -> None:
    meta = item.stash.get(META, None)
    if meta is not None and meta.problem:
        raise CheckDefinitionError(meta.problem)


class CheckDefinitionError(Exception):
    """A check is written wrongly (missing marker, unknown task): the author's mistake."""


def _seed_for(node: pytest.Item) -> int:
    """A check's seed. The parameter part of its id is left out, so that its CPU and CUDA
    variants see the same data. A hidden check's seed is keyed with its file's contents:
    student code can read the seed it runs under, and must not be able to test guesses of
    hidden check names against it (a public seed stays reproducible by anyone)."""
    base = node.nodeid.split("[")[0].encode()
    meta = node.stash.get(META, None)
    if meta is None or meta.visibility != "hidden":
        return zlib.crc32(base) & 0x7FFFFFFF
    return int.from_bytes(hashlib.sha256(_file_key(str(node.path)) + base).digest()[:4], "big") & 0x7FFFFFFF


@functools.lru_cache(maxsize=64)
def _file_key(path: str) -> bytes:
    try:
        return hashlib.sha256(Path(path).read_bytes()).digest()
    except OSError:  # unreadable now: a random key, never a guessable one
        import secrets

        return secrets.token_bytes(32)


@pytest.fixture(autouse=True)
def _grader_seed(request: pytest.FixtureRequest):
    """Seeds torch, numpy and random for every check; TF32 off so float32 is float32."""
    record = request.node.stash.get(RECORD, None)
    if record is None:
        yield
        return
    import numpy as np
    import torch

    seed = _seed_for(request.node)
    record.seed = seed
    random.seed(seed)
    np.random.seed(seed)
    seed_torch(torch, seed)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    yield


class StudentProxy:
    """``student.predict(x, w, b)`` runs the student's ``predict`` in a worker."""

    def __init__(self, session, record: CheckRecord, timeout: float, task: str | None = None):
        self._session = session
        self._record = record
        self._timeout = timeout
        self._task = task  # the task this check scores for

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if self._session.assignment.file_of(name) is None:
            raise LookupError(f"no task in assignment.toml lists a function named `{name}`")

        def invoke(args: tuple, kwargs: dict, keep_objects: bool) -> Any:
            __tracebackhide__ = True
            # what the call may change, as held before it (a tensor it replaces counts too:
            # whether a check is right cannot depend on the student's style)
            self._record.changed.extend(self._declared(name, args, kwargs))
            try:
                result = self._session.call(name, args, kwargs, timeout=self._timeout, seed=self._record.seed, keep_objects=keep_objects)
            except StudentError as e:
                if e.output:
                    self._record.output.append(e.output)
                task = self._session.assignment.task_of(name)
                if isinstance(e, StudentForbidden) and "value" in e.info and task is not None and task.id != self._task:
                    # another task's function, called to set this check up: the use costs that
                    # task (its own checks see it too), not this one
                    return e.info["value"]
                raise
            if result.output:
                self._record.output.append(result.output)
            from .checks.returns import Returned  # not at import: grader.checks imports torch

            self._record.last_call = (name, Returned.of(result.value))
            self._record.changed.extend(self._declared(name, args, kwargs))
            return result.value

        def call(*args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True
            return invoke(args, kwargs, False)

        def keeping_objects(*args: Any, **kwargs: Any) -> Any:
            """Like the call, but objects that cannot cross (a cache of the student's own
            making) stay in the worker; hand them back to a later call as they are."""
            __tracebackhide__ = True
            return invoke(args, kwargs, True)

        call.__name__ = name
        call.keeping_objects = keeping_objects
        return call

    def drive(self, driver: Any, *args: Any, **kwargs: Any) -> Any:
        """Runs ``driver(functions, *args, **kwargs)`` in the worker, ``functions`` being the
        student's task functions, and returns its plain result (see grader.checks.drivers).
        Arguments are the worker's copies: nothing comes back changed."""
        __tracebackhide__ = True
        from .checks.drivers import shipped

        spec = shipped(driver)
        assignment = self._session.assignment
        task = assignment.task(self._task) if self._task else None
        charged = task.functions if task is not None and task.functions else tuple(f for t in assignment.tasks for f in t.functions)
        try:
            result = self._session.drive(spec, tuple(charged), args, kwargs, timeout=self._timeout, seed=self._record.seed)
        except StudentError as e:
            if e.output:
                self._record.output.append(e.output)
            raise
        if result.output:
            self._record.output.append(result.output)
        self._record.last_call = None  # a driver's result is the check's to read, not a documented return
        self._record.drove = True
        return result.value

    def restart(self) -> None:
        """Retires the worker: the next call runs in a fresh process with nothing of the
        earlier calls (their objects, globals, files) but what the check hands it."""
        self._session.restart()

    def _declared(self, function: str, args: tuple, kwargs: dict) -> list[tuple[Any, str, str]]:
        """The objects a call of ``function`` may change for the check (its declared
        ``in_place`` arguments and what they hold), each with its name."""
        task = self._session.assignment.task_of(function)
        if task is None or not task.in_place:
            return []
        from .reference import reachable

        found = []
        for key, param in task.in_place_arguments(function).items():
            if type(key) is int and key < len(args):
                found.extend((obj, where, function) for obj, where in reachable(args[key], param))
            elif type(key) is str and key in kwargs:
                found.extend((obj, where, function) for obj, where in reachable(kwargs[key], param))
        return found

    @property
    def output(self) -> str:
        """Everything the student's code printed during this check so far."""
        return "".join(self._record.output)


@pytest.fixture
def student(request: pytest.FixtureRequest):
    state = request.config.stash[STATE]
    if state.settings is None:
        state.settings_for(Path(request.node.path))
    meta = request.node.stash.get(META, None)
    record = request.node.stash.setdefault(RECORD, CheckRecord(seed=_seed_for(request.node)))
    timeout = (meta.time_limit if meta and meta.time_limit else None) or state.settings.assignment.limits.call_timeout
    yield StudentProxy(state.grading_session(), record, timeout, meta.task if meta else None)
    record.changed.clear()  # the record outlives the check: let its arguments go


@pytest.fixture
def drivers(request: pytest.FixtureRequest):
    """The assignment's drivers: ``drivers.loops`` is ``<public checks>/drivers/loops.py``."""
    state = request.config.stash[STATE]
    if state.settings is None:
        state.settings_for(Path(request.node.path))
    return state.drivers()


@pytest.fixture
def ref(request: pytest.FixtureRequest):
    state = request.config.stash[STATE]
    if state.settings is None:
        state.settings_for(Path(request.node.path))
    from .reference import CheckedReference

    record = request.node.stash.setdefault(RECORD, CheckRecord(seed=_seed_for(request.node)))
    return CheckedReference(state.reference_modules(), record.changed)


@pytest.fixture(params=["cpu", "cuda"])
def device(request: pytest.FixtureRequest):
    import torch

    if request.param == "cuda" and not torch.cuda.is_available():
        pytest.skip(NO_CUDA)
    return torch.device(request.param)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    meta = item.stash.get(META, None)
    if meta is None:
        return
    status, message = _classify(report, call)
    if status is None:
        return
    record = item.stash.get(RECORD, CheckRecord())
    unusable = _unusable_result(item, call, record) if status in ("fail", "error") else None
    if unusable is not None:
        status, message = "fail", unusable
    elif status == "error" and record.drove and call.when == "call" and not _authors_mistake(call.excinfo.value):
        # a check that trips over a driver's result (a key missing, a list of the wrong
        # kind): the result was made in the worker, where the submission can change it
        status, message = "fail", f"the driver's result is not what the driver returns (changed in the worker?): {call.excinfo.exconly()[:300]}"
    if status in ("fail", "error") and call.excinfo is not None and not isinstance(call.excinfo.value, AssertionError):
        report.longrepr = message  # a student's mistake reads as a sentence, not a traceback
    report.user_properties.append(
        (
            "grader",
            {
                "task": meta.task,
                "weight": meta.weight,
                "visibility": meta.visibility,
                "status": status,
                "message": message,
                "output": "".join(record.output),
                "phase": report.when,
                "violation": call.excinfo is not None and isinstance(call.excinfo.value, StudentForbidden),
                "structure": meta.structure,
            },
        )
    )


def _authors_mistake(exc: BaseException) -> bool:
    from .checks.drivers import DriverError

    return isinstance(exc, (CheckDefinitionError, DriverError))


def _unusable_result(item: pytest.Item, call: pytest.CallInfo, record: CheckRecord) -> str | None:
    """When the latest call returned the wrong kind of value (None, a tensor for a tuple,
    too few items), that is what a failure says, whatever the check then tripped on
    (``TypeError: cannot unpack non-iterable NoneType object``): "`batchnorm_backward`
    returned None; expected a tuple (dx, dgamma, dbeta)"."""
    exc = call.excinfo.value if call.excinfo is not None else None
    if call.when != "call" or record.last_call is None or isinstance(exc, (StudentError, CheckDefinitionError)):
        return None
    from .checks.returns import mismatch

    function, returned = record.last_call
    return mismatch(function, returned, item.config.stash[STATE].documented_return(function))


def _classify(report: pytest.TestReport, call: pytest.CallInfo) -> tuple[str | None, str]:
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        return "skip", reason.removeprefix("Skipped: ")
    if report.passed:
        return ("pass", "") if report.when == "call" else (None, "")
    exc = call.excinfo.value if call.excinfo is not None else None
    if isinstance(exc, StudentError):
        return "fail", str(exc)
    if isinstance(exc, AssertionError):
        text = str(exc).strip() or call.excinfo.exconly()
        return "fail", text.split("\nassert ")[0].strip()
    if isinstance(exc, CheckDefinitionError):
        return "error", str(exc)
    if isinstance(exc, LookupError) and report.when == "call":
        return "error", f"the check itself is broken: {exc}"
    if call.excinfo is not None:
        return "error", f"the check itself failed ({report.when}): {call.excinfo.exconly()[:500]}"
    return "error", str(report.longrepr)[:500]

