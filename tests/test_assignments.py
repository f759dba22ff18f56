"""Every function-task assignment as shipped: the reference gets full marks, the stubs 0,
and a correct solution written in another style full marks too."""

from __future__ import annotations

import pytest

from grader import manifest
from grader.grading import grade
from tests.conftest import REPO

# assignment, full marks, a correct solution written differently from the reference
ASSIGNMENTS = [("hw2", 12, "hw2_other_style.py"), ("hw3", 9, "hw3_other_style.py"), ("hw4", 8, "hw4_other_style.py")]


def _failures(report):
    return [(c.name, c.message) for c in report.checks if c.status in ("fail", "error")]


@pytest.mark.parametrize("name, total, other", ASSIGNMENTS, ids=[a[0] for a in ASSIGNMENTS])
def test_reference_full_marks_and_stubs_zero(name, total, other, zygote):
    assignment = manifest.find(name, REPO)
    ref = grade(assignment, assignment.reference_dir, zygote=zygote)
    assert ref.score == ref.max_score == total, _failures(ref)
    assert grade(assignment, assignment.directory, zygote=zygote).score == 0


@pytest.mark.parametrize("name, total, other", ASSIGNMENTS, ids=[a[0] for a in ASSIGNMENTS])
def test_other_correct_style_gets_full_marks(name, total, other, grade_file):
    report = grade_file(manifest.find(name, REPO), (REPO / "tests" / "submissions" / other).read_text())
    assert report.score == total, _failures(report)
