"""Assignment manifests: ``assignments/<name>/assignment.toml`` into frozen, typed objects.

Loaded once; every problem is one line naming the file and the key, e.g.
``assignments/hw1/assignment.toml: tasks[2].points must be a number, got "two"``.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._toml import tomllib
from .errors import AssignmentNotFound, ManifestError
from .sandbox.forbidden import ROOTS as FORBIDDEN_ROOTS
from .sandbox.forbidden import known as forbidden_known
from .sandbox.levels import DEFAULT_MINIMUM, ORDER as ISOLATION_LEVELS

MANIFEST = "assignment.toml"
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
FILE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.py$")


def reserved_names() -> frozenset[str]:
    """Names that cannot be assignments: `grade NAME` would run the CLI's verb of that
    name. Read from the click group, so that every verb added later is covered."""
    from .cli import main  # only here: the library does not need the CLI otherwise

    return frozenset(main.commands) | {"help"}


@dataclass(frozen=True)
class Limits:
    call_timeout: float = 10.0  # seconds of wall time per call into student code
    memory_mb: int = 2048  # address space a worker may add to its size after `import torch`
    output_bytes: int = 8000  # student output shown per check
    open_files: int = 256
    processes: int = 128
    min_isolation: str = DEFAULT_MINIMUM  # the weakest sandbox an authoritative result accepts


@dataclass(frozen=True)
class Task:
    id: str
    title: str
    points: float
    file: str
    functions: tuple[str, ...]
    kind: str = "checks"  # "checks": scored by pytest checks; "competition": by the prediction run
    forbidden: tuple[str, ...] = ()  # API groups the task's functions may not use (sandbox/forbidden.py)
    # Arguments the task's functions update in place as their API (hw4's bn_param): only
    # changes to these reach the check; every other argument is the worker's own copy.
    in_place: tuple[str, ...] = ()
    # (function, its positional parameter names) from the reference, else the stub: how a
    # declared name is found among positional arguments
    signatures: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def in_place_arguments(self, function: str) -> dict[int | str, str]:
        """The declared arguments of a call to ``function``: position or keyword -> name."""
        if not self.in_place:
            return {}
        found: dict[int | str, str] = {name: name for name in self.in_place}
        params = dict(self.signatures).get(function, ())
        found.update({i: p for i, p in enumerate(params) if p in self.in_place})
        return found


@dataclass(frozen=True)
class Baseline:
    name: str
    public: float  # score to beat on the public split
    private: float


@dataclass(frozen=True)
class Competition:
    """A Kaggle-style task: a program writes predictions for a test set scored on hidden labels."""

    title: str
    program: str  # run as __main__ (a notebook submission runs top to bottom instead)
    train: Path  # data the program may read, copied into its folder at the same relative path
    test: Path
    labels: Path  # under reference/<name>/: never given to students
    id_column: str
    target: str
    prediction: str  # file the program writes, e.g. pred.csv
    metric: str  # "mse", "rmse", "mae" (lower is better), "accuracy" or "macro_f1" (higher is better)
    public_fraction: float
    split_seed: int
    time_budget: float  # CPU seconds of the run's process tree (competition/budget.py)
    counts: str  # "rerun": the re-run's predictions count; "submitted": the submitted file does
    # how far submitted and re-run predictions may differ before it is flagged: their RMS
    # difference (regression), the share of rows whose classes differ (classification)
    max_difference: float
    code_points: float
    baseline_points: float  # per baseline beaten, per split
    reveal_private: bool
    baselines: tuple[Baseline, ...]
    seed: int = 0
    wall_limit: float = 0.0  # wall-clock seconds before a run is stopped whatever its CPU use (0: WALL_FACTOR x time_budget)
    # classification metrics: a prediction is a class index, a whole number from 0 to
    # num_classes - 1; the manifest's `num_classes` key (required for them, refused otherwise)
    num_classes: int = 0
    # the device the program is told to train on (the DEVICE_ENV variable): "cpu", or
    # "cuda" where the grading machine has a GPU (the program falls back to the CPU if not)
    device: str = "cpu"

    @property
    def higher_is_better(self) -> bool:
        return self.metric in HIGHER_IS_BETTER

    @property
    def classification(self) -> bool:
        return self.metric in CLASSIFICATION_METRICS

    def better(self, score: float, than: float) -> bool:
        """Whether ``score`` is strictly better than ``than`` on this metric."""
        return score > than if self.higher_is_better else score < than

    @property
    def data_files(self) -> tuple[Path, ...]:
        return (self.train, self.test)

    @property
    def wall_cap(self) -> float:
        """The safety net for a run that waits instead of computing (sleep, a lock)."""
        return self.wall_limit or WALL_FACTOR * self.time_budget


WALL_FACTOR = 5  # a run's default wall-clock cap, in multiples of its CPU budget

# Task ids of a competition's three tasks.
TRAINING_TASK = "training"
PUBLIC_TASK = "public_leaderboard"
PRIVATE_TASK = "private_leaderboard"


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    directory: Path  # assignments/<name>
    manifest_path: Path
    public_tests: Path
    reference_dir: Path  # reference/<name>: solution files and hidden tests
    tasks: tuple[Task, ...]
    limits: Limits
    competition: Competition | None = None
    hidden_feedback: str = "summary"  # what student-facing outputs show of hidden checks (see HIDDEN_FEEDBACK)
    # [environment] packages: what the grading environment installs beyond the grader
    # (pip requirement strings, e.g. "pandas", "tqdm>=4.60"); see grader/environment.py
    environment_packages: tuple[str, ...] = ()

    @property
    def hidden_tests(self) -> Path:
        return self.reference_dir / "tests"

    @property
    def max_score(self) -> float:
        return sum(t.points for t in self.tasks)

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.file for t in self.tasks if t.kind == "checks"))

    def task(self, task_id: str) -> Task | None:
        return next((t for t in self.tasks if t.id == task_id), None)

    def task_of(self, function: str) -> Task | None:
        return next((t for t in self.tasks if function in t.functions), None)

    def file_of(self, function: str) -> str | None:
        for t in self.tasks:
            if function in t.functions:
                return t.file
        return None


_TOP_KEYS = {"title", "public_tests", "limits", "tasks", "competition", "hidden_feedback", "environment"}
# full: every hidden check by name, with its message; summary: per task, how many hidden
# checks failed and of what kind; none: only the points they gave
HIDDEN_FEEDBACK = ("full", "summary", "none")
_COMPETITION_KEYS = {
    "title", "program", "train", "test", "labels", "id_column", "target", "prediction", "metric", "public_fraction",
    "split_seed", "time_budget", "counts", "max_difference", "code_points", "baseline_points", "reveal_private",
    "baselines", "seed", "wall_limit", "num_classes", "device",
}  # fmt: skip
REGRESSION_METRICS = ("mse", "rmse", "mae")  # lower is better
CLASSIFICATION_METRICS = ("accuracy", "macro_f1")  # higher is better
METRICS = REGRESSION_METRICS + CLASSIFICATION_METRICS
HIGHER_IS_BETTER = frozenset(CLASSIFICATION_METRICS)
DEVICES = ("cpu", "cuda")
# The environment variable a competition's program reads to know its device ("cpu" or
# "cuda"); a program falls back to the CPU when CUDA is not there (see reference/hw5/phonemes.py).
DEVICE_ENV = "GRADER_DEVICE"
COUNTS = ("rerun", "submitted")


def direction(metric: str) -> str:
    """``higher is better`` or ``lower is better``, for a metric's name."""
    return "higher is better" if metric in HIGHER_IS_BETTER else "lower is better"


