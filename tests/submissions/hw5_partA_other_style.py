"""A correct hw5 Part A written differently: a Bernoulli mask (keep probability 1 - p)
stored pre-scaled in a dict cache, a p = 0 shortcut, the penalty summed with a loop over
sorted names, accuracy by counting with a Python loop, and k-fold folds dealt round-robin
from a shuffled list (the extra samples in the first folds)."""

import torch


def dropout_forward(x, p, mode, seed):
    if p < 0 or p >= 1:
        raise ValueError("p must be in [0, 1)")
    if mode not in ("train", "eval"):
        raise ValueError("unknown mode")
    if mode == "eval" or p == 0:
        return x.clone(), {"scale": None}
    gen = torch.Generator(device=x.device).manual_seed(seed)
    keep = torch.full_like(x, 1 - p)
    scale = torch.bernoulli(keep, generator=gen) * (1.0 / (1 - p))
    return x * scale, {"scale": scale}


def dropout_backward(dout, cache):
    scale = cache["scale"]
    return dout.clone() if scale is None else dout * scale


def l2_penalty(params, weight_decay):
    total = 0.0
    grads = {}
    for name in sorted(params):
        w = params[name]
        if name[-6:] == "weight":
            total = total + 0.5 * weight_decay * torch.sum(w**2)
            grads[name] = w * weight_decay
        else:
            grads[name] = w.new_zeros(w.shape)
    if not torch.is_tensor(total):
        some = next(iter(params.values()))
        total = torch.tensor(total, dtype=some.dtype, device=some.device)
    return total, grads


def accuracy(logits, y):
    right = 0
    preds = torch.max(logits, 1).indices.tolist()
    for pred, label in zip(preds, y.tolist()):
        right += int(pred == label)
    return right / len(preds)


def kfold_indices(n, k, seed):
    if k < 2 or k > n:
        raise ValueError(f"need 2 <= k <= n, got k={k}, n={n}")
    rng = torch.Generator().manual_seed(seed)
    order = torch.randperm(n, generator=rng).tolist()
    folds = [[] for _ in range(k)]
    for position, sample in enumerate(order):
        folds[position % k].append(sample)
    result = []
    for i in range(k):
        val = torch.tensor(folds[i], dtype=torch.long)
        train = torch.tensor([s for j in range(k) if j != i for s in folds[j]], dtype=torch.long)
        result.append((train, val))
    return result
