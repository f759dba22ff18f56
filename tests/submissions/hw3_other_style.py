"""A correct hw3 written differently: state updated in place, config.get, numpy-free math,
eigen-decomposition via torch.linalg.eig on the symmetric matrix, Adam in torch.optim's form."""

import math

import torch


def sgd(w, dw, config=None):
    config = config if config is not None else {}
    lr = config.setdefault("lr", 1e-2)
    return w.clone().sub_(lr * dw), config


def sgd_momentum(w, dw, config=None):
    config = config if config is not None else {}
    lr, mu = config.setdefault("lr", 1e-2), config.setdefault("momentum", 0.9)
    v = config.get("velocity")
    if v is None:
        v = torch.zeros_like(w)
    v = v.mul(mu).add(dw, alpha=-lr)
    config["velocity"] = v
    return w.add(v), config


def adagrad(w, dw, config=None):
    config = config if config is not None else {}
    lr, eps = config.setdefault("lr", 1e-2), config.setdefault("eps", 1e-8)
    config["t"] = config.get("t", 0) + 1
    config["sum_sq"] = config.get("sum_sq", torch.zeros_like(w)) + dw.pow(2)
    return w - lr * dw / ((config["sum_sq"] / config["t"]).sqrt() + eps), config


def rmsprop(w, dw, config=None):
    config = config if config is not None else {}
    lr, rho, eps = config.setdefault("lr", 1e-2), config.setdefault("decay_rate", 0.99), config.setdefault("eps", 1e-8)
    cache = config.get("cache", torch.zeros_like(w))
    cache = torch.lerp(dw * dw, cache, rho)  # rho * cache + (1 - rho) * dw^2
    config["cache"] = cache
    return w - lr * dw / (cache.sqrt() + eps), config


def adam(w, dw, config=None):
    config = config if config is not None else {}
    lr, b1, b2, eps = (config.setdefault(k, d) for k, d in (("lr", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("eps", 1e-8)))
    t = config["t"] = config.get("t", 0) + 1
    m = config["m"] = b1 * config.get("m", torch.zeros_like(w)) + (1 - b1) * dw
    v = config["v"] = b2 * config.get("v", torch.zeros_like(w)) + (1 - b2) * dw * dw
    step = lr / (1 - b1**t)
    denom = v.sqrt() / math.sqrt(1 - b2**t) + eps  # torch.optim.Adam's arrangement
    return w - step * m / denom, config


def lr_at(step, base_lr, warmup_steps, total_steps, min_lr=0.0):
    if warmup_steps > 0 and step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    p = min(1.0, (step - warmup_steps) / span)
    return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * p)) / 2


def classify_critical_point(hessian, tol=1e-6):
    eig = torch.linalg.eigvals(hessian).real
    pos, neg = bool((eig > tol).any()), bool((eig < -tol).any())
    if pos and neg:
        return "saddle"
    if bool((eig.abs() <= tol).any()):
        return "degenerate"
    return "local_min" if pos else "local_max"


def escape_direction(hessian, tol=1e-6):
    eig, vec = torch.linalg.eigh(hessian)
    i = int(torch.argmin(eig))
    if eig[i] >= -tol:
        return None
    return -vec[:, i] / vec[:, i].norm()
