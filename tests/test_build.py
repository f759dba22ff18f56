"""`grade build`: student files come from the reference's markers, and never drift."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from grader import manifest
from grader.build import BuildError, Context, build_text, drift
from grader.cli import main
from tests.conftest import REPO

CTX = Context(shown="reference/hwx/layers.py", assignment="hwx", task_of={"f": "task_f"})


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "assignments").iterdir() if (p / "assignment.toml").is_file()))
def test_committed_student_files_are_what_the_reference_builds(name):
    assert drift(manifest.find(name, REPO)) == [], f"run `grade build {name}`"


def test_solution_in_a_function_becomes_one_line_naming_the_task():
    text = '"""Mod (reference solution).\n\nMore."""\n\n\ndef f(x):\n    """Doc."""\n    # BEGIN SOLUTION\n    return x + 1\n    # END SOLUTION\n'
    out = build_text(text, CTX)
    assert out == (
        '"""Mod.\n\nFill in each function, then run `grade hwx` to check your work.\n\nMore."""\n\n\n'
        'def f(x):\n    """Doc."""\n    raise NotImplementedError("f (task \'task_f\')")\n'
    )


def test_starter_lines_replace_the_solution_and_module_solutions_vanish():
    text = (
        '"""Mod."""\n\n# BEGIN SOLUTION\nSECRET = 42\n# END SOLUTION\nCONFIG = {\n    # BEGIN SOLUTION\n    "lr": 0.1,\n'
        '    # END SOLUTION\n    # BEGIN STARTER\n    # "lr": 1e-5,  # try others\n    # END STARTER\n}\n\n\ndef g():\n'
        '    x = 1\n    # BEGIN SOLUTION\n    x = SECRET\n    # END SOLUTION\n    # BEGIN STARTER\n    # END STARTER\n    return x\n'
    )
    out = build_text(text, CTX)
    assert "SECRET" not in out and "0.1" not in out and "Fill in" not in out
    assert '    "lr": 1e-5,  # try others\n' in out
    assert "def g():\n    x = 1\n    return x\n" in out


@pytest.mark.parametrize(
    "text, expected",
    [
        ("def f():\n    # BEGIN SOLUTION\n    return 1\n", "line 2: # BEGIN SOLUTION without # END SOLUTION"),
        ("def f():\n    return 1\n    # END SOLUTION\n", "line 3: # END SOLUTION without the marker that opens it"),
        ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    # END SOLUTION\n", "line 3: a marker inside a SOLUTION block"),
        ("x = [\n# BEGIN SOLUTION\n1]\n# END SOLUTION\n", "does not parse"),
    ],
    ids=["unclosed", "stray_end", "nested", "unparsable_result"],
)
def test_marker_mistakes_name_the_file_and_line(text, expected):
    with pytest.raises(BuildError) as err:
        build_text(text, CTX)
    assert str(err.value).startswith("reference/hwx/layers.py") and expected in str(err.value), str(err.value)


def test_build_command_checks_and_rewrites(tmp_path):
    for part in ("assignments", "reference"):
        shutil.copytree(REPO / part / "hw2", tmp_path / part / "hw2")
    stub = tmp_path / "assignments" / "hw2" / "layers.py"
    original = stub.read_text()
    stub.write_text(original.replace("raise NotImplementedError(\"softmax (task 'softmax')\")", "return logits.softmax(1)"))
    runner = CliRunner()
    result = runner.invoke(main, ["build", "hw2", "--root", str(tmp_path), "--check"])
    assert result.exit_code == 1 and "differs from what reference/hw2 builds" in result.output
    result = runner.invoke(main, ["build", "hw2", "--root", str(tmp_path)])
    assert result.exit_code == 0 and "wrote" in result.output
    assert stub.read_text() == original


@pytest.mark.parametrize("name", ["hw2", "hw3", "hw4"])
def test_the_notebook_grades_like_the_py(name, zygote, tmp_path):
    from grader.build import notebook, student_files
    from grader.grading import grade

    assignment = manifest.find(name, REPO)
    solved = {f: path.read_text() for f, path in student_files(assignment).items()}  # the reference's own text
    path = tmp_path / f"{name}.ipynb"
    path.write_text(notebook(assignment, solved))
    as_notebook = grade(assignment, path, zygote=zygote)
    assert as_notebook.score == as_notebook.max_score, [(c.name, c.message) for c in as_notebook.checks if c.status == "fail"]
    stubs = grade(assignment, assignment.directory / f"{name}.ipynb", zygote=zygote)
    assert stubs.score == 0


def test_build_refuses_a_reference_that_fails_or_stubs_that_score(tmp_path):
    for part in ("assignments", "reference"):
        shutil.copytree(REPO / part / "hw4", tmp_path / part / "hw4")
    ref = tmp_path / "reference" / "hw4" / "normalization.py"
    ref.write_text(ref.read_text().replace("    dbeta = dout.sum(dim=0)\n", "    dbeta = dout.mean(dim=0)\n"))
    result = CliRunner().invoke(main, ["build", "hw4", "--root", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "hw4 was not built: the reference fails" in result.output and "dbeta" in result.output
    # a stub that gives the answer away scores: refused as well
    ref.write_text(ref.read_text().replace("    dbeta = dout.mean(dim=0)\n", "    dbeta = dout.sum(dim=0)\n"))
    ref.write_text(ref.read_text().replace(
        "    # BEGIN SOLUTION\n    mean = train_x.mean(dim=0)",
        "    mean = train_x.mean(dim=0)\n    std = ((train_x - mean) ** 2).mean(dim=0).sqrt()\n"
        "    scale = torch.where(std > 0, std, torch.ones_like(std))\n"
        "    return (train_x - mean) / scale, (test_x - mean) / scale, mean, std\n    # BEGIN SOLUTION\n    mean = train_x.mean(dim=0)",
    ))
    result = CliRunner().invoke(main, ["build", "hw4", "--root", str(tmp_path)])
    assert result.exit_code == 2 and "the stubs score 2 on task 'standardize'" in result.output, result.output
