"""Student releases hold nothing hidden: check names, solution lines, label values."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from grader import manifest, release
from grader.cli import main
from grader.errors import GraderError
from tests.conftest import REPO

NAMES = sorted(p.name for p in (REPO / "assignments").iterdir() if (p / "assignment.toml").is_file())


@pytest.mark.parametrize("name", NAMES)
def test_every_release_is_clean_and_the_bundle_has_the_secrets(name, tmp_path):
    assignment = manifest.find(name, REPO)
    student, bundle = release.ship(assignment, tmp_path)
    assert release.leaks(assignment, student) == []
    assert (student / "assignments" / name / "assignment.toml").is_file() and (student / "README.md").is_file()
    assert not list(student.rglob("reference")) and (bundle / "reference" / name / "tests").is_dir()
    # the bundle is the whole definition, so a graded run needs nothing from the student but their files
    assert sorted(p.relative_to(bundle / "assignments") for p in (bundle / "assignments").rglob("*")) == sorted(
        p.relative_to(student / "assignments") for p in (student / "assignments").rglob("*")
    )
    assert release._hidden_check_names(assignment) and release._solution_lines(assignment)  # the scan has something to look for


def _course(tmp_path, name):
    for part in ("assignments", "reference"):
        shutil.copytree(REPO / part / name, tmp_path / part / name)
    return manifest.find(name, tmp_path)


def test_a_hidden_check_name_in_a_public_test_is_caught(tmp_path):
    assignment = _course(tmp_path, "hw2")
    public = assignment.public_tests / "test_layers.py"
    public.write_text(public.read_text() + "\n# see test_relu_backward_at_exactly_zero_is_zero\n")
    with pytest.raises(GraderError, match="names the hidden check test_relu_backward_at_exactly_zero_is_zero"):
        release.ship(assignment, tmp_path / "out")
    assert not (tmp_path / "out" / "hw2-release").exists()


def test_a_solution_line_in_the_release_is_caught(tmp_path):
    assignment = _course(tmp_path, "hw4")
    (assignment.directory / "hints.md").write_text("dx = inv_std / n * (n * dx_hat - dx_hat.sum(dim=0) - x_hat * (dx_hat * x_hat).sum(dim=0))\n")
    with pytest.raises(GraderError, match="hints.md contains a solution line"):
        release.ship(assignment, tmp_path / "out")


def test_an_idiom_a_public_check_shares_with_the_solution_is_no_leak_but_a_hidden_name_is(tmp_path):
    """The author writes public checks and drivers to be read: a line they share with the
    solution (``with torch.no_grad():``) is theirs to publish; a hidden check's name is not."""
    assignment = _course(tmp_path, "hw4")
    line = "    inv_std = 1.0 / torch.sqrt(var + eps)\n"
    assert line.strip() in release._solution_lines(assignment)
    driver = assignment.public_tests / "drivers" / "helpers.py"
    driver.parent.mkdir()
    driver.write_text("def f(var, eps):\n" + line + "    return inv_std\n")
    student, _ = release.ship(assignment, tmp_path / "out")
    assert (student / "assignments" / "hw4" / "tests" / "drivers" / "helpers.py").is_file()
    driver.write_text(driver.read_text() + "# test_running_statistics_after_several_steps\n")
    shutil.rmtree(tmp_path / "out")
    with pytest.raises(GraderError, match="helpers.py names the hidden check"):
        release.ship(assignment, tmp_path / "out")


def test_test_labels_in_the_release_are_caught(tmp_path):
    assignment = _course(tmp_path, "hw1")
    shutil.copy(assignment.competition.labels, assignment.directory / "data" / "answers.csv")
    with pytest.raises(GraderError, match=r"answers.csv holds 1\d{3} of the 1\d{3} test labels"):
        release.ship(assignment, tmp_path / "out")


def test_build_out_writes_both(tmp_path):
    _course(tmp_path, "hw3")
    result = CliRunner().invoke(main, ["build", "hw3", "--root", str(tmp_path), "--no-validate", "--out", str(tmp_path / "dist")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "dist" / "hw3-release" / "assignments" / "hw3" / "optim.py").is_file()
    assert (tmp_path / "dist" / "hw3-autograder" / "reference" / "hw3" / "optim.py").is_file()
