"""HW5: dropout and weight decay by hand (reference solution).

Tensors are float32 or float64, on any device; a result lives on its input's device and
has its dtype. The dropout functions may not use the library's dropout in any form
(``torch.nn.functional.dropout``, ``torch.nn.Dropout``, ``torch.dropout``, ...): draw the
mask yourself.

Weight decay decays the weights only: a parameter whose name ends in ``"weight"``
(``"fc1.weight"``, ``"weight"``) is decayed, every other one, the biases (names ending in
``"bias"``, ``"fc1.bias"``) above all, is not.

In-place updates: none. Every argument is an input only: each call gets its own copies,
so a change made to one in place reaches nobody; only what you return is graded.
"""

import torch


def dropout_forward(x, p, mode, seed):
    """Inverted dropout of x (any shape, float32 or float64, on any device).

    p: the probability of dropping each entry, 0 <= p < 1; any other p (p = 1, where
    nothing is kept and 1 / (1 - p) is infinite, included) raises ValueError, in either
    mode. mode: "train" or "eval"; anything else raises ValueError.

    Train mode: every entry is kept independently with probability 1 - p; a kept entry
    is scaled by 1 / (1 - p) (out = x / (1 - p) there) and a dropped one is exactly 0,
    so out has x's expectation. p = 0 keeps every entry: out equals x.
    Eval mode: the identity: out is x, unscaled, whatever p.

    seed: an int. Draw the mask from a ``torch.Generator`` on x's device seeded with it
    (``g = torch.Generator(device=x.device); g.manual_seed(seed)``), so the same seed
    gives the same mask and another seed another, independent mask. How you draw from
    it is yours (``torch.rand(x.shape, generator=g, device=x.device) >= p``,
    ``torch.bernoulli(..., generator=g)``, ...): the checks compare no particular draw.
    They find the mask where out is nonzero (x has no zero entries there) and check
    that out is x / (1 - p) or exactly 0 everywhere, that the kept fraction is near
    1 - p over large tensors, overall and in every row and column, that the same seed
    gives the same mask, that two seeds' masks differ about as much as independent
    draws do, and that out has x's shape, dtype and device.

    Returns (out, cache): the cache holds what dropout_backward needs (the mask); it
    stays with your code, and the checks hand it to your dropout_backward unread.
    """
    # BEGIN SOLUTION
    if not 0 <= p < 1:
        raise ValueError(f"p must satisfy 0 <= p < 1, got {p!r}")
    if mode == "eval":
        return x, (None, p)
    if mode != "train":
        raise ValueError(f"mode must be 'train' or 'eval', got {mode!r}")
    generator = torch.Generator(device=x.device).manual_seed(seed)
    mask = torch.rand(x.shape, generator=generator, device=x.device) >= p
    return x * mask / (1 - p), (mask, p)
    # END SOLUTION


def dropout_backward(dout, cache):
    """The gradient dx of dropout_forward's out, given dout (out's shape) and the
    cache of the forward call that made out.

    Reuse that call's mask (never draw a new one): dx is dout / (1 - p) where the
    entry was kept and exactly 0 where it was dropped. A cache from eval mode (or
    p = 0) gives dx equal to dout. dx has dout's shape, dtype and device.
    """
    # BEGIN SOLUTION
    mask, p = cache
    if mask is None:
        return dout
    return dout * mask / (1 - p)
    # END SOLUTION


def l2_penalty(params, weight_decay):
    """The L2 penalty on the weights, and its gradient for every parameter.

    params: a non-empty dict name -> tensor. Only the weights are decayed: the names
    ending in "weight"; every other name (the biases, names ending in "bias") is not.
    weight_decay: a float >= 0.

    loss = weight_decay / 2 * (the sum of the squares of every weight's entries),
    a 0-dim tensor of the weights' dtype on their device (0 when there are none).
    grads: a dict with every name of params: weight_decay * w for a weight, zeros
    (of the bias's shape, dtype and device) for everything else.

    Returns (loss, grads).
    """
    # BEGIN SOLUTION
    first = next(iter(params.values()))
    loss = torch.zeros((), dtype=first.dtype, device=first.device)
    grads = {}
    for name, w in params.items():
        if name.endswith("weight"):
            loss = loss + (w * w).sum()
            grads[name] = weight_decay * w
        else:
            grads[name] = torch.zeros_like(w)
    return weight_decay / 2 * loss, grads
    # END SOLUTION
