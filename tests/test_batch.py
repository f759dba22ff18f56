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
