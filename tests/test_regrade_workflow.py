"""The instructor's regrade as written by `grade export regrade-*`: the GitHub Actions
workflow's shell steps run for real in bash (roster -> shards -> clone -> batch -> merge ->
commit statuses) on a roster of local repositories, and the Kubernetes and Slurm
templates parsed and their scripts run with each shard index.

What bash cannot run here is emulated, and only that: `uses:` steps (checkout copies the
autograder repository, the artifact steps copy folders), `gh` (a script that logs its
arguments), and `sudo` (these tests run as root already; the shim runs the command).
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import stat
import subprocess
import sys

import pytest
import yaml

from grader import manifest
from grader.regrade import export
from grader.regrade.shards import shard_of
from grader.release import write_bundle
from tests.conftest import REPO

REFERENCE = (REPO / "reference" / "hw4" / "normalization.py").read_text()
STUBS = (REPO / "assignments" / "hw4" / "normalization.py").read_text()
HALF = REFERENCE + "\n\ndef batchnorm_backward(*args, **kwargs):\n    raise NotImplementedError\n"
CURRENT = {"actions/checkout": "v7", "actions/setup-python": "v7", "actions/upload-artifact": "v7", "actions/download-artifact": "v8"}


@pytest.fixture(scope="module")
def hw4():
    return manifest.find("hw4", REPO)


def _workflow(hw4, shards=2):
    return yaml.safe_load(export.render("actions.yml", hw4, shards=shards))


def _steps(workflow):
    return [(job_id, step) for job_id, job in workflow["jobs"].items() for step in job["steps"]]


def _step(workflow, job_id, name):
    return next(s for s in workflow["jobs"][job_id]["steps"] if s.get("name") == name)


def test_the_workflow_uses_current_actions_and_keeps_no_credentials(hw4):
    wf = _workflow(hw4)
    triggers = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "schedule" in triggers and "workflow_dispatch" in triggers
    assert wf["permissions"] == {"contents": "read"}
    for job_id, job in wf["jobs"].items():
        assert job["timeout-minutes"] > 0, job_id
    for job_id, step in _steps(wf):
        if "uses" in step:
            action, _, major = step["uses"].partition("@")
            assert CURRENT.get(action) == major, step["uses"]  # node24 majors, none of the deprecated node20 ones
            if action == "actions/checkout":
                assert step["with"]["persist-credentials"] is False
        else:
            assert "${{" not in step["run"], (job_id, step["name"])  # values come through env: no script injection
    assert wf["jobs"]["grade"]["strategy"]["matrix"]["shard"] == "${{ fromJSON(needs.roster.outputs.shards) }}"
    grade_step = _step(wf, "grade", "Grade this shard")["run"]
    assert 'sudo "$(command -v grade)" batch' in grade_step and '--shard "$SHARD/$SHARDS"' in grade_step
    uploads = [s["with"]["path"] for _, s in _steps(wf) if s.get("uses", "").startswith("actions/upload-artifact")]
    assert "gradebook" in uploads


# --- the workflow's steps, run in bash --------------------------------------------


def _script(path, text):
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def _tools(tmp_path):
    """`grade` as installed, `sudo` as a shim (we are root), `gh` logging its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _script(bin_dir / "grade", f'#!/bin/sh\nexec "{sys.executable}" -m grader.cli "$@"\n')
    _script(bin_dir / "sudo", '#!/bin/sh\nexec "$@"\n')
    _script(bin_dir / "gh", f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{tmp_path}/gh.log"\ncat "{tmp_path}/gh-output" 2>/dev/null || true\n')
    return bin_dir


def _env(bin_dir, **values):
    """A value for every expression of the workflow's env, as GitHub would resolve them."""
    base = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}", "ASSIGNMENT": "hw4", "ROSTER": "rosters/hw4.csv", "ORG": "", "PREFIX": "hw4-",
        "SHARDS": "2", "DEADLINE": "", "POST_STATUS": "false", "GH_TOKEN": "not-a-real-token", "GRADER_PACKAGE": "torch-grader",
    }  # fmt: skip
    return {**base, **values}


