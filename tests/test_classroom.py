"""GitHub Classroom: what the workflow hands the grading reporter is always valid for it.

`reporter` mirrors classroom-resources/autograding-grading-reporter (src/main.js,
src/notify-classroom.js, src/console-results.js at 43c2d9f): the runners input must
match its pattern; each runner's <RUNNER>_RESULTS is base64 JSON whose `tests` are
listed and whose scores are summed against `max_score` (runners with no max_score are
skipped); any missing or unreadable result fails the whole report.
"""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import subprocess
import sys

import pytest

from grader import manifest
from grader.grading import grade
from grader.render import github
from grader.workflow import REASON, reporter_workflow as workflow
from grader.workflow import reporter_fallback_file as fallback_file
from tests.conftest import REPO

RUNNERS = re.compile(r"^([a-zA-Z0-9]+,)*[a-zA-Z0-9]+$")


def reporter(runners: str, env: dict) -> dict:
    if not RUNNERS.match(runners):
        raise AssertionError("The runners input must be a comma-separated list of strings.")
    total = maximum = 0
    statuses = []
    for runner in runners.split(","):
        results = json.loads(base64.b64decode(env[f"{runner.strip().upper()}_RESULTS"]).decode("utf-8"))
        assert isinstance(results["tests"], list) and results["tests"], "the console report lists the tests"
        for test in results["tests"]:
            assert {"name", "status"} <= set(test)
        statuses.append(results["status"])
        if results.get("max_score"):
            maximum += results["max_score"]
            total += sum(t["score"] for t in results["tests"])
    return {"total": total, "max": maximum, "failed": "fail" in statuses or "error" in statuses}


def step_env(workflow_text: str, outputs: dict) -> tuple[str, dict]:
    """The reporter step's env and runners input, as Actions would fill them from outputs."""
    env = {}
    for var, out in re.findall(r'(\w+_RESULTS): "\$\{\{ steps\.grade\.outputs\.(\w+) \}\}"', workflow_text):
        env[var] = outputs.get(out, "")
    runners = re.search(r"runners: (\S+)", workflow_text).group(1)
    return runners, env


def parse_outputs(text: str) -> dict:
    return dict(line.split("=", 1) for line in text.strip().splitlines())


@pytest.fixture(scope="module")
def hw2():
    return manifest.find("hw2", REPO)


def test_graded_results_reach_the_reporter_whole(hw2, zygote):
    report = grade(hw2, hw2.reference_dir, zygote=zygote)
    runners, env = step_env(workflow(hw2), parse_outputs(github.render(report)))
    assert reporter(runners, env) == {"total": 12, "max": 12, "failed": False}


def test_every_runner_name_is_one_the_reporter_accepts():
    for name in ("hw1", "hw2", "hw3", "hw4"):
        assignment = manifest.find(name, REPO)
        runners, env = step_env(workflow(assignment), {})
        assert RUNNERS.match(runners) and len(env) == len(assignment.tasks)


def _run_grade_step(tmp_path, hw2, fake_grade: str, *, forged: str | None = None) -> dict:
    """Runs the workflow's Grade step in bash, with `grade` replaced by ``fake_grade``."""
    script = re.search(r"- name: Grade\n        id: grade\n        run: \|\n((?:          .*\n)+)", workflow(hw2)).group(1)
    script = "\n".join(line[10:] for line in script.splitlines())
    repo = tmp_path / "repo"
    (repo / ".github").mkdir(parents=True)
    (repo / ".github" / "classroom-fallback.txt").write_text(fallback_file(hw2))
    if forged is not None:
        (repo / "results.txt").write_text(forged)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "grade"
    fake.write_text(fake_grade)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    out = tmp_path / "github_output"
    out.write_text("")
    summary = tmp_path / "step_summary"
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", GITHUB_OUTPUT=str(out), GITHUB_STEP_SUMMARY=str(summary))
    subprocess.run(["bash", "-e", "-c", script], cwd=repo, env=env, check=True)
    outputs = parse_outputs(out.read_text())
    assert summary.read_text() == (outputs["grader_summary"] + "\n" if "grader_summary" in outputs else "")
    return outputs


def test_a_crashed_grader_still_gives_the_reporter_valid_json(tmp_path, hw2):
    # the first `grade` dies as if killed; the fallback is the real one
    fake = f"""#!/bin/bash
case "$*" in
  *--fallback*) exec {sys.executable} -m grader.cli "$@" --root {REPO} ;;
  *) kill -9 $$ ;;
esac
"""
    outputs = _run_grade_step(tmp_path, hw2, fake)
    runners, env = step_env(workflow(hw2), outputs)
    result = reporter(runners, env)
    assert result == {"total": 0, "max": 12, "failed": True}
    first = json.loads(base64.b64decode(env["LINEARBACKWARD_RESULTS"]))
    assert REASON in first["tests"][0]["message"]


def test_without_any_grader_the_built_fallback_file_is_used(tmp_path, hw2):
    outputs = _run_grade_step(tmp_path, hw2, "#!/bin/bash\nexit 127\n")
    runners, env = step_env(workflow(hw2), outputs)
    assert reporter(runners, env) == {"total": 0, "max": 12, "failed": True}


def test_full_marks_add_up_exactly_in_the_reporters_running_sum(hw2, zygote):
    report = grade(hw2, hw2.reference_dir, zygote=zygote)
    runners, env = step_env(workflow(hw2), parse_outputs(github.render(report)))
    total = 0.0
    for runner in runners.split(","):  # one running float, in the reporter's order
        for test in json.loads(base64.b64decode(env[f"{runner.upper()}_RESULTS"]))["tests"]:
            total += test["score"]
    assert total == 12.0


def _full_marks_forged(hw2) -> str:
    """What student code running as the runner's user could write: every task at full marks."""
    payloads = {t.id: {"version": 1, "status": "pass", "max_score": t.points,
                       "tests": [{"name": "x", "status": "pass", "score": t.points}]} for t in hw2.tasks}  # fmt: skip
    return github._lines(payloads) + "\n"


def test_a_forged_results_file_is_replaced_when_the_grader_is_killed(tmp_path, hw2):
    forged = _full_marks_forged(hw2)
    fake = f"""#!/bin/bash
case "$*" in
  *--fallback*) exec {sys.executable} -m grader.cli "$@" --root {REPO} ;;
  *) printf '%s' '{forged}' > results.txt; kill -9 $$ ;;
esac
"""
    outputs = _run_grade_step(tmp_path, hw2, fake, forged=forged)
    runners, env = step_env(workflow(hw2), outputs)
    assert reporter(runners, env) == {"total": 0, "max": 12, "failed": True}
    assert "exit status 137" in json.loads(base64.b64decode(env["MSE_RESULTS"]))["tests"][0]["message"]


def test_a_finished_grade_is_kept_and_its_summary_shown(tmp_path, hw2, zygote):
    report = grade(hw2, hw2.reference_dir, zygote=zygote)
    text = github.render(report) + "\n"
    (tmp_path / "graded.txt").write_text(text)
    fake = f"#!/bin/bash\ncp {tmp_path / 'graded.txt'} results.txt\nexit 1\n"  # 1: graded, something failed
    outputs = _run_grade_step(tmp_path, hw2, fake)
    assert outputs["grader_summary"].startswith("HW2: forward and backward passes by hand: 12/12 · isolation: ")
    runners, env = step_env(workflow(hw2), outputs)
    assert reporter(runners, env)["total"] == 12
