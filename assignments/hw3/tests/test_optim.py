"""Public checks for hw3: one step of each rule worked by hand, the schedule's corners,
and small Hessians. The hidden checks run trajectories of many steps, compare Adam with
torch.optim.Adam, test convergence on an ill-conditioned quadratic and on Rosenbrock,
and use float64 and CUDA."""

import math

import pytest
import torch

from grader.checks import assert_close

W = torch.tensor([1.0, -2.0])
DW = torch.tensor([0.5, 1.0])


@pytest.mark.task("sgd")
def test_sgd_one_step(student):
    w, config = student.sgd(W, DW, {"lr": 0.1})
    assert_close(w, torch.tensor([0.95, -2.1]), name="next_w")


@pytest.mark.task("sgd_momentum")
def test_momentum_two_steps(student):
    w, config = student.sgd_momentum(W, DW, {"lr": 0.1, "momentum": 0.9})
    assert_close(w, torch.tensor([0.95, -2.1]), name="next_w after step 1")
    w, config = student.sgd_momentum(w, DW, config)
    # v = 0.9 * (-0.1 dw) - 0.1 dw = -0.19 dw
    assert_close(w, torch.tensor([0.855, -2.29]), name="next_w after step 2")


@pytest.mark.task("adagrad")
def test_adagrad_first_step_moves_by_lr(student):
    w, config = student.adagrad(W, DW, {"lr": 0.1})
    # sigma = |dw| at t = 1, so each weight moves by lr (up to eps)
    assert_close(w, torch.tensor([0.9, -2.1]), name="next_w")
    assert config["t"] == 1, "config['t'] should be 1 after one step"


@pytest.mark.task("rmsprop")
def test_rmsprop_one_step(student):
    w, config = student.rmsprop(W, DW, {"lr": 0.1, "decay_rate": 0.99})
    assert_close(w, W - 0.1 * DW / (torch.sqrt(0.01 * DW * DW) + 1e-8), name="next_w")


@pytest.mark.task("adam")
def test_adam_first_step_moves_by_lr(student):
    w, config = student.adam(W, DW, {"lr": 0.1})
    # with bias correction the first step is lr * sign(dw)
    assert_close(w, torch.tensor([0.9, -2.1]), name="next_w")


@pytest.mark.task("lr_schedule")
def test_lr_schedule_corners(student):
    assert math.isclose(student.lr_at(0, 1.0, 10, 110), 0.1), "step 0 of a 10-step warm-up is base_lr / 10"
    assert math.isclose(student.lr_at(10, 1.0, 10, 110), 1.0), "warm-up ends at base_lr"
    assert math.isclose(student.lr_at(60, 1.0, 10, 110), 0.5), "half way through the decay is half of base_lr"
    assert math.isclose(student.lr_at(110, 1.0, 10, 110, min_lr=0.1), 0.1), "the decay ends at min_lr"


@pytest.mark.task("critical_points")
def test_classify_small_hessians(student):
    assert student.classify_critical_point(torch.diag(torch.tensor([1.0, 2.0]))) == "local_min"
    assert student.classify_critical_point(torch.diag(torch.tensor([1.0, -2.0]))) == "saddle"
    v = student.escape_direction(torch.diag(torch.tensor([1.0, -2.0])))
    assert_close(v.abs(), torch.tensor([0.0, 1.0]), name="escape direction (up to sign)")
