"""HW3: optimizers and critical points (reference solution).

Each update rule takes the weights ``w``, their gradient ``dw`` and a ``config`` dict
(None means {}), fills in missing hyperparameters and state with their defaults, and
returns ``(next_w, config)`` with the state updated, as in CS231n. Tensors are float32
or float64, on any device. The optimizer tasks may not use ``torch.optim``.

In-place updates: ``config`` is updated in place and returned (the caller sees both).
``w`` may be updated in place (``w -= lr * dw``) or left alone with a new tensor
returned: either way only the returned ``next_w`` is graded. ``dw`` is an input only.
"""

import math

import torch


def _state(config, w, **defaults):
    config = {} if config is None else config
    for key, value in defaults.items():
        if key not in config:
            config[key] = torch.zeros_like(w) if value == "zeros" else value
    return config


def sgd(w, dw, config=None):
    """Vanilla gradient descent: next_w = w - lr * dw. config: lr (1e-2). Returns (next_w, config)."""
    # BEGIN SOLUTION
    config = _state(config, w, lr=1e-2)
    return w - config["lr"] * dw, config
    # END SOLUTION


def sgd_momentum(w, dw, config=None):
    """v = momentum * v - lr * dw; next_w = w + v. Returns (next_w, config).

    config: lr (1e-2), momentum (0.9), velocity (zeros).
    """
    # BEGIN SOLUTION
    config = _state(config, w, lr=1e-2, momentum=0.9, velocity="zeros")
    v = config["momentum"] * config["velocity"] - config["lr"] * dw
    config["velocity"] = v
    return w + v, config
    # END SOLUTION


def adagrad(w, dw, config=None):
    """The lecture's root-mean-square form.

    t += 1; sum_sq += dw**2; sigma = sqrt(sum_sq / t); next_w = w - lr * dw / (sigma + eps).
    config: lr (1e-2), eps (1e-8), sum_sq (zeros), t (0). Returns (next_w, config).
    """
    # BEGIN SOLUTION
    config = _state(config, w, lr=1e-2, eps=1e-8, sum_sq="zeros", t=0)
    config["t"] += 1
    config["sum_sq"] = config["sum_sq"] + dw * dw
    sigma = torch.sqrt(config["sum_sq"] / config["t"])
    return w - config["lr"] * dw / (sigma + config["eps"]), config
    # END SOLUTION


def rmsprop(w, dw, config=None):
    """cache = decay_rate * cache + (1 - decay_rate) * dw**2; next_w = w - lr * dw / (sqrt(cache) + eps).

    config: lr (1e-2), decay_rate (0.99), eps (1e-8), cache (zeros). Returns (next_w, config).
    """
    # BEGIN SOLUTION
    config = _state(config, w, lr=1e-2, decay_rate=0.99, eps=1e-8, cache="zeros")
    d = config["decay_rate"]
    config["cache"] = d * config["cache"] + (1 - d) * dw * dw
    return w - config["lr"] * dw / (torch.sqrt(config["cache"]) + config["eps"]), config
    # END SOLUTION


def adam(w, dw, config=None):
    """Adam with bias correction; t is incremented before use. Same result as torch.optim.Adam.

    config: lr (1e-3), beta1 (0.9), beta2 (0.999), eps (1e-8), m (zeros), v (zeros), t (0).
    Returns (next_w, config).
    """
    # BEGIN SOLUTION
    config = _state(config, w, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, m="zeros", v="zeros", t=0)
    b1, b2 = config["beta1"], config["beta2"]
    config["t"] += 1
    t = config["t"]
    config["m"] = b1 * config["m"] + (1 - b1) * dw
    config["v"] = b2 * config["v"] + (1 - b2) * dw * dw
    m_hat = config["m"] / (1 - b1**t)
    v_hat = config["v"] / (1 - b2**t)
    return w - config["lr"] * m_hat / (torch.sqrt(v_hat) + config["eps"]), config
    # END SOLUTION


def lr_at(step, base_lr, warmup_steps, total_steps, min_lr=0.0):
    """Learning rate at ``step`` (from 0): linear warm-up, then cosine decay to min_lr.

    step < warmup_steps: base_lr * (step + 1) / warmup_steps; otherwise, with
    p = min(1, (step - warmup_steps) / max(1, total_steps - warmup_steps)):
    min_lr + 0.5 * (base_lr - min_lr) * (1 + cos(pi * p)). Returns a float.
    """
    # BEGIN SOLUTION
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    p = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_lr + 0.5 * (base_lr - min_lr) * (1 + math.cos(math.pi * p))
    # END SOLUTION


def classify_critical_point(hessian, tol=1e-6):
    """"saddle", "degenerate", "local_min" or "local_max" from a symmetric Hessian.

    saddle: eigenvalues above tol and below -tol; otherwise degenerate: any eigenvalue
    within tol of 0; otherwise local_min (all positive) or local_max (all negative).
    tol is absolute (not relative to the largest eigenvalue). The Hessian is an input only.
    """
    # BEGIN SOLUTION
    eig = torch.linalg.eigvalsh(hessian)
    if (eig > tol).any() and (eig < -tol).any():
        return "saddle"
    if (eig.abs() <= tol).any():
        return "degenerate"
    return "local_min" if (eig > 0).all() else "local_max"
    # END SOLUTION


def escape_direction(hessian, tol=1e-6):
    """Unit eigenvector of the most negative eigenvalue (either sign), or None when no
    eigenvalue is below -tol: the direction that leads down from a saddle point."""
    # BEGIN SOLUTION
    eig, vec = torch.linalg.eigh(hessian)
    if eig[0] >= -tol:
        return None
    v = vec[:, 0]
    return v / v.norm()
    # END SOLUTION
