"""A correct hw3 in the CS231n style: every update rule changes w in place
(``w -= lr * dw``, as the CS231n optimizer docstrings allow) and returns it, with the
state kept in config. It deserves full marks, and its writes must not reach the checks'
own tensors (the public checks share one W between tasks)."""

import math

import torch


def _config(config, w, **defaults):
    config = {} if config is None else config
    for key, value in defaults.items():
        config.setdefault(key, torch.zeros_like(w) if value == "zeros" else value)
    return config


def sgd(w, dw, config=None):
    config = _config(config, w, lr=1e-2)
    w -= config["lr"] * dw
    return w, config


def sgd_momentum(w, dw, config=None):
    config = _config(config, w, lr=1e-2, momentum=0.9, velocity="zeros")
    v = config["velocity"]
    v.mul_(config["momentum"]).sub_(config["lr"] * dw)
    w += v
    return w, config


def adagrad(w, dw, config=None):
    config = _config(config, w, lr=1e-2, eps=1e-8, sum_sq="zeros", t=0)
    config["t"] += 1
    config["sum_sq"] += dw * dw
    w -= config["lr"] * dw / (torch.sqrt(config["sum_sq"] / config["t"]) + config["eps"])
    return w, config


def rmsprop(w, dw, config=None):
    config = _config(config, w, lr=1e-2, decay_rate=0.99, eps=1e-8, cache="zeros")
    d = config["decay_rate"]
    config["cache"].mul_(d).add_((1 - d) * dw * dw)
    w -= config["lr"] * dw / (torch.sqrt(config["cache"]) + config["eps"])
    return w, config


def adam(w, dw, config=None):
    config = _config(config, w, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, m="zeros", v="zeros", t=0)
    b1, b2 = config["beta1"], config["beta2"]
    config["t"] += 1
    t = config["t"]
    config["m"].mul_(b1).add_((1 - b1) * dw)
    config["v"].mul_(b2).add_((1 - b2) * dw * dw)
    m_hat = config["m"] / (1 - b1**t)
    v_hat = config["v"] / (1 - b2**t)
    w -= config["lr"] * m_hat / (torch.sqrt(v_hat) + config["eps"])
    return w, config


def lr_at(step, base_lr, warmup_steps, total_steps, min_lr=0.0):
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    p = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_lr + 0.5 * (base_lr - min_lr) * (1 + math.cos(math.pi * p))


def classify_critical_point(hessian, tol=1e-6):
    eig = torch.linalg.eigvalsh(hessian)
    if (eig > tol).any() and (eig < -tol).any():
        return "saddle"
    if (eig.abs() <= tol).any():
        return "degenerate"
    return "local_min" if (eig > 0).all() else "local_max"


def escape_direction(hessian, tol=1e-6):
    eig, vec = torch.linalg.eigh(hessian)
    if eig[0] >= -tol:
        return None
    v = vec[:, 0]
    return v / v.norm()
