"""Hidden checks for HW1 part A: unseen shapes and seeds, float32/float64, N=1, D=1,
every device available, and convergence to the closed-form least-squares solution."""

import pytest
import torch

from grader.checks import assert_close

DTYPES = [torch.float32, torch.float64]
SHAPES = [(1, 1), (1, 5), (37, 1), (129, 7)]


def _data(n, d, dtype, device, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64) * 1.5
    w = torch.randn(d, generator=g, dtype=torch.float64)
    b = torch.randn((), generator=g, dtype=torch.float64)
    y = x @ w + b + 0.3 * torch.randn(n, generator=g, dtype=torch.float64)
    cast = lambda t: t.to(dtype=dtype, device=device)  # noqa: E731
    return cast(x), cast(w), cast(b), cast(y)


def _expected(fn, *args, dtype):
    """The reference in float64, cast to the dtype under test."""
    out = fn(*(a.double() if torch.is_tensor(a) else a for a in args))
    if isinstance(out, tuple):
        return tuple(o.to(dtype) for o in out)
    return out.to(dtype)


@pytest.mark.task("predict")
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_predict_matches_reference(student, ref, device, dtype, shape):
    x, w, b, _ = _data(*shape, dtype, device, seed=1000 + shape[0] * 31 + shape[1])
    assert_close(student.predict(x, w, b), _expected(ref.predict, x, w, b, dtype=dtype), name="predict(x, w, b)")


@pytest.mark.task("predict")
def test_predict_non_contiguous_input(student, ref):
    x = torch.randn(6, 11, dtype=torch.float64).T  # (11, 6), transposed view
    w = torch.randn(6, dtype=torch.float64)
    b = torch.tensor(-0.7, dtype=torch.float64)
    assert_close(student.predict(x, w, b), ref.predict(x, w, b), name="predict on a transposed x")


@pytest.mark.task("losses")
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("n", [1, 2, 513])
def test_losses_match_reference(student, ref, device, dtype, n):
    g = torch.Generator().manual_seed(77 + n)
    pred = (torch.randn(n, generator=g, dtype=torch.float64) * 3).to(dtype=dtype, device=device)
    y = (torch.randn(n, generator=g, dtype=torch.float64) * 3).to(dtype=dtype, device=device)
    assert_close(student.mse_loss(pred, y), _expected(ref.mse_loss, pred, y, dtype=dtype), name="mse_loss")
    assert_close(student.mae_loss(pred, y), _expected(ref.mae_loss, pred, y, dtype=dtype), name="mae_loss")


@pytest.mark.task("losses")
def test_losses_are_graded_on_the_inputs_as_given(student):
    """Expected values first, from the inputs as made: a loss that overwrites pred or y in
    place works on its own copies and cannot move what it is compared with."""
    pred = torch.tensor([1.0, -2.0, 0.5])
    y = torch.tensor([0.0, 1.0, 0.5])
    expected_mse, expected_mae = torch.tensor(10 / 3), torch.tensor(4 / 3)
    assert_close(student.mse_loss(pred, y), expected_mse, name="mse_loss")
    assert_close(student.mae_loss(pred, y), expected_mae, name="mae_loss")


@pytest.mark.task("gradients")
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_mse_gradients_match_reference(student, ref, device, dtype, shape):
    x, w, b, y = _data(*shape, dtype, device, seed=5000 + shape[0] * 13 + shape[1])
    dw, db = student.mse_gradients(x, y, w, b)
    exp_dw, exp_db = _expected(ref.mse_gradients, x, y, w, b, dtype=dtype)
    assert_close(dw, exp_dw, name="dw")
    assert_close(db, exp_db, name="db")


@pytest.mark.task("gradients")
def test_mse_gradients_agree_with_autograd_float64(student):
    x, w, b, y = _data(64, 4, torch.float64, "cpu", seed=909)
    w.requires_grad_(True)
    b.requires_grad_(True)
    ((x @ w + b - y) ** 2).mean().backward()
    dw, db = student.mse_gradients(x, y, w.detach(), b.detach())
    assert_close(dw, w.grad, name="dw")
    assert_close(db, b.grad, name="db")


@pytest.mark.task("gradient_descent")
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_gradient_descent_trajectory_matches_reference(student, ref, device, dtype):
    x, _, _, y = _data(45, 3, dtype, device, seed=4242)
    w0 = torch.tensor([0.1, -0.2, 0.3], dtype=dtype, device=device)
    b0 = torch.tensor(0.05, dtype=dtype, device=device)
    w, b, losses = student.gradient_descent(x, y, 0.05, 25, w0=w0, b0=b0)
    ew, eb, elosses = ref.gradient_descent(x.double(), y.double(), 0.05, 25, w0=w0.double(), b0=b0.double())
    assert len(losses) == 25, f"losses should have one entry per step (25), got {len(losses)}"
    got = torch.tensor([float(l) for l in losses], dtype=torch.float64)
    assert_close(got, torch.stack(elosses).cpu(), rtol=1e-4 if dtype == torch.float32 else 1e-9, name="losses")
    tol = 1e-4 if dtype == torch.float32 else 1e-9
    assert_close(w, ew.to(dtype), rtol=tol, atol=tol, name="w")
    assert_close(b, eb.to(dtype), rtol=tol, atol=tol, name="b")


@pytest.mark.task("gradient_descent")
@pytest.mark.time_limit(30)
def test_gradient_descent_reaches_least_squares(student):
    x, _, _, y = _data(200, 5, torch.float64, "cpu", seed=31337)
    w, b, losses = student.gradient_descent(x, y, 0.2, 300)
    design = torch.cat([x, torch.ones(200, 1, dtype=torch.float64)], dim=1)
    solution = torch.linalg.lstsq(design, y.unsqueeze(1)).solution.squeeze(1)
    assert_close(w, solution[:5], rtol=1e-6, atol=1e-6, name="w after 300 steps (vs. least squares)")
    assert_close(b, solution[5], rtol=1e-6, atol=1e-6, name="b after 300 steps (vs. least squares)")


@pytest.mark.task("gradient_descent")
def test_gradient_descent_single_example_single_feature(student, ref):
    x = torch.tensor([[2.0]], dtype=torch.float64)
    y = torch.tensor([3.0], dtype=torch.float64)
    w, b, losses = student.gradient_descent(x, y, 0.01, 3)
    ew, eb, elosses = ref.gradient_descent(x, y, 0.01, 3)
    assert_close(w, ew, name="w")
    assert_close(b, eb, name="b")
    assert_close(torch.tensor([float(l) for l in losses], dtype=torch.float64), torch.stack(elosses), name="losses")