_TASK_KEYS = {"id", "title", "points", "file", "functions", "forbidden", "in_place"}
_LIMIT_KEYS = {
    "call_timeout": (float, 0.01, 3600),
    "memory_mb": (int, 64, 1 << 20),
    "output_bytes": (int, 0, 1 << 24),
    "open_files": (int, 16, 65536),
    "processes": (int, 1, 100000),
}


class _Reader:
    def __init__(self, path: Path, shown: str):
        self.path = path
        self.shown = shown

    def fail(self, key: str, problem: str) -> ManifestError:
        return ManifestError(f"{self.shown}: {key} {problem}")

    def get(self, table: dict, key: str, where: str, kind: type, *, default: Any = ..., positive: bool = False) -> Any:
        """``table[key]`` checked to be of ``kind`` (int accepted for float; bool never a number)."""
        full = f"{where}{key}"
        if key not in table:
            if default is ...:
                raise self.fail(full, f"is missing (add `{key} = ...`)")
            return default
        value = table[key]
        ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            raise self.fail(full, f"must be {_kind_name(kind)}, got {_show(value)}")
        if positive and value <= 0:
            raise self.fail(full, f"must be greater than 0, got {_show(value)}")
        return value

    def unknown(self, table: dict, allowed: set, where: str) -> None:
        for key in table:
            if key not in allowed:
                raise self.fail(f"{where}{key}", f"is not a known key (known: {', '.join(sorted(allowed))})")


