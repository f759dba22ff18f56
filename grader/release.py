"""The two things an assignment ships as: what students get, and what only the grader gets.

- The student release: a template repository holding ``assignments/<name>/`` as built
  (stubs, notebook, public tests, data without labels, manifest) and a README.
- The autograder bundle: ``assignments/<name>/`` as released beside ``reference/<name>/``
  (solution, hidden tests, private labels): the whole definition, which a graded run
  (``grade --hidden BUNDLE``) takes everything from but the student's own files.

``leaks`` scans a release for hidden material: hidden check names, solution lines and
label values. A build refuses to finish while anything leaks.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
from pathlib import Path

from .build import BEGIN, END
from .errors import GraderError
from .manifest import Assignment

SKIP = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.pyc")
MIN_SOLUTION_LINE = 20  # shorter lines ("x, w = cache") are common enough to appear honestly


def write_release(assignment: Assignment, out: Path) -> Path:
    target = out / f"{assignment.name}-release"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(assignment.directory, target / "assignments" / assignment.name, ignore=SKIP)
    (target / "README.md").write_text(_readme(assignment), encoding="utf-8")
    from .platforms.github.workflow import released_files

    for place, text in released_files(assignment).items():  # the plain GitHub Actions workflow
        (target / place).parent.mkdir(parents=True, exist_ok=True)
        (target / place).write_text(text, encoding="utf-8")
    return target


def bundle_trees(assignment: Assignment) -> list[tuple[Path, str]]:
    """What an autograder bundle holds, as (folder, its place in the bundle): the whole
    definition, so that a graded run needs nothing from the student but their files."""
    return [
        (assignment.directory, f"assignments/{assignment.name}"),  # manifest, public checks, data, notebook
        (assignment.reference_dir, f"reference/{assignment.name}"),  # solution, hidden checks, labels
    ]


GRADER_ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "grader-package"  # where a platform's bundle carries the grader that exported it


def _tree_files(folder: Path, place: str) -> list[tuple[Path, str]]:
    skip = {"__pycache__", ".ipynb_checkpoints"}
    return [
        (path, f"{place}/{path.relative_to(folder).as_posix()}")
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.is_symlink() and not skip & set(path.parts) and path.suffix != ".pyc"
    ]


def platform_files(assignment: Assignment) -> list[tuple[Path, str]]:
    """(file, its place) for a platform's bundle (Gradescope's zip, Classroom 50's folder):
    the autograder bundle, and the grader's own source, installed from there so the
    platform grades with exactly the version that exported it."""
    files = [f for folder, place in bundle_trees(assignment) for f in _tree_files(folder, place)]
    files += _tree_files(GRADER_ROOT / "grader", f"{PACKAGE}/grader")
    files += [(GRADER_ROOT / extra, f"{PACKAGE}/{extra}") for extra in ("pyproject.toml", "README.md")]
    return files


def write_bundle(assignment: Assignment, out: Path) -> Path:
    target = out / f"{assignment.name}-autograder"
    if target.exists():
        shutil.rmtree(target)
    for folder, place in bundle_trees(assignment):
        shutil.copytree(folder, target / place, ignore=SKIP)
    return target


def _readme(assignment: Assignment) -> str:
    files = ", ".join(f"`{f}`" for f in assignment.files) or "the files"
    lines = [
        f"# {assignment.title}",
        "",
        f"Your work goes in {files} under `assignments/{assignment.name}/`, or in the notebook "
        f"`assignments/{assignment.name}/{assignment.name}.ipynb`.",
        "",
        "Check it (public checks only; the hidden checks run when you push):",
        "",
        "```bash",
        f"grade {assignment.name}",
        f"grade {assignment.name} --submission assignments/{assignment.name}/{assignment.name}.ipynb",
        "```",
        "",
        "| task | points |",
        "|---|---|",
        *(f"| {t.title} | {t.points:g} |" for t in assignment.tasks),
        "",
    ]
    return "\n".join(lines)


def _hidden_check_names(assignment: Assignment) -> set[str]:
    names = set()
    for path in sorted(assignment.hidden_tests.rglob("*.py")) if assignment.hidden_tests.is_dir() else []:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        names |= {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name.startswith("test")}
    return names


def _solution_lines(assignment: Assignment) -> set[str]:
    """Lines inside the reference's solution blocks, less those it also writes outside
    them: those ship anyway (a competition program's training loop may share idioms
    such as ``optimizer.zero_grad()`` with a part A solution)."""
    lines, shipped = set(), set()
    for path in sorted(assignment.reference_dir.glob("*.py")):
        inside = False
        for line in path.read_text(encoding="utf-8").split("\n"):
            text = line.strip()
            if text == BEGIN:
                inside = True
            elif text == END:
                inside = False
            elif len(text) >= MIN_SOLUTION_LINE and not text.startswith("#"):
                (lines if inside else shipped).add(text)
    return lines - shipped


def _label_values(assignment: Assignment) -> set[str]:
    competition = assignment.competition
    if competition is None or not competition.labels.is_file():
        return set()
    rows = competition.labels.read_text(encoding="utf-8").splitlines()[1:]
    return {row.split(",")[-1].strip() for row in rows if row.strip()}


def _label_pairs(assignment: Assignment) -> set[tuple[str, str]]:
    """(id, label) of each test row, for a classification competition: its labels are a
    few small whole numbers that every file holds, so a leak is the labels beside their ids."""
    competition = assignment.competition
    if competition is None or not competition.classification or not competition.labels.is_file():
        return set()
    rows = competition.labels.read_text(encoding="utf-8").splitlines()[1:]
    return {(row.split(",")[0].strip(), row.split(",")[-1].strip()) for row in rows if row.strip()}


def _paired_hits(text: str, pairs: set[tuple[str, str]]) -> int:
    """Lines of ``text`` whose first and last comma-separated values are a test id and its label."""
    hits = 0
    for line in text.splitlines():
        cells = line.split(",")
        if len(cells) > 1 and (cells[0].strip(), cells[-1].strip()) in pairs:
            hits += 1
    return hits


def leaks(assignment: Assignment, release: Path) -> list[str]:
    """Hidden material found in the release, one sentence each."""
    hidden_names = _hidden_check_names(assignment)
    solution = _solution_lines(assignment)
    pairs = _label_pairs(assignment)
    labels = set() if pairs else _label_values(assignment)
    # The public checks (and their drivers) are written by the author to be read, and
    # share idioms with any solution ("with torch.no_grad():"); every other file, built
    # (stubs, notebooks) or copied (data, hints), must hold no solution line.
    public = release / "assignments" / assignment.name / os.path.relpath(assignment.public_tests, assignment.directory)
    found = []
    for path in sorted(p for p in release.rglob("*") if p.is_file()):
        shown = path.relative_to(release)
        text = path.read_text(encoding="utf-8", errors="replace")
        tokens = set(re.split(r"[^A-Za-z0-9_.\-]+", text))
        for name in sorted(hidden_names & tokens):
            found.append(f"{shown} names the hidden check {name}")
        for line in sorted(solution) if not path.is_relative_to(public) else ():
            if line in text:
                found.append(f"{shown} contains a solution line: {line[:80]}")
        if labels:
            hits = len(labels & tokens)
            # a few 5-decimal values match by chance in a large data file; a leak shows most of them
            if hits >= 0.2 * len(labels):
                found.append(f"{shown} holds {hits} of the {len(labels)} test labels")
        if pairs:
            hits = _paired_hits(text, pairs)
            # by chance a row's last value is the same id's label about as often as two frames share a class
            if hits >= 0.5 * len(pairs):
                found.append(f"{shown} holds {hits} of the {len(pairs)} test labels beside their ids")
    return found


def ship(assignment: Assignment, out: Path) -> tuple[Path, Path]:
    """Writes both outputs; raises GraderError, leaving no release behind, if the release leaks."""
    release = write_release(assignment, out)
    problems = leaks(assignment, release)
    if problems:
        shutil.rmtree(release)
        raise GraderError(f"{assignment.name}: the student release would leak hidden material: " + "; ".join(problems[:5]))
    return release, write_bundle(assignment, out)
