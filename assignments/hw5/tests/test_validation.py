"""Public checks for hw5's accuracy and k-fold indices: small examples worked by hand.
The folds are compared as sets, whatever permutation drew them. The hidden checks add
float64, CUDA, other sizes and seeds, ties, a batch of one, k = n, n not divisible by k,
and the bounds of k."""

import pytest
import torch

from grader.checks import assert_close


@pytest.mark.task("accuracy")
def test_accuracy_small_example(student):
    logits = torch.tensor([[2.0, 1.0, 0.0], [0.1, 0.3, 0.2], [5.0, 5.0, 1.0], [0.0, 0.0, -1.0]])
    y = torch.tensor([0, 2, 0, 1])
    # predictions 0, 1, 0 (a tie between 0 and 1: the first wins), 0 (a tie again)
    got = student.accuracy(logits, y)
    assert type(got) is float, f"accuracy should return a Python float (use .item()), got {type(got).__name__}"
    assert_close(got, 0.5, rtol=0.0, atol=1e-6, name="accuracy (rows 0 and 2 right; ties go to the first class, as torch.argmax does)")


def _sets(folds, n, k):
    """Each fold's (train, val) as Python sets, after checking what every fold must be."""
    assert isinstance(folds, (list, tuple)) and len(folds) == k, f"kfold_indices({n}, {k}, ...) should return a list of {k} (train_idx, val_idx) pairs, got {folds!r:.200}"
    out = []
    for i, pair in enumerate(folds):
        assert isinstance(pair, (list, tuple)) and len(pair) == 2, f"fold {i} should be a pair (train_idx, val_idx), got {pair!r:.200}"
        for name, t in zip(("train_idx", "val_idx"), pair):
            assert isinstance(t, torch.Tensor) and t.dtype == torch.int64 and t.dim() == 1, f"fold {i}'s {name} should be a 1-D int64 tensor, got {t!r:.200}"
        train, val = (p.tolist() for p in pair)
        assert len(set(val)) == len(val), f"fold {i}'s val_idx holds a sample twice"
        assert len(set(train)) == len(train), f"fold {i}'s train_idx holds a sample twice"
        assert not set(train) & set(val), f"fold {i} trains on samples it validates on: {sorted(set(train) & set(val))[:10]}"
        assert set(train) | set(val) == set(range(n)), f"fold {i}'s train_idx and val_idx together should be every sample 0..{n - 1}, with each fold's training indices all the samples it does not validate"
        out.append((set(train), set(val)))
    return out


@pytest.mark.task("kfold")
def test_kfold_ten_samples_in_three_folds(student):
    folds = _sets(student.kfold_indices(10, 3, 0), 10, 3)
    sizes = sorted(len(val) for _, val in folds)
    assert sizes == [3, 3, 4], f"10 samples in 3 folds should give validation folds of sizes 4, 3, 3; got {sizes}"
    validated = sorted(i for _, val in folds for i in val)
    assert validated == list(range(10)), f"every sample should be validated exactly once; validated: {validated}"
