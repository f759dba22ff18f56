"""Symbolic links that come with a submission are never followed by the trusted side.

A link is the student's to make (an upload, a zip's folder, a repository: git keeps
links), so a link at or below what they supplied must not make the grader read the
reference as their work, list the hidden checks' names back to them, or walk the
host. A linked submission is their mistake: a result of 0 with the reason, never a
grader error. The instructor's own paths (--root, --hidden, a /tmp that is a link)
may be links.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import manifest, release
from grader.cli import main
from tests.conftest import REPO

REFERENCE = (REPO / "reference" / "hw2" / "layers.py").read_text()
LINKED = "is a symbolic link; submit the files themselves"
HIDDEN_NAME = "test_layers_hidden"
GRADE = f"{sys.executable} -m grader.cli"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """hw2 as shipped: (the student release, the autograder bundle)."""
    return release.ship(manifest.find("hw2", REPO), tmp_path_factory.mktemp("dist"))


@pytest.fixture
def own_bundle(shipped, tmp_path, monkeypatch):
    """A copy of the bundle to play in, as the review did: `cd <bundle>`."""
    bundle = tmp_path / "hw2-autograder"
    shutil.copytree(shipped[1], bundle)
    monkeypatch.chdir(bundle)
    return bundle


def _clone(shipped, where: Path) -> Path:
    """A student's clone of the release holding the reference solution as their own work."""
    shutil.copytree(shipped[0], where)
    (where / "assignments" / "hw2" / "layers.py").write_text(REFERENCE)
    return where


# --- the reproductions ---------------------------------------------------------------


def test_a_linked_assignment_folder_scores_nothing(own_bundle):
    bundle = own_bundle
    (bundle / "S1" / "assignments").mkdir(parents=True)
    os.symlink(bundle / "reference" / "hw2", bundle / "S1" / "assignments" / "hw2")
    result = run("hw2", "--root", ".", "--hidden", ".", "--submission", "S1/assignments/hw2", "--format", "gradescope")
    assert result.exit_code == 1, result.output  # finished: the student's result, not a grader error
    data = json.loads(result.output)
    assert data["score"] == 0
    assert f"assignments/hw2 {LINKED}" in data["output"]
    assert all(t["score"] == 0 for t in data["tests"]) and sum(t["max_score"] for t in data["tests"]) == pytest.approx(12)
    assert HIDDEN_NAME not in result.output


def test_a_linked_file_scores_nothing(own_bundle):
    bundle = own_bundle
    (bundle / "S2").mkdir()
    os.symlink(bundle / "reference" / "hw2" / "layers.py", bundle / "S2" / "a.py")
    result = run("hw2", "--root", ".", "--hidden", ".", "--submission", "S2/a.py", "--format", "gradescope")
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert data["score"] == 0 and f"a.py {LINKED}" in data["output"]


def test_a_linked_submission_is_one_line_at_the_terminal(own_bundle):
    (own_bundle / "S2").mkdir()
    os.symlink(own_bundle / "reference" / "hw2" / "layers.py", own_bundle / "S2" / "layers.py")
    result = run("hw2", "--root", ".", "--hidden", ".", "--submission", "S2/layers.py")
    assert result.exit_code == 1
    assert [line for line in result.output.splitlines() if LINKED in line] == [f"✗ layers.py {LINKED}"]
    assert "Score: 0/12" in result.output and "Traceback" not in result.output


def _run_autograder(tmp_path, hw2, files: dict, links: dict) -> dict:
    """The zip's run_autograder with /autograder moved under tmp_path (as in
    test_gradescope.py); ``links`` maps upload paths to targets under /autograder."""
    from grader.gradescope_export import export

    zip_path = export(hw2, tmp_path / "dist")
    base = tmp_path / "autograder"
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(base / "source")
    upload = base / "submission"
    upload.mkdir()
    for name, text in files.items():
        (upload / name).parent.mkdir(parents=True, exist_ok=True)
        (upload / name).write_text(text)
    for name, target in links.items():
        (upload / name).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(base / target, upload / name)
    script = (base / "source" / "run_autograder").read_text()
    script = script.replace("/autograder/venv/bin/grade", GRADE).replace("/autograder", str(base))
    subprocess.run(["bash", "-c", script], check=True, env=dict(os.environ), timeout=300)
    return json.loads((base / "results" / "results.json").read_text())


