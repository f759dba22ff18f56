"""Hidden checks for hw2: unseen shapes and seeds, float64, edge cases, every device.

Gradients are compared with autograd through the reference forward (in float64, with
a tolerance scaled to what the student's dtype can reach on the same inputs).
"""

import pytest
import torch

from grader.checks import assert_close, assert_gradients

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]
SHAPES = [(1, 3, 2), (7, 5, 4), (33, 17, 9)]  # (N, D, M); a batch of one first


def _t(*shape, dtype, device, scale=1.0):
    return (torch.randn(*shape, dtype=torch.float64) * scale).to(dtype).to(device)


def _non_contiguous(t):
    return t.T.contiguous().T  # same values, column-major strides


@pytest.mark.task("linear_forward")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n, d, m", SHAPES)
def test_linear_forward_matches_reference(student, ref, device, dtype, n, d, m):
    x, w, b = _t(n, d, dtype=dtype, device=device), _t(d, m, dtype=dtype, device=device), _t(m, dtype=dtype, device=device)
    out, _ = student.linear_forward.keeping_objects(x, w, b)
    assert_close(out, ref.linear_forward(x, w, b)[0], name="out")


@pytest.mark.task("linear_backward")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n, d, m", SHAPES)
def test_linear_backward_matches_autograd(student, ref, device, dtype, n, d, m):
    x, w, b = _t(n, d, dtype=dtype, device=device), _t(d, m, dtype=dtype, device=device), _t(m, dtype=dtype, device=device)
    dout = _t(n, m, dtype=dtype, device=device)
    _, cache = student.linear_forward.keeping_objects(x, w, b)
    grads = student.linear_backward(dout, cache)
    assert_gradients(grads, lambda x, w, b: ref.linear_forward(x, w, b)[0], (x, w, b), dout, names=("dx", "dw", "db"))


@pytest.mark.task("linear_backward")
def test_linear_backward_non_contiguous_inputs(student, ref, device):
    x, w = _non_contiguous(_t(6, 4, dtype=torch.float64, device=device)), _non_contiguous(_t(4, 3, dtype=torch.float64, device=device))
    b, dout = _t(3, dtype=torch.float64, device=device), _non_contiguous(_t(6, 3, dtype=torch.float64, device=device))
    _, cache = student.linear_forward.keeping_objects(x, w, b)
    grads = student.linear_backward(dout, cache)
    assert_gradients(grads, lambda x, w, b: ref.linear_forward(x, w, b)[0], (x, w, b), dout, names=("dx", "dw", "db"))


ACTIVATIONS = ["relu", "sigmoid", "tanh"]


@pytest.mark.task("activations_forward")
@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_activation_forward_matches_reference(student, ref, device, dtype, name):
    x = _t(9, 7, dtype=dtype, device=device, scale=4.0)
    x[0, :3] = torch.tensor([0.0, 50.0, -50.0], dtype=dtype)  # exactly 0, and saturation
    out, _ = getattr(student, f"{name}_forward").keeping_objects(x)
    assert_close(out, getattr(ref, f"{name}_forward")(x)[0], name=f"{name}_forward")


@pytest.mark.task("activations_backward")
@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_activation_backward_matches_autograd(student, ref, device, dtype, name):
    x = _t(9, 7, dtype=dtype, device=device, scale=3.0)
    x[x.abs() < 1e-3] = 0.5  # autograd and the task agree away from 0; 0 has its own check
    dout = _t(9, 7, dtype=dtype, device=device)
    _, cache = getattr(student, f"{name}_forward").keeping_objects(x)
    dx = getattr(student, f"{name}_backward")(dout, cache)
    assert_gradients((dx,), lambda x: getattr(ref, f"{name}_forward")(x)[0], (x,), dout, names=("dx",))


@pytest.mark.task("activations_backward")
def test_relu_backward_at_exactly_zero_is_zero(student, device):
    x = torch.tensor([[0.0, -0.0, 1.0, -1.0]], device=device)
    _, cache = student.relu_forward.keeping_objects(x)
    dx = student.relu_backward(torch.ones(1, 4, device=device), cache)
    assert_close(dx, torch.tensor([[0.0, 0.0, 1.0, 0.0]], device=device), name="dx (ReLU's derivative at 0 is 0)")


