"""HW1 part A: linear regression from scratch (reference solution).

The model is y_hat = x @ w + b; the loss is the mean squared error; training is
plain gradient descent with gradients derived by hand (lecture 1: model, loss,
optimization). Tensors are float32 or float64, on any device.

Arguments are inputs only: each call gets its own copies, so a change made to one in
place reaches nobody (not w0 in gradient_descent either); only what you return is graded.
"""

import torch


def predict(x, w, b):
    """Predictions of a linear model.

    x: (N, D) inputs; w: (D,) weights; b: scalar tensor bias. Returns (N,).
    """
    # BEGIN SOLUTION
    return x @ w + b
    # END SOLUTION


def mse_loss(pred, y):
    """Mean squared error over the N examples: a scalar tensor."""
    # BEGIN SOLUTION
    return ((pred - y) ** 2).mean()
    # END SOLUTION


def mae_loss(pred, y):
    """Mean absolute error over the N examples: a scalar tensor."""
    # BEGIN SOLUTION
    return (pred - y).abs().mean()
    # END SOLUTION


def mse_gradients(x, y, w, b):
    """Gradient of mse_loss(predict(x, w, b), y) with respect to w and b, by hand.

    Returns (dw, db): dw has shape (D,), db is a scalar tensor. Do not use autograd.
    """
    # BEGIN SOLUTION
    err = predict(x, w, b) - y
    n = x.shape[0]
    dw = 2.0 * (x.T @ err) / n
    db = 2.0 * err.sum() / n
    return dw, db
    # END SOLUTION


def gradient_descent(x, y, lr, steps, w0=None, b0=None):
    """Plain gradient descent on the MSE, starting from w0, b0 (zeros when None).

    Returns (w, b, losses) where losses[i] is the MSE *before* update i.
    """
    # BEGIN SOLUTION
    w = torch.zeros(x.shape[1], dtype=x.dtype, device=x.device) if w0 is None else w0.clone()
    b = torch.zeros((), dtype=x.dtype, device=x.device) if b0 is None else torch.as_tensor(b0, dtype=x.dtype, device=x.device).clone()
    losses = []
    for _ in range(steps):
        losses.append(mse_loss(predict(x, w, b), y))
        dw, db = mse_gradients(x, y, w, b)
        w = w - lr * dw
        b = b - lr * db
    return w, b, losses
    # END SOLUTION
