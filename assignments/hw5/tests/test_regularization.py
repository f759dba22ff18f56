"""Public checks for hw5's dropout and weight decay: small examples worked by hand. No
check compares your mask with one particular draw: the mask is read off your output
(where it is nonzero; x has no zero entries) and judged by what the docstrings promise.
The hidden checks add float64, CUDA, other shapes, seeds and p, a batch of one, p = 0,
the bounds of p, and the kept fraction in every row and column."""

import pytest
import torch

from grader.checks import assert_close


def _mask(out, x, p, name="out"):
    """The entries the call kept: out must be x / (1 - p) there and exactly 0 elsewhere."""
    if not isinstance(out, torch.Tensor) or (out.shape, out.dtype, out.device) != (x.shape, x.dtype, x.device):
        assert_close(out, x, name=name)  # says what differs: type, shape, dtype or device
    kept = out != 0
    expected = torch.where(kept, x / (1 - p), torch.zeros_like(x))
    assert_close(out, expected, name=f"{name} (a kept entry is x / (1 - p) = x / {1 - p:g}, a dropped one exactly 0)")
    return kept


@pytest.mark.task("dropout_forward")
def test_dropout_train_small_example(student):
    x = torch.arange(1.0, 13.0).reshape(3, 4)
    out, _ = student.dropout_forward.keeping_objects(x, 0.5, "train", 0)
    _mask(out, x, 0.5, name="out (p = 0.5: kept entries doubled)")
    # each entry kept with probability 1 - p = 0.75: about 15,000 of 20,000
    big = torch.rand(200, 100) + 0.5
    out, _ = student.dropout_forward.keeping_objects(big, 0.25, "train", 1)
    kept = _mask(out, big, 0.25).double().mean().item()
    assert abs(kept - 0.75) < 0.02, f"dropout_forward with p = 0.25 kept {kept:.4f} of the entries; each should be kept with probability 1 - p = 0.75"


@pytest.mark.task("dropout_forward")
def test_dropout_eval_is_the_identity(student):
    x = torch.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.5]])
    out, _ = student.dropout_forward.keeping_objects(x, 0.5, "eval", 0)
    assert_close(out, x, name="out (eval mode: x itself, no mask, no scaling)")


@pytest.mark.task("dropout_forward")
def test_dropout_the_seed_decides_the_mask(student):
    x = torch.rand(50, 40) + 0.5
    first = _mask(student.dropout_forward.keeping_objects(x, 0.4, "train", 7)[0], x, 0.4, name="out (seed 7)")
    again = _mask(student.dropout_forward.keeping_objects(x, 0.4, "train", 7)[0], x, 0.4, name="out (seed 7 again)")
    other = _mask(student.dropout_forward.keeping_objects(x, 0.4, "train", 8)[0], x, 0.4, name="out (seed 8)")
    assert torch.equal(first, again), f"seed 7 twice gave two masks, differing in {(first != again).sum().item()} of {x.numel()} entries: draw the mask from a torch.Generator seeded with seed"
    assert not torch.equal(first, other), "seeds 7 and 8 gave the same mask: draw the mask from a torch.Generator seeded with seed"


@pytest.mark.task("dropout_backward")
def test_dropout_backward_uses_the_forward_mask(student):
    x = torch.rand(6, 5) + 0.5
    dout = torch.arange(30.0).reshape(6, 5) - 14.5
    out, cache = student.dropout_forward.keeping_objects(x, 0.6, "train", 3)
    dx = student.dropout_backward(dout, cache)
    kept = out != 0
    expected = torch.where(kept, dout / 0.4, torch.zeros_like(dout))
    assert_close(dx, expected, name="dx (dout / (1 - p) where the forward kept the entry, 0 where it dropped it)")


@pytest.mark.task("l2_penalty")
def test_l2_penalty_small_example(student):
    params = {"fc.weight": torch.tensor([[1.0, 2.0], [3.0, -4.0]]), "fc.bias": torch.tensor([5.0, -1.0])}
    loss, grads = student.l2_penalty(params, 0.1)
    assert_close(loss, torch.tensor(1.5), name="loss (0.1 / 2 * (1 + 4 + 9 + 16); the bias is not decayed)")
    assert isinstance(grads, dict) and set(grads) == set(params), f"grads should be a dict with the keys {sorted(params)}, got {grads!r:.200}"
    assert_close(grads["fc.weight"], torch.tensor([[0.1, 0.2], [0.3, -0.4]]), name="grads['fc.weight'] (weight_decay * w)")
    assert_close(grads["fc.bias"], torch.zeros(2), name="grads['fc.bias'] (a bias is not decayed: zeros)")
