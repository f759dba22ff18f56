"""Issue 13, class 1: the student works on private copies of a check's arguments.

A change the worker makes to an argument reaches the check only where the task's
manifest declares it (``in_place = [...]``: hw3's ``config``, hw4's ``bn_param``). So a
submission that zeroes its inputs cannot make a reference computed from them agree with
it, and a correct in-place ``w -= lr * dw`` cannot corrupt the tensors later checks use.
"""

from __future__ import annotations

import shutil

import pytest
import torch

from grader import manifest
from grader.errors import ManifestError
from tests.conftest import REPO, task_points, task_scores

SUBMISSIONS = REPO / "tests" / "submissions"


def _source(name: str) -> str:
    return (SUBMISSIONS / name).read_text()


@pytest.fixture(scope="module")
def hw2():
    return manifest.find("hw2", REPO)


@pytest.fixture(scope="module")
def hw3():
    return manifest.find("hw3", REPO)


@pytest.fixture(scope="module")
def hw4():
    return manifest.find("hw4", REPO)


def _session(assignment, zygote, tmp_path, source: str):
    from grader import submission as submission_mod
    from grader.session import GradingSession

    path = tmp_path / assignment.files[0]
    path.write_text(source)
    return GradingSession(assignment, submission_mod.load(path, assignment), zygote, hide=())


# --- whole assignments, graded as a student's submission would be ---------------------


def test_zeroing_every_argument_scores_nothing_on_hw2(hw2, grade_file):
    report = grade_file(hw2, _source("hw2_zero_inputs.py"))
    scores = task_scores(report)
    # linear_backward and mlp got full marks when the worker's zeroing reached the checks' tensors
    assert scores["linear_backward"] == 0, scores
    # every check that compares values fails; the one left, a shapes-and-keys check on
    # mlp_loss, is a structure check and earns nothing while the values are wrong
    passed = {c.name for c in report.checks if c.status == "pass"}
    assert passed <= {"test_mlp_loss_shapes"}, passed
    assert report.score == 0, scores


