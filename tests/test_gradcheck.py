"""The gradient-check library catches wrong backward passes and passes right ones."""

from __future__ import annotations

import pytest
import torch

from grader.gradcheck import assert_gradients, autograd_gradients, check_directional, numeric_gradients


def forward(x, w):
    return torch.tanh(x @ w)


def right_backward(x, w, dout):
    t = torch.tanh(x @ w)
    d = dout * (1 - t * t)
    return d @ w.T, x.T @ d


WRONG = {
    "transposed": lambda x, w, dout: (right_backward(x, w, dout)[0], right_backward(x, w, dout)[1].T.reshape(w.shape)),
    "missing_chain_factor": lambda x, w, dout: ((dout @ w.T), x.T @ dout),
    "scaled": lambda x, w, dout: tuple(2 * g for g in right_backward(x, w, dout)),
    "sign": lambda x, w, dout: tuple(-g for g in right_backward(x, w, dout)),
}


def _inputs(dtype=torch.float64, n=6, d=5, m=4):
    g = torch.Generator().manual_seed(1)
    return (torch.randn(n, d, generator=g, dtype=dtype), torch.randn(d, m, generator=g, dtype=dtype) * 0.5,
            torch.randn(n, m, generator=g, dtype=dtype))  # fmt: skip


def test_numeric_gradients_match_autograd():
    x, w, dout = _inputs()
    numeric = numeric_gradients(forward, (x, w), dout)
    exact = autograd_gradients(forward, (x, w), dout)
    for a, b in zip(numeric, exact):
        assert torch.allclose(a, b, rtol=1e-6, atol=1e-8)


def test_right_backward_passes_all_checks():
    x, w, dout = _inputs()
    grads = right_backward(x, w, dout)
    check_directional(forward, (x, w), grads, dout, names=("dx", "dw"))
    assert_gradients(grads, forward, (x, w), dout, names=("dx", "dw"))


def test_honest_float32_passes_against_float64():
    x, w, dout = _inputs(torch.float32, n=64, d=256, m=32)
    grads = right_backward(x, w, dout)
    assert_gradients(grads, forward, (x, w), dout, names=("dx", "dw"))


@pytest.mark.parametrize("case", sorted(WRONG))
def test_wrong_backward_is_caught_by_both_checks(case):
    x, w, dout = _inputs()
    grads = WRONG[case](x, w, dout)
    with pytest.raises(AssertionError, match=r"^(dx|dw) disagrees with the forward"):
        check_directional(forward, (x, w), grads, dout, names=("dx", "dw"))
    with pytest.raises(AssertionError, match=r"^(dx|dw) is wrong at index \(\d+, \d+\): got .*, expected .*relative error"):
        assert_gradients(grads, forward, (x, w), dout, names=("dx", "dw"))


def test_wrong_count_and_device_are_named():
    x, w, dout = _inputs()
    with pytest.raises(AssertionError, match=r"should return 2 gradients \(dx, dw\), got 1"):
        assert_gradients(right_backward(x, w, dout)[:1], forward, (x, w), dout, names=("dx", "dw"))
