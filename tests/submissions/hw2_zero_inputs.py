"""A hostile hw2 (the security review's reproduction): every function zeroes its
arguments in place — x, dout, the values of the params dict, even y — and returns the
trivial answer for all-zero inputs. It must score nothing: the checks' inputs are their
own, and a change the worker makes to its copies never reaches them."""

import torch


def _z(*ts):
    with torch.no_grad():
        for t in ts:
            if isinstance(t, torch.Tensor):
                t.zero_()
            elif isinstance(t, dict):
                _z(*t.values())


def linear_forward(x, w, b):
    _z(x, w, b)
    return torch.zeros(x.shape[0], w.shape[1], dtype=x.dtype, device=x.device), (x, w, b)


def linear_backward(dout, cache):
    x, w, b = cache
    _z(dout)
    return torch.zeros_like(x), torch.zeros_like(w), torch.zeros_like(b)


def relu_forward(x):
    _z(x)
    return torch.zeros_like(x), x


def relu_backward(dout, cache):
    _z(dout)
    return torch.zeros_like(dout)


def sigmoid_forward(x):
    _z(x)
    return torch.full_like(x, 0.5), x


sigmoid_backward = relu_backward


def tanh_forward(x):
    _z(x)
    return torch.zeros_like(x), x


tanh_backward = relu_backward


def softmax(logits):
    _z(logits)
    return torch.full_like(logits, 1.0 / logits.shape[1])


def _ce(logits):
    n, c = logits.shape
    d = torch.full_like(logits, 1.0 / c)
    d[:, 0] -= 1
    return torch.log(torch.tensor(float(c), dtype=logits.dtype, device=logits.device)), d / n


def cross_entropy_loss(logits, y):
    _z(logits, y)
    return _ce(logits)


def mse_loss(pred, target):
    _z(pred, target)
    return torch.zeros((), dtype=pred.dtype, device=pred.device), torch.zeros_like(pred)


def mlp_loss(params, x, y):
    _z(params, x, y)
    n, c = x.shape[0], params["W2"].shape[1]
    loss, d = _ce(torch.zeros(n, c, dtype=x.dtype, device=x.device))
    zeros = {k: torch.zeros_like(params[k]) for k in ("W1", "b1", "W2")}
    return loss, {**zeros, "b2": d.sum(0)}
