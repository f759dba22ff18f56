"""Trusted inputs: with a bundle, the manifest, checks, data and labels come from it; the
student's repository gives only their files, and edits to anything else are listed."""

from __future__ import annotations

import base64
import csv
import json
import shutil

import pytest
from click.testing import CliRunner

from grader import manifest, release
from grader.cli import main
from tests.conftest import REPO

# what a student who wants points without the work might push
ALWAYS_PASSES = '''import pytest

TASKS = {tasks}


@pytest.mark.parametrize("task", [pytest.param(t, marks=pytest.mark.task(t)) for t in TASKS])
def test_free_points(task):
    assert True
'''


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """hw2 as shipped: the student release and the autograder bundle."""
    out = tmp_path_factory.mktemp("dist")
    student, bundle = release.ship(manifest.find("hw2", REPO), out)
    return student, bundle


# a solution that loses the mse task, fast to grade (a wrong value replaces no worker)
WRONG_MSE = (REPO / "reference" / "hw2" / "layers.py").read_text().replace("(diff * diff).mean(), 2", "(diff * diff).sum(), 2")


@pytest.fixture(scope="module")
def honest_score(shipped, zygote, tmp_path_factory):
    """What WRONG_MSE earns in an untouched clone."""
    from grader.bundle import locate
    from grader.grading import grade

    folder = tmp_path_factory.mktemp("honest") / "assignments" / "hw2"
    shutil.copytree(shipped[0] / "assignments" / "hw2", folder)
    (folder / "layers.py").write_text(WRONG_MSE)
    report = grade(locate("hw2", shipped[1]), folder, zygote=zygote)
    assert 0 < report.score < 12 and report.modified == ()
    return report.score


def _tampered_clone(shipped, tmp_path):
    """A student's clone of the release: WRONG_MSE, points raised, public checks that
    always pass, and the workflow changed."""
    student, _ = shipped
    repo = tmp_path / "repo"
    shutil.copytree(student, repo)
    folder = repo / "assignments" / "hw2"
    (folder / "layers.py").write_text(WRONG_MSE)
    toml = folder / "assignment.toml"
    toml.write_text(toml.read_text().replace("points = 1", "points = 100", 1))
    hw2 = manifest.find("hw2", REPO)
    (folder / "tests" / "test_layers.py").write_text(ALWAYS_PASSES.format(tasks=[t.id for t in hw2.tasks]))
    workflow = repo / ".github" / "workflows" / "grade.yml"
    workflow.write_text(workflow.read_text().replace("timeout -k 30 1500", "true ||"))
    return repo


EDITS = ["assignment.toml", "tests/test_layers.py", ".github/workflows/grade.yml"]


def test_the_bundle_holds_the_whole_definition(shipped):
    _, bundle = shipped
    for part in ("assignments/hw2/assignment.toml", "assignments/hw2/tests/test_layers.py", "assignments/hw2/hw2.ipynb",
                 "reference/hw2/layers.py", "reference/hw2/tests/test_layers_hidden.py"):  # fmt: skip
        assert (bundle / part).is_file(), part


@pytest.mark.parametrize("hidden", ["root", "reference"])
def test_a_ci_run_scores_from_the_bundle_and_lists_the_edits(shipped, tmp_path, hidden, honest_score):
    repo = _tampered_clone(shipped, tmp_path)
    bundle = shipped[1] if hidden == "root" else shipped[1] / "reference" / "hw2"  # what the workflow passes
    result = run("hw2", "--root", str(repo), "--hidden", str(bundle), "--format", "json")
    data = json.loads(result.output)
    assert (data["score"], data["max_score"]) == (honest_score, 12)  # as if untouched, out of the bundle's points
    assert data["modified"] == EDITS
    assert not any(t["name"].startswith("test_free_points") for t in data["tests"])
    assert any(t["nodeid"].startswith("assignments/hw2/tests/test_layers.py::") and t["visibility"] == "public" for t in data["tests"])


def test_the_github_summary_and_the_terminal_list_the_edits(shipped, tmp_path):
    repo = _tampered_clone(shipped, tmp_path)
    result = run("hw2", "--root", str(repo), "--hidden", str(shipped[1]), "--format", "github")
    assert result.exit_code == 1
    outputs = dict(line.split("=", 1) for line in result.output.strip().splitlines())
    assert sum(json.loads(base64.b64decode(outputs[r]))["max_score"] for r in outputs["runners"].split(",")) == 12
    assert outputs["grader_summary"].endswith("modified (ignored for scoring; the trusted copies were used): " + ", ".join(EDITS))
    result = run("hw2", "--root", str(repo), "--hidden", str(shipped[1]), "--public-only")
    assert "⚠ modified (ignored for scoring; the trusted copies were used): assignment.toml" in result.output.split("\n\n")[0]


def test_a_broken_student_manifest_does_not_stop_a_ci_run(shipped, tmp_path):
    repo = _tampered_clone(shipped, tmp_path)
    (repo / "assignments" / "hw2" / "assignment.toml").write_text("not = [toml")
    result = run("hw2", "--root", str(repo), "--hidden", str(shipped[1]), "--format", "json")
    assert result.exit_code == 1, result.output
    assert json.loads(result.output)["max_score"] == 12


def test_hidden_that_is_not_a_bundle_is_one_line(tmp_path):
    old_style = tmp_path / "reference" / "hw2"
    shutil.copytree(REPO / "reference" / "hw2", old_style)
    result = run("hw2", "--root", str(REPO), "--hidden", str(old_style))
    assert result.exit_code == 2
    assert result.output == (
        f"Error: --hidden {old_style} is not a full autograder bundle for hw2 (it needs assignments/hw2/assignment.toml "
        "beside reference/hw2/): rebuild it with `grade build hw2 --out DIR` and pass DIR/hw2-autograder\n"
    )


def test_batch_with_a_bundle_flags_edits_against_it(shipped, tmp_path, honest_score):
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.move(_tampered_clone(shipped, tmp_path), folder / "mallory")
    out = tmp_path / "grades"
    result = run("batch", "hw2", str(folder), "--hidden", str(shipped[1]), "-j", "1", "--out", str(out))
    assert result.exit_code == 0, result.output
    with open(out / "gradebook.csv", newline="") as f:
        (row,) = csv.DictReader(f)
    assert (float(row["total"]), row["max"], row["modified"]) == (pytest.approx(honest_score, abs=1e-4), "12", "; ".join(EDITS))


def test_the_competition_takes_its_data_and_labels_from_the_bundle(tmp_path):
    from tests.test_competition import LINEAR, make_course

    course = make_course(tmp_path / "course")
    bundle = release.write_bundle(manifest.find("houses", course), tmp_path / "dist")
    student = tmp_path / "student"
    shutil.copytree(course / "assignments", student / "assignments")
    folder = student / "assignments" / "houses"
    (folder / "train.py").write_text(LINEAR)
    test_csv = folder / "data" / "houses_test.csv"
    test_csv.write_text("".join(test_csv.read_text().splitlines(keepends=True)[:5]))  # fewer rows to predict
    toml = folder / "assignment.toml"
    toml.write_text(toml.read_text().replace("baseline_points = 2", "baseline_points = 50"))
    shutil.rmtree(course / "reference")  # the labels exist only in the bundle now
    result = run("houses", "--root", str(student), "--hidden", str(bundle), "--format", "json")
    data = json.loads(result.output)
    scores = {t["id"]: (t["score"], t["max_score"]) for t in data["tasks"]}
    assert scores["public_leaderboard"] == (4, 4) and data["competition"]["public"] is not None
    assert data["modified"] == ["assignment.toml", "data/houses_test.csv"]
