"""Hidden checks for hw4. Tolerances for float32 are bounded by what float32 itself
reaches on the same inputs (the reference run in float32 against float64)."""

import copy

import pytest
import torch
import torch.nn.functional as F

from grader.checks import assert_close, assert_gradients

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]


def _data(n, d, dtype, device, *, offset=0.0, scale=1.0):
    x = torch.randn(n, d, dtype=torch.float64) * scale + offset
    return x.to(dtype).to(device)


def _slack(fn, *args):
    """How far honest float32 arithmetic lands from float64 here, per output."""
    exact = fn(*[a.to(torch.float64) if torch.is_tensor(a) and a.is_floating_point() else a for a in args])
    rough = fn(*args)
    return [(r.to(torch.float64) - e).abs().max().item() for r, e in zip(rough, exact)], exact


@pytest.mark.task("standardize")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("offset", [0.0, 10.0])  # features whose mean is 10x their std
def test_standardize_matches_reference(student, ref, device, dtype, offset):
    train, test = _data(64, 5, dtype, device, offset=offset), _data(9, 5, dtype, device, offset=offset + 1)
    train[:, 2] = 2.0  # a constant column: exactly representable, so its std is exactly 0
    test[:, 2] = 3.0
    got = student.standardize(train, test)
    slack, exact = _slack(lambda a, b: ref.standardize(a, b), train, test)
    names = ("train_n", "test_n", "mean", "std")
    assert isinstance(got, (tuple, list)) and len(got) == 4, "standardize should return (train_n, test_n, mean, std)"
    for name, g, e, s in zip(names, got, exact, slack):
        assert_close(g, e.to(dtype), atol=1e-6 + 10 * s if dtype == torch.float32 else 1e-10, name=name)


@pytest.mark.task("standardize")
def test_standardize_divides_by_a_small_but_nonzero_std(student, ref, device):
    """Each side of the documented threshold (std == 0 is only centred): a std of 1e-4
    is divided by, not mistaken for a constant column."""
    train = torch.randn(32, 3, dtype=torch.float64, device=device) * torch.tensor([1.0, 1e-4, 0.0], dtype=torch.float64, device=device) + 2.0
    test = torch.randn(5, 3, dtype=torch.float64, device=device) * 1e-4 + 2.0
    got = student.standardize(train, test)
    expected = ref.standardize(train, test)
    for name, g, e in zip(("train_n", "test_n", "mean", "std"), got, expected):
        assert_close(g, e, name=f"{name} (a column with std 1e-4 beside a constant one)")


def _bn(dtype, device, n=16, d=6, offset=3.0):
    x = _data(n, d, dtype, device, offset=offset, scale=2.0)
    gamma = _data(d, 1, dtype, device).reshape(d) + 1
    beta = _data(d, 1, dtype, device).reshape(d)
    return x, gamma, beta


@pytest.mark.task("batchnorm_forward")
@pytest.mark.parametrize("dtype", DTYPES)
def test_train_output_matches_reference_and_torch(student, ref, device, dtype):
    x, gamma, beta = _bn(dtype, device)
    out, _ = student.batchnorm_forward.keeping_objects(x, gamma, beta, {"mode": "train", "eps": 1e-5})
    expected, _ = ref.batchnorm_forward(x.double(), gamma.double(), beta.double(), {"mode": "train", "eps": 1e-5})
    rough, _ = ref.batchnorm_forward(x, gamma, beta, {"mode": "train", "eps": 1e-5})
    atol = 1e-6 + 10 * (rough.double() - expected).abs().max().item() if dtype == torch.float32 else 1e-10
    assert_close(out, expected.to(dtype), atol=atol, name="out (train)")
    torch_out = F.batch_norm(x.double(), None, None, gamma.double(), beta.double(), training=True, eps=1e-5)
    assert_close(out, torch_out.to(dtype), atol=atol, name="out (as torch.nn.functional.batch_norm computes it)")


@pytest.mark.task("batchnorm_forward")
@pytest.mark.parametrize("dtype", DTYPES)
def test_running_statistics_after_several_steps(student, ref, device, dtype):
    d = 4
    bn_param = {"mode": "train", "momentum": 0.7}
    ref_param = {"mode": "train", "momentum": 0.7}
    for step in range(3):
        x, gamma, beta = _bn(dtype, device, n=8, d=d, offset=step)
        student.batchnorm_forward.keeping_objects(x, gamma, beta, bn_param)
        ref.batchnorm_forward(x, gamma, beta, ref_param)
    for key in ("running_mean", "running_var"):
        assert key in bn_param, f"bn_param[{key!r}] should be set in train mode"
        assert_close(bn_param[key], ref_param[key], name=f"bn_param[{key!r}] after 3 train steps")


@pytest.mark.task("batchnorm_forward")
def test_eval_with_a_batch_of_one_uses_and_keeps_running_statistics(student, ref, device):
    rm, rv = torch.tensor([1.0, -2.0, 0.5], device=device), torch.tensor([4.0, 0.25, 1.0], device=device)
    bn_param = {"mode": "eval", "running_mean": rm.clone(), "running_var": rv.clone(), "eps": 1e-5}
    x = torch.tensor([[3.0, -1.0, 0.5]], device=device)
    gamma, beta = torch.tensor([1.0, 2.0, 3.0], device=device), torch.tensor([0.0, 0.5, -1.0], device=device)
    out, _ = student.batchnorm_forward.keeping_objects(x, gamma, beta, bn_param)
    assert_close(out, ref.batchnorm_forward(x, gamma, beta, {"mode": "eval", "running_mean": rm, "running_var": rv, "eps": 1e-5})[0], name="out (eval)")
    assert_close(bn_param["running_mean"], rm, name="running_mean (eval mode must not change it)")
    assert_close(bn_param["running_var"], rv, name="running_var (eval mode must not change it)")