def _run_step(workflow, job_id, name, workspace, env):
    step = _step(workflow, job_id, name)
    outputs, summary = workspace / ".output", workspace / ".summary"
    full = dict(os.environ, GITHUB_OUTPUT=str(outputs), GITHUB_STEP_SUMMARY=str(summary), **env)
    for key, value in {**workflow.get("env", {}), **workflow["jobs"][job_id].get("env", {}), **step.get("env", {})}.items():
        assert key in env or "${{" not in str(value), f"{name}: give {key} a value"
    script = workspace / ".step.sh"
    script.write_text(step["run"])
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=workspace, env=full, capture_output=True, text=True)
    assert done.returncode == 0, f"{name}:\n{done.stdout}\n{done.stderr}"
    return done


def _git(cwd, *args, date="2026-11-01T12:00:00Z"):
    env = dict(os.environ, GIT_AUTHOR_NAME="s", GIT_AUTHOR_EMAIL="s@example.org", GIT_COMMITTER_NAME="s",
               GIT_COMMITTER_EMAIL="s@example.org", GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)  # fmt: skip
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


def _student_repo(path, commits):
    """A clone of the student release with ``commits``: [(date, normalization.py source)]."""
    shutil.copytree(REPO / "assignments" / "hw4", path / "assignments" / "hw4")
    _git(path, "init", "-q", "-b", "main")
    shas = []
    for date, source in commits:
        (path / "assignments" / "hw4" / "normalization.py").write_text(source)
        _git(path, "add", "-A")
        _git(path, "commit", "-q", "-m", "work", date=date)
        shas.append(_git(path, "rev-parse", "HEAD"))
    return shas


def test_the_workflow_regrades_a_class_from_a_roster_into_one_gradebook(hw4, tmp_path):
    shards = 2
    wf = _workflow(hw4, shards)
    bin_dir = _tools(tmp_path)
    students = tmp_path / "students"
    alice = _student_repo(students / "alice", [("2026-11-01T12:00:00Z", STUBS), ("2026-11-20T12:00:00Z", REFERENCE)])
    bob = _student_repo(students / "bob", [("2026-11-02T12:00:00Z", HALF)])
    carol = _student_repo(students / "carol", [("2026-11-03T12:00:00Z", REFERENCE)])
    assert {shard_of(s, shards) for s in ("alice", "bob", "carol")} == {0, 1}  # both shards grade someone
    private = write_bundle(hw4, tmp_path / "dist")  # the private autograder repository: the bundle
    (private / "rosters").mkdir()
    rows = [f"{s},course/hw4-{s},{students / s}" for s in ("alice", "bob", "carol")] + [f"ghost,course/hw4-ghost,{students / 'ghost'}"]
    (private / "rosters" / "hw4.csv").write_text("student,repository,clone\n" + "\n".join(rows) + "\n")
    env = _env(bin_dir, SHARDS=str(shards), DEADLINE="2026-11-10T00:00:00Z", POST_STATUS="true")

    # job roster: checkout (the repository at the root), make it, split it, upload it
    ws = tmp_path / "ws-roster"
    shutil.copytree(private, ws)
    _run_step(wf, "roster", "Make the roster", ws, env)
    _run_step(wf, "roster", "Split into shards", ws, env)
    assert (ws / ".output").read_text() == "shards=[0,1]\n"
    roster_artifact = ws / "regrade" / "roster.csv"

    # job grade, once per shard, each its own processes: checkout into autograder/, the roster artifact
    for i in range(shards):
        ws = tmp_path / f"ws-{i}"
        shutil.copytree(private, ws / "autograder")
        (ws / "regrade").mkdir()
        shutil.copy(roster_artifact, ws / "regrade" / "roster.csv")
        _run_step(wf, "grade", "Clone this shard's repositories", ws, {**env, "SHARD": str(i)})
        _run_step(wf, "grade", "Grade this shard", ws, {**env, "SHARD": str(i)})

    # job merge: every shard-* artifact into shards/
    ws = tmp_path / "ws-merge"
    for i in range(shards):
        shutil.copytree(tmp_path / f"ws-{i}" / f"shard-{i}", ws / "shards" / f"shard-{i}")
    _run_step(wf, "merge", "Merge the shards into one gradebook", ws, env)
    with open(ws / "gradebook" / "gradebook.csv", newline="") as f:
        book = {row["student"]: row for row in csv.DictReader(f)}
    # alice's commit before the deadline held the stubs; the later one does not count
    assert {s: row["total"] for s, row in book.items()} == {"alice": "0", "bob": "5", "carol": "8"}
    summary = (ws / ".summary").read_text()
    assert "3 students, 2 shards" in summary and "ghost (course/hw4-ghost): not cloned" in summary

    post = _step(wf, "merge", "Post a commit status per graded commit")
    assert post["if"] == "env.POST_STATUS == 'true'"
    _run_step(wf, "merge", "Post a commit status per graded commit", ws, env)
    calls = sorted((tmp_path / "gh.log").read_text().splitlines())
    assert calls == sorted(
        f"api --silent -X POST repos/course/hw4-{s}/statuses/{sha} -f state=success -f context=regrade/hw4 -f description={text}"
        for s, sha, text in (("alice", alice[0], "0/8 points"), ("bob", bob[0], "5/8 points"), ("carol", carol[0], "8/8 points"))
    )


