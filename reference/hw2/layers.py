"""HW2: forward and backward passes by hand (reference solution).

Each layer's forward returns ``(out, cache)``; its backward takes the upstream
gradient ``dout`` and that cache and returns the gradients of its inputs, derived by
the chain rule. The cache holds whatever the backward needs. Tensors are float32 or
float64, on any device. Backward passes, the losses and ``mlp_loss`` must not use
autograd, ``Tensor.backward``, ``torch.nn.functional`` or ``torch.func``.

Arguments are inputs only: each call gets its own copies, so a change made to one in
place (to ``x``, ``dout`` or ``params``, say) reaches nobody; only what you return is graded.
"""

import torch


def linear_forward(x, w, b):
    """out = x @ w + b for x (N, D), w (D, M), b (M,). Returns (out, cache)."""
    # BEGIN SOLUTION
    return x @ w + b, (x, w)
    # END SOLUTION


def linear_backward(dout, cache):
    """Given dout (N, M), returns (dx, dw, db) with the shapes of x, w and b."""
    # BEGIN SOLUTION
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(dim=0)
    # END SOLUTION


def relu_forward(x):
    """max(x, 0), elementwise. Returns (out, cache)."""
    # BEGIN SOLUTION
    return x.clamp(min=0), x
    # END SOLUTION


def relu_backward(dout, cache):
    """dx; the derivative at exactly 0 is taken to be 0."""
    # BEGIN SOLUTION
    return dout * (cache > 0).to(dout.dtype)
    # END SOLUTION


def sigmoid_forward(x):
    """1 / (1 + exp(-x)), elementwise, without overflow for large |x|. Returns (out, cache)."""
    # BEGIN SOLUTION
    out = torch.sigmoid(x)
    return out, out
    # END SOLUTION


def sigmoid_backward(dout, cache):
    """dx, using sigmoid'(x) = s (1 - s)."""
    # BEGIN SOLUTION
    return dout * cache * (1 - cache)
    # END SOLUTION


def tanh_forward(x):
    """tanh(x), elementwise. Returns (out, cache)."""
    # BEGIN SOLUTION
    out = torch.tanh(x)
    return out, out
    # END SOLUTION


def tanh_backward(dout, cache):
    """dx, using tanh'(x) = 1 - tanh(x)^2."""
    # BEGIN SOLUTION
    return dout * (1 - cache * cache)
    # END SOLUTION


def softmax(logits):
    """Row-wise softmax of (N, C) logits, stable for logits as large as ±1e4."""
    # BEGIN SOLUTION
    z = logits - logits.max(dim=1, keepdim=True).values
    e = z.exp()
    return e / e.sum(dim=1, keepdim=True)
    # END SOLUTION


def cross_entropy_loss(logits, y):
    """Mean over the batch of -log softmax(logits)[i, y[i]], and its gradient.

    logits (N, C); y (N,) int64 class indices. Returns (loss, dlogits): a scalar
    tensor and a tensor shaped like logits.
    """
    # BEGIN SOLUTION
    n = logits.shape[0]
    z = logits - logits.max(dim=1, keepdim=True).values
    log_probs = z - z.exp().sum(dim=1, keepdim=True).log()
    rows = torch.arange(n, device=logits.device)
    loss = -log_probs[rows, y].mean()
    dlogits = log_probs.exp()
    dlogits[rows, y] -= 1
    return loss, dlogits / n
    # END SOLUTION


def mse_loss(pred, target):
    """Mean over all elements of (pred - target)^2, and its gradient. Returns (loss, dpred)."""
    # BEGIN SOLUTION
    diff = pred - target
    return (diff * diff).mean(), 2 * diff / diff.numel()
    # END SOLUTION


def mlp_loss(params, x, y):
    """A two-layer network's loss and gradients: linear -> ReLU -> linear -> softmax cross-entropy.

    params: dict with W1 (D, H), b1 (H,), W2 (H, C), b2 (C,). x (N, D); y (N,) int64.
    Returns (loss, grads) with grads a dict of the same keys and shapes.
    """
    # BEGIN SOLUTION
    h, c1 = linear_forward(x, params["W1"], params["b1"])
    a, c2 = relu_forward(h)
    scores, c3 = linear_forward(a, params["W2"], params["b2"])
    loss, dscores = cross_entropy_loss(scores, y)
    da, dW2, db2 = linear_backward(dscores, c3)
    dh = relu_backward(da, c2)
    _, dW1, db1 = linear_backward(dh, c1)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
    # END SOLUTION
