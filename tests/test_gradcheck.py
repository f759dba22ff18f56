"""The gradient-check library catches wrong backward passes and passes right ones."""

from __future__ import annotations

import pytest
import torch

from grader.checks import assert_close, assert_gradients, autograd_gradients, check_directional, numeric_gradients


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


# --- NaN and inf where the reference has none (every helper fails, naming where) -------


def _poisoned(value):
    x, w, dout = _inputs()
    dx, dw = right_backward(x, w, dout)
    dw = dw.clone()
    dw[2, 1] = value
    return (x, w), (dx, dw), dout


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")], ids=["nan", "inf", "-inf"])
def test_a_non_finite_gradient_fails_every_check_naming_its_index(value):
    inputs, grads, dout = _poisoned(value)
    # `abs(analytic - numeric) > tol` is False for NaN: a directional check written that way passes
    with pytest.raises(AssertionError, match=r"^dw has (nan|inf|-inf) at index \(2, 1\)"):
        check_directional(forward, inputs, grads, dout, names=("dx", "dw"))
    with pytest.raises(AssertionError, match=r"^dw has (nan|inf|-inf) at index \(2, 1\)"):
        assert_gradients(grads, forward, inputs, dout, names=("dx", "dw"))


def test_numeric_gradients_of_a_forward_with_nan_fail_the_comparison():
    x, w, dout = _inputs()
    numeric = numeric_gradients(lambda x, w: forward(x, w) * torch.where(x[:, :1] > 10, 1.0, float("nan")), (x, w), dout)
    with pytest.raises(AssertionError, match=r"has NaN at index"):
        assert_close(numeric[0], right_backward(x, w, dout)[0], name="dx")


def test_a_directional_check_that_meets_nan_in_the_forward_fails():
    x, w, dout = _inputs()
    grads = right_backward(x, w, dout)
    with pytest.raises(AssertionError, match="disagrees with the forward"):
        check_directional(lambda x, w: forward(x, w) * float("nan"), (x, w), grads, dout, names=("dx", "dw"))


# --- one contract for public (directional) and hidden (autograd) checks -----------------


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda g: g.unsqueeze(0), r"^dw has shape \(1, 5, 4\) but should have shape \(5, 4\)"),
        (lambda g: g.reshape(-1), r"^dw has shape \(20,\) but should have shape \(5, 4\)"),
        (lambda g: g.to(torch.float32), r"^dw has dtype torch.float32 but should have torch.float64"),
        (lambda g: None, r"^dw should be a torch.Tensor, got None"),
    ],
    ids=["extra-dim", "flattened", "dtype", "none"],
)
def test_public_and_hidden_gradient_checks_refuse_the_same_results(change, message):
    x, w, dout = _inputs()
    dx, dw = right_backward(x, w, dout)
    grads = (dx, change(dw))
    with pytest.raises(AssertionError, match=message):
        check_directional(forward, (x, w), grads, dout, names=("dx", "dw"))
    with pytest.raises(AssertionError, match=message):
        assert_gradients(grads, forward, (x, w), dout, names=("dx", "dw"))


def test_a_broadcastable_gradient_of_shape_1_d_is_refused_by_the_directional_check():
    """batchnorm's dgamma as (1, D): `<g, v>` broadcast over (D,) gave the right number."""
    gamma = torch.randn(3, dtype=torch.float64)
    x = torch.randn(4, 3, dtype=torch.float64)
    dout = torch.randn(4, 3, dtype=torch.float64)
    right = (dout * x).sum(dim=0)
    check_directional(lambda g: x * g, (gamma,), (right,), dout, names=("dgamma",))
    with pytest.raises(AssertionError, match=r"^dgamma has shape \(1, 3\) but should have shape \(3,\)"):
        check_directional(lambda g: x * g, (gamma,), (right.unsqueeze(0),), dout, names=("dgamma",))


def test_none_for_all_gradients_is_named():
    x, w, dout = _inputs()
    for check in (lambda: check_directional(forward, (x, w), None, dout, names=("dx", "dw")),
                  lambda: assert_gradients(None, forward, (x, w), dout, names=("dx", "dw"))):  # fmt: skip
        with pytest.raises(AssertionError, match=r"should return 2 gradients \(dx, dw\), got None"):
            check()


def test_the_check_library_has_one_import_path():
    import grader.checks as checks
    import grader.gradcheck as old

    for name in ("assert_close", "assert_gradients", "check_directional", "numeric_gradients", "autograd_gradients", "assert_finite"):
        assert callable(getattr(checks, name)), name
    assert old.assert_gradients is checks.assert_gradients and old.check_directional is checks.check_directional
