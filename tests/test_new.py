"""`grade new NAME` makes an assignment that builds and grades at once."""

from __future__ import annotations

from click.testing import CliRunner

from grader import manifest
from grader.cli import main
from grader.grading import grade


def test_new_assignment_builds_and_grades(tmp_path, zygote):
    (tmp_path / "assignments").mkdir()
    result = CliRunner().invoke(main, ["new", "demo", "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    demo = manifest.find("demo", tmp_path)
    assert (demo.directory / "exercises.py").is_file() and (demo.directory / "demo.ipynb").is_file()
    assert "raise NotImplementedError(\"scale (task 'scale')\")" in (demo.directory / "exercises.py").read_text()
    reference = grade(demo, demo.reference_dir, zygote=zygote)
    assert reference.score == reference.max_score == 1
    assert grade(demo, demo.directory, zygote=zygote).score == 0
    assert [c for c in reference.checks if c.visibility == "hidden" and c.status == "pass"]


def test_new_refuses_a_taken_or_reserved_name(tmp_path):
    (tmp_path / "assignments" / "hw1").mkdir(parents=True)
    runner = CliRunner()
    taken = runner.invoke(main, ["new", "hw1", "--root", str(tmp_path)])
    assert taken.exit_code == 2 and "already exists" in taken.output and "Traceback" not in taken.output
    reserved = runner.invoke(main, ["new", "batch", "--root", str(tmp_path)])
    assert reserved.exit_code == 2 and "cannot be an assignment name" in reserved.output
