"""Rules every shipped assignment's checks keep, and the scoring rule behind them.

- A structure check (``@pytest.mark.structure``: shapes, keys, types, a premise) is a
  gate: it earns points only when every value check of its task passes.
- Every task has a value check, and a check that still passes when every number a
  submission returns is wrong is marked as a structure check: the lint grades the
  reference with each function's floating-point results (and the state it leaves in a
  dict argument) pushed off by ``x * 1.37 + 0.11``.
"""

from __future__ import annotations

import pytest

from grader import manifest
from grader.results import GATED, CheckResult, score_tasks
from tests.conftest import REPO

WRONG_VALUES = '''

# --- appended: every floating-point value these functions return is wrong -------------
import torch as _torch


def _off(value):
    if isinstance(value, _torch.Tensor) and value.is_floating_point() or type(value) is float:
        return value * 1.37 + 0.11
    if isinstance(value, (tuple, list)):
        return type(value)(_off(v) for v in value)
    if isinstance(value, dict):
        return {k: _off(v) for k, v in value.items()}
    return value


def _wrong(function):
    def wrong(*args, **kwargs):
        out = function(*args, **kwargs)
        for arg in (*args, *kwargs.values()):
            if isinstance(arg, dict):  # state left in an argument updated in place
                arg.update(_off(arg))
        return _off(out)

    return wrong


for _name in FUNCTIONS:
    globals()[_name] = _wrong(globals()[_name])
'''

# checks that may pass with every number wrong, and why
NO_NUMBERS = {
    "test_classification": "classify_critical_point returns a word, which the perturbation leaves alone",
    "test_kfold": "kfold_indices returns int64 index tensors, which the perturbation leaves alone",
}


@pytest.mark.parametrize("name", ["hw1", "hw2", "hw3", "hw4", "hw5"])
def test_every_check_that_passes_with_wrong_values_is_a_structure_check(hw1, zygote, tmp_path, name):
    from grader.grading import grade

    if name == "hw1":
        assignment = hw1  # part A, functions only
    elif name == "hw5":  # part A, functions only (the loops and the competition have tests of their own)
        from tests.test_hw5_partA import copy_part_a

        assignment = copy_part_a(tmp_path / "course")
    else:
        assignment = manifest.find(name, REPO)
    folder = tmp_path / "submission"
    folder.mkdir()
    for file in assignment.files:  # every student file: the reference, its functions' values pushed off
        functions = [f for t in assignment.tasks if t.file == file for f in t.functions]
        reference = (assignment.reference_dir / file).read_text()
        (folder / file).write_text(reference + WRONG_VALUES.replace("FUNCTIONS", repr(functions)))
    report = grade(assignment, folder, zygote=zygote)
    ran = [c for c in report.checks if c.status != "skip"]
    passing = [c for c in ran if c.status == "pass" and not c.structure]
    unexplained = [c.name for c in passing if not any(c.name.startswith(prefix) for prefix in NO_NUMBERS)]
    assert not unexplained, f"{name}: these checks pass with every returned value wrong; mark them @pytest.mark.structure or test values: {unexplained}"
    for task in report.tasks:
        values = [c for c in task.checks if not c.structure and c.status != "skip"]
        assert values, f"{name}: task {task.id} has no value check, only structure checks"
        if all(c.name.startswith(tuple(NO_NUMBERS)) for c in values):
            continue
        assert task.score < task.points, f"{name}: task {task.id} keeps {task.score} of {task.points} with every value wrong"
    assert all(c.score == 0 for c in ran if c.structure), [(c.name, c.score) for c in ran if c.structure]


# --- the scoring rule --------------------------------------------------------------------


def _check(name, status, *, structure=False, weight=1.0, task="t"):
    return CheckResult(nodeid=name, name=name, task=task, status=status, message="", visibility="public", duration=0.0,
                       weight=weight, structure=structure)  # fmt: skip


@pytest.fixture
def one_task(tmp_path):
    d = tmp_path / "assignments" / "hwx"
    d.mkdir(parents=True)
    (d / "assignment.toml").write_text('title = "T"\n[[tasks]]\nid = "t"\npoints = 2\nfile = "f.py"\nfunctions = ["f"]\n')
    return manifest.load(d, tmp_path)


@pytest.mark.parametrize(
    "checks, score",
    [
        ([_check("shapes", "pass", structure=True), _check("values", "fail")], 0.0),  # shapes alone earn nothing
        ([_check("shapes", "pass", structure=True), _check("values", "pass")], 2.0),
        ([_check("shapes", "fail", structure=True), _check("values", "pass")], 1.0),  # a gate takes its share away
        ([_check("shapes", "pass", structure=True)], 0.0),  # no value check at all
        ([_check("shapes", "pass", structure=True), _check("values", "skip")], 0.0),  # none that ran
        ([_check("shapes", "pass", structure=True, weight=3), _check("a", "pass"), _check("b", "fail")], 0.4),
    ],
    ids=["values-wrong", "values-right", "gate-fails", "no-value-check", "value-check-skipped", "weights"],
)
def test_a_structure_check_scores_only_when_the_value_checks_pass(one_task, checks, score):
    (task,) = score_tasks(one_task, checks)
    assert task.score == pytest.approx(score)
    assert task.score == pytest.approx(sum(c.score for c in task.checks))
    for c in task.checks:
        if c.structure and c.status == "pass" and c.score == 0:
            assert c.message == GATED
