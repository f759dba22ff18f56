"""`grade batch`: a class regraded, resumable, one broken submission never stops it."""

from __future__ import annotations

import csv
import json
import shutil
import zipfile

from click.testing import CliRunner

from grader.cli import main
from tests.conftest import REPO

REFERENCE = (REPO / "reference" / "hw4" / "normalization.py").read_text()
STUBS = (REPO / "assignments" / "hw4" / "normalization.py").read_text()


def _class(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "alice.py").write_text(REFERENCE)
    (folder / "bob.py").write_text(STUBS)
    repo = folder / "carol"  # a clone of the student release, with a public check edited
    shutil.copytree(REPO / "assignments" / "hw4", repo / "assignments" / "hw4")
    (repo / "assignments" / "hw4" / "normalization.py").write_text(REFERENCE)
    public = repo / "assignments" / "hw4" / "tests" / "test_normalization.py"
    public.write_text(public.read_text() + "\n# edited\n")
    with zipfile.ZipFile(folder / "dave.zip", "w") as z:
        z.writestr("../../escape.py", "x = 1\n")  # hostile: refused, recorded, batch goes on
    (folder / "gus.py").write_text("import os\nos._exit(3)\n")  # hostile at import: graded 0
    (folder / "hal.ipynb").write_text("{not a notebook")  # broken: graded 0 with the reason
    (folder / "ivy.zip").write_bytes(b"PK\x03\x04 not really a zip")  # corrupt: graded 0 with the reason
    with zipfile.ZipFile(folder / "erin.zip", "w") as z:
        z.writestr("erin/normalization.py", REFERENCE)
    return folder


