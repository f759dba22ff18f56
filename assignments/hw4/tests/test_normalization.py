"""Public checks for hw4: small examples worked by hand. The hidden checks add float64,
CUDA, constant columns, features far from zero, several train steps, eval with a batch of
one, torch.nn.functional.batch_norm as a second opinion, and gradient checks down to a
batch of two."""

import pytest
import torch

from grader.checks import assert_close, check_directional


@pytest.mark.task("standardize")
def test_standardize_small_example(student):
    train = torch.tensor([[1.0, 5.0], [3.0, 5.0]])
    test = torch.tensor([[2.0, 7.0]])
    train_n, test_n, mean, std = student.standardize(train, test)
    assert_close(mean, torch.tensor([2.0, 5.0]), name="mean")
    assert_close(std, torch.tensor([1.0, 0.0]), name="std (population; the second column is constant)")
    assert_close(train_n, torch.tensor([[-1.0, 0.0], [1.0, 0.0]]), name="train_n")
    assert_close(test_n, torch.tensor([[0.0, 2.0]]), name="test_n (a constant column is only centred)")


@pytest.mark.task("batchnorm_forward")
def test_batchnorm_train_then_eval(student):
    x = torch.tensor([[1.0, 2.0], [3.0, 6.0]])
    gamma, beta = torch.tensor([1.0, 2.0]), torch.tensor([0.0, 1.0])
    bn_param = {"mode": "train", "eps": 0.0, "momentum": 0.5}
    out, _ = student.batchnorm_forward.keeping_objects(x, gamma, beta, bn_param)
    assert_close(out, torch.tensor([[-1.0, -1.0], [1.0, 3.0]]), name="out (train)")
    assert_close(bn_param["running_mean"], torch.tensor([1.0, 2.0]), name="running_mean after one step")
    assert_close(bn_param["running_var"], torch.tensor([0.5, 2.0]), name="running_var (biased batch variance)")
    bn_param["mode"] = "eval"
    out, _ = student.batchnorm_forward.keeping_objects(torch.tensor([[2.0, 4.0]]), gamma, beta, bn_param)
    assert_close(out, torch.tensor([[2**0.5, 1 + 2 * 2 * 2**-0.5]]), name="out (eval, running statistics)")


@pytest.mark.task("batchnorm_backward")
def test_batchnorm_backward_agrees_with_its_forward(student):
    x = torch.randn(5, 3, dtype=torch.float64) * 2 + 1
    gamma, beta = torch.randn(3, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    dout = torch.randn(5, 3, dtype=torch.float64)
    _, cache = student.batchnorm_forward.keeping_objects(x, gamma, beta, {"mode": "train"})
    grads = student.batchnorm_backward(dout, cache)

    def forward(x, gamma, beta):
        mu = x.mean(0)
        var = ((x - mu) ** 2).mean(0)
        return gamma * (x - mu) / torch.sqrt(var + 1e-5) + beta

    check_directional(forward, (x, gamma, beta), grads, dout, names=("dx", "dgamma", "dbeta"))
