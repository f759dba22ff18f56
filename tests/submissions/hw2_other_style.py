"""A correct hw2 written differently from the reference: einsum, torch.where, log-sum-exp,
dict and object caches, F in a forward task (allowed there)."""

import torch
import torch.nn.functional as F


class Cache:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def linear_forward(x, w, b):
    return F.linear(x, w.T, b), Cache(x=x, w=w)


def linear_backward(dout, cache):
    dx = torch.einsum("nm,dm->nd", dout, cache.w)
    dw = torch.einsum("nd,nm->dm", cache.x, dout)
    return dx, dw, torch.einsum("nm->m", dout)


def relu_forward(x):
    return torch.where(x > 0, x, torch.zeros_like(x)), {"mask": x > 0}


def relu_backward(dout, cache):
    return torch.where(cache["mask"], dout, torch.zeros_like(dout))


def sigmoid_forward(x):
    # stable both ways: exp of a non-positive number only
    e = torch.exp(-x.abs())
    out = torch.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return out, [out]


def sigmoid_backward(dout, cache):
    (s,) = cache
    return dout * (s - s * s)


def tanh_forward(x):
    return 2 * torch.sigmoid(2 * x) - 1, x


def tanh_backward(dout, cache):
    return dout / torch.cosh(cache) ** 2


def softmax(logits):
    return torch.exp(logits - torch.logsumexp(logits, dim=1, keepdim=True))


def cross_entropy_loss(logits, y):
    log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    one_hot = torch.zeros_like(logits)
    one_hot[torch.arange(len(y), device=y.device), y] = 1.0
    loss = -(one_hot * log_p).sum() / len(y)
    return loss, (torch.exp(log_p) - one_hot) / len(y)


def mse_loss(pred, target):
    n = pred.numel()
    d = pred - target
    return d.pow(2).sum() / n, d * (2.0 / n)


def mlp_loss(params, x, y):
    z1 = x @ params["W1"] + params["b1"]
    a1 = z1.clamp_min(0)
    z2 = a1 @ params["W2"] + params["b2"]
    loss, dz2 = cross_entropy_loss(z2, y)
    grads = {"W2": a1.T @ dz2, "b2": dz2.sum(0)}
    dz1 = (dz2 @ params["W2"].T) * (z1 > 0)
    grads["W1"] = x.T @ dz1
    grads["b1"] = dz1.sum(0)
    return loss, grads
