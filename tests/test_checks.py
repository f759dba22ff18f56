"""assert_close: mismatches of kind first, then the worst element, and it can fail."""

from __future__ import annotations

import pytest
import torch

from grader.checks import assert_close


def _message(actual, expected, **kw):
    with pytest.raises(AssertionError) as err:
        assert_close(actual, expected, **kw)
    return str(err.value)


def test_passes_on_close_values():
    assert_close(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0 + 1e-7]))


def test_shape_then_dtype_then_value():
    assert _message(torch.zeros(3, 1), torch.zeros(3)) == "the result has shape (3, 1) but should have shape (3,)"
    assert _message(torch.zeros(3, dtype=torch.float64), torch.zeros(3)) == "the result has dtype torch.float64 but should have torch.float32"
    msg = _message(torch.tensor([[1.0, 2.0], [3.0, 5.0]]), torch.tensor([[1.0, 2.0], [3.0, 4.0]]), name="out")
    assert msg.startswith("out is wrong at index (1, 1): got 5, expected 4 (absolute error 1, relative error 0.25")
    assert msg.endswith("1 of 4 elements are off")


def test_nan_and_types():
    assert "has NaN at index (1,)" in _message(torch.tensor([0.0, float("nan")]), torch.tensor([0.0, 1.0]))
    assert _message(3.0, torch.tensor(3.0)) == "the result should be a torch.Tensor, got float"
    assert "should have 2 items, got 1" in _message((torch.zeros(1),), (torch.zeros(1), torch.zeros(1)))
