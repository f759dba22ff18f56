"""Public checks for HW1 part A. Run them with `grade hw1`.

More checks, with other shapes, dtypes and edge cases, run when your work is graded.
"""

import pytest
import torch

from grader.checks import assert_close


@pytest.mark.task("predict")
def test_predict_small_example(student):
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0], [-1.0, 0.5]])
    w = torch.tensor([0.5, -1.0])
    b = torch.tensor(2.0)
    assert_close(student.predict(x, w, b), torch.tensor([0.5, -0.5, 1.0]), name="predict(x, w, b)")


@pytest.mark.task("losses")
def test_mse_small_example(student):
    pred = torch.tensor([1.0, 2.0, 3.0, 4.0])
    y = torch.tensor([1.0, 0.0, 3.0, 8.0])
    assert_close(student.mse_loss(pred, y), torch.tensor(5.0), name="mse_loss")


@pytest.mark.task("losses")
def test_mae_small_example(student):
    pred = torch.tensor([1.0, 2.0, 3.0, 4.0])
    y = torch.tensor([1.0, 0.0, 3.0, 8.0])
    assert_close(student.mae_loss(pred, y), torch.tensor(1.5), name="mae_loss")


@pytest.mark.task("gradients")
def test_mse_gradients_match_autograd(student):
    x = torch.randn(8, 3, dtype=torch.float64)
    y = torch.randn(8, dtype=torch.float64)
    w = torch.randn(3, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    ((x @ w + b - y) ** 2).mean().backward()
    dw, db = student.mse_gradients(x, y, w.detach(), b.detach())
    assert_close(dw, w.grad, name="dw")
    assert_close(db, b.grad, name="db")


@pytest.mark.task("gradient_descent")
def test_gradient_descent_lowers_the_loss(student):
    x = torch.randn(32, 2, dtype=torch.float64)
    y = x @ torch.tensor([2.0, -1.0], dtype=torch.float64) + 0.5
    w, b, losses = student.gradient_descent(x, y, 0.1, 50)
    assert len(losses) == 50, f"losses should have one entry per step (50), got {len(losses)}"
    first = float(losses[0])
    assert abs(first - float((y**2).mean())) < 1e-9, "losses[0] should be the MSE of the starting point (w = 0, b = 0)"
    assert float(losses[-1]) < 0.1 * first, f"the loss should fall well below its start ({first:.3g}) in 50 steps, got {float(losses[-1]):.3g}"
