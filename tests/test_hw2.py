"""hw2 as shipped: full marks for correct code in any style, the right task lost for each
subtle mistake, and forbidden APIs found by reading and at run time."""

from __future__ import annotations

import pytest

from grader import manifest
from grader.grading import grade
from tests.conftest import REPO, task_points, task_scores

REFERENCE = (REPO / "reference" / "hw2" / "layers.py").read_text()
OTHER_STYLE = (REPO / "tests" / "submissions" / "hw2_other_style.py").read_text()


@pytest.fixture(scope="module")
def hw2():
    return manifest.find("hw2", REPO)


@pytest.fixture
def grade_hw2(hw2, grade_file):
    return lambda source: grade_file(hw2, source)



def _replace(source: str, old: str, new: str) -> str:
    assert source.count(old) == 1, old  # the code itself, never a docstring
    return source.replace(old, new, 1)
WRONG = {
    "linear_backward": ("    return dout @ w.T, x.T @ dout, dout.sum(dim=0)", "    return dout @ w.T, x.T @ dout, dout.mean(dim=0)"),
    "activations_backward": ("    return dout * (cache > 0).to(dout.dtype)", "    return dout * (cache >= 0).to(dout.dtype)"),
    "softmax": ("    z = logits - logits.max(dim=1, keepdim=True).values\n    e = z.exp()", "    z = logits\n    e = z.exp()"),
    "cross_entropy": ("    return loss, dlogits / n", "    return loss, dlogits"),
    "mse": ("    return (diff * diff).mean(), 2 * diff / diff.numel()", "    return (diff * diff).mean(), diff / diff.numel()"),
    "linear_forward": ("    return x @ w + b, (x, w)", "    return x @ w, (x, w)"),
    "mlp": ('    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}', '    return loss, {"W1": dW1, "b1": db1, "W2": dW2.T.T * 0.5, "b2": db2}'),
}


@pytest.mark.parametrize("task", sorted(WRONG))
def test_subtle_mistake_loses_points_on_its_task(grade_hw2, task):
    old, new = WRONG[task]
    report = grade_hw2(_replace(REFERENCE, old, new))
    scores = task_scores(report)
    full_points = task_points(report)
    assert scores[task] < full_points[task], scores
    # mlp_loss is built from the other layers: a mistake in one of them may cost it too
    others = {k: v for k, v in scores.items() if k not in (task, "mlp")}
    assert all(v == full_points[k] for k, v in others.items()), scores


FORBIDDEN = {
    # (task, function body replacement, where it is seen)
    "autograd_grad": (
        "linear_backward",
        ("    x, w = cache\n    return dout @ w.T, x.T @ dout, dout.sum(dim=0)",
         "    x, w = cache\n    x = x.detach().requires_grad_(True)\n    w = w.detach().requires_grad_(True)\n"
         "    b = torch.zeros(w.shape[1], dtype=w.dtype, device=w.device, requires_grad=True)\n"
         "    with torch.enable_grad():\n        out = x @ w + b\n        return torch.autograd.grad(out, (x, w, b), dout)"),
        "torch.autograd.grad",
    ),
    "hidden_names_runtime_only": (
        "linear_backward",
        ("    x, w = cache\n    return dout @ w.T, x.T @ dout, dout.sum(dim=0)",
         "    x, w = cache\n    import importlib\n    ag = getattr(importlib.import_module('tor' + 'ch'), 'auto' + 'grad')\n"
         "    x = x.detach().requires_grad_(True)\n    w = w.detach().requires_grad_(True)\n"
         "    b = torch.zeros(w.shape[1], dtype=w.dtype, device=w.device, requires_grad=True)\n"
         "    try:\n        with torch.set_grad_enabled(True):\n            return ag.grad(x @ w + b, (x, w, b), dout)\n"
         "    except Exception:\n        return dout @ w.T, x.T @ dout, dout.sum(dim=0)"),
        "torch.autograd.grad",
    ),
    "tensor_backward": (
        "activations_backward",
        ("    return dout * cache * (1 - cache)",
         "    x = torch.log(cache / (1 - cache)).detach().requires_grad_(True)\n"
         "    with torch.set_grad_enabled(True):\n        torch.sigmoid(x).backward(dout)\n    return x.grad"),
        "backward",
    ),
    "functional_alias_in_mlp": (
        "mlp",
        ("    a, c2 = relu_forward(h)", "    from torch.nn import functional as fn\n    a, c2 = fn.relu(h), h"),
        "torch.nn.functional.relu",
    ),
    "torch_func_vjp": (
        "cross_entropy",
        ("    return loss, dlogits / n",
         "    from torch import func as tf\n    _, vjp = tf.vjp(lambda z: -(z - z.logsumexp(1, keepdim=True))[rows, y].mean(), logits)\n"
         "    return loss, vjp(torch.ones((), dtype=logits.dtype, device=logits.device))[0]"),
        "torch.func.vjp",
    ),
}


