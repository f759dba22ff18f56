"""HW1 part A: linear regression from scratch.

Fill in each function, then run `grade hw1` to check your work.

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
    raise NotImplementedError("predict (task 'predict')")


def mse_loss(pred, y):
    """Mean squared error over the N examples: a scalar tensor."""
    raise NotImplementedError("mse_loss (task 'losses')")


def mae_loss(pred, y):
    """Mean absolute error over the N examples: a scalar tensor."""
    raise NotImplementedError("mae_loss (task 'losses')")


def mse_gradients(x, y, w, b):
    """Gradient of mse_loss(predict(x, w, b), y) with respect to w and b, by hand.

    Returns (dw, db): dw has shape (D,), db is a scalar tensor. Do not use autograd.
    """
    raise NotImplementedError("mse_gradients (task 'gradients')")


def gradient_descent(x, y, lr, steps, w0=None, b0=None):
    """Plain gradient descent on the MSE, starting from w0, b0 (zeros when None).

    Returns (w, b, losses) where losses[i] is the MSE *before* update i.
    """
    raise NotImplementedError("gradient_descent (task 'gradient_descent')")
