"""HW4: feature normalization and batch normalization (reference solution).

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
    # BEGIN SOLUTION
    mean = train_x.mean(dim=0)
    std = ((train_x - mean) ** 2).mean(dim=0).sqrt()
    scale = torch.where(std > 0, std, torch.ones_like(std))
    return (train_x - mean) / scale, (test_x - mean) / scale, mean, std
    # END SOLUTION


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization of x (N, D) with scale gamma (D,) and shift beta (D,).

    bn_param: "mode" ("train" or "eval", required), "eps" (1e-5), "momentum" (0.9),
    "running_mean" and "running_var" (zeros of shape (D,) when absent).
    Train mode normalizes with the batch mean and biased variance and updates
    running_x = momentum * running_x + (1 - momentum) * batch_x in bn_param (in place:
    assign the keys or update the tensors, keeping their shape (D,)); eval mode
    normalizes with the running statistics and changes nothing. Returns (out, cache).
    """
    # BEGIN SOLUTION
    mode = bn_param["mode"]
    eps = bn_param.setdefault("eps", 1e-5)
    momentum = bn_param.setdefault("momentum", 0.9)
    d = x.shape[1]
    if bn_param.get("running_mean") is None:
        bn_param["running_mean"] = torch.zeros(d, dtype=x.dtype, device=x.device)
    if bn_param.get("running_var") is None:
        bn_param["running_var"] = torch.zeros(d, dtype=x.dtype, device=x.device)
    if mode == "train":
        mu = x.mean(dim=0)
        var = ((x - mu) ** 2).mean(dim=0)
        bn_param["running_mean"] = momentum * bn_param["running_mean"] + (1 - momentum) * mu
        bn_param["running_var"] = momentum * bn_param["running_var"] + (1 - momentum) * var
    elif mode == "eval":
        mu, var = bn_param["running_mean"], bn_param["running_var"]
    else:
        raise ValueError(f"bn_param['mode'] must be 'train' or 'eval', got {mode!r}")
    inv_std = 1.0 / torch.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    return gamma * x_hat + beta, (x_hat, inv_std, gamma)
    # END SOLUTION


def batchnorm_backward(dout, cache):
    """Gradients of a train-mode batchnorm_forward: returns (dx, dgamma, dbeta).

    Remember that the batch mean and variance depend on x too.
    """
    # BEGIN SOLUTION
    x_hat, inv_std, gamma = cache
    n = dout.shape[0]
    dbeta = dout.sum(dim=0)
    dgamma = (dout * x_hat).sum(dim=0)
    dx_hat = dout * gamma
    dx = inv_std / n * (n * dx_hat - dx_hat.sum(dim=0) - x_hat * (dx_hat * x_hat).sum(dim=0))
    return dx, dgamma, dbeta
    # END SOLUTION
