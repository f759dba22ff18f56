"""Shards and their merge: N shards graded as separate processes give exactly the unsharded
gradebook, and every reason to refuse a merge is one line (exit 2)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.regrade import roster, shards
from tests.conftest import REPO

REFERENCE = (REPO / "reference" / "hw4" / "normalization.py").read_text()
STUBS = (REPO / "assignments" / "hw4" / "normalization.py").read_text()
HALF = REFERENCE + "\n\ndef batchnorm_backward(*args, **kwargs):\n    raise NotImplementedError\n"
N = 3
GRADE = [sys.executable, "-m", "grader.cli"]


def _class(folder):
    folder.mkdir()
    (folder / "alice.py").write_text(REFERENCE)
    (folder / "bob.py").write_text(STUBS)
    (folder / "frank.py").write_text(HALF)
    (folder / "dave.ipynb").write_text("{not a notebook")
    with zipfile.ZipFile(folder / "erin.zip", "w") as z:
        z.writestr("erin/normalization.py", REFERENCE)
    repo = folder / "carol" / "assignments" / "hw4"
    shutil.copytree(REPO / "assignments" / "hw4", repo)
    (repo / "normalization.py").write_text(HALF)
    return folder


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class graded whole, and in N shards run at once as N separate processes."""
    tmp = tmp_path_factory.mktemp("sharded")
    folder = _class(tmp / "class")
    students = ["alice", "bob", "carol", "dave", "erin", "frank"]
    assert {shards.shard_of(s, N) for s in students} == set(range(N))  # every shard has someone to grade
    base = [*GRADE, "batch", "hw4", str(folder), "--root", str(REPO), "-j", "1"]
    runs = [subprocess.Popen([*base, "--shard", f"{i}/{N}", "--out", str(tmp / f"shard-{i}")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for i in range(N)]
    whole = subprocess.run([*base, "--out", str(tmp / "whole")], capture_output=True, text=True)
    assert whole.returncode == 0, whole.stdout + whole.stderr
    for run in runs:
        output = run.communicate()[0].decode()
        assert run.returncode == 0, output
    return tmp


def _merge(out, *dirs):
    return CliRunner().invoke(main, ["gradebook", "merge", str(out), *map(str, dirs)])


def test_shards_merged_give_exactly_the_unsharded_gradebook(graded, tmp_path):
    dirs = [graded / f"shard-{i}" for i in range(N)]
    held = [shards.read(d).students for d in dirs]
    assert sorted(s for part in held for s in part) == ["alice", "bob", "carol", "dave", "erin", "frank"]  # each once
    result = _merge(tmp_path / "book", *reversed(dirs))  # in any order
    assert result.exit_code == 0, result.output
    whole = (graded / "whole" / "gradebook.csv").read_text()
    assert (tmp_path / "book" / "gradebook.csv").read_text() == whole
    assert "alice,2,3,3,8,8" in whole and "frank,2,3,0,5,8" in whole  # really graded, not empty rows
    merged = shards.read(tmp_path / "book")
    assert (merged.shard, merged.of, merged.merged_from, merged.complete) == (0, 1, N, True)
    assert sorted(p.stem for p in (tmp_path / "book" / "results").glob("*.json")) == merged.students


def _copy(graded, tmp_path, edit=None, index=1):
    dirs = []
    for i in range(N):
        d = tmp_path / f"shard-{i}"
        shutil.copytree(graded / f"shard-{i}", d)
        dirs.append(d)
    if edit is not None:
        path = dirs[index] / shards.RECORD
        record = json.loads(path.read_text())
        edit(record, dirs)
        path.write_text(json.dumps(record))
    return dirs


def _refused(result, tmp_path, *expected):
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert "\n" not in line and "Traceback" not in line, result.output
    for text in expected:
        assert text in line, line
    assert not (tmp_path / "book").exists()  # nothing written
    return line


def test_a_missing_shard_is_refused(graded, tmp_path):
    dirs = _copy(graded, tmp_path)
    _refused(_merge(tmp_path / "book", dirs[0], dirs[2]), tmp_path, f"shard 1/{N} is missing", f"--shard 1/{N}")


def test_a_shard_given_twice_is_refused(graded, tmp_path):
    dirs = _copy(graded, tmp_path)
    again = tmp_path / "again"
    shutil.copytree(dirs[0], again)
    _refused(_merge(tmp_path / "book", *dirs, again), tmp_path, f"shard 0/{N} is given twice")


def test_shards_graded_with_different_bundles_are_refused(graded, tmp_path):
    dirs = _copy(graded, tmp_path, lambda r, _: r.update(definition="sha256:another"))
    _refused(_merge(tmp_path / "book", *dirs), tmp_path, "graded with different bundles", "sha256:another")


def test_shards_graded_by_different_graders_are_refused(graded, tmp_path):
    dirs = _copy(graded, tmp_path, lambda r, _: r.update(grader_version="0.0.1+old"))
    _refused(_merge(tmp_path / "book", *dirs), tmp_path, "graded by different graders", "0.0.1+old")


def test_a_student_in_two_shards_is_refused(graded, tmp_path):
    home = shards.shard_of("alice", N)
    other = (home + 1) % N

    def add_alice(record, dirs):
        shutil.copy(dirs[home] / "results" / "alice.json", dirs[other] / "results" / "alice.json")
        record["students"] = sorted(record["students"] + ["alice"])

    dirs = _copy(graded, tmp_path, add_alice, index=other)
    _refused(_merge(tmp_path / "book", *dirs), tmp_path, "alice is in shard", f"{home}/{N}", f"{other}/{N}")


def test_an_unfinished_shard_is_refused(graded, tmp_path):
    dirs = _copy(graded, tmp_path, lambda r, _: r.update(complete=False))
    _refused(_merge(tmp_path / "book", *dirs), tmp_path, f"shard 1/{N}", "did not finish")


def test_a_folder_that_is_no_shard_is_refused(graded, tmp_path):
    (tmp_path / "empty").mkdir()
    _refused(_merge(tmp_path / "book", tmp_path / "empty"), tmp_path, "has no shard.json")


def test_a_batch_output_holds_one_shard(graded, tmp_path):
    """Grading shard 2 into shard 0's folder would mix them: refused before anything runs."""
    out = tmp_path / "shard-0"
    shutil.copytree(graded / "shard-0", out)
    result = CliRunner().invoke(main, ["batch", "hw4", str(graded / "class"), "--root", str(REPO), "--shard", f"2/{N}", "--out", str(out)])
    assert result.exit_code == 2 and f"holds the results of shard 0/{N}" in result.output, result.output


def test_shards_are_stable_when_students_join():
    """By a hash of the id, never a position: a student added moves nobody else."""
    cohort = [roster.Entry(f"student{i:03d}", f"course/hw4-student{i:03d}") for i in range(200)]
    joined = cohort + [roster.Entry("aaron", "course/hw4-aaron"), roster.Entry("zoe", "course/hw4-zoe")]
    for i in range(4):
        before = {e.student for e in roster.of_shard(cohort, shards.Shard(i, 4))}
        after = {e.student for e in roster.of_shard(joined, shards.Shard(i, 4))}
        assert before == after - {"aaron", "zoe"} and before  # nobody moved; no shard empty
    parts = [set(e.student for e in roster.of_shard(joined, shards.Shard(i, 4))) for i in range(4)]
    assert sum(map(len, parts)) == len(joined) and set().union(*parts) == {e.student for e in joined}


@pytest.mark.parametrize("text", ["4/4", "1", "a/b", "-1/4", "0/0", "1/-2"])
def test_a_bad_shard_is_one_line(text, tmp_path):
    result = CliRunner().invoke(main, ["batch", "hw4", str(tmp_path), "--root", str(REPO), "--shard", text])
    assert result.exit_code == 2 and f"--shard {text}:" in result.output and "Traceback" not in result.output, result.output


@pytest.mark.parametrize(
    "text, expected",
    [
        ("name,repo\nada,course/hw4-ada\n", "must name the columns student,repository"),
        ("student,repository\n../ada,course/hw4-ada\n", "line 2: student '../ada' must be letters"),
        ("student,repository\nada,course/hw4-ada\nada,course/hw4-ada2\n", "line 3: ada is already on line 2"),
        ("student,repository\nada,\n", "line 2: ada has no repository"),
        ("student,repository,clone\nada,course/hw4-ada,--upload-pack=evil\n", "line 2: ada has no repository"),
    ],
)
def test_a_bad_roster_is_one_line(tmp_path, text, expected):
    (tmp_path / "roster.csv").write_text(text)
    result = CliRunner().invoke(main, ["gradebook", "clone", str(tmp_path / "roster.csv"), str(tmp_path / "class"), "--shard", "0/2"])
    assert result.exit_code == 2 and expected in result.output and "\n" not in result.output.strip(), result.output
    assert not (tmp_path / "class").exists()


def test_a_student_moved_to_another_shard_is_refused(graded, tmp_path):
    """A result filed under a shard the id does not hash to (a hand-edited or stale shard)."""
    home = shards.shard_of("erin", N)
    other = (home + 1) % N

    def move_erin(record, dirs):
        shutil.move(dirs[home] / "results" / "erin.json", dirs[other] / "results" / "erin.json")
        record["students"] = sorted(record["students"] + ["erin"])
        first = json.loads((dirs[home] / shards.RECORD).read_text())
        first["students"].remove("erin")
        (dirs[home] / shards.RECORD).write_text(json.dumps(first))

    dirs = _copy(graded, tmp_path, move_erin, index=other)
    _refused(_merge(tmp_path / "book", *dirs), tmp_path, f"erin is in shard {other}/{N}", f"belongs to shard {home}/{N}")
