"""Hidden checks for hw5's accuracy and k-fold indices. Accuracy is compared with the
reference (an exact fraction); folds are checked as sets, whatever permutation drew
them, so any seeded shuffle is right."""

import pytest
import torch

from grader.checks import assert_close, assert_raises

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]


# an accuracy moves in steps of 1 / N (N <= 257 here): 1e-6 lets a float32 mean through
ATOL = 1e-6


def _accuracy(student, logits, y):
    got = student.accuracy(logits, y)
    assert type(got) is float, f"accuracy should return a Python float (use .item()), got {type(got).__name__}"
    return got


@pytest.mark.task("accuracy")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n, c", [(257, 10), (6, 40)])
def test_accuracy_matches_reference(student, ref, device, dtype, n, c):
    g = torch.Generator().manual_seed(n + c)
    logits = torch.randn(n, c, generator=g, dtype=torch.float64).to(dtype).to(device)
    y = torch.randint(0, c, (n,), generator=g).to(device)
    y[: n // 2] = logits[: n // 2].argmax(dim=1)  # about half right, whatever c
    assert_close(_accuracy(student, logits, y), ref.accuracy(logits, y), rtol=0.0, atol=ATOL, name=f"accuracy of {n} rows of {c} classes")


@pytest.mark.task("accuracy")
def test_accuracy_ties_go_to_the_first_class(student, ref, device):
    """Logits of few distinct values: most rows tie, and a label on a later tied class is wrong."""
    g = torch.Generator().manual_seed(3)
    logits = torch.randint(0, 3, (200, 5), generator=g).double().to(device)
    y = torch.randint(0, 5, (200,), generator=g).to(device)
    expected = ref.accuracy(logits, y)
    assert_close(_accuracy(student, logits, y), expected, rtol=0.0, atol=ATOL, name="accuracy with ties (the first of the tied classes is predicted)")


@pytest.mark.task("accuracy")
@pytest.mark.parametrize("label, expected", [(2, 1.0), (0, 0.0)])
def test_accuracy_of_a_batch_of_one(student, device, label, expected):
    logits = torch.tensor([[0.5, -1.0, 3.0, 2.0]], device=device)
    got = _accuracy(student, logits, torch.tensor([label], device=device))
    assert_close(got, expected, rtol=0.0, atol=ATOL, name=f"accuracy of one row predicting class 2, labelled {label}")


def _sets(folds, n, k):
    """Each fold's (train, val) as Python sets, after checking what every fold must be."""
    assert isinstance(folds, (list, tuple)) and len(folds) == k, f"kfold_indices({n}, {k}, ...) should return a list of {k} (train_idx, val_idx) pairs, got {folds!r:.200}"
    out = []
    for i, pair in enumerate(folds):
        assert isinstance(pair, (list, tuple)) and len(pair) == 2, f"fold {i} should be a pair (train_idx, val_idx), got {pair!r:.200}"
        for name, t in zip(("train_idx", "val_idx"), pair):
            assert isinstance(t, torch.Tensor) and t.dtype == torch.int64 and t.dim() == 1, f"fold {i}'s {name} should be a 1-D int64 tensor, got {t!r:.200}"
            assert t.device.type == "cpu", f"fold {i}'s {name} should be on the CPU, got {t.device}"
        train, val = (p.tolist() for p in pair)
        assert len(set(val)) == len(val), f"fold {i}'s val_idx holds a sample twice"
        assert len(set(train)) == len(train), f"fold {i}'s train_idx holds a sample twice"
        assert not set(train) & set(val), f"fold {i} trains on samples it validates on: {sorted(set(train) & set(val))[:10]}"
        assert set(train) | set(val) == set(range(n)), f"fold {i}'s train_idx and val_idx together should be every sample 0..{n - 1}, with each fold's training indices all the samples it does not validate"
        out.append((set(train), set(val)))
    return out


@pytest.mark.task("kfold")
@pytest.mark.parametrize("n, k", [(23, 5), (7, 7), (101, 2), (2, 2), (30, 4)], ids=["uneven", "k_equals_n", "two_folds", "smallest", "thirty_in_four"])
def test_kfold_every_sample_validated_once_in_even_folds(student, n, k):
    folds = _sets(student.kfold_indices(n, k, 2024), n, k)
    sizes = sorted(len(val) for _, val in folds)
    assert sizes[-1] - sizes[0] <= 1, f"{n} samples in {k} folds: the validation folds' sizes should differ by at most one, got {sizes}"
    counts = torch.bincount(torch.tensor([i for _, val in folds for i in val], dtype=torch.int64), minlength=n)
    twice = (counts != 1).nonzero().flatten().tolist()
    assert not twice, f"every sample should be validated exactly once; sample {twice[0]} is validated {counts[twice[0]].item()} times"


@pytest.mark.task("kfold")
def test_kfold_the_seed_decides_the_shuffle(student):
    def partition(seed):
        return {frozenset(val) for _, val in _sets(student.kfold_indices(40, 4, seed), 40, 4)}

    first, again, other = partition(5), partition(5), partition(6)
    assert first == again, "kfold_indices(40, 4, 5) twice gave two different sets of folds: draw the permutation from a torch.Generator seeded with seed"
    assert first != other, "seeds 5 and 6 gave the same folds: shuffle the samples with a permutation from a torch.Generator seeded with seed"
    contiguous = {frozenset(range(i, i + 10)) for i in range(0, 40, 10)}
    assert first != contiguous, "the folds are the samples in order, 0..9, 10..19, ...: shuffle them first"


@pytest.mark.task("kfold")
def test_kfold_the_bounds_of_k(student):
    """2 <= k <= n is accepted (k = 2, k = n, in the checks above); k = 1, 0, n + 1 are not."""
    for n, k in ((10, 1), (10, 0), (5, 6)):
        assert_raises(student.kfold_indices, (n, k, 0), what=f"kfold_indices(n={n}, k={k}, seed=0)")
