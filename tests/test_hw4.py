"""hw4 as shipped: full marks for correct code in any style, the named mistakes caught on
their own task, and batch_norm/autograd off limits in the batch-norm tasks."""

from __future__ import annotations

import pytest

from grader import manifest
from tests.conftest import REPO, task_points, task_scores

REFERENCE = (REPO / "reference" / "hw4" / "normalization.py").read_text()


@pytest.fixture(scope="module")
def hw4():
    return manifest.find("hw4", REPO)


@pytest.fixture
def grade_hw4(hw4, grade_file):
    return lambda source: grade_file(hw4, source)
MISTAKES = {
    "unbiased_variance": ("batchnorm_forward", "        var = ((x - mu) ** 2).mean(dim=0)\n", "        var = x.var(dim=0, unbiased=True)\n"),
    "running_stats_updated_in_eval": (
        "batchnorm_forward",
        "        mu, var = bn_param[\"running_mean\"], bn_param[\"running_var\"]\n",
        "        mu, var = bn_param[\"running_mean\"], bn_param[\"running_var\"]\n"
        "        bn_param[\"running_mean\"] = momentum * mu + (1 - momentum) * x.mean(dim=0)\n",
    ),
    "backward_ignores_the_mean": (
        "batchnorm_backward",
        "    dx = inv_std / n * (n * dx_hat - dx_hat.sum(dim=0) - x_hat * (dx_hat * x_hat).sum(dim=0))",
        "    dx = dx_hat * inv_std",
    ),
    # documented bn_param keys read wrongly (issue: every check used the default eps)
    "eps_from_the_wrong_key": ("batchnorm_forward", '    eps = bn_param.setdefault("eps", 1e-5)\n', '    eps = bn_param.get("epsilon", 1e-5)\n'),
    "momentum_ignored": ("batchnorm_forward", '    momentum = bn_param.setdefault("momentum", 0.9)\n', '    momentum = 0.9\n'),
    "given_running_mean_ignored_in_train": (
        "batchnorm_forward",
        '        bn_param["running_mean"] = momentum * bn_param["running_mean"] + (1 - momentum) * mu\n',
        '        bn_param["running_mean"] = momentum * torch.zeros_like(mu) + (1 - momentum) * mu\n',
    ),
    # eval mode at small running variances
    "eval_divides_by_sqrt_var_plus_eps": (
        "batchnorm_forward",
        "    inv_std = 1.0 / torch.sqrt(var + eps)\n",
        '    inv_std = 1.0 / (torch.sqrt(var) + eps) if mode == "eval" else 1.0 / torch.sqrt(var + eps)\n',
    ),
    "eval_without_eps": (
        "batchnorm_forward",
        "    inv_std = 1.0 / torch.sqrt(var + eps)\n",
        '    inv_std = 1.0 / torch.sqrt(var) if mode == "eval" else 1.0 / torch.sqrt(var + eps)\n',
    ),
    "standardize_small_std_taken_for_zero": (
        "standardize",
        "    scale = torch.where(std > 0, std, torch.ones_like(std))\n",
        "    scale = torch.where(std > 1e-3, std, torch.ones_like(std))\n",
    ),
    "standardize_with_sample_std": ("standardize", "    std = ((train_x - mean) ** 2).mean(dim=0).sqrt()", "    std = train_x.std(dim=0)"),
    "standardize_test_with_its_own_statistics": (
        "standardize",
        "    return (train_x - mean) / scale, (test_x - mean) / scale, mean, std",
        "    return (train_x - mean) / scale, (test_x - test_x.mean(dim=0)) / scale, mean, std",
    ),
}


@pytest.mark.parametrize("case", sorted(MISTAKES))
def test_each_mistake_loses_points_on_its_own_task(grade_hw4, case):
    task, old, new = MISTAKES[case]
    assert REFERENCE.count(old) == 1, old
    report = grade_hw4(REFERENCE.replace(old, new, 1))
    scores, full = task_scores(report), task_points(report)
    assert scores[task] < full[task], scores
    # the backward reads the forward's cache, so a forward mistake may cost it too
    spared = {"batchnorm_backward"} if task == "batchnorm_forward" else set()
    assert all(v == full[k] for k, v in scores.items() if k != task and k not in spared), scores