def test_the_roster_can_come_from_an_org_and_a_prefix(hw4, tmp_path):
    wf = _workflow(hw4)
    bin_dir = _tools(tmp_path)
    (tmp_path / "gh-output").write_text("hw4-zoe\nhw4-\nother-hw4-x\nhw4-adam\nhw4-\n")  # what `gh repo list --jq` prints
    ws = tmp_path / "ws"
    ws.mkdir()
    env = _env(bin_dir, ORG="course")
    _run_step(wf, "roster", "Make the roster", ws, env)
    assert (ws / "regrade" / "roster.csv").read_text() == "student,repository\nadam,course/hw4-adam\nzoe,course/hw4-zoe\n"
    assert (tmp_path / "gh.log").read_text().startswith("repo list course --limit")


def test_a_shard_count_that_is_not_a_number_stops_the_workflow(hw4, tmp_path):
    wf = _workflow(hw4)
    step = _step(wf, "roster", "Split into shards")["run"]
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", step], env=dict(os.environ, SHARDS="four", GITHUB_OUTPUT=str(tmp_path / "o")), capture_output=True, text=True)
    assert done.returncode == 1 and "::error::shards must be a whole number" in done.stdout


def test_clone_takes_the_latest_commit_without_a_deadline(tmp_path):
    from grader.regrade import roster

    shas = _student_repo(tmp_path / "alice", [("2026-11-01T12:00:00Z", STUBS), ("2026-11-20T12:00:00Z", REFERENCE)])
    entries = [roster.Entry("alice", "course/hw4-alice", str(tmp_path / "alice")), roster.Entry("ghost", "course/hw4-ghost", str(tmp_path / "none"))]
    cloned = roster.clone(entries, tmp_path / "class")
    assert cloned[0].commit == shas[1] and not cloned[0].problem
    assert (tmp_path / "class" / "alice" / "assignments" / "hw4" / "normalization.py").read_text() == REFERENCE
    assert not cloned[1].commit and cloned[1].problem and not (tmp_path / "class" / "ghost").exists()


# --- Kubernetes and Slurm ---------------------------------------------------------