OVERWRITES = {
    # (assignment, task, reference line, the same line after an in-place overwrite of an input):
    # computed in one process, the reference afterwards would agree with the wrong answer
    "mse_loss_copies_y_into_pred": ("hw1", "losses", "    return ((pred - y) ** 2).mean()\n",
                                    "    pred.copy_(y)\n    return ((pred - y) ** 2).mean()\n"),
    "sigmoid_backward_zeroes_dout": ("hw2", "activations_backward", "    return dout * cache * (1 - cache)\n",
                                     "    dout.zero_()\n    return dout\n"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(OVERWRITES))
def test_overwriting_an_input_in_place_does_not_move_the_expected_value(case, hw1, hw2, grade_file):
    name, task, old, new = OVERWRITES[case]
    assignment = {"hw1": hw1, "hw2": hw2}[name]
    reference = (assignment.reference_dir / assignment.files[0]).read_text()
    assert reference.count(old) == 1, old
    report = grade_file(assignment, reference.replace(old, new))
    scores, full = task_scores(report), task_points(report)
    assert scores[task] < full[task], scores
    spared = {"gradient_descent"} if name == "hw1" else set()  # it reports its losses with mse_loss
    assert all(v == full[k] for k, v in scores.items() if k != task and k not in spared), scores


def test_zeroing_every_argument_scores_nothing_on_hw4(hw4, grade_file):
    report = grade_file(hw4, _source("hw4_zero_inputs.py"))
    assert report.score == 0, task_scores(report)
    assert not [c.name for c in report.checks if c.status == "pass"]


def test_in_place_optimizer_gets_full_marks(hw3, grade_file):
    report = grade_file(hw3, _source("hw3_in_place.py"))
    assert task_scores(report) == task_points(report), [(c.name, c.message) for c in report.checks if c.status != "pass"]


def test_one_in_place_update_does_not_disturb_other_tasks(hw3, grade_file):
    reference = (REPO / "reference" / "hw3" / "optim.py").read_text()
    old = '    config = _state(config, w, lr=1e-2)\n    return w - config["lr"] * dw, config\n'
    assert reference.count(old) == 1
    new = '    config = _state(config, w, lr=1e-2)\n    w -= config["lr"] * dw\n    return w, config\n'
    report = grade_file(hw3, reference.replace(old, new))
    # the public checks of every rule share one W: sgd's write used to move it for them
    assert task_scores(report) == task_points(report), [(c.name, c.message) for c in report.checks if c.status != "pass"]


@pytest.mark.parametrize("style", ["reference", "in_place"])
def test_declared_running_statistics_are_graded(hw4, grade_file, style):
    """bn_param is hw4's declared in-place argument: the running statistics a call leaves
    in it are what the checks grade, whether assigned to its keys or updated with mul_."""
    source = (REPO / "reference" / "hw4" / "normalization.py").read_text() if style == "reference" else _source("hw4_other_style.py")
    report = grade_file(hw4, source)
    assert task_scores(report) == task_points(report), [(c.name, c.message) for c in report.checks if c.status != "pass"]
    # the same code, writing its statistics into a copy of bn_param: nothing reaches the check
    hidden = source.replace("def batchnorm_forward(x, gamma, beta, bn_param):\n", "def batchnorm_forward(x, gamma, beta, bn_param):\n    bn_param = dict(bn_param)\n", 1)
    assert hidden != source
    report = grade_file(hw4, hidden)
    failed = {c.name.split("[")[0] for c in report.checks if c.status != "pass"}
    assert task_scores(report)["batchnorm_forward"] < task_points(report)["batchnorm_forward"]
    assert {"test_batchnorm_train_then_eval", "test_running_statistics_after_several_steps"} <= failed, failed


def test_without_the_declaration_no_statistics_come_back(tmp_path, zygote):
    """The manifest key is what lets bn_param's changes through: a copy of hw4 without it
    grades the reference's running statistics as missing."""
    from grader.grading import grade

    root = tmp_path / "course"
    shutil.copytree(REPO / "assignments" / "hw4", root / "assignments" / "hw4")
    shutil.copytree(REPO / "reference" / "hw4", root / "reference" / "hw4")
    toml = root / "assignments" / "hw4" / "assignment.toml"
    text = toml.read_text()
    assert 'in_place = ["bn_param"]' in text
    toml.write_text(text.replace('in_place = ["bn_param"]\n', ""))
    hw4 = manifest.find("hw4", root)
    path = tmp_path / "sub" / "normalization.py"
    path.parent.mkdir()
    shutil.copy(REPO / "reference" / "hw4" / "normalization.py", path)
    report = grade(hw4, path, zygote=zygote)
    failing = [c for c in report.checks if c.status == "fail"]
    assert failing and all(c.task == "batchnorm_forward" for c in failing), [(c.name, c.message) for c in failing]
    assert any("running_mean" in c.message for c in failing), [c.message for c in failing]


# --- the engine: what a call may and may not change in the trusted process ---------------


def test_the_checks_tensors_and_dicts_stay_as_they_were(hw2, zygote, tmp_path):
    session = _session(hw2, zygote, tmp_path, _source("hw2_zero_inputs.py"))
    try:
        x, w, b = torch.randn(3, 2), torch.randn(2, 4), torch.randn(4)
        saved = [t.clone() for t in (x, w, b)]
        out, cache = session.call("linear_forward", (x, w, b), {}, timeout=10, seed=0, keep_objects=True).value
        assert all(torch.equal(t, s) for t, s in zip((x, w, b), saved))
        # what came back is the worker's copy, as the student left it: zeros, and not our tensor
        assert cache[0] is not x and torch.equal(cache[0], torch.zeros(3, 2))
        params = {"W1": torch.randn(5, 4), "b1": torch.randn(4), "W2": torch.randn(4, 3), "b2": torch.randn(3)}
        before = {k: v.clone() for k, v in params.items()}
        first = params["W1"]
        x, y = torch.randn(6, 5), torch.tensor([0, 1, 2, 0, 1, 2])
        session.call("mlp_loss", (params, x, y), {}, timeout=10, seed=0)
        session.call("mlp_loss", (), {"params": params, "x": x, "y": y}, timeout=10, seed=0)
        assert params["W1"] is first and set(params) == set(before)
        assert all(torch.equal(params[k], before[k]) for k in params)
        assert torch.equal(y, torch.tensor([0, 1, 2, 0, 1, 2])) and x.abs().sum() > 0
    finally:
        session.close()


def test_an_undeclared_argument_returned_comes_back_as_a_copy(hw3, zygote, tmp_path):
    session = _session(hw3, zygote, tmp_path, _source("hw3_in_place.py"))
    try:
        w, dw = torch.tensor([1.0, -2.0]), torch.tensor([0.5, 1.0])
        next_w, config = session.call("sgd", (w, dw, {"lr": 0.1}), {}, timeout=10, seed=0).value
        assert torch.equal(w, torch.tensor([1.0, -2.0])), "the check's w moved"
        assert next_w is not w and torch.allclose(next_w, torch.tensor([0.95, -2.1]))
    finally:
        session.close()


def test_a_declared_argument_is_updated_for_the_check(hw3, hw4, zygote, tmp_path):
    session = _session(hw4, zygote, tmp_path, _source("hw4_other_style.py"))
    try:
        x, gamma, beta = torch.tensor([[1.0, 2.0], [3.0, 6.0]]), torch.ones(2), torch.zeros(2)
        mean = torch.zeros(2)
        bn_param = {"mode": "train", "momentum": 0.5, "running_mean": mean, "running_var": torch.ones(2)}
        session.call("batchnorm_forward", (x, gamma, beta, bn_param), {}, timeout=10, seed=0, keep_objects=True)
        # updated with mul_/add_ in the worker: the same tensor, changed in place, as in-process
        assert bn_param["running_mean"] is mean and torch.allclose(mean, torch.tensor([1.0, 2.0]))
        assert torch.allclose(bn_param["running_var"], torch.tensor([1.0, 2.5]))
        bn_param = {"mode": "train"}
        session.call("batchnorm_forward", (), {"x": x, "gamma": gamma, "beta": beta, "bn_param": bn_param}, timeout=10, seed=0, keep_objects=True)
        assert set(bn_param) >= {"running_mean", "running_var"}, "a keyword argument is declared by its name too"
    finally:
        session.close()
    session = _session(hw3, zygote, tmp_path, _source("hw3_in_place.py"))
    try:
        config = {"lr": 0.1}
        session.call("adam", (torch.ones(2), torch.ones(2), config), {}, timeout=10, seed=0)
        assert config["t"] == 1 and set(config) >= {"m", "v"}, config
    finally:
        session.close()


def test_a_shape_change_of_a_declared_argument_is_refused(hw4, zygote, tmp_path):
    from grader.sandbox.errors import StudentBadOutput

    source = (
        "import torch\n"
        "def batchnorm_forward(x, gamma, beta, bn_param):\n"
        "    bn_param['running_mean'].unsqueeze_(0)\n"
        "    return x.clone(), None\n"
    )
    session = _session(hw4, zygote, tmp_path, source)
    try:
        mean = torch.zeros(3)
        bn_param = {"mode": "train", "running_mean": mean}
        with pytest.raises(StudentBadOutput) as err:
            session.call("batchnorm_forward", (torch.ones(2, 3), torch.ones(3), torch.zeros(3), bn_param), {}, timeout=10, seed=0)
        message = str(err.value)
        assert "bn_param['running_mean']" in message and "(3,)" in message and "(1, 3)" in message, message
        assert mean.shape == (3,) and bn_param["running_mean"] is mean
    finally:
        session.close()


# --- the manifest key --------------------------------------------------------------------

GOOD = """title = "T"
[[tasks]]
id = "step"
points = 1
file = "optim.py"
functions = ["step"]
in_place = ["config"]
"""


def _load(tmp_path, text, reference: str | None = "def step(w, dw, config=None):\n    pass\n"):
    d = tmp_path / "assignments" / "hwx"
    d.mkdir(parents=True)
    (d / "assignment.toml").write_text(text)
    if reference is not None:
        (tmp_path / "reference" / "hwx").mkdir(parents=True)
        (tmp_path / "reference" / "hwx" / "optim.py").write_text(reference)
    return manifest.load(d, tmp_path)


def test_in_place_names_resolve_to_positions(tmp_path):
    task = _load(tmp_path, GOOD).tasks[0]
    assert task.in_place == ("config",)
    assert task.in_place_arguments("step") == {2: "config", "config": "config"}
    assert manifest.load(REPO / "assignments" / "hw4", REPO).task("batchnorm_forward").in_place_arguments("batchnorm_forward")[3] == "bn_param"


def test_without_a_signature_a_declared_name_matches_keywords_only(tmp_path):
    task = _load(tmp_path, GOOD, reference=None).tasks[0]
    assert task.in_place_arguments("step") == {"config": "config"}


@pytest.mark.parametrize(
    "text, expected",
    [
        (GOOD.replace('in_place = ["config"]', 'in_place = "config"'), 'tasks[0].in_place must be a list, got "config"'),
        (GOOD.replace('in_place = ["config"]', 'in_place = ["con fig"]'), 'tasks[0].in_place[0] must be a parameter name, got "con fig"'),
        (GOOD.replace('in_place = ["config"]', 'in_place = ["config", "config"]'), 'tasks[0].in_place[1] repeats "config"'),
        (
            GOOD.replace('in_place = ["config"]', 'in_place = ["cfg"]'),
            'tasks[0].in_place[0] "cfg" is not a parameter of step(w, dw, config) in reference/hwx/optim.py',
        ),
    ],
    ids=["not-a-list", "not-a-name", "repeated", "not-a-parameter"],
)
def test_bad_in_place_is_one_line(tmp_path, text, expected):
    with pytest.raises(ManifestError) as err:
        _load(tmp_path, text)
    message = str(err.value)
    assert "assignment.toml: " in message and expected in message, message
    assert "\n" not in message


# --- expected values from pristine inputs: ref refuses what a student call changed --------

ORDER_CHECKS = '''
import copy

import pytest
import torch

from grader.checks import assert_close


def _inputs():
    x = torch.tensor([[1.0, 2.0], [3.0, 6.0]], dtype=torch.float64)
    return x, torch.ones(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)


@pytest.mark.task("batchnorm_forward")
def test_reference_after_the_student_on_the_same_dict(student, ref):
    x, gamma, beta = _inputs()
    bn_param = {"mode": "train", "momentum": 0.5}
    student.batchnorm_forward.keeping_objects(x, gamma, beta, bn_param)
    ref.batchnorm_forward(x, gamma, beta, bn_param)  # would start from the student's running statistics


@pytest.mark.task("batchnorm_forward")
def test_reference_given_a_tensor_from_inside_the_changed_dict(student, ref):
    x, gamma, beta = _inputs()
    mean = torch.zeros(2, dtype=torch.float64)
    bn_param = {"mode": "train", "running_mean": mean}
    student.batchnorm_forward.keeping_objects(x, gamma, beta, bn_param)
    ref.batchnorm_forward(x, gamma, beta, {"mode": "train", "running_mean": mean})


@pytest.mark.task("batchnorm_forward")
def test_reference_first_from_a_copy(student, ref):
    x, gamma, beta = _inputs()
    bn_param = {"mode": "train", "momentum": 0.5}
    ref_param = copy.deepcopy(bn_param)
    expected, _ = ref.batchnorm_forward(x, gamma, beta, ref_param)
    out, _ = student.batchnorm_forward.keeping_objects(x, gamma, beta, bn_param)
    assert_close(out, expected, name="out")
    assert_close(bn_param["running_mean"], ref_param["running_mean"], name="running_mean")
'''


def test_ref_refuses_an_argument_a_student_call_changed_in_place(tmp_path, zygote):
    from grader.grading import grade

    root = tmp_path / "course"
    shutil.copytree(REPO / "assignments" / "hw4", root / "assignments" / "hw4")
    shutil.copytree(REPO / "reference" / "hw4", root / "reference" / "hw4")
    # a module name of its own: grading runs in this process import check modules by name
    (root / "reference" / "hw4" / "tests" / "test_normalization_hidden.py").unlink()
    (root / "reference" / "hw4" / "tests" / "test_reference_order_hidden.py").write_text(ORDER_CHECKS)
    hw4 = manifest.find("hw4", root)
    path = tmp_path / "sub" / "normalization.py"
    path.parent.mkdir()
    shutil.copy(REPO / "reference" / "hw4" / "normalization.py", path)
    report = grade(hw4, path, zygote=zygote)
    assert report.hidden == "run" and not report.errors, (report.hidden, report.errors)
    by_name = {c.name: c for c in report.checks if c.visibility == "hidden"}
    assert by_name["test_reference_first_from_a_copy"].status == "pass", by_name["test_reference_first_from_a_copy"].message
    expected = {
        "test_reference_after_the_student_on_the_same_dict": "ref.batchnorm_forward was given bn_param after `batchnorm_forward` changed it in place",
        "test_reference_given_a_tensor_from_inside_the_changed_dict": "ref.batchnorm_forward was given bn_param['running_mean'] after",
    }
    for name, start in expected.items():
        check = by_name[name]
        assert check.status == "error" and check.message.startswith(start), (name, check.message)
        assert "compute expected values before the student's call, or from a copy.deepcopy" in check.message