def _gradebook(path):
    with open(path, newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def test_batch_grades_resumes_and_summarises(tmp_path):
    folder = _class(tmp_path)
    out = tmp_path / "grades"
    runner = CliRunner()
    result = runner.invoke(main, ["batch", "hw4", str(folder), "--root", str(REPO), "-j", "2", "--out", str(out), "--summary"])
    assert result.exit_code == 0, result.output
    book = _gradebook(out / "gradebook.csv")
    assert set(book) == {"alice", "bob", "carol", "dave", "erin", "gus", "hal", "ivy"}
    assert book["gus"]["total"] == "0" and book["hal"]["total"] == "0" and book["ivy"]["total"] == "0"
    # the student's own unreadable file is their result (refused, with why), not the grader's error
    assert "not a valid Jupyter notebook" in book["hal"]["refused"] and not book["hal"]["grader_error"]
    assert "is not a readable zip file" in book["ivy"]["refused"] and not book["ivy"]["grader_error"]
    assert (book["alice"]["total"], book["bob"]["total"], book["carol"]["total"], book["erin"]["total"]) == ("8", "0", "8", "8")
    assert book["carol"]["modified"] == "tests/test_normalization.py"
    assert "holds a path outside itself" in book["dave"]["refused"] and book["dave"]["total"] == "0"
    assert not any(row["grader_error"] for row in book.values())
    assert "Checks by how many students failed them" in result.output
    alice = json.loads((out / "results" / "alice.json").read_text())
    assert alice["score"] == 8 and alice["digest"]

    # a second run grades only what changed (bob); the broken files are final until they change
    (folder / "bob.py").write_text(REFERENCE)
    stamps = {s: (out / "results" / f"{s}.json").stat().st_mtime_ns for s in ("alice", "dave", "hal", "ivy")}
    result = runner.invoke(main, ["batch", "hw4", str(folder), "--root", str(REPO), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "7 of 8 already graded" in result.output
    assert {s: (out / "results" / f"{s}.json").stat().st_mtime_ns for s in stamps} == stamps
    book = _gradebook(out / "gradebook.csv")
    assert book["bob"]["total"] == "8" and len(book) == 8  # nothing counted twice


def test_results_of_an_interrupted_batch_are_kept(tmp_path):
    """Results are files renamed into place one by one: a killed run leaves only whole ones."""
    from grader import batch, manifest
    from grader.regrade import fingerprint

    folder = _class(tmp_path)
    out = tmp_path / "grades"
    (out / "results").mkdir(parents=True)
    (out / "results" / ".alice.json.x1y2").write_text("{half")  # what a kill mid-write leaves
    jobs = batch.find_submissions(folder)
    assert not any(batch.done(out, j, fingerprint.of(manifest.find("hw4", REPO))) for j in jobs)
    batch.clear_scratch(out)
    assert not list((out / "results").glob(".*"))


def _course(tmp_path):
    """A course repository of hw4 alone, to change its definition."""
    course = tmp_path / "course"
    shutil.copytree(REPO / "assignments" / "hw4", course / "assignments" / "hw4")
    shutil.copytree(REPO / "reference" / "hw4", course / "reference" / "hw4")
    (course / "assignments" / "hw4" / "data").mkdir()
    (course / "assignments" / "hw4" / "data" / "scales.csv").write_text("feature,scale\nx,1.0\n")
    return course


def _append(path, text):
    path.write_text(path.read_text() + text)


def test_a_change_to_the_definition_regrades_every_result(tmp_path):
    """A result records the definition hash and grader version it was graded with: change a
    point value, a check, the reference or the data, and the next run grades again (no old
    total under a new maximum)."""
    course = _course(tmp_path)
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "alice.py").write_text(REFERENCE)
    out = tmp_path / "grades"
    runner = CliRunner()
    result_file = out / "results" / "alice.json"

    def run():
        result = runner.invoke(main, ["batch", "hw4", str(folder), "--root", str(course), "--out", str(out), "-j", "1"])
        assert result.exit_code == 0, result.output
        return result.output, result_file.stat().st_mtime_ns, json.loads(result_file.read_text())

    _, stamp, first = run()
    assert first["definition"].startswith("sha256:") and first["grader_version"]
    output, again, _ = run()
    assert "1 of 1 already graded" in output and again == stamp  # nothing changed: nothing regraded

    manifest = course / "assignments" / "hw4" / "assignment.toml"
    manifest.write_text(manifest.read_text().replace("points = 2\n", "points = 4\n", 1))
    output, stamp_points, data = run()
    assert "graded again" in output and stamp_points != stamp
    assert (data["score"], data["max_score"]) == (10, 10)
    assert _gradebook(out / "gradebook.csv")["alice"]["total"] == "10" == _gradebook(out / "gradebook.csv")["alice"]["max"]

    changes = {
        "a check": lambda: _append(course / "assignments" / "hw4" / "tests" / "test_normalization.py", "\n# reworded\n"),
        "the reference": lambda: _append(course / "reference" / "hw4" / "normalization.py", "\n# tidied\n"),
        "the data": lambda: _append(course / "assignments" / "hw4" / "data" / "scales.csv", "y,2.0\n"),
    }
    previous = stamp_points
    for what, change in changes.items():
        change()
        output, stamp_now, data = run()
        assert "graded again" in output and stamp_now != previous, what
        assert data["definition"] != first["definition"], what
        previous = stamp_now


def test_the_definition_hash_covers_the_whole_bundle(tmp_path):
    from grader import manifest
    from grader.regrade import fingerprint

    course = _course(tmp_path)

    def digest():
        return fingerprint.definition_hash(manifest.find("hw4", course))

    seen = [digest()]
    (course / "reference" / "hw4" / "labels.csv").write_text("id,y\n0,1\n")  # private labels
    seen.append(digest())
    (course / "reference" / "hw4" / "labels.csv").write_text("id,y\n0,2\n")
    seen.append(digest())
    (course / "reference" / "hw4" / "tests" / "test_more.py").write_text("")  # a hidden check added
    seen.append(digest())
    assert len(set(seen)) == len(seen)
    (course / "assignments" / "hw4" / "__pycache__").mkdir(exist_ok=True)
    (course / "assignments" / "hw4" / "__pycache__" / "x.pyc").write_bytes(b"\0")  # not the definition
    assert digest() == seen[-1]


def test_a_killed_grading_process_is_one_students_grader_error(tmp_path, monkeypatch):
    """The kernel's OOM killer sends SIGKILL to the process grading a submission: that
    student is recorded as a grader error (tried again next run); the batch goes on."""
    import os
    import signal

    from grader.regrade import batch

    folder = tmp_path / "class"
    folder.mkdir()
    for student in ("alice", "mallory", "zed"):
        (folder / f"{student}.py").write_text(REFERENCE)
    real = batch.grade_one

    def killed_while_grading_mallory(job):
        if job.student == "mallory":
            os.kill(os.getpid(), signal.SIGKILL)  # what the OOM killer does to the grading process
        return real(job)

    monkeypatch.setattr(batch, "grade_one", killed_while_grading_mallory)
    out = tmp_path / "grades"
    runner = CliRunner()
    result = runner.invoke(main, ["batch", "hw4", str(folder), "--root", str(REPO), "--out", str(out), "-j", "2"])
    assert result.exit_code == 0, result.output
    book = _gradebook(out / "gradebook.csv")
    assert (book["alice"]["total"], book["zed"]["total"]) == ("8", "8")
    assert "killed by SIGKILL" in book["mallory"]["grader_error"] and book["mallory"]["total"] == "0"
    assert "mallory: the grading process was killed by SIGKILL" in " ".join(result.output.split())

    monkeypatch.setattr(batch, "grade_one", real)
    result = runner.invoke(main, ["batch", "hw4", str(folder), "--root", str(REPO), "--out", str(out), "-j", "2"])
    assert result.exit_code == 0 and "2 of 3 already graded" in result.output, result.output
    assert _gradebook(out / "gradebook.csv")["mallory"]["total"] == "8"


def test_a_batch_folder_inside_the_reference_is_refused_before_anything_is_written(tmp_path):
    course = _course(tmp_path)
    folder = course / "reference" / "hw4"
    before = sorted(p.name for p in (course / "reference").iterdir())
    result = CliRunner().invoke(main, ["batch", "hw4", str(folder), "--root", str(course)])
    assert result.exit_code == 2 and "lies inside the reference" in result.output, result.output
    assert sorted(p.name for p in (course / "reference").iterdir()) == before  # no grades folder beside it
