"""hw3 as shipped: full marks for correct code in any style, each named mistake caught on
its own task, torch.optim off limits, and the reference equal to torch.optim.Adam."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from grader import manifest
from tests.conftest import REPO, task_points, task_scores

REFERENCE = (REPO / "reference" / "hw3" / "optim.py").read_text()


@pytest.fixture(scope="module")
def hw3():
    return manifest.find("hw3", REPO)


@pytest.fixture
def grade_hw3(hw3, grade_file):
    return lambda source: grade_file(hw3, source)
MISTAKES = {
    "adam_without_bias_correction": ("adam", "    m_hat = config[\"m\"] / (1 - b1**t)\n    v_hat = config[\"v\"] / (1 - b2**t)",
                                     "    m_hat = config[\"m\"]\n    v_hat = config[\"v\"]"),
    "adam_t_incremented_after_use": ("adam", "    config[\"t\"] += 1\n    t = config[\"t\"]\n    config[\"m\"]",
                                     "    t = max(config[\"t\"], 1)\n    config[\"t\"] += 1\n    config[\"m\"]"),
    "rmsprop_without_sqrt": ("rmsprop", "(torch.sqrt(config[\"cache\"]) + config[\"eps\"])", "(config[\"cache\"] + config[\"eps\"])"),
    "momentum_sign_flipped": ("sgd_momentum", "    v = config[\"momentum\"] * config[\"velocity\"] - config[\"lr\"] * dw",
                              "    v = config[\"momentum\"] * config[\"velocity\"] + config[\"lr\"] * dw"),
    "adagrad_without_mean": ("adagrad", "torch.sqrt(config[\"sum_sq\"] / config[\"t\"])", "torch.sqrt(config[\"sum_sq\"])"),
    "schedule_warmup_off_by_one": ("lr_schedule", "        return base_lr * (step + 1) / warmup_steps", "        return base_lr * step / warmup_steps"),
    # documented config keys and arguments never varied before: each read wrongly
    "adagrad_eps_hard_coded": ("adagrad", "dw / (sigma + config[\"eps\"])", "dw / (sigma + 1e-8)"),
    "rmsprop_eps_hard_coded": ("rmsprop", "(torch.sqrt(config[\"cache\"]) + config[\"eps\"])", "(torch.sqrt(config[\"cache\"]) + 1e-8)"),
    "adam_eps_hard_coded": ("adam", "(torch.sqrt(v_hat) + config[\"eps\"])", "(torch.sqrt(v_hat) + 1e-8)"),
    "adam_given_t_ignored": ("adam", "    config[\"t\"] += 1\n    t = config[\"t\"]\n",
                             "    config[\"t\"] += 1\n    t = config[\"steps\"] = config.get(\"steps\", 0) + 1\n"),
    "momentum_given_velocity_ignored": ("sgd_momentum", "config[\"momentum\"] * config[\"velocity\"]", "config[\"momentum\"] * config.get(\"v\", torch.zeros_like(w))"),
    "tol_relative_to_the_largest_eigenvalue": ("critical_points", "    eig = torch.linalg.eigvalsh(hessian)\n", "    eig = torch.linalg.eigvalsh(hessian)\n    tol = tol * float(eig.abs().max())\n"),
    "tol_argument_ignored": ("critical_points", "    eig = torch.linalg.eigvalsh(hessian)\n", "    eig = torch.linalg.eigvalsh(hessian)\n    tol = 1e-6\n"),
    "escape_ignores_tol": ("critical_points", "    if eig[0] >= -tol:\n", "    if eig[0] >= 0:\n"),
    "degenerate_before_saddle": ("critical_points", "    if (eig > tol).any() and (eig < -tol).any():\n        return \"saddle\"\n    if (eig.abs() <= tol).any():\n        return \"degenerate\"",
                                 "    if (eig.abs() <= tol).any():\n        return \"degenerate\"\n    if (eig > tol).any() and (eig < -tol).any():\n        return \"saddle\""),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(MISTAKES))
def test_each_mistake_loses_points_on_its_own_task(grade_hw3, case):
    task, old, new = MISTAKES[case]
    assert REFERENCE.count(old) == 1, old  # the code, not a docstring
    report = grade_hw3(REFERENCE.replace(old, new, 1))
    scores, full = task_scores(report), task_points(report)
    assert scores[task] < full[task], scores
    assert all(v == full[k] for k, v in scores.items() if k != task), scores


def test_torch_optim_zeroes_exactly_its_task(grade_hw3):
    old = '''    config = _state(config, w, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, m="zeros", v="zeros", t=0)'''
    new = old + '''
    p = torch.nn.Parameter(w.clone())
    opt = torch.optim.Adam([p], lr=config["lr"])
    p.grad = dw.clone()
    opt.step()'''
    report = grade_hw3(REFERENCE.replace(old, new, 1))
    scores, full = task_scores(report), task_points(report)
    assert scores["adam"] == 0 and all(v == full[k] for k, v in scores.items() if k != "adam"), scores
    assert any("torch.optim" in c.message and "scores 0" in c.message for c in report.checks if c.violation)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_reference_adam_equals_torch_optim_adam(dtype):
    spec = importlib.util.spec_from_file_location("hw3_reference", REPO / "reference" / "hw3" / "optim.py")
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    g = torch.Generator().manual_seed(3)
    w0 = torch.randn(7, generator=g, dtype=torch.float64).to(dtype)
    param = torch.nn.Parameter(w0.clone())
    opt = torch.optim.Adam([param], lr=0.02, betas=(0.85, 0.98), eps=1e-8)
    w, config = w0, {"lr": 0.02, "beta1": 0.85, "beta2": 0.98, "eps": 1e-8}
    for _ in range(20):
        dw = torch.randn(7, generator=g, dtype=torch.float64).to(dtype)
        param.grad = dw.clone()
        opt.step()
        w, config = ref.adam(w, dw, config)
    tol = 1e-6 if dtype == torch.float32 else 1e-12
    assert torch.allclose(w, param.detach(), rtol=tol, atol=tol)
