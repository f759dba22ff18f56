"""HW4: feature normalization and batch normalization.

Fill in each function, then run `grade hw4` to check your work.

Tensors are float32 or float64, on any device. The batch-norm functions may not use
autograd or ``torch.nn.functional.batch_norm``.

In-place updates: ``bn_param`` is the one argument a function here changes for its
caller (``batchnorm_forward`` keeps the running statistics in it, and they are graded
there). Every other argument is an input only: each call gets its own copies, so a
change made to one in place reaches nobody; only what you return is graded.
"""

import torch


def standardize(train_x, test_x):
    """Per-column standardization with statistics from the training set only.

    train_x (N, D), test_x (M, D). Uses the population std (divide by N). A column
    whose std is 0 is only centred. Returns (train_n, test_n, mean, std) with mean and
    std of shape (D,).
    """
    raise NotImplementedError("standardize (task 'standardize')")


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization of x (N, D) with scale gamma (D,) and shift beta (D,).

    bn_param: "mode" ("train" or "eval", required), "eps" (1e-5), "momentum" (0.9),
    "running_mean" and "running_var" (zeros of shape (D,) when absent).
    Train mode normalizes with the batch mean and biased variance and updates
    running_x = momentum * running_x + (1 - momentum) * batch_x in bn_param (in place:
    assign the keys or update the tensors, keeping their shape (D,)); eval mode
    normalizes with the running statistics and changes nothing. Returns (out, cache).
    """
    raise NotImplementedError("batchnorm_forward (task 'batchnorm_forward')")


def batchnorm_backward(dout, cache):
    """Gradients of a train-mode batchnorm_forward: returns (dx, dgamma, dbeta).

    Remember that the batch mean and variance depend on x too.
    """
    raise NotImplementedError("batchnorm_backward (task 'batchnorm_backward')")
