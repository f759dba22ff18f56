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


COMPETITION = """title = "C"
[competition]
program = "train.py"
train = "data/train.csv"
test = "data/test.csv"
labels = "data/labels.csv"
target = "y"
split_seed = 1
[[competition.baselines]]
name = "easy"
public = 2.0
private = 2.0
[[competition.baselines]]
name = "hard"
public = 1.0
private = 1.0
"""


def test_competition_section_alone_makes_an_assignment(tmp_path):
    a = _load(tmp_path, COMPETITION)
    c = a.competition
    assert [t.id for t in a.tasks] == ["training", "public_leaderboard", "private_leaderboard"]
    assert (c.metric, c.counts, c.time_budget, c.public_fraction, c.prediction) == ("mse", "rerun", 120.0, 0.5, "pred.csv")
    assert c.labels == tmp_path.resolve() / "reference" / "hwx" / "data" / "labels.csv"
    assert a.files == ()  # no function tasks: nothing to import for checks


@pytest.mark.parametrize(
    "change, expected",
    [
        (('metric = "mse"', 'metric = "auc"'), 'competition.metric must be one of "mse", "rmse", "mae", "accuracy", "macro_f1", got "auc"'),
        (("public = 1.0", "public = 3.0"), "competition.baselines must go from easiest to hardest"),
        (('target = "y"', 'target = 5'), "competition.target must be a string, got 5"),
        (('target = "y"\n', ""), "competition.target is missing"),
        (('split_seed = 1', 'split_seed = "one"'), 'competition.split_seed must be a whole number, got "one"'),
        (('split_seed = 1', 'split_seed = 1\npublic_fraction = 1.5'), "competition.public_fraction must be between 0 and 1"),
        (('split_seed = 1', 'split_seed = 1\ncounts = "best"'), 'competition.counts must be one of "rerun", "submitted"'),
        (('split_seed = 1', 'split_seed = 1\nprediction = "../pred.csv"'), "competition.prediction must be a plain file name"),
        (('labels = "data/labels.csv"', 'labels = "/etc/labels.csv"'), "competition.labels must be a path inside"),
        (('split_seed = 1', 'split_seed = 1\nreveal_private = "yes"'), 'competition.reveal_private must be true or false, got "yes"'),
        (('split_seed = 1', 'split_seed = 1\ntime_budget = 0'), "competition.time_budget must be greater than 0"),
        (('split_seed = 1', 'split_seed = 1\nlabel = "x"'), "competition.label is not a known key"),
        (('program = "train.py"', 'program = "train"'), "competition.program must be a Python file name"),
        (('split_seed = 1', 'split_seed = 1\nnum_classes = 3'), 'competition.num_classes is only for the classification metrics ("accuracy", "macro_f1"); metric is "mse"'),
        (('split_seed = 1', 'split_seed = 1\ndevice = "gpu"'), 'competition.device must be one of "cpu", "cuda", got "gpu"'),
        (('split_seed = 1', 'split_seed = 1\ndevice = 1'), 'competition.device must be a string, got 1'),
    ],
    ids=[
        "metric", "order", "type", "missing", "seed", "fraction", "counts", "prediction", "labels", "reveal", "budget", "unknown", "program",
        "num_classes_for_regression", "device", "device_type",
    ],  # fmt: skip
)
def test_bad_competition_one_line(tmp_path, change, expected):
    old, new = change
    if old in COMPETITION:
        text = COMPETITION.replace(old, new, 1)
    else:  # a key the base text leaves at its default
        text = COMPETITION.replace("split_seed = 1", "split_seed = 1\n" + new)
    with pytest.raises(ManifestError) as err:
        _load(tmp_path, text)
    assert str(err.value).count("\n") == 0
    assert expected in str(err.value), str(err.value)


def test_task_ids_of_the_competition_are_reserved(tmp_path):
    text = COMPETITION.replace('title = "C"\n', 'title = "C"\n[[tasks]]\nid = "training"\npoints = 1\nfile = "a.py"\nfunctions = ["f"]\n')
    with pytest.raises(ManifestError, match="competition"):
        _load(tmp_path, text)


def test_forbidden_groups_are_checked(tmp_path):
    good = _load(tmp_path, GOOD.replace('functions = ["predict"]', 'functions = ["predict"]\nforbidden = ["torch.autograd", "torch.func"]'))
    assert good.tasks[0].forbidden == ("torch.autograd", "torch.func")
    with pytest.raises(ManifestError, match=r'tasks\[0\]\.forbidden\[0\] must be one of "torch.autograd", .* or a name under one, got "torch.optimizers"'):
        _load(tmp_path / "b", GOOD.replace('functions = ["predict"]', 'functions = ["predict"]\nforbidden = ["torch.optimizers"]'))


def test_min_isolation_defaults_to_landlock_and_is_checked(tmp_path):
    assert _load(tmp_path, GOOD).limits.min_isolation == "landlock"
    assert _load(tmp_path / "n", GOOD + '[limits]\nmin_isolation = "namespaces"\n').limits.min_isolation == "namespaces"
    shown = "assignments/hwx/assignment.toml"
    for text, expected in (
        ('min_isolation = "strong"', f'{shown}: limits.min_isolation must be one of "none", "landlock", "namespaces", got "strong"'),
        ("min_isolation = 2", f"{shown}: limits.min_isolation must be a string, got 2"),
    ):
        folder = tmp_path / str(abs(hash(text)))
        folder.mkdir()
        with pytest.raises(ManifestError) as err:
            _load(folder, GOOD + "[limits]\n" + text + "\n")
        assert str(err.value).endswith(expected), str(err.value)
