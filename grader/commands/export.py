"""``grade export TARGET hwN``: what a platform (or an engine, for a class regrade) needs to grade the assignment."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console

from .. import manifest as manifest_mod


def _gradescope(assignment, out: Path, **_) -> str:
    from ..platforms.gradescope.export import export

    return f"Gradescope autograder in {os.path.relpath(export(assignment, out))} (upload it as the assignment's autograder)"


def _classroom50(assignment, out: Path, **_) -> str:
    from ..platforms.classroom50.export import export

    path = os.path.relpath(export(assignment, out))
    return f"Classroom 50 bundle in {path} (copy its contents into your config repository's <classroom>/autograders/<slug>/)"


def _github_reporter(assignment, out: Path, **_) -> str:
    from ..platforms.github.workflow import REPORTER_FALLBACK_FILE, reporter_fallback_file, reporter_workflow

    files = {".github/workflows/classroom.yml": reporter_workflow(assignment), REPORTER_FALLBACK_FILE: reporter_fallback_file(assignment)}
    for place, text in files.items():
        (out / place).parent.mkdir(parents=True, exist_ok=True)
        (out / place).write_text(text, encoding="utf-8")
    return f"grading-reporter workflow in {os.path.relpath(out / '.github')} (replaces the release's grade.yml)"


def _regrade(target: str, what: str):
    def write(assignment, out: Path, *, shards: int = 4, gpus: int = 0, **_) -> str:
        from ..regrade.export import export

        paths = ", ".join(os.path.relpath(p) for p in export(target, assignment, out, shards=shards, gpus=gpus))
        return f"{what} in {paths} (set-up, step by step: docs/regrade.md)"

    return write


# target -> writes what the platform needs into the folder (options: --shards, --gpus); returns the line to show
TARGETS = {
    "gradescope": _gradescope,
    "classroom50": _classroom50,
    "github-reporter": _github_reporter,
    "regrade-actions": _regrade("regrade-actions", "the class regrade as a GitHub Actions workflow for the private autograder repository"),
    "regrade-kubernetes": _regrade("regrade-kubernetes", "the class regrade as a Kubernetes Indexed Job and its merge"),
    "regrade-slurm": _regrade("regrade-slurm", "the class regrade as a Slurm job array and its merge"),
}


def run(target: str, name: str, *, out: Path, root: Path | None, console: Console, **options) -> int:
    root = root.resolve() if root else manifest_mod.find_root()
    assignment = manifest_mod.find(name, root)
    console.print(f"{name}: {TARGETS[target](assignment, out, **options)}")
    return 0