@pytest.mark.task("batchnorm_forward")
def test_defaults_when_only_the_mode_is_given(student, ref, device):
    x, gamma, beta = _bn(torch.float64, device, n=5, d=3)
    bn_param = {"mode": "train"}
    out, _ = student.batchnorm_forward.keeping_objects(x, gamma, beta, bn_param)
    ref_param = {"mode": "train"}
    assert_close(out, ref.batchnorm_forward(x, gamma, beta, ref_param)[0], name="out with eps=1e-5")
    assert_close(bn_param.get("running_mean"), ref_param["running_mean"], name="running_mean from zeros with momentum 0.9")
    assert_close(bn_param.get("running_var"), ref_param["running_var"], name="running_var from zeros with momentum 0.9")


@pytest.mark.task("batchnorm_forward")
@pytest.mark.parametrize("dtype", DTYPES)
def test_eval_with_small_running_variances(student, ref, device, dtype):
    """Variances down to 1e-6 beside eps: sqrt(var) + eps, or no eps at all, is far off."""
    rv = torch.tensor([1e-6, 1e-5, 1e-4, 1e-2, 1.0], dtype=torch.float64)
    rm = torch.tensor([0.0, -1.0, 2.0, 0.0, 3.0], dtype=torch.float64)
    x = (rm + torch.randn(3, 5, dtype=torch.float64) * rv.sqrt() * 2).to(dtype).to(device)
    gamma, beta = torch.tensor([1.0, 2.0, 0.5, 1.5, 1.0], dtype=dtype, device=device), torch.zeros(5, dtype=dtype, device=device)
    for given in ({}, {"eps": 1e-5}, {"eps": 1e-3}):
        # fresh tensors for every call (.to() of a float64 tensor to float64 is the tensor itself)
        stats = lambda t: {"mode": "eval", "running_mean": rm.to(t, copy=True).to(device), "running_var": rv.to(t, copy=True).to(device), **given}  # noqa: E731
        slack, (expected,) = _slack(lambda *a: ref.batchnorm_forward(*a, stats(a[0].dtype))[:1], x, gamma, beta)
        out, _ = student.batchnorm_forward.keeping_objects(x, gamma, beta, stats(dtype))
        said = f"eps={given['eps']}" if given else "the default eps"
        atol = 1e-6 + 10 * slack[0] if dtype == torch.float32 else 1e-10
        assert_close(out, expected.to(dtype), atol=atol, name=f"out (eval, running_var down to 1e-6, {said})")


@pytest.mark.task("batchnorm_forward")
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_every_bn_param_key_is_read(student, ref, device, mode):
    """eps, momentum and given running statistics far from their defaults."""
    x, gamma, beta = _bn(torch.float64, device, n=6, d=4, offset=1.0)
    bn_param = {"mode": mode, "eps": 0.5, "momentum": 0.3,
                "running_mean": torch.tensor([0.5, -1.0, 2.0, 1.0], dtype=torch.float64, device=device),
                "running_var": torch.tensor([0.2, 3.0, 1.5, 0.7], dtype=torch.float64, device=device)}  # fmt: skip
    ref_param = copy.deepcopy(bn_param)
    expected, _ = ref.batchnorm_forward(x, gamma, beta, ref_param)  # before the student sees the inputs
    out, _ = student.batchnorm_forward.keeping_objects(x, gamma, beta, bn_param)
    assert_close(out, expected, name=f"out ({mode}, eps=0.5, momentum=0.3, running statistics given)")
    for key in ("running_mean", "running_var"):
        assert_close(bn_param.get(key), ref_param[key], name=f"bn_param[{key!r}] after one {mode} step with momentum=0.3")


@pytest.mark.task("batchnorm_backward")
def test_backward_with_a_large_eps(student, ref, device):
    x, gamma, beta = _bn(torch.float64, device, n=6, d=3, offset=0.0)
    dout = _data(6, 3, torch.float64, device)
    _, cache = student.batchnorm_forward.keeping_objects(x, gamma, beta, {"mode": "train", "eps": 0.5})
    grads = student.batchnorm_backward(dout, cache)
    assert_gradients(grads, lambda x, g, b: ref.batchnorm_forward(x, g, b, {"mode": "train", "eps": 0.5})[0], (x, gamma, beta), dout,
                     names=("dx", "dgamma", "dbeta"))  # fmt: skip


@pytest.mark.task("batchnorm_backward")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [2, 3, 32])
def test_backward_matches_autograd(student, ref, device, dtype, n):
    x, gamma, beta = _bn(dtype, device, n=n, d=5)
    dout = _data(n, 5, dtype, device)
    _, cache = student.batchnorm_forward.keeping_objects(x, gamma, beta, {"mode": "train", "eps": 1e-5})
    grads = student.batchnorm_backward(dout, cache)

    def forward(x, gamma, beta):
        return ref.batchnorm_forward(x, gamma, beta, {"mode": "train", "eps": 1e-5})[0]

    assert_gradients(grads, forward, (x, gamma, beta), dout, names=("dx", "dgamma", "dbeta"))
