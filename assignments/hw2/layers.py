"""HW2: forward and backward passes by hand.

Fill in each function, then run `grade hw2` to check your work.

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
    raise NotImplementedError("linear_forward (task 'linear_forward')")


def linear_backward(dout, cache):
    """Given dout (N, M), returns (dx, dw, db) with the shapes of x, w and b."""
    raise NotImplementedError("linear_backward (task 'linear_backward')")


def relu_forward(x):
    """max(x, 0), elementwise. Returns (out, cache)."""
    raise NotImplementedError("relu_forward (task 'activations_forward')")


def relu_backward(dout, cache):
    """dx; the derivative at exactly 0 is taken to be 0."""
    raise NotImplementedError("relu_backward (task 'activations_backward')")


def sigmoid_forward(x):
    """1 / (1 + exp(-x)), elementwise, without overflow for large |x|. Returns (out, cache)."""
    raise NotImplementedError("sigmoid_forward (task 'activations_forward')")


def sigmoid_backward(dout, cache):
    """dx, using sigmoid'(x) = s (1 - s)."""
    raise NotImplementedError("sigmoid_backward (task 'activations_backward')")


def tanh_forward(x):
    """tanh(x), elementwise. Returns (out, cache)."""
    raise NotImplementedError("tanh_forward (task 'activations_forward')")


def tanh_backward(dout, cache):
    """dx, using tanh'(x) = 1 - tanh(x)^2."""
    raise NotImplementedError("tanh_backward (task 'activations_backward')")


def softmax(logits):
    """Row-wise softmax of (N, C) logits, stable for logits as large as ±1e4."""
    raise NotImplementedError("softmax (task 'softmax')")


def cross_entropy_loss(logits, y):
    """Mean over the batch of -log softmax(logits)[i, y[i]], and its gradient.

    logits (N, C); y (N,) int64 class indices. Returns (loss, dlogits): a scalar
    tensor and a tensor shaped like logits.
    """
    raise NotImplementedError("cross_entropy_loss (task 'cross_entropy')")


def mse_loss(pred, target):
    """Mean over all elements of (pred - target)^2, and its gradient. Returns (loss, dpred)."""
    raise NotImplementedError("mse_loss (task 'mse')")


def mlp_loss(params, x, y):
    """A two-layer network's loss and gradients: linear -> ReLU -> linear -> softmax cross-entropy.

    params: dict with W1 (D, H), b1 (H,), W2 (H, C), b2 (C,). x (N, D); y (N,) int64.
    Returns (loss, grads) with grads a dict of the same keys and shapes.
    """
    raise NotImplementedError("mlp_loss (task 'mlp')")
