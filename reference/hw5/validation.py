"""HW5: accuracy and k-fold cross-validation (reference solution).

In-place updates: none. Every argument is an input only: each call gets its own copies,
so a change made to one in place reaches nobody; only what you return is graded.
"""

import torch


def accuracy(logits, y):
    """The fraction of rows whose predicted class is the label.

    logits: (N, C) float scores, N >= 1, on any device; y: (N,) int64 labels in
    [0, C), on logits' device. The prediction of a row is its largest logit's class,
    ties resolved as ``torch.argmax(logits, dim=1)`` resolves them: the first
    (lowest) of the tied classes. Returns a Python float in [0, 1] (``.item()`` of a
    tensor), not a tensor.
    """
    # BEGIN SOLUTION
    return (logits.argmax(dim=1) == y).double().mean().item()
    # END SOLUTION


def kfold_indices(n, k, seed):
    """The k folds of k-fold cross-validation over samples 0..n-1.

    n, k: ints with 2 <= k <= n, else ValueError. Shuffle the samples with a
    permutation drawn from a ``torch.Generator`` seeded with seed (on the CPU), so the
    same seed gives the same folds and another seed other ones, then cut it into k
    validation folds whose sizes differ by at most one (n = 10, k = 3: sizes 4, 3, 3,
    in any order). Every sample is validated exactly once; a fold's training indices
    are all the other samples.

    Returns a list of k pairs (train_idx, val_idx), each a 1-D int64 CPU tensor; the
    order of the indices inside each tensor is yours (the checks compare them as sets),
    the order of the folds too.
    """
    # BEGIN SOLUTION
    if not 2 <= k <= n:
        raise ValueError(f"k must satisfy 2 <= k <= n, got k={k!r} for n={n!r}")
    g = torch.Generator()
    g.manual_seed(seed)
    perm = torch.randperm(n, generator=g)
    folds = torch.tensor_split(perm, k)
    out = []
    for i, val in enumerate(folds):
        train = torch.cat([f for j, f in enumerate(folds) if j != i])
        out.append((train, val))
    return out
    # END SOLUTION
