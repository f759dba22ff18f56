"""A submission's files as they come: unreadable ones, NUL bytes in the source."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

import pytest
from click.testing import CliRunner

from grader.cli import main
from tests.conftest import REPO
from tests.test_tiers import AS_USER, TEST_USER, _ensure_user

NUL_LINE = 4


def _with_nul(source: str) -> str:
    lines = source.splitlines(keepends=True)
    lines[NUL_LINE - 1] = lines[NUL_LINE - 1].rstrip("\n") + "  # \0\n"
    return "".join(lines)


def test_a_nul_byte_is_reported_at_its_line(grade_source, reference_source):
    report = grade_source(_with_nul(reference_source))
    assert report.score == 0
    message = report.checks[0].message
    assert message == f"regression.py has a syntax error in line {NUL_LINE}: source code string cannot contain null bytes", message


def test_a_nul_byte_in_a_notebook_names_its_cell(tmp_path, hw1, zygote, reference_source):
    import nbformat

    from grader.grading import grade

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import torch"), nbformat.v4.new_code_cell(_with_nul(reference_source))]
    path = tmp_path / "hw1.ipynb"
    path.write_text(nbformat.writes(nb))
    report = grade(hw1, path, include_hidden=False, zygote=zygote)
    assert report.checks[0].message.startswith(f"hw1.ipynb has a syntax error in cell 2, line {NUL_LINE}:"), report.checks[0].message


def test_a_nul_byte_does_not_trip_the_forbidden_api_reader():
    from grader.static_checks import forbidden_uses

    assert forbidden_uses("import torch\n\0\ndef f(x):\n    return torch.autograd.grad(x, x)\n", ("f",), ("torch.autograd",)) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="as root, the worker's own uid must still read a 0600 root file")
def test_as_root_a_file_no_worker_uid_could_read_is_still_graded(course, tmp_path):
    """Root copies the submission into the worker's folder, owned by the worker's uid: a
    file of mode 0600 (or 000) owned by root, unreadable to that uid where it lies, grades."""
    folder = tmp_path / "sub"
    folder.mkdir()
    shutil.copy(REPO / "reference" / "hw1" / "regression.py", folder / "regression.py")
    (folder / "notes.txt").write_text("mine")
    os.chmod(folder / "regression.py", 0o600)
    os.chmod(folder / "notes.txt", 0o000)
    result = CliRunner().invoke(main, ["hw1", "--root", str(course), "-s", str(folder), "--format", "json"])
    assert result.exit_code == 0, result.output


def _unreadable_as_user(tmp_path, mode_of: dict[str, int]) -> subprocess.CompletedProcess:
    """Grades a folder (hw1's reference, plus notes.txt) as the non-root test user, with
    each named file chmod'ed as given."""
    why = _ensure_user()
    if why:
        pytest.skip(why)
    place = tempfile.mkdtemp(prefix="grader-unreadable-")  # where the test user can look
    try:
        os.chmod(place, 0o755)
        folder = os.path.join(place, "sub")
        os.mkdir(folder)
        shutil.copy(REPO / "reference" / "hw1" / "regression.py", os.path.join(folder, "regression.py"))
        with open(os.path.join(folder, "notes.txt"), "w") as f:
            f.write("mine")
        for name in os.listdir(folder):
            shutil.chown(os.path.join(folder, name), TEST_USER)
        for name, mode in mode_of.items():
            os.chmod(os.path.join(folder, name), mode)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env["HOME"] = os.path.expanduser(f"~{TEST_USER}")
        command = [*AS_USER, sys.executable, "-m", "grader.cli", "hw1", "--root", str(REPO), "--public-only", "--skip-program", "-s", folder]
        return subprocess.run(command, cwd=place, env=env, capture_output=True, text=True, timeout=300)
    finally:
        shutil.rmtree(place)


@pytest.mark.skipif(os.geteuid() != 0, reason="switches to the non-root test user")
@pytest.mark.parametrize("name", ["notes.txt", "regression.py"])
def test_a_file_the_user_cannot_read_is_one_line(tmp_path, name):
    done = _unreadable_as_user(tmp_path, {name: 0o000})
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    folder = done.args[-1]
    assert done.stderr == f"Error: cannot grade {name} in {folder}: it cannot be read (Permission denied); make it readable (chmod u+r) or move it out\n"
    assert done.stdout == ""
