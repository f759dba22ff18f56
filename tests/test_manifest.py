"""Manifest loading: frozen objects, and one line naming the file and key for each mistake."""

from __future__ import annotations

import dataclasses

import pytest

from grader import manifest
from grader.errors import ManifestError

GOOD = """title = "T"
[[tasks]]
id = "predict"
points = 1
file = "regression.py"
functions = ["predict"]
"""


def _load(tmp_path, text):
    d = tmp_path / "assignments" / "hwx"
    d.mkdir(parents=True)
    (d / "assignment.toml").write_text(text)
    return manifest.load(d, tmp_path)


def test_good_manifest_is_frozen(tmp_path):
    a = _load(tmp_path, GOOD)
    assert a.tasks[0].functions == ("predict",) and a.max_score == 1 and a.limits.call_timeout == 10
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.title = "changed"


@pytest.mark.parametrize(
    "text, expected",
    [
        (GOOD.replace("points = 1", 'points = "1"'), 'tasks[0].points must be a number, got "1"'),
        (GOOD.replace('title = "T"\n', ""), "title is missing"),
        (GOOD + "[limits]\ncall_timeout = -1\n", "limits.call_timeout must be between"),
        (GOOD + "[limits]\nmemory = 5\n", "limits.memory is not a known key"),
        (GOOD.replace('file = "regression.py"', 'file = "../x.py"'), "tasks[0].file must be a Python file name"),
        (GOOD.replace('id = "predict"', 'id = "Predict!"'), "tasks[0].id must be lowercase"),
        (GOOD + GOOD.split("\n", 1)[1], 'tasks[1].id repeats the task id "predict"'),
        ('title = "T"\ntasks = []\n', "tasks is empty"),
        ("title = \n", "not valid TOML"),
    ],
)
def test_bad_manifest_one_line(tmp_path, text, expected):
    with pytest.raises(ManifestError) as err:
        _load(tmp_path, text)
    message = str(err.value)
    assert "assignment.toml: " in message and expected in message
    assert "\n" not in message