def _kind_name(kind: type) -> str:
    return {str: "a string", int: "a whole number", float: "a number", list: "a list", dict: "a table", bool: "true or false"}[kind]


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "a table"
    return repr(value)


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def load(directory: Path, root: Path | None = None) -> Assignment:
    """Loads ``directory/assignment.toml``. ``root`` holds ``reference/`` (default: two levels up)."""
    directory = directory.resolve()
    root = (root or directory.parent.parent).resolve()
    path = directory / MANIFEST
    r = _Reader(path, _display(path))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{r.shown}: file not found (every assignment needs one)") from None
    except tomllib.TOMLDecodeError as e:
        raise ManifestError(f"{r.shown}: not valid TOML: {e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ManifestError(f"{r.shown}: cannot be read: {e}") from None

    r.unknown(data, _TOP_KEYS, "")
    name = directory.name
    if not NAME_RE.match(name) or name in reserved_names():
        raise ManifestError(f"{r.shown}: the folder name {name!r} cannot be an assignment name (it is reserved or has odd characters)")
    title = r.get(data, "title", "", str)
    public = r.get(data, "public_tests", "", str, default="tests")
    hidden_feedback = r.get(data, "hidden_feedback", "", str, default="summary")
    if hidden_feedback not in HIDDEN_FEEDBACK:
        raise r.fail("hidden_feedback", f"must be one of {', '.join(map(_show, HIDDEN_FEEDBACK))}, got {_show(hidden_feedback)}")

    limits_table = r.get(data, "limits", "", dict, default={})
    r.unknown(limits_table, {*_LIMIT_KEYS, "min_isolation"}, "limits.")
    limits_kw = {}
    if "min_isolation" in limits_table:
        level = r.get(limits_table, "min_isolation", "limits.", str)
        if level not in ISOLATION_LEVELS:
            raise r.fail("limits.min_isolation", f"must be one of {', '.join(map(_show, ISOLATION_LEVELS))}, got {_show(level)}")
        limits_kw["min_isolation"] = level
    for key, (kind, lo, hi) in _LIMIT_KEYS.items():
        if key in limits_table:
            value = r.get(limits_table, key, "limits.", kind)
            if not lo <= value <= hi:
                raise r.fail(f"limits.{key}", f"must be between {lo} and {hi}, got {_show(value)}")
            limits_kw[key] = value
    limits = Limits(**limits_kw)

    raw_tasks = r.get(data, "tasks", "", list, default=[] if "competition" in data else ...)
    if not raw_tasks and "competition" not in data:
        raise r.fail("tasks", "is empty (add at least one [[tasks]] table)")
    tasks = []
    seen_ids: set[str] = set()
    seen_functions: dict[str, str] = {}
    for i, t in enumerate(raw_tasks):
        where = f"tasks[{i}]."
        if not isinstance(t, dict):
            raise r.fail(f"tasks[{i}]", f"must be a table, got {_show(t)}")
        r.unknown(t, _TASK_KEYS, where)
        tid = r.get(t, "id", where, str)
        if not ID_RE.match(tid):
            raise r.fail(f"{where}id", f"must be lowercase letters, digits and underscores, got {_show(tid)}")
        if tid in seen_ids:
            raise r.fail(f"{where}id", f"repeats the task id {_show(tid)}")
        seen_ids.add(tid)
        points = r.get(t, "points", where, float)
        if points < 0:
            raise r.fail(f"{where}points", f"must not be negative, got {_show(points)}")
        file = r.get(t, "file", where, str)
        if not FILE_RE.match(file):
            raise r.fail(f"{where}file", f"must be a Python file name like regression.py, got {_show(file)}")
        functions = r.get(t, "functions", where, list)
        for j, f in enumerate(functions):
            if not isinstance(f, str) or not f.isidentifier():
                raise r.fail(f"{where}functions[{j}]", f"must be a Python name, got {_show(f)}")
            if f in seen_functions:
                raise r.fail(f"{where}functions[{j}]", f"{_show(f)} is already listed by task {_show(seen_functions[f])}")
            seen_functions[f] = tid
        forbidden = r.get(t, "forbidden", where, list, default=[])
        for j, api in enumerate(forbidden):
            if not isinstance(api, str) or not forbidden_known(api):
                roots = ", ".join(f'"{g}"' for g in FORBIDDEN_ROOTS)
                raise r.fail(f"{where}forbidden[{j}]", f"must be one of {roots} or a name under one, got {_show(api)}")
        in_place, signatures = _in_place(r, t, where, functions, root / "reference" / name / file, directory / file)
        tasks.append(
            Task(
                id=tid, title=r.get(t, "title", where, str, default=tid), points=points, file=file,
                functions=tuple(functions), forbidden=tuple(forbidden), in_place=in_place, signatures=signatures,
            )
        )  # fmt: skip

    competition = None
    if "competition" in data:
        competition = _competition(r, r.get(data, "competition", "", dict), directory, root / "reference" / name)
        for tid in (TRAINING_TASK, PUBLIC_TASK, PRIVATE_TASK):
            if tid in seen_ids:
                raise r.fail("tasks", f"uses the id {_show(tid)}, which the [competition] section gives its own task")
        n = len(competition.baselines)
        tasks += [
            Task(TRAINING_TASK, f"{competition.program} runs and writes {competition.prediction}", competition.code_points,
                 competition.program, (), kind="competition"),
            Task(PUBLIC_TASK, f"Public leaderboard: {n} baselines", competition.baseline_points * n,
                 competition.program, (), kind="competition"),
            Task(PRIVATE_TASK, f"Private leaderboard: {n} baselines", competition.baseline_points * n,
                 competition.program, (), kind="competition"),
        ]  # fmt: skip

    return Assignment(
        name=name,
        title=title,
        directory=directory,
        manifest_path=path,
        public_tests=(directory / public).resolve(),
        reference_dir=root / "reference" / name,
        tasks=tuple(tasks),
        limits=limits,
        competition=competition,
        hidden_feedback=hidden_feedback,
        environment_packages=_environment(r, r.get(data, "environment", "", dict, default={})),
    )


# a pip requirement: a distribution name, then optional extras and version specifiers
REQUIREMENT_RE = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*((?:[<>=!~]=?|===)[^;]*)?$")


def _environment(r: _Reader, table: dict) -> tuple[str, ...]:
    """``[environment] packages = ["pandas", "tqdm>=4.60"]``: requirement strings, checked for form."""
    r.unknown(table, {"packages"}, "environment.")
    packages = r.get(table, "packages", "environment.", list, default=[])
    for j, spec in enumerate(packages):
        if not isinstance(spec, str) or not REQUIREMENT_RE.match(spec):
            raise r.fail(f"environment.packages[{j}]", f'must be a pip requirement like "pandas" or "tqdm>=4.60", got {_show(spec)}')
    return tuple(p.strip() for p in packages)


def _in_place(r: _Reader, t: dict, where: str, functions: list[str], reference: Path, stub: Path):
    """``in_place = ["bn_param"]``: names checked, then found in the functions' signatures.

    The signatures come from the reference solution (trusted; a name that is none of its
    parameters is the manifest's mistake) or, where no reference is here (a student's
    self-check), the stub; without either, a declared argument is recognised by keyword only.
    """
    names = r.get(t, "in_place", where, list, default=[])
    for j, name in enumerate(names):
        if not isinstance(name, str) or not name.isidentifier():
            raise r.fail(f"{where}in_place[{j}]", f"must be a parameter name, got {_show(name)}")
        if name in names[:j]:
            raise r.fail(f"{where}in_place[{j}]", f"repeats {_show(name)}")
    if not names:
        return (), ()
    source = reference if reference.is_file() else stub
    defs = _signatures(source, functions)
    if defs and source == reference:
        for j, name in enumerate(names):
            if not any(name in params for params, _ in defs.values()):
                shown = " or ".join(f"{f}({', '.join(params)})" for f, (params, _) in defs.items())
                place = "/".join(source.parts[-3:])  # reference/<name>/<file>
                raise r.fail(f"{where}in_place[{j}]", f"{_show(name)} is not a parameter of {shown} in {place}")
    return tuple(names), tuple((f, positional) for f, (_, positional) in defs.items())


def _signatures(path: Path, functions: list[str]) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """function -> (all its parameter names, the positional ones), for the top-level
    ``def``s of ``path`` among ``functions``; empty when the file is absent or unreadable."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return {}
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in functions:
            a = node.args
            positional = tuple(p.arg for p in (*a.posonlyargs, *a.args))
            found[node.name] = (positional + tuple(p.arg for p in a.kwonlyargs), positional)
    return found


def _plain_name(r: _Reader, table: dict, key: str, where: str) -> str:
    value = r.get(table, key, where, str, default="pred.csv")
    if not NAME_RE.match(value):
        raise r.fail(f"{where}{key}", f"must be a plain file name like pred.csv, got {_show(value)}")
    return value


def _competition(r: _Reader, table: dict, directory: Path, reference_dir: Path) -> Competition:
    w = "competition."
    r.unknown(table, _COMPETITION_KEYS, w)
    program = r.get(table, "program", w, str)
    if not FILE_RE.match(program):
        raise r.fail(f"{w}program", f"must be a Python file name like covid.py, got {_show(program)}")

    def relative(key: str, base: Path, default: Any = ...) -> Path:
        value = r.get(table, key, w, str, default=default)
        path = Path(value)
        if path.is_absolute() or ".." in path.parts or not value.strip():
            raise r.fail(f"{w}{key}", f"must be a path inside {_display(base)}, got {_show(value)}")
        return base / path

    def choice(key: str, options: tuple[str, ...], default: str) -> str:
        value = r.get(table, key, w, str, default=default)
        if value not in options:
            raise r.fail(f"{w}{key}", f"must be one of {', '.join(map(_show, options))}, got {_show(value)}")
        return value

    fraction = r.get(table, "public_fraction", w, float, default=0.5)
    if not 0 < fraction < 1:
        raise r.fail(f"{w}public_fraction", f"must be between 0 and 1 (both excluded), got {_show(fraction)}")
    budget = r.get(table, "time_budget", w, float, default=120.0, positive=True)
    wall = r.get(table, "wall_limit", w, float, default=WALL_FACTOR * budget, positive=True)
    numbers = {}
    for key, default in (("max_difference", 0.1), ("code_points", 0.0), ("baseline_points", 1.0)):
        numbers[key] = r.get(table, key, w, float, default=default)
        if numbers[key] < 0:
            raise r.fail(f"{w}{key}", f"must not be negative, got {_show(numbers[key])}")

    metric = choice("metric", METRICS, "mse")
    higher = metric in HIGHER_IS_BETTER
    num_classes = 0
    if metric in CLASSIFICATION_METRICS:
        num_classes = r.get(table, "num_classes", w, int, default=None)
        if num_classes is None:
            raise r.fail(f"{w}num_classes", f"is missing: metric {_show(metric)} scores class labels 0 .. num_classes - 1 (add `num_classes = ...`)")
        if num_classes < 2:
            raise r.fail(f"{w}num_classes", f"must be at least 2, got {_show(num_classes)}")
        if numbers["max_difference"] > 1:
            raise r.fail(f"{w}max_difference", f"is the share of rows whose classes may differ for {_show(metric)}: between 0 and 1, got {_show(numbers['max_difference'])}")
    elif "num_classes" in table:
        raise r.fail(f"{w}num_classes", f"is only for the classification metrics ({', '.join(map(_show, CLASSIFICATION_METRICS))}); metric is {_show(metric)}")

    raw = r.get(table, "baselines", w, list)
    if not raw:
        raise r.fail(f"{w}baselines", "is empty (add [[competition.baselines]] tables: name, public, private)")
    baselines = []
    for i, b in enumerate(raw):
        where = f"{w}baselines[{i}]."
        if not isinstance(b, dict):
            raise r.fail(f"{w}baselines[{i}]", f"must be a table, got {_show(b)}")
        r.unknown(b, {"name", "public", "private"}, where)
        baseline = Baseline(r.get(b, "name", where, str), r.get(b, "public", where, float), r.get(b, "private", where, float))
        if metric in CLASSIFICATION_METRICS:
            for split in ("public", "private"):
                if not 0 <= getattr(baseline, split) <= 1:
                    raise r.fail(f"{where}{split}", f"must be between 0 and 1 for {_show(metric)} (a fraction: 0.45, not 45), got {_show(getattr(baseline, split))}")
        baselines.append(baseline)
    for split in ("public", "private"):
        values = [getattr(b, split) for b in baselines]
        if any((a >= b) if higher else (a <= b) for a, b in zip(values, values[1:])):
            way = "higher" if higher else "lower"
            raise r.fail(
                f"{w}baselines",
                f"must go from easiest to hardest: each {split} score {way} than the one before ({way} {metric} is better), got {values}",
            )
    if len({b.name for b in baselines}) != len(baselines):
        raise r.fail(f"{w}baselines", "repeat a name")

    return Competition(
        title=r.get(table, "title", w, str, default="Prediction competition"),
        program=program,
        train=relative("train", directory),
        test=relative("test", directory),
        labels=relative("labels", reference_dir),
        id_column=r.get(table, "id_column", w, str, default="id"),
        target=r.get(table, "target", w, str),
        prediction=_plain_name(r, table, "prediction", w),
        metric=metric,
        public_fraction=fraction,
        split_seed=r.get(table, "split_seed", w, int),
        time_budget=budget,
        counts=choice("counts", COUNTS, "rerun"),
        max_difference=numbers["max_difference"],
        code_points=numbers["code_points"],
        baseline_points=numbers["baseline_points"],
        reveal_private=r.get(table, "reveal_private", w, bool, default=False),
        baselines=tuple(baselines),
        seed=r.get(table, "seed", w, int, default=0),
        wall_limit=wall,
        num_classes=num_classes,
        device=choice("device", DEVICES, "cpu"),
    )


def find_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: cwd) that holds ``assignments/``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "assignments").is_dir():
            return folder
    source = Path(__file__).resolve().parents[1]
    if (source / "assignments").is_dir():
        return source
    raise AssignmentNotFound(
        "no assignments/ folder here or above; run grade inside the course repository or pass --root PATH"
    )


def available(root: Path) -> list[str]:
    base = root / "assignments"
    return sorted(p.name for p in base.iterdir() if (p / MANIFEST).is_file()) if base.is_dir() else []


def find(name: str, root: Path) -> Assignment:
    directory = root / "assignments" / name
    if not (directory / MANIFEST).is_file():
        names = available(root)
        hint = f"; available: {', '.join(names)}" if names else ""
        raise AssignmentNotFound(f"no assignment named {name!r} in {_display(root / 'assignments')}{hint}")
    return load(directory, root)