@pytest.mark.parametrize("case", sorted(FORBIDDEN))
def test_forbidden_api_zeroes_exactly_its_task(grade_hw2, case):
    task, (old, new), api = FORBIDDEN[case]
    report = grade_hw2(_replace(REFERENCE, old, new))
    scores = task_scores(report)
    full = task_points(report)
    assert scores[task] == 0, scores
    assert all(v == full[k] for k, v in scores.items() if k != task), scores
    messages = [c.message for c in report.checks if c.task == task and c.violation]
    assert messages and any(api in m and "line" in m and "scores 0" in m for m in messages), messages


def test_a_cache_of_objects_stays_in_the_worker_and_goes_stale_with_it(hw2, zygote, tmp_path):
    from grader import submission as submission_mod
    from grader.sandbox.codec import RemoteObject
    from grader.sandbox.errors import StudentBadOutput
    from grader.session import GradingSession

    path = tmp_path / "layers.py"
    path.write_text(OTHER_STYLE)
    session = GradingSession(hw2, submission_mod.load(path, hw2), zygote, hide=())
    try:
        import torch

        x, w, b = torch.randn(3, 2), torch.randn(2, 4), torch.randn(4)
        out, cache = session.call("linear_forward", (x, w, b), {}, timeout=10, seed=0, keep_objects=True).value
        assert isinstance(cache, RemoteObject)  # a Cache instance never reaches this process
        dx, dw, db = session.call("linear_backward", (torch.ones(3, 4), cache), {}, timeout=10, seed=0).value
        assert torch.allclose(db, torch.full((4,), 3.0))
        with pytest.raises(Exception, match="only tensors"):  # without keep_objects, objects are refused as before
            session.call("linear_forward", (x, w, b), {}, timeout=10, seed=0)
        # that failure replaced the worker: the old cache is gone, and the message says so
        with pytest.raises(StudentBadOutput, match="worker was replaced"):
            session.call("linear_backward", (torch.ones(3, 4), cache), {}, timeout=10, seed=0)
    finally:
        session.close()


def test_device_mismatch_inside_student_code_is_explained():
    from grader.sandbox.client import _exception_text

    err = {"type": "RuntimeError", "message": "Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!"}
    assert "create new tensors with device=x.device" in _exception_text(err, "`linear_backward`")


def test_forbidden_use_in_a_notebook_names_the_cell(hw2, zygote, tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    task, (old, new), _ = FORBIDDEN["hidden_names_runtime_only"]
    source = _replace(REFERENCE, old, new)
    head, rest = source.split("\ndef linear_backward", 1)
    nb = new_notebook(cells=[new_markdown_cell("# hw2"), new_code_cell(head), new_code_cell("def linear_backward" + rest)])
    path = tmp_path / "hw2.ipynb"
    path.write_text(nbformat.writes(nb))
    report = grade(hw2, path, zygote=zygote)
    assert task_scores(report)[task] == 0
    messages = [c.message for c in report.checks if c.violation]
    assert any("hw2.ipynb, cell 3, line" in m for m in messages), messages


def test_right_shapes_and_keys_with_wrong_values_earn_nothing_on_mlp(grade_hw2):
    """test_mlp_loss_shapes passed for any mlp_loss of the right shapes (0.40 of 2 points)."""
    wrong = _replace(REFERENCE, '    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}',
                     '    return loss * 0 + 1, {k: torch.ones_like(v) for k, v in params.items()}')  # fmt: skip
    report = grade_hw2(wrong)
    mlp = next(t for t in report.tasks if t.id == "mlp")
    shapes = next(c for c in mlp.checks if c.name == "test_mlp_loss_shapes")
    assert shapes.status == "pass" and shapes.structure and shapes.score == 0, shapes
    assert mlp.score == 0, [(c.name, c.status, c.score) for c in mlp.checks]


def test_a_forward_that_forgets_its_cache_says_what_it_should_return(grade_hw2):
    report = grade_hw2(_replace(REFERENCE, "    return x @ w + b, (x, w)", "    return x @ w + b"))
    check = next(c for c in report.checks if c.name == "test_linear_forward_small_example")
    assert check.message == "`linear_forward` returned a torch.Tensor; expected a tuple (out, cache)", check.message
    hidden = [c for c in report.checks if c.name.startswith("test_linear_forward_matches_reference") and c.status != "skip"]
    assert hidden and all(c.message == check.message for c in hidden), {c.message for c in hidden}
