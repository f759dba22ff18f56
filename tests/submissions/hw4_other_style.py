"""A correct hw4 written differently: var(unbiased=False), rsqrt, the "three-term" backward,
a dict cache, running statistics updated in place."""

import torch


def standardize(train_x, test_x):
    mean = train_x.mean(0)
    std = train_x.var(0, unbiased=False).sqrt()
    safe = std.masked_fill(std == 0, 1.0)
    return (train_x - mean) / safe, (test_x - mean) / safe, mean, std


def batchnorm_forward(x, gamma, beta, bn_param):
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    bn_param.setdefault("running_mean", torch.zeros(x.shape[1], dtype=x.dtype, device=x.device))
    bn_param.setdefault("running_var", torch.zeros(x.shape[1], dtype=x.dtype, device=x.device))
    if bn_param["mode"] == "train":
        var, mu = torch.var_mean(x, dim=0, unbiased=False)
        bn_param["running_mean"].mul_(momentum).add_((1 - momentum) * mu)
        bn_param["running_var"].mul_(momentum).add_((1 - momentum) * var)
    else:
        mu, var = bn_param["running_mean"], bn_param["running_var"]
    xc = x - mu
    istd = torch.rsqrt(var + eps)
    return xc * istd * gamma + beta, {"xc": xc, "istd": istd, "gamma": gamma}


def batchnorm_backward(dout, cache):
    xc, istd, gamma = cache["xc"], cache["istd"], cache["gamma"]
    n = dout.shape[0]
    xhat = xc * istd
    dxhat = dout * gamma
    dvar = (dxhat * xc).sum(0) * -0.5 * istd**3
    dmu = -(dxhat * istd).sum(0) + dvar * (-2.0 / n) * xc.sum(0)
    dx = dxhat * istd + dvar * 2.0 * xc / n + dmu / n
    return dx, (dout * xhat).sum(0), dout.sum(0)
