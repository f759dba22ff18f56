"""Classroom 50: every result.json we leave is one its runner and its score collector take.

``violations`` is the contract of foundation50/classroom50 (schemas/result-v1.schema.json,
and the cross-field rules runner.py and collect_scores.py enforce in code), written out
here check by check; a result must also add up exactly. ``autograder.py`` is run for
real, in the student's checkout, with the grader in place of pip's install.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from grader import manifest, release
from grader.grading import grade
from grader.platforms.classroom50 import result as c50
from grader.platforms.classroom50.export import export
from grader.render import feedback
from tests.conftest import REPO

TOP = {"schema", "classroom", "assignment", "assignment_type", "owner", "submission", "commit", "release", "review",
       "datetime", "graded_at", "score", "max-score", "tests", "submitted_by"}  # fmt: skip
REQUIRED = TOP - {"graded_at", "submitted_by"}
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d:[0-5]\dZ$")
ENV = {
    "CLASSROOM": "ml101", "ASSIGNMENT": "hw2-backprop", "OWNER": "alice", "USERNAME": "alice",
    "ASSIGNMENT_TYPE": "individual", "SUBMISSION_TAG": "submit/20261201T120000Z-abc1234",
    "COMMIT_URL": "https://github.com/ml101/ml101-hw2-backprop-alice/commit/abc1234",
    "RELEASE_URL": "https://github.com/ml101/ml101-hw2-backprop-alice/releases/tag/submit%2F20261201T120000Z-abc1234",
    "REVIEW_URL": "https://github.com/ml101/ml101-hw2-backprop-alice/compare/000...abc1234",
}  # fmt: skip


def _whole(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def violations(doc, *, classroom="ml101", assignment="hw2-backprop", owner="alice", kind="individual") -> list[str]:
    """Every way ``doc`` breaks the result/v1 contract for this identity, plus exact sums."""
    found = []
    try:
        json.dumps(doc, allow_nan=False)  # the collector's strict parse refuses NaN and Infinity
    except ValueError:
        found.append("not strict JSON")
    if not isinstance(doc, dict):
        return found + ["not an object"]
    found += [f"unknown key {k}" for k in sorted(set(doc) - TOP)]
    found += [f"missing {k}" for k in sorted(REQUIRED - set(doc))]
    if doc.get("schema") != "classroom50/result/v1":
        found.append("schema")
    for key, want in (("classroom", classroom), ("assignment", assignment), ("owner", owner), ("assignment_type", kind)):
        if doc.get(key) != want:
            found.append(f"{key} is {doc.get(key)!r}, want {want!r}")
    if not str(doc.get("submission", "")).startswith("submit/"):
        found.append("submission")
    for key in ("commit", "release", "review"):
        if not (isinstance(doc.get(key), str) and doc[key]):
            found.append(key)
    for key in ("datetime", "graded_at"):
        if key in doc and not (isinstance(doc[key], str) and STAMP.match(doc[key])):
            found.append(key)
    if not (_whole(doc.get("score")) and _whole(doc.get("max-score")) and doc["score"] <= doc["max-score"]):
        found.append("score/max-score")
    tests = doc.get("tests")
    if not isinstance(tests, list):
        return found + ["tests"]
    for i, t in enumerate(tests):
        if not isinstance(t, dict):
            found.append(f"tests[{i}]")
            continue
        if not (isinstance(t.get("test-name"), str) and t["test-name"]):
            found.append(f"tests[{i}].test-name")
        if not isinstance(t.get("passed"), bool):
            found.append(f"tests[{i}].passed")
        if not (_whole(t.get("score")) and _whole(t.get("max-score")) and t["score"] <= t["max-score"]):
            found.append(f"tests[{i}].score")
    if "submitted_by" in doc:
        who = doc["submitted_by"]
        if not (isinstance(who, dict) and isinstance(who.get("username"), str) and who["username"]):
            found.append("submitted_by")
    if not found:
        if doc["score"] != sum(t["score"] for t in tests) or doc["max-score"] != sum(t["max-score"] for t in tests):
            found.append("the totals are not the sums of the tests")
    return found


WHO = c50.identity(ENV, "hw2")


@pytest.fixture(scope="module")
def hw2():
    return manifest.find("hw2", REPO)


def _result(report, assignment) -> dict:
    return json.loads(c50.render(feedback.student_view(report, assignment), WHO))


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d.update(score=1.5),
        lambda d: d.update({"max-score": True}),
        lambda d: d.update(extra=1),
        lambda d: d.update(submission="v1"),
        lambda d: d.pop("review"),
        lambda d: d.update(datetime="2026-12-01 12:00"),
        lambda d: d["tests"][0].update(passed="yes"),
        lambda d: d["tests"][0].update(score=d["tests"][0]["max-score"] + 1),
        lambda d: d["tests"][0].update({"max-score": 3.0}),
        lambda d: d.update(score=d["score"] + 1, **{"max-score": d["max-score"] + 1}),  # totals off the sums
        lambda d: d.update(owner="mallory"),
        lambda d: d.update(score=float("nan")),
    ],
)
def test_the_contract_check_catches_each_breakage(hw2, breakage):
    doc = json.loads(c50.fallback(hw2, "why", WHO))
    assert violations(doc) == []
    breakage(doc)
    assert violations(doc) != []


def test_the_reference_scores_every_hundredth(hw2, zygote):
    doc = _result(grade(hw2, hw2.reference_dir, zygote=zygote), hw2)
    assert violations(doc) == []
    assert doc["score"] == doc["max-score"] == 1200 and all(t["passed"] for t in doc["tests"])
    assert (doc["classroom"], doc["assignment"], doc["owner"], doc["submission"]) == (
        "ml101", "hw2-backprop", "alice", ENV["SUBMISSION_TAG"],
    )  # fmt: skip
    assert doc["commit"] == ENV["COMMIT_URL"] and doc["release"] == ENV["RELEASE_URL"] and doc["review"] == ENV["REVIEW_URL"]


def test_the_stubs_score_zero_of_everything(hw2, zygote):
    doc = _result(grade(hw2, hw2.directory, zygote=zygote), hw2)
    assert violations(doc) == []
    assert doc["score"] == 0 and doc["max-score"] == 1200 and not any(t["passed"] for t in doc["tests"])
    per_task = {}
    for t in doc["tests"]:
        per_task[t["task"]] = per_task.get(t["task"], 0) + t["max-score"]
    assert per_task == {t.id: round(t.points * 100) for t in hw2.tasks}  # every task's points, to the hundredth


HALF = (REPO / "reference" / "hw2" / "layers.py").read_text() + "".join(
    f"\n\ndef {f}(*args, **kwargs):\n    raise NotImplementedError('{f}')\n"
    for f in ("softmax", "cross_entropy_loss", "mse_loss", "mlp_loss")  # 6 of the 12 points
)


def test_a_half_correct_submission_adds_up_exactly(hw2, zygote, tmp_path):
    (tmp_path / "layers.py").write_text(HALF)
    report = grade(hw2, tmp_path / "layers.py", zygote=zygote)
    doc = _result(report, hw2)
    assert violations(doc) == []
    assert report.score == 6 and doc["score"] == 600 and doc["max-score"] == 1200
    lost = {t["task"] for t in doc["tests"] if not t["passed"]}
    assert lost == {"softmax", "cross_entropy", "mse", "mlp"}
    assert all(t["score"] == (t["max-score"] if t["passed"] else 0) for t in doc["tests"])


def test_shares_add_up_to_each_task_however_they_split():
    for n in (1, 3, 7, 9, 11):
        for points in (1, 2.5, 0.33, 10):
            parts = c50.largest_remainder([points * 100 / n] * n, round(points * 100))
            assert sum(parts) == round(points * 100) and max(parts) - min(parts) <= 1
    assert c50.largest_remainder([100 / 3] * 3, 100) == [34, 33, 33]


def test_a_sealed_private_leaderboard_is_no_failed_test():
    from grader.competition.evaluate import SEALED
    from grader.results import CheckResult, Report, score_tasks

    hw1 = manifest.find("hw1", REPO)
    checks = [
        CheckResult(nodeid=f"x::{t.id}", name=f"check {t.id}", task=t.id, status="skip" if t.id == "private_leaderboard" else "pass",
                    message=SEALED if t.id == "private_leaderboard" else "", visibility="hidden" if t.id == "private_leaderboard" else "public",
                    duration=0.0)  # fmt: skip
        for t in hw1.tasks
    ]
    tasks = score_tasks(hw1, checks)
    report = Report("hw1", hw1.title, "x", tasks, sum(t.score for t in tasks), hw1.max_score, "namespaces", "run")
    doc = json.loads(c50.render(feedback.student_view(report, hw1), c50.identity(ENV, "hw1")))
    assert violations(doc, assignment="hw2-backprop") == []
    assert doc["tests"] and all(t["passed"] for t in doc["tests"])  # nothing failed
    assert "private_leaderboard" not in {t["task"] for t in doc["tests"]}
    private = hw1.task("private_leaderboard").points
    assert doc["max-score"] == round((hw1.max_score - private) * 100) == doc["score"]
    body = c50.release_body(feedback.student_view(report, hw1))
    assert "not scored yet" in body and SEALED in body
    fallback = json.loads(c50.fallback(hw1, "why", WHO))
    assert fallback["max-score"] == doc["max-score"]  # a run that does not finish: the same total


# --- autograder.py, run for real -------------------------------------------------------


@pytest.fixture(scope="module")
def bundle(hw2, tmp_path_factory):
    return export(hw2, tmp_path_factory.mktemp("c50"))


def _checkout(tmp_path, hw2, layers: str) -> Path:
    student, _ = release.ship(hw2, tmp_path / "dist")
    (student / "assignments" / "hw2" / "layers.py").write_text(layers)
    return student


def _run_autograder(bundle: Path, checkout: Path, grade_cmd: list[str], *, install=(), seconds=600, planted=True) -> tuple[dict, str]:
    """Runs the bundle's autograder.py as Classroom 50's runner does: cwd the checkout,
    the bundle folder and the identity in the environment."""
    settings = json.loads((bundle / "grader.json").read_text())
    settings.update(install=list(install), grade=grade_cmd, time_limit_seconds=seconds)
    here = checkout.parent / "bundle"
    if not here.exists():
        import shutil

        shutil.copytree(bundle, here)
    (here / "grader.json").write_text(json.dumps(settings))
    if planted:  # left by student code, or an earlier run: full marks
        (checkout / "result.json").write_text(json.dumps({"schema": "classroom50/result/v1", "score": 1200, "max-score": 1200, "tests": []}))
        (checkout / "release-body.md").write_text("### 12/12\n")
    env = dict(os.environ, **ENV, CLASSROOM50_BUNDLE_DIR=str(here), RUNNER_TEMP=str(checkout.parent / "runner-temp"))
    done = subprocess.run([sys.executable, str(here / "autograder.py")], cwd=checkout, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr  # any other exit makes the runner drop our reason
    return json.loads((checkout / "result.json").read_text()), (checkout / "release-body.md").read_text()


def _fake(tmp_path, body: str) -> list[str]:
    fake = tmp_path / "fake-grade"
    fake.write_text(f"#!/bin/bash\n{body}\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return [str(fake)]


def test_the_bundle_holds_the_entry_point_the_definition_and_the_grader(bundle):
    for part in ("autograder.py", "grader.json", "assignments/hw2/assignment.toml", "reference/hw2/tests/test_layers_hidden.py",
                 "grader-package/pyproject.toml", "grader-package/grader/platforms/classroom50/autograder.py"):  # fmt: skip
        assert (bundle / part).is_file(), part
    settings = json.loads((bundle / "grader.json").read_text())
    assert any("download.pytorch.org/whl/cpu" in part for part in settings["install"][0])  # the CPU build
    assert settings["install"][1][-1] == "{bundle}/grader-package"  # the grader that exported the bundle


def test_autograder_grades_the_checkout_with_the_bundle(bundle, hw2, tmp_path):
    checkout = _checkout(tmp_path, hw2, HALF)
    raised = checkout / "assignments" / "hw2" / "assignment.toml"
    raised.write_text(raised.read_text().replace("points = 1", "points = 100", 1))  # ignored: the bundle's counts
    doc, body = _run_autograder(bundle, checkout, [sys.executable, "-m", "grader.cli"])
    assert violations(doc) == []
    assert (doc["score"], doc["max-score"]) == (600, 1200)
    assert body.startswith("### HW2: forward and backward passes by hand: 6/12")
    assert "modified (ignored for scoring; the trusted copies were used): assignment.toml" in body
    assert "Classroom 50 records this as 600/1200" in body


@pytest.mark.parametrize(
    "case, body, seconds, said",
    [
        ("killed", "kill -9 $$", 600, "The grader did not finish (it was killed by signal 9)"),
        ("refused", "echo 'Error: hw2: isolation none is below the minimum' >&2; exit 2", 600, "it stopped with status 2): Error: hw2: isolation none"),
        ("slow", "exec sleep 60", 1, "it ran out of time"),
        ("garbage", 'for a in "$@"; do last="$a"; done; echo "{}" > "$last"; exit 0', 600, "a result Classroom 50 cannot take"),
    ],
)
def test_a_grader_that_does_not_finish_still_leaves_a_valid_zero(bundle, hw2, tmp_path, case, body, seconds, said):
    doc, release_body = _run_autograder(bundle, _checkout(tmp_path, hw2, HALF), _fake(tmp_path, body), seconds=seconds)
    assert violations(doc) == []
    assert doc["score"] == 0 and doc["max-score"] == 1200 and len(doc["tests"]) == len(hw2.tasks)
    assert all(said in t["message"] for t in doc["tests"]), doc["tests"][0]["message"]
    assert release_body.startswith("### HW2: forward and backward passes by hand: not graded") and said in release_body


def test_an_install_that_fails_still_leaves_a_valid_zero(bundle, hw2, tmp_path):
    doc, _ = _run_autograder(bundle, _checkout(tmp_path, hw2, HALF), ["grade"], install=[["false"]])
    assert violations(doc) == [] and doc["score"] == 0 and doc["max-score"] == 1200
    assert "installing the grader failed" in doc["tests"][0]["message"]


def test_grade_format_classroom50_writes_both_files_and_its_fallback(hw2, tmp_path):
    from click.testing import CliRunner

    from grader.cli import main

    out = tmp_path / "result.json"
    (tmp_path / "release-body.md").write_text("stale")
    result = CliRunner(env=ENV).invoke(main, ["hw2", "--root", str(REPO), "--format", "classroom50", "--fallback", "it timed out", "-o", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert violations(doc) == [] and doc["score"] == 0 and doc["tests"][0]["message"] == "it timed out"
    assert (tmp_path / "release-body.md").read_text().startswith("### HW2: forward and backward passes by hand: not graded")


def test_on_a_hosted_runner_grade_runs_through_sudo_with_the_identity_kept(bundle, monkeypatch):
    import importlib.util

    monkeypatch.setenv("CLASSROOM50_BUNDLE_DIR", str(bundle))
    spec = importlib.util.spec_from_file_location("c50_autograder", bundle / "autograder.py")
    entry = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(entry)
    settings = entry.load_config()
    argv = entry.grade_command(settings, Path("/venv"), Path("/tmp/out/result.json"), sudo=True)
    assert argv[:2] == ["sudo", "-n"] and "timeout" in argv  # the time limit holds grade itself, not sudo
    kept = argv[2].removeprefix("--preserve-env=").split(",")
    assert {"CLASSROOM", "ASSIGNMENT", "OWNER", "SUBMISSION_TAG", "COMMIT_URL", "RELEASE_URL", "REVIEW_URL"} <= set(kept)
    assert argv[argv.index("--hidden") + 1] == str(bundle) and argv[argv.index("--format") + 1] == "classroom50"
    assert entry.grade_command(settings, Path("/venv"), Path("/o"), sudo=False)[0] == "timeout"


@pytest.mark.parametrize("fmt", ["classroom50", "actions"])
def test_ci_formats_refuse_a_sandbox_below_the_minimum(fmt, tmp_path):
    from click.testing import CliRunner

    from grader.cli import main

    out = tmp_path / "result.json"
    result = CliRunner().invoke(main, ["hw2", "--root", str(REPO), "--reference", "--format", fmt, "--no-isolation", "-o", str(out)])
    assert result.exit_code == 2
    assert f"hw2: isolation none is below the minimum landlock for --format {fmt}" in result.output
    assert not out.exists()


# --- a checkout that plants modules for the autograder's own commands ----------------------

FULL_MARKS = """import json, sys
out = sys.argv[sys.argv.index("-o") + 1]
tests = [{"test-name": "all", "passed": True, "score": 1200, "max-score": 1200}]
json.dump({"schema": "classroom50/result/v1", "score": 1200, "max-score": 1200, "tests": tests}, open(out, "w"))
"""


def test_a_planted_venv_or_pip_module_does_not_run_in_the_autograder(bundle, hw2, tmp_path):
    """``python -m venv`` and ``python -m pip`` in the checkout would import a student's
    venv.py / pip.py first: code outside the sandbox, free to fake the grader."""
    checkout = _checkout(tmp_path, hw2, HALF)
    ran = tmp_path / "planted-ran"
    for module in ("venv", "pip"):
        (checkout / f"{module}.py").write_text(f"open({str(ran)!r}, 'a').write({module!r})\n")
    doc, _ = _run_autograder(bundle, checkout, _fake(tmp_path, "exit 3"), install=[["{venv}/bin/python", "-m", "pip", "--version"]])
    assert not ran.exists(), ran.read_text()
    assert doc["score"] == 0 and "it stopped with status 3" in doc["tests"][0]["message"]  # the real installs ran, then grade


def test_a_planted_grader_package_does_not_stand_in_for_the_grader(bundle, hw2, tmp_path):
    checkout = _checkout(tmp_path, hw2, HALF)
    (checkout / "grader").mkdir()
    (checkout / "grader" / "__init__.py").write_text("")
    (checkout / "grader" / "cli.py").write_text(FULL_MARKS)
    doc, _ = _run_autograder(bundle, checkout, [sys.executable, "-m", "grader.cli"])
    assert (doc["score"], doc["max-score"]) == (600, 1200)  # the bundle's grader graded it