def _fake_grade(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _script(bin_dir / "grade", f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{tmp_path}/grade.log"\n')
    return bin_dir


@pytest.mark.parametrize("gpus", [0, 1])
def test_the_kubernetes_job_grades_shard_i_in_pod_i(hw4, tmp_path, gpus):
    job = yaml.safe_load(export.render("kubernetes-job.yaml", hw4, shards=3, gpus=gpus))
    assert (job["kind"], job["spec"]["completionMode"], job["spec"]["completions"], job["spec"]["parallelism"]) == ("Job", "Indexed", 3, 3)
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"].get("nvidia.com/gpu") == (gpus or None)
    env = {e["name"]: e.get("value", "") for e in container["env"]}
    bin_dir = _fake_grade(tmp_path)
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/regrade", "/roster", "/submissions"} <= mounts
    script = container["args"][0].replace("/regrade/", f"{tmp_path}/regrade/")
    for index in range(3):  # what Kubernetes sets in each pod of an Indexed Job
        subprocess.run([*container["command"], script], env=dict(os.environ, **env, JOB_COMPLETION_INDEX=str(index), PATH=f"{bin_dir}:{os.environ['PATH']}"), check=True)
    calls = (tmp_path / "grade.log").read_text().splitlines()
    for index in range(3):
        assert f"gradebook clone /roster/roster.csv /submissions --shard {index}/3 --before  --commits {tmp_path}/regrade/shards/shard-{index}/commits.tsv" in calls
        assert f"batch hw4 /submissions --hidden {tmp_path}/regrade/bundle --shard {index}/3 --out {tmp_path}/regrade/shards/shard-{index} -j 2" in calls
    merge = yaml.safe_load(export.render("kubernetes-merge.yaml", hw4, shards=3))
    assert "grade gradebook merge /regrade/gradebook /regrade/shards/shard-*" in merge["spec"]["template"]["spec"]["containers"][0]["args"][0]


@pytest.mark.parametrize("gpus", [0, 2])
def test_the_slurm_array_grades_shard_i_in_task_i(hw4, tmp_path, gpus):
    text = export.render("slurm-array.sbatch", hw4, shards=4, gpus=gpus)
    directives = re.findall(r"^#SBATCH (.*)$", text.split("\nset -euo pipefail")[0], re.M)  # sbatch reads them up to the first command
    assert "--array=0-3" in directives and ("--gres=gpu:2" in directives) == bool(gpus)
    script = tmp_path / "regrade-hw4.sbatch"
    script.write_text(text)
    bin_dir = _fake_grade(tmp_path)
    for task in range(4):
        env = dict(os.environ, SLURM_ARRAY_TASK_ID=str(task), SLURM_CPUS_PER_TASK="2", REGRADE_DIR=str(tmp_path), PATH=f"{bin_dir}:{os.environ['PATH']}")
        subprocess.run(["bash", str(script)], env=env, check=True)
    calls = (tmp_path / "grade.log").read_text().splitlines()
    assert [c.split(" --shard ")[1].split()[0] for c in calls if c.startswith("batch hw4")] == ["0/4", "1/4", "2/4", "3/4"]
    assert all("--hidden bundle" in c and "--out shards/shard-" in c for c in calls if c.startswith("batch"))
    merge = export.render("slurm-merge.sbatch", hw4, shards=4)
    assert "grade gradebook merge gradebook shards/shard-*" in merge


def test_export_writes_each_engine_s_files(tmp_path):
    from click.testing import CliRunner

    from grader.cli import main

    runner = CliRunner()
    for target in ("regrade-actions", "regrade-kubernetes", "regrade-slurm"):
        result = runner.invoke(main, ["export", target, "hw4", "--root", str(REPO), "--out", str(tmp_path), "--shards", "5"])
        assert result.exit_code == 0, result.output
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == [".github/workflows/regrade-hw4.yml", "merge-hw4.sbatch", "regrade-hw4-job.yaml", "regrade-hw4-merge.yaml", "regrade-hw4.sbatch"]
    assert "'5' }}" in (tmp_path / ".github" / "workflows" / "regrade-hw4.yml").read_text()


def test_without_a_pinned_grader_the_install_step_says_what_to_set(hw4, tmp_path):
    wf = _workflow(hw4)
    step = _step(wf, "grade", "Install the grader (CPU build of PyTorch)")["run"]
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", step], env=dict(os.environ, GRADER_PACKAGE=""), capture_output=True, text=True)
    assert done.returncode == 1 and "::error::set the repository variable GRADER_PACKAGE" in done.stdout