@pytest.mark.parametrize(
    "links, shown",
    [
        ({"assignments/hw2": "source/reference/hw2"}, "assignments/hw2"),  # a repository upload
        ({"assignments": "source/reference"}, "assignments"),
        ({"a.py": "source/reference/hw2/layers.py"}, "a.py"),  # what `ls *.py` picks
        ({"hw2.ipynb": "source/assignments/hw2/hw2.ipynb"}, "hw2.ipynb"),
        ({"layers.py": "source/reference/hw2/layers.py"}, "layers.py"),  # the student file of a folder upload
    ],
    ids=["repository", "assignments", "script", "notebook", "student-file"],
)
def test_run_autograder_gives_a_linked_upload_0_and_the_reason(tmp_path, links, shown):
    hw2 = manifest.find("hw2", REPO)
    results = _run_autograder(tmp_path, hw2, {}, links)
    assert results["score"] == 0, results["output"]
    assert f"{shown} {LINKED}" in results["output"]
    assert "did not finish" not in results["output"]  # the student's result, not the fallback
    assert HIDDEN_NAME not in json.dumps(results)


def test_batch_records_a_linked_repository_as_the_students_result(shipped, tmp_path):
    _, bundle = shipped
    folder = tmp_path / "SUBS"
    (folder / "mallory" / "assignments").mkdir(parents=True)
    os.symlink(bundle / "reference" / "hw2", folder / "mallory" / "assignments" / "hw2")
    _clone(shipped, folder / "alice")  # a normal submission, graded as ever
    out = tmp_path / "OUT"
    result = run("batch", "hw2", folder, "--hidden", bundle, "-j", "1", "--out", out)
    assert result.exit_code == 0, result.output
    with open(out / "gradebook.csv", newline="") as f:
        book = {row["student"]: row for row in csv.DictReader(f)}
    assert book["alice"]["total"] == "12" and book["alice"]["modified"] == "" and book["alice"]["refused"] == ""
    mallory = book["mallory"]
    assert (mallory["total"], mallory["grader_error"], mallory["modified"]) == ("0", "", "")
    assert mallory["refused"] == f"assignments/hw2 {LINKED}"
    record = json.loads((out / "results" / "mallory.json").read_text())
    assert record["score"] == 0 and record["refused"] == f"assignments/hw2 {LINKED}" and not record.get("grader_error")
    assert HIDDEN_NAME not in json.dumps(record)
    # the student's result: a second run keeps it rather than retrying it as a grader error
    result = run("batch", "hw2", folder, "--hidden", bundle, "-j", "1", "--out", out)
    assert "2 of 2 already graded" in result.output


# --- links inside what the student supplied -------------------------------------------


def test_a_linked_tests_folder_leaks_no_hidden_name(shipped, tmp_path):
    _, bundle = shipped
    repo = _clone(shipped, tmp_path / "repo")
    tests = repo / "assignments" / "hw2" / "tests"
    shutil.rmtree(tests)
    os.symlink(bundle / "reference" / "hw2", tests)
    result = run("hw2", "--root", repo, "--hidden", bundle, "--format", "gradescope")  # what the student sees
    data = json.loads(result.output)
    assert data["score"] == 12  # the student's own (real) layers.py, graded by the bundle's checks
    assert data["output"].endswith("modified (ignored for scoring; the trusted copies were used): tests (a symbolic link)")
    assert HIDDEN_NAME not in result.output


_MODIFIED = """
import json, sys, time
from pathlib import Path
from grader import bundle, manifest
assignment = bundle.locate("hw2", Path(sys.argv[1]))
started = time.monotonic()
found = bundle.modified(Path(sys.argv[2]), assignment)
print(json.dumps({"modified": found, "seconds": time.monotonic() - started}))
"""


