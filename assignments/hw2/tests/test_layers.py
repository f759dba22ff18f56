"""Public checks for hw2: small worked examples you can reproduce by hand.

The hidden checks use other shapes and seeds, float64, CUDA when present, and edge
cases (a batch of one, ReLU inputs at exactly 0, logits near ±1e4, non-contiguous
inputs), and compare every gradient with autograd through the reference forward.
"""

import pytest
import torch

from grader.checks import assert_close, check_directional


@pytest.mark.task("linear_forward")
def test_linear_forward_small_example(student):
    x = torch.tensor([[1.0, 2.0]])
    w = torch.tensor([[1.0, 0.0, -1.0], [0.5, 2.0, 1.0]])
    b = torch.tensor([0.0, 1.0, 2.0])
    out, _ = student.linear_forward.keeping_objects(x, w, b)
    assert_close(out, torch.tensor([[2.0, 5.0, 3.0]]), name="out")


@pytest.mark.task("linear_backward")
def test_linear_backward_agrees_with_its_forward(student):
    x, w, b = torch.randn(4, 3, dtype=torch.float64), torch.randn(3, 2, dtype=torch.float64), torch.randn(2, dtype=torch.float64)
    dout = torch.randn(4, 2, dtype=torch.float64)
    _, cache = student.linear_forward.keeping_objects(x, w, b)
    grads = student.linear_backward(dout, cache)

    def forward(x, w, b):
        return x @ w + b

    check_directional(forward, (x, w, b), grads, dout, names=("dx", "dw", "db"))


@pytest.mark.task("activations_forward")
def test_relu_sigmoid_tanh_small_example(student):
    x = torch.tensor([-2.0, 0.0, 3.0])
    assert_close(student.relu_forward.keeping_objects(x)[0], torch.tensor([0.0, 0.0, 3.0]), name="relu")
    assert_close(student.sigmoid_forward.keeping_objects(x)[0], torch.sigmoid(x), name="sigmoid")
    assert_close(student.tanh_forward.keeping_objects(x)[0], torch.tanh(x), name="tanh")


@pytest.mark.task("activations_backward")
def test_relu_backward_small_example(student):
    x = torch.tensor([-2.0, 0.5, 3.0])
    _, cache = student.relu_forward.keeping_objects(x)
    assert_close(student.relu_backward(torch.tensor([1.0, 2.0, 3.0]), cache), torch.tensor([0.0, 2.0, 3.0]), name="dx")


@pytest.mark.task("softmax")
def test_softmax_rows_sum_to_one(student):
    probs = student.softmax(torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]))
    assert_close(probs, torch.tensor([[0.09003057, 0.24472847, 0.66524096], [1 / 3, 1 / 3, 1 / 3]]), name="softmax")


@pytest.mark.task("cross_entropy")
def test_cross_entropy_uniform_logits(student):
    loss, dlogits = student.cross_entropy_loss(torch.zeros(2, 4), torch.tensor([1, 3]))
    assert_close(loss, torch.log(torch.tensor(4.0)), name="loss")
    assert_close(dlogits, torch.tensor([[0.125, -0.375, 0.125, 0.125], [0.125, 0.125, 0.125, -0.375]]), name="dlogits")


@pytest.mark.task("mse")
def test_mse_small_example(student):
    loss, dpred = student.mse_loss(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 4.0]))
    assert_close(loss, torch.tensor(2.5), name="loss")
    assert_close(dpred, torch.tensor([1.0, -2.0]), name="dpred")


@pytest.mark.task("mlp")
@pytest.mark.structure  # shapes and keys alone: scores only when the value check below passes
def test_mlp_loss_shapes(student):
    params = {"W1": torch.randn(5, 4), "b1": torch.zeros(4), "W2": torch.randn(4, 3), "b2": torch.zeros(3)}
    loss, grads = student.mlp_loss(params, torch.randn(6, 5), torch.tensor([0, 1, 2, 0, 1, 2]))
    assert isinstance(grads, dict) and set(grads) == set(params), f"grads should have the keys {sorted(params)}"
    for k, v in params.items():
        assert_close(grads[k].shape, v.shape, name=f"grads[{k!r}].shape")
    assert loss.dim() == 0, "the loss should be a scalar tensor"


@pytest.mark.task("mlp")
def test_mlp_loss_agrees_with_its_forward(student):
    params = {k: torch.randn(*shape, dtype=torch.float64) * 0.5 for k, shape in (("W1", (5, 4)), ("b1", (4,)), ("W2", (4, 3)), ("b2", (3,)))}
    x, y = torch.randn(6, 5, dtype=torch.float64), torch.tensor([0, 1, 2, 0, 1, 2])

    def forward(w1, b1, w2, b2):  # linear -> ReLU -> linear -> mean softmax cross-entropy
        scores = (x @ w1 + b1).clamp(min=0) @ w2 + b2
        return -(scores.log_softmax(dim=1)[torch.arange(6), y]).mean()

    keys = ("W1", "b1", "W2", "b2")
    loss, grads = student.mlp_loss(params, x, y)
    assert_close(loss, forward(*(params[k] for k in keys)), name="loss")
    assert isinstance(grads, dict) and set(grads) == set(keys), f"grads should be a dict with the keys {list(keys)}"
    check_directional(forward, [params[k] for k in keys], [grads[k] for k in keys], torch.ones((), dtype=torch.float64),
                      names=[f"grads[{k!r}]" for k in keys])  # fmt: skip
