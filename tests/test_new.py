"""`grade new NAME` makes an assignment that builds and grades at once."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from grader import manifest
from grader.cli import main
from grader.errors import ManifestError
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


@pytest.mark.parametrize("verb", sorted(main.commands))
def test_new_refuses_the_name_of_every_verb(tmp_path, verb):
    """`grade new run` would make an assignment that `grade run --reference` cannot reach."""
    (tmp_path / "assignments").mkdir()
    result = CliRunner().invoke(main, ["new", verb, "--root", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output == f"Error: {verb!r} cannot be an assignment name: `grade {verb}` runs the command of that name; choose another\n"
    assert not (tmp_path / "assignments" / verb).exists() and not (tmp_path / "reference").exists()


def test_an_assignment_folder_named_after_a_verb_is_refused(tmp_path):
    folder = tmp_path / "assignments" / "run"
    folder.mkdir(parents=True)
    (folder / "assignment.toml").write_text('title = "x"\n[[tasks]]\nid = "a"\npoints = 1\nfile = "a.py"\nfunctions = ["a"]\n')
    with pytest.raises(ManifestError, match="the folder name 'run' cannot be an assignment name"):
        manifest.load(folder)
