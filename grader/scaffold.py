"""``grade new NAME``: a new assignment that builds and grades immediately.

It writes a reference with one task inside solution markers, one public and one hidden
check, and the manifest; ``grade build`` then makes the stub and the notebook.
"""

from __future__ import annotations

from pathlib import Path

from .errors import GraderError
from .manifest import NAME_RE, reserved_names

MANIFEST = '''title = "{name}: replace with your assignment's title"
public_tests = "tests"

[limits]
call_timeout = 10     # seconds of wall time per call into student code
memory_mb = 2048      # memory student code may use, on top of PyTorch itself
output_bytes = 8000   # how much of what students print is shown per check

[[tasks]]
id = "scale"
title = "Scale a tensor"
points = 1
file = "exercises.py"
functions = ["scale"]
# forbidden = ["torch.autograd"]   # APIs this task may not use (docs/checks.md)
# in_place = ["state"]              # arguments its API updates in place, which checks see
'''

REFERENCE = '''"""{name}: exercises (reference solution).

Write each task's function here with its solution between the markers; `grade build
{name}` turns every marked block into a stub for students.
"""

import torch


def scale(x, factor):
    """x multiplied by factor: a tensor of x's shape, dtype and device."""
    # BEGIN SOLUTION
    return x * factor
    # END SOLUTION
'''

PUBLIC = '''"""Public checks: students see and run these."""

import pytest
import torch

from grader.checks import assert_close


@pytest.mark.task("scale")
def test_scale_small_example(student):
    assert_close(student.scale(torch.tensor([1.0, -2.0]), 3.0), torch.tensor([3.0, -6.0]), name="scale")
'''

HIDDEN = '''"""Hidden checks: run in CI and on the instructor's machine, never shipped to students."""

import pytest
import torch

from grader.checks import assert_close


@pytest.mark.task("scale")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_scale_matches_reference(student, ref, device, dtype):
    x = torch.randn(4, 5, dtype=dtype, device=device)
    assert_close(student.scale(x, -0.5), ref.scale(x, -0.5), name="scale")
'''


def create(root: Path, name: str) -> list[Path]:
    """Writes the new assignment's files under ``root``; returns them."""
    if not NAME_RE.match(name):
        raise GraderError(f"{name!r} cannot be an assignment name: use letters, digits, '_', '-' or '.'")
    if name in reserved_names():
        raise GraderError(f"{name!r} cannot be an assignment name: `grade {name}` runs the command of that name; choose another")
    assignment, reference = root / "assignments" / name, root / "reference" / name
    for folder in (assignment, reference):
        if folder.exists():
            raise GraderError(f"{folder} already exists; choose another name or remove it")
    files = {
        assignment / "assignment.toml": MANIFEST.format(name=name),
        assignment / "tests" / "test_exercises.py": PUBLIC,
        reference / "exercises.py": REFERENCE.format(name=name),
        reference / "tests" / "test_exercises_hidden.py": HIDDEN,
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)