@pytest.mark.parametrize("linked, shown", [(".github", ".github"), ("assignments/hw2/tests", "tests")], ids=["github", "tests"])
def test_a_link_to_the_root_of_the_host_is_not_walked(shipped, tmp_path, linked, shown):
    _, bundle = shipped
    repo = _clone(shipped, tmp_path / "repo")
    shutil.rmtree(repo / linked)
    os.symlink("/", repo / linked)
    try:
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(_MODIFIED), str(bundle), str(repo / "assignments" / "hw2")],
            capture_output=True, text=True, timeout=60, cwd=REPO,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"listing the edits walked the link {linked} -> / (still going after 60 s)")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    # a walk through the link would list what lies under / as edits too
    assert found["modified"] == [f"{shown} (a symbolic link)"]


def test_a_submission_inside_the_reference_or_the_bundle_is_refused(own_bundle):
    result = run("hw2", "--root", ".", "--hidden", ".", "--submission", "reference/hw2", "--format", "json")
    assert result.exit_code == 2 and "inside" in result.output and "--reference" in result.output, result.output
    result = run("hw2", "--root", ".", "--hidden", ".", "--submission", "reference/hw2/layers.py", "--format", "json")
    assert result.exit_code == 2 and "inside" in result.output, result.output
    result = run("hw2", "--root", ".", "--hidden", ".", "--submission", "assignments/hw2", "--format", "json")
    assert result.exit_code == 2 and "inside" in result.output, result.output
    result = run("hw2", "--root", ".", "--hidden", ".", "--reference", "--format", "json")  # the explicit way
    assert result.exit_code == 0 and json.loads(result.output)["score"] == 12


def test_the_library_refuses_a_file_of_the_reference_as_a_submission(zygote):
    from grader.errors import SubmissionError
    from grader.grading import grade

    hw2 = manifest.find("hw2", REPO)
    with pytest.raises(SubmissionError, match="inside"):
        grade(hw2, hw2.reference_dir / "layers.py", zygote=zygote)


# --- what must keep working -------------------------------------------------------------


def test_the_instructors_own_paths_may_be_links(shipped, tmp_path):
    """--root and --hidden reached through links (a /tmp that is one, on macOS) grade as ever."""
    _, bundle = shipped
    repo = _clone(shipped, tmp_path / "real" / "repo")
    (tmp_path / "links").mkdir()
    os.symlink(repo, tmp_path / "links" / "repo")
    os.symlink(bundle, tmp_path / "links" / "bundle")
    os.symlink(tmp_path / "real", tmp_path / "links" / "tmp")
    result = run("hw2", "--root", tmp_path / "links" / "repo", "--hidden", tmp_path / "links" / "bundle", "--format", "json")
    data = json.loads(result.output)
    assert (data["score"], data["modified"]) == (12, [])
    through = tmp_path / "links" / "tmp" / "repo" / "assignments" / "hw2"  # a link above the submission
    result = run("hw2", "--hidden", tmp_path / "links" / "bundle", "--submission", through, "--format", "json")
    data = json.loads(result.output)
    assert (data["score"], data["modified"]) == (12, [])


def test_links_elsewhere_in_a_folder_are_still_skipped_not_refused(shipped, tmp_path):
    """A link that is not a student file (a data folder, a leftover) is left out, as before."""
    _, bundle = shipped
    repo = _clone(shipped, tmp_path / "repo")
    os.symlink(bundle / "reference" / "hw2" / "layers.py", repo / "assignments" / "hw2" / "notes.py")
    result = run("hw2", "--root", repo, "--hidden", bundle, "--format", "json")
    data = json.loads(result.output)
    assert data["score"] == 12 and data["modified"] == []


def test_the_copy_into_a_worker_follows_no_link(tmp_path):
    """Checked at load, and again where the file is copied: a link put in place in between
    (or a fifo) is not followed."""
    import errno as errno_mod

    from grader.sandbox.client import _copy_plain_file

    secret = tmp_path / "secret.py"
    secret.write_text("SECRET = 1\n")
    link = tmp_path / "layers.py"
    link.symlink_to(secret)
    with pytest.raises(OSError) as info:
        _copy_plain_file(str(link), str(tmp_path / "copy.py"))
    assert info.value.errno == errno_mod.ELOOP and not (tmp_path / "copy.py").exists()
    fifo = tmp_path / "fifo.py"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a plain file"):
        _copy_plain_file(str(fifo), str(tmp_path / "copy.py"))
