"""Hidden checks for hw3: trajectories with state carried across calls, defaults, Adam
against torch.optim.Adam, convergence where the lectures say each method helps, the
schedule everywhere, and Hessians in rotated coordinates."""

import copy
import math

import pytest
import torch

from grader.checks import assert_close, shown

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]
RULES = {
    "sgd": {"lr": 0.05},
    "sgd_momentum": {"lr": 0.05, "momentum": 0.8},
    "adagrad": {"lr": 0.05, "eps": 1e-7},
    "rmsprop": {"lr": 0.01, "decay_rate": 0.9},
    "adam": {"lr": 0.01, "beta1": 0.8, "beta2": 0.95},
}
STATE = {"sgd_momentum": ["velocity"], "adagrad": ["sum_sq", "t"], "rmsprop": ["cache"], "adam": ["m", "v", "t"]}


def _rules(*names):
    return [pytest.param(n, marks=pytest.mark.task(n), id=n) for n in names]


def _grads(steps, shape, dtype, device):
    return [torch.randn(*shape, dtype=torch.float64).to(dtype).to(device) for _ in range(steps)]


@pytest.mark.parametrize("name", _rules(*RULES))
@pytest.mark.parametrize("dtype", DTYPES)
def test_trajectory_matches_reference(student, ref, device, dtype, name):
    w = torch.randn(5, 3, dtype=torch.float64).to(dtype).to(device)
    config, ref_config = dict(RULES[name]), dict(RULES[name])
    ref_w = w.clone()
    for step, dw in enumerate(_grads(6, (5, 3), dtype, device), start=1):
        w, config = getattr(student, name)(w, dw, config)
        ref_w, ref_config = getattr(ref, name)(ref_w, dw, ref_config)
        assert_close(w, ref_w, name=f"next_w after step {step}")
    for key in STATE.get(name, []):
        assert key in config, f"config[{key!r}] should hold the state after the steps"
        assert_close(config[key], ref_config[key], name=f"config[{key!r}] after 6 steps")


@pytest.mark.parametrize("name", _rules(*RULES))
def test_defaults_fill_an_empty_config(student, ref, name):
    w, dw = torch.randn(4, dtype=torch.float64), torch.randn(4, dtype=torch.float64)
    for config in (None, {}):
        got, _ = getattr(student, name)(w, dw, config)
        assert_close(got, getattr(ref, name)(w, dw, None)[0], name=f"next_w with config={config!r} (the defaults)")


@pytest.mark.task("adam")
@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_matches_torch_optim_adam(student, ref, device, dtype):
    """torch.optim.Adam's update (the reference equals it: tests/test_hw3.py checks that;
    building a torch.optim.Adam here would import torch._dynamo, 1.8 s per run)."""
    w0 = torch.randn(7, dtype=torch.float64).to(dtype).to(device)
    w, config = w0, {"lr": 0.02, "beta1": 0.85, "beta2": 0.98, "eps": 1e-8}
    ref_w, ref_config = w0.clone(), dict(config)
    for step, dw in enumerate(_grads(10, (7,), dtype, device), start=1):
        w, config = student.adam(w, dw, config)
        ref_w, ref_config = ref.adam(ref_w, dw, ref_config)
        assert_close(w, ref_w, name=f"next_w after step {step} (as torch.optim.Adam computes it)")


# every documented config key at a value far from its default, state included, so a rule
# that reads a key under another name (or not at all) lands elsewhere
def _far_from_defaults(name, w):
    state = lambda scale: (torch.rand_like(w) + 0.5) * scale  # noqa: E731
    return {
        "sgd": lambda: {"lr": 0.37},
        "sgd_momentum": lambda: {"lr": 0.2, "momentum": 0.3, "velocity": state(0.4)},
        "adagrad": lambda: {"lr": 0.2, "eps": 0.5, "sum_sq": state(2.0), "t": 3},
        "rmsprop": lambda: {"lr": 0.2, "decay_rate": 0.5, "eps": 0.5, "cache": state(2.0)},
        "adam": lambda: {"lr": 0.2, "beta1": 0.5, "beta2": 0.7, "eps": 0.5, "m": state(0.3), "v": state(2.0), "t": 4},
    }[name]()