@pytest.mark.task("softmax")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_softmax_matches_reference(student, ref, device, dtype, scale):
    logits = _t(8, 10, dtype=dtype, device=device, scale=scale)
    probs = student.softmax(logits)
    expected = ref.softmax(logits.to(torch.float64)).to(dtype)
    # float32 resolves 1e4 only to ~1e-3: an honest log-sum-exp lands ~2e-4 (relative) away
    rtol = 3e-3 if dtype == torch.float32 and scale > 1 else None
    assert_close(probs, expected, rtol=rtol, atol=1e-6 if dtype == torch.float32 else 1e-12, name="softmax")


@pytest.mark.task("softmax")
def test_softmax_single_row_extreme(student, device):
    probs = student.softmax(torch.tensor([[1e4, -1e4, 1e4 - 1.0]], device=device))
    e = torch.tensor([1.0, 0.0, torch.e**-1.0], dtype=torch.float64)
    assert_close(probs, (e / e.sum()).to(torch.float32).to(device).unsqueeze(0), rtol=3e-3, atol=1e-6, name="softmax")


@pytest.mark.task("cross_entropy")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n, c, scale", [(1, 5, 1.0), (16, 10, 1.0), (8, 6, 1e4)])
def test_cross_entropy_matches_autograd(student, ref, device, dtype, n, c, scale):
    logits = _t(n, c, dtype=dtype, device=device, scale=scale)
    y = torch.randint(0, c, (n,), device=device)
    loss, dlogits = student.cross_entropy_loss(logits, y)
    expected = ref.cross_entropy_loss(logits.to(torch.float64), y)[0]
    assert_close(loss, expected.to(dtype), rtol=1e-4 if dtype == torch.float32 else 1e-9, atol=1e-4 if scale > 1 else None, name="loss")
    assert_gradients((dlogits,), lambda z: ref.cross_entropy_loss(z, y)[0], (logits,), torch.ones((), dtype=torch.float64, device=device), names=("dlogits",))


@pytest.mark.task("mse")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1,), (13,), (4, 6)])
def test_mse_matches_autograd(student, ref, device, dtype, shape):
    pred, target = _t(*shape, dtype=dtype, device=device), _t(*shape, dtype=dtype, device=device)
    loss, dpred = student.mse_loss(pred, target)
    assert_close(loss, ref.mse_loss(pred, target)[0], name="loss")
    assert_gradients((dpred,), lambda p: ref.mse_loss(p, target.to(torch.float64))[0], (pred,), torch.ones((), dtype=torch.float64, device=device), names=("dpred",))


def _params(d, h, c, dtype, device):
    return {"W1": _t(d, h, dtype=dtype, device=device, scale=0.5), "b1": _t(h, dtype=dtype, device=device, scale=0.1),
            "W2": _t(h, c, dtype=dtype, device=device, scale=0.5), "b2": _t(c, dtype=dtype, device=device, scale=0.1)}  # fmt: skip


@pytest.mark.task("mlp")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 20])
def test_mlp_loss_matches_autograd(student, ref, device, dtype, n):
    params = _params(6, 8, 4, dtype, device)
    x, y = _t(n, 6, dtype=dtype, device=device), torch.randint(0, 4, (n,), device=device)
    loss, grads = student.mlp_loss(params, x, y)
    expected_loss, _ = ref.mlp_loss({k: v.to(torch.float64) for k, v in params.items()}, x.to(torch.float64), y)
    assert_close(loss, expected_loss.to(dtype), name="loss")
    keys = ("W1", "b1", "W2", "b2")
    assert isinstance(grads, dict) and set(grads) == set(keys), f"grads should be a dict with the keys {list(keys)}"

    def forward(w1, b1, w2, b2):
        return ref.mlp_loss({"W1": w1, "b1": b1, "W2": w2, "b2": b2}, x.to(w1.dtype), y)[0]

    assert_gradients(
        [grads[k] for k in keys], forward, [params[k] for k in keys], torch.ones((), dtype=torch.float64, device=device),
        names=[f"grads[{k!r}]" for k in keys],
    )  # fmt: skip
