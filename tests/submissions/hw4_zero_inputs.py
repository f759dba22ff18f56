"""A hostile hw4: every function zeroes its inputs in place and returns what all-zero
inputs give (train-mode running statistics of zeros, eval mode leaving them alone). It
must score nothing: the checks compute their expected values from inputs the worker's
changes never reach. (bn_param is the one argument hw4 lets a call change.)"""

import torch


def _z(*ts):
    with torch.no_grad():
        for t in ts:
            if isinstance(t, torch.Tensor):
                t.zero_()


def standardize(train_x, test_x):
    _z(train_x, test_x)
    d = train_x.shape[1]
    zeros = torch.zeros(d, dtype=train_x.dtype, device=train_x.device)
    return torch.zeros_like(train_x), torch.zeros_like(test_x), zeros, zeros.clone()


def batchnorm_forward(x, gamma, beta, bn_param):
    _z(x, gamma, beta)
    if bn_param["mode"] == "train":
        d = x.shape[1]
        bn_param["running_mean"] = torch.zeros(d, dtype=x.dtype, device=x.device)
        bn_param["running_var"] = torch.zeros(d, dtype=x.dtype, device=x.device)
    return torch.zeros_like(x), (x, gamma)


def batchnorm_backward(dout, cache):
    x, gamma = cache
    _z(dout)
    return torch.zeros_like(x), torch.zeros_like(gamma), torch.zeros_like(gamma)