@pytest.mark.parametrize("name", _rules(*RULES))
def test_every_config_key_is_read(student, ref, name):
    w = torch.randn(6, dtype=torch.float64)
    config = _far_from_defaults(name, w)
    for step in (1, 2):
        dw = torch.randn(6, dtype=torch.float64)
        # expected values first, from a copy the student never sees
        ref_w, ref_config = getattr(ref, name)(w.clone(), dw.clone(), copy.deepcopy(config))
        w, config = getattr(student, name)(w, dw, config)
        assert_close(w, ref_w, name=f"next_w after step {step} (every config key set, none at its default)")
        for key in STATE.get(name, []):
            assert_close(config.get(key), ref_config[key], name=f"config[{key!r}] after step {step}")


def _quadratic(w):
    a = torch.tensor([1.0, 100.0], dtype=w.dtype)  # condition number 100
    return 0.5 * (a * w * w).sum(), a * w


def _rosenbrock(w):
    x, y = w[0], w[1]
    loss = (1 - x) ** 2 + 100 * (y - x * x) ** 2
    return loss, torch.stack([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def _run(step, f, w, config, steps):
    for _ in range(steps):
        _, g = f(w)
        w, config = step(w, g, config)
    return float(f(w)[0])


@pytest.mark.parametrize(
    "name, f, start, config, steps",
    [
        pytest.param("sgd_momentum", _rosenbrock, [-1.2, 1.0], {"lr": 1e-3, "momentum": 0.9}, 40, marks=pytest.mark.task("sgd_momentum"), id="momentum-rosenbrock"),
        pytest.param("rmsprop", _quadratic, [1.0, 1.0], {"lr": 0.05, "decay_rate": 0.9}, 25, marks=pytest.mark.task("rmsprop"), id="rmsprop-quadratic"),
        pytest.param("adam", _quadratic, [1.0, 1.0], {"lr": 0.05}, 25, marks=pytest.mark.task("adam"), id="adam-quadratic"),
    ],
)  # fmt: skip
def test_converges_where_the_method_helps(student, ref, name, f, start, config, steps):
    w0 = torch.tensor(start, dtype=torch.float64)
    # plain SGD at its best stable rate here (1.5/100 for the quadratic's curvature of 100)
    plain = _run(ref.sgd, f, w0, {"lr": 0.015 if f is _quadratic else config["lr"]}, steps)
    theirs = _run(getattr(student, name), f, w0, dict(config), steps)
    ours = _run(getattr(ref, name), f, w0, dict(config), steps)
    assert ours < 0.5 * plain, "the check's own premise: the method beats plain SGD here"
    assert theirs <= ours * 1.01 + 1e-9, f"after {steps} steps the loss is {theirs:.4g}; the method should reach {ours:.4g} (plain SGD: {plain:.4g})"


@pytest.mark.task("lr_schedule")
@pytest.mark.parametrize("warmup, total, min_lr", [(0, 50, 0.0), (5, 20, 1e-3), (10, 10, 0.0), (3, 100, 0.5)])
def test_lr_schedule_everywhere(student, ref, warmup, total, min_lr):
    for step in [0, 1, warmup - 1, warmup, warmup + 1, (warmup + total) // 2, total - 1, total, total + 7]:
        if step < 0:
            continue
        got = student.lr_at(step, 0.3, warmup, total, min_lr)
        want = ref.lr_at(step, 0.3, warmup, total, min_lr)
        assert isinstance(got, (int, float)) and math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12), (
            f"lr_at({step}, 0.3, {warmup}, {total}, {min_lr}) is {shown(got)}, expected {want:.6g}"
        )


def _rotated(eigenvalues, seed):
    """diag(eigenvalues) in random orthogonal coordinates q (columns: the eigenvectors).
    q is a Householder reflection, not a QR factor: torch.linalg.qr of a tiny matrix
    costs ~7 ms on two threads (LAPACK's pool), and hw3 builds dozens of these."""
    g = torch.Generator().manual_seed(seed)
    v = torch.randn(len(eigenvalues), 1, generator=g, dtype=torch.float64)
    q = torch.eye(len(eigenvalues), dtype=torch.float64) - 2 * (v @ v.T) / (v.T @ v)
    return q @ torch.diag(torch.tensor(eigenvalues, dtype=torch.float64)) @ q.T, q


@pytest.mark.task("critical_points")
@pytest.mark.parametrize(
    "eigenvalues, kind",
    [([2.0, 0.5, 3.0], "local_min"), ([-1.0, -4.0], "local_max"), ([1.0, -1e-3, 2.0], "saddle"),
     ([1.0, 0.0, 2.0], "degenerate"), ([-1.0, 5e-7, -2.0], "degenerate"), ([3.0, -2.0, 2e-7], "saddle"), ([1e-3], "local_min")],
)  # fmt: skip
def test_classification_in_rotated_coordinates(student, eigenvalues, kind):
    h, _ = _rotated(eigenvalues, len(eigenvalues))
    got = student.classify_critical_point(h)
    assert got == kind, f"a Hessian with eigenvalues {eigenvalues} is a {kind!r} point, got {shown(got)}"


# (eigenvalues, tol or None for the default 1e-6, kind): each side of the default tol; a
# large scale, where tol stays absolute (1e-3 is far from 0 even beside 2e4); tol given
AROUND_TOL = [
    ([1.0, 2e-6], None, "local_min"), ([1.0, -2e-6], None, "saddle"), ([-1.0, -2e-6], None, "local_max"), ([-1.0, 5e-7], None, "degenerate"),
    ([1e4, 1e-3, 2e4], None, "local_min"), ([-1e4, -1e-3], None, "local_max"), ([2e4, -1e-3], None, "saddle"),
    ([1.0, 0.05], 0.1, "degenerate"), ([1.0, 0.2], 0.1, "local_min"), ([1.0, -0.05], 0.1, "degenerate"),
    ([1.0, -0.2], 0.1, "saddle"), ([1.0, 1e-9], 1e-12, "local_min"), ([-3.0, 40.0], 50.0, "degenerate"),
]  # fmt: skip


@pytest.mark.task("critical_points")
@pytest.mark.parametrize("which", ["default-tol", "given-tol"])
def test_classification_on_each_side_of_tol(student, which):
    for eigenvalues, tol, kind in AROUND_TOL:
        if (tol is None) != (which == "default-tol"):
            continue
        h, _ = _rotated(eigenvalues, len(eigenvalues) + 7)
        got = student.classify_critical_point(h) if tol is None else student.classify_critical_point(h, tol=tol)
        said = "the default tol=1e-6" if tol is None else f"tol={tol}"
        assert got == kind, f"with {said} (absolute), a Hessian with eigenvalues {eigenvalues} is a {kind!r} point, got {shown(got)}"


@pytest.mark.task("critical_points")
def test_escape_direction_on_each_side_of_tol(student):
    for eigenvalues, tol, escapes in [([1.0, -5e-7], None, False), ([1.0, -2e-6], None, True), ([1.0, -0.05], 0.1, False), ([1.0, -0.2], 0.1, True)]:
        h, q = _rotated(eigenvalues, 11)
        v = student.escape_direction(h) if tol is None else student.escape_direction(h, tol=tol)
        said = "the default tol" if tol is None else f"tol={tol}"
        if not escapes:
            assert v is None, f"with {said}, the smallest eigenvalue {min(eigenvalues)} is not below -tol: expected None, got {shown(v)}"
            continue
        assert isinstance(v, torch.Tensor), f"with {said}, the eigenvalue {min(eigenvalues)} is below -tol: expected a direction, got {shown(v)}"
        assert_close(v.norm(), torch.tensor(1.0, dtype=v.dtype), name="|escape direction|")
        assert abs(float(v.to(torch.float64) @ q[:, 1])) > 1 - 1e-6, f"the direction should be the eigenvector of {min(eigenvalues)}"


@pytest.mark.task("critical_points")
def test_escape_direction_is_the_most_negative_eigenvector(student):
    h, q = _rotated([2.0, -3.0, -0.5, 1.0], 4)
    v = student.escape_direction(h)
    assert isinstance(v, torch.Tensor) and v.shape == (4,), f"expected a tensor of shape (4,), got {shown(v)}"
    assert_close(v.norm(), torch.tensor(1.0, dtype=v.dtype), name="|escape direction|")
    assert abs(float(v.to(torch.float64) @ q[:, 1])) > 1 - 1e-6, "the direction should be the eigenvector of -3 (either sign)"
    assert float(v.to(torch.float64) @ h @ v.to(torch.float64)) < 0, "moving along it should lower the loss"
    assert student.escape_direction(_rotated([1.0, 2.0], 2)[0]) is None, "no negative eigenvalue: expected None"