@pytest.mark.parametrize(
    "old, new, api",
    [
        ("    inv_std = 1.0 / torch.sqrt(var + eps)\n    x_hat = (x - mu) * inv_std\n    return gamma * x_hat + beta, (x_hat, inv_std, gamma)",
         "    inv_std = 1.0 / torch.sqrt(var + eps)\n    x_hat = (x - mu) * inv_std\n"
         "    out = torch.nn.functional.batch_norm(x, None, None, gamma, beta, training=True, eps=eps) if mode == 'train' else gamma * x_hat + beta\n"
         "    return out, (x_hat, inv_std, gamma)", "torch.nn.functional.batch_norm"),
        ("    inv_std = 1.0 / torch.sqrt(var + eps)\n    x_hat = (x - mu) * inv_std\n    return gamma * x_hat + beta, (x_hat, inv_std, gamma)",
         "    inv_std = 1.0 / torch.sqrt(var + eps)\n    x_hat = (x - mu) * inv_std\n"
         "    bn = getattr(torch, 'batch' + '_norm')\n"
         "    out = bn(x, gamma, beta, None, None, True, 0.1, eps, False) if mode == 'train' else gamma * x_hat + beta\n"
         "    return out, (x_hat, inv_std, gamma)", "torch.batch_norm"),
    ],
    ids=["functional", "torch_batch_norm_hidden_name"],
)  # fmt: skip
def test_library_batch_norm_zeroes_the_forward_task(grade_hw4, old, new, api):
    assert REFERENCE.count(old) == 1
    report = grade_hw4(REFERENCE.replace(old, new, 1))
    scores, full = task_scores(report), task_points(report)
    assert scores["batchnorm_forward"] == 0, scores
    assert scores["standardize"] == full["standardize"] and scores["batchnorm_backward"] == full["batchnorm_backward"], scores
    assert any(api in c.message for c in report.checks if c.violation), [c.message for c in report.checks if c.violation]


def _public_only(hw4, zygote, tmp_path, source):
    from grader.grading import grade

    path = tmp_path / "normalization.py"
    path.write_text(source)
    return grade(hw4, path, include_hidden=False, zygote=zygote)


def test_the_public_backward_check_refuses_a_dgamma_every_hidden_check_refuses(hw4, zygote, tmp_path):
    """dgamma of shape (1, D): the public directional check used to accept it (broadcasting)."""
    old = "    dgamma = (dout * x_hat).sum(dim=0)\n"
    assert REFERENCE.count(old) == 1
    source = REFERENCE.replace(old, "    dgamma = (dout * x_hat).sum(dim=0, keepdim=True)\n")
    public = next(c for c in _public_only(hw4, zygote, tmp_path, source).checks if c.task == "batchnorm_backward")
    assert public.status == "fail" and public.message.startswith("dgamma has shape (1, 3) but should have shape (3,)"), public.message


def test_a_backward_returning_none_says_so(hw4, grade_hw4):
    old = "    return dx, dgamma, dbeta\n"
    assert REFERENCE.count(old) == 1
    report = grade_hw4(REFERENCE.replace(old, "    dx, dgamma, dbeta\n"))
    checks = [c for c in report.checks if c.task == "batchnorm_backward" and c.status != "skip"]
    assert checks and {c.visibility for c in checks} == {"public", "hidden"}
    for c in checks:
        assert c.status == "fail" and c.message == "`batchnorm_backward` returned None; expected a tuple (dx, dgamma, dbeta)", (c.name, c.message)


def test_a_forward_without_its_cache_says_what_was_expected(hw4, zygote, tmp_path):
    old = "    return gamma * x_hat + beta, (x_hat, inv_std, gamma)\n"
    assert REFERENCE.count(old) == 1
    report = _public_only(hw4, zygote, tmp_path, REFERENCE.replace(old, "    return gamma * x_hat + beta\n"))
    check = next(c for c in report.checks if c.name == "test_batchnorm_train_then_eval")
    # a self-check has no reference: the expectation comes from the released stub's docstring
    assert check.message == "`batchnorm_forward` returned a torch.Tensor; expected a tuple (out, cache)", check.message
