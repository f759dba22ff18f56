"""The course's own notebooks: an HW1 notebook written the way the course's are.

``tests/submissions/hw1_ml2022_style.ipynb`` follows the course's structure (``same_seed``,
``train_valid_split``, ``COVID19Dataset``, ``My_Model``, ``trainer``, ``save_pred``), imports
pandas, tqdm and tensorboard's ``SummaryWriter``, reads ``./covid.train.csv``, starts with
``!gdown`` lines and ``drive.mount``, trains at the top level and ends with
``files.download``. It must run to the end under ``grade hw1 --submission`` and reach
the simple baseline, as the starter does.
"""

from __future__ import annotations

import json

import nbformat
import pytest
from click.testing import CliRunner

from grader import environment, manifest
from grader.cli import main
from grader.notebook import NotebookModule, to_module
from tests.conftest import REPO

NOTEBOOK = REPO / "tests" / "submissions" / "hw1_ml2022_style.ipynb"


@pytest.fixture(scope="module")
def graded() -> dict:
    hw1 = manifest.find("hw1", REPO)
    missing = environment.problem(hw1)  # the grader's own check says what is missing
    if missing:
        pytest.skip(missing)
    args = ["hw1", "--root", str(REPO), "--submission", str(NOTEBOOK), "--format", "json", "--reveal-private"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output  # part A is not in this notebook
    return json.loads(result.stdout)


def _tests(data: dict, task: str) -> list[dict]:
    return [t for t in data["tests"] if t["task"] == task]


def test_the_course_style_notebook_runs_to_the_end_and_reaches_simple(graded):
    runs, writes, _compare = _tests(graded, "training")
    assert runs["name"] == "hw1_ml2022_style.ipynb runs to the end within 120 s of CPU"
    assert runs["status"] == "pass", runs["message"]
    assert writes["status"] == "pass", writes["message"]
    comp = graded["competition"]
    assert (comp["public_tier"], comp["private_tier"]) == ("simple", "simple"), comp
    assert comp["run_cpu_seconds"] < comp["cpu_budget"] == 120
    assert graded["environment"] == ""


def test_what_the_notebook_could_not_do_is_said_in_its_output(graded):
    output = _tests(graded, "training")[0]["output"]  # its end: drive.mount's note is further up
    assert output.rstrip().endswith("[grader] skipped files.download('pred.csv'): graded runs are not on Colab; the data files are already in the working folder")
    assert "Epoch [" in output and "it/s" in output  # its own prints and tqdm's bars come through


def test_part_a_functions_it_lacks_fail_at_once_without_running_its_cells(graded):
    """The notebook trains at its top level: importing it for `mse_loss` would run the
    training until the per-call limit. No cell defines `mse_loss`, so nothing is run."""
    losses = [t for t in _tests(graded, "losses") if t["status"] != "skip"]  # CUDA variants skip
    assert losses and all(t["status"] == "fail" for t in losses)
    assert all("`mse_loss` is not defined in hw1_ml2022_style.ipynb" in t["message"] or "`mae_loss`" in t["message"] for t in losses)
    # running the cells would end each check at the 10 s call limit; half of it leaves room for a busy machine
    assert all(t["duration"] < 5 for t in losses)


def _module(*cells: str) -> NotebookModule:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    return to_module(nbformat.writes(nb), "nb.ipynb")


def test_shell_lines_become_a_note_where_they_stood():
    module = _module("!gdown --id 'abc' --output covid.train.csv\nif True:\n    %pip install tqdm\n%matplotlib inline\nx = 1")
    lines = module.source.splitlines()
    assert lines[0].startswith("print(") and "skipped `!gdown --id 'abc' --output covid.train.csv`" in lines[0]
    assert lines[2].startswith("    print(") and "skipped `%pip install tqdm`" in lines[2]
    assert lines[3] == "pass" and lines[4] == "x = 1"  # other magics stay silent; lines stay put
    compile(module.source, "nb", "exec")


def test_a_notebook_knows_which_names_it_may_define():
    module = _module("import numpy as np\nfrom torch import nn as tnn", "if True:\n    def predict(x):\n        return x\n    w, b = 1, 2", "class M:\n    inner = 1")
    assert all(module.may_define(n) for n in ("np", "tnn", "predict", "w", "b", "M"))
    assert not module.may_define("inner") and not module.may_define("mse_loss")
    assert _module("from helpers import *").may_define("mse_loss")  # cannot be known: import it
    assert _module("exec('def mse_loss(): pass')").may_define("mse_loss")
    assert _module("def f():\n    global mse_loss\n    mse_loss = 1").may_define("mse_loss")
