"""The comparison helpers: mismatches of kind first, then NaN/inf and the worst element, with
enough digits; and the sentence for a result of the wrong kind. Every one can fail."""

from __future__ import annotations

import re

import pytest
import torch

from grader.checks import assert_close
from grader.checks.returns import Returned, documented_return, mismatch


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


def test_float64_values_that_differ_print_differently():
    msg = _message(torch.tensor(0.2922551, dtype=torch.float64), torch.tensor(0.2922552, dtype=torch.float64), name="loss")
    # six significant digits print both as 0.292255
    assert msg.startswith("loss is wrong: got 0.2922551, expected 0.2922552"), msg
    msg = _message(torch.tensor([1.0, 1 + 3e-12], dtype=torch.float64), torch.tensor([1.0, 1 + 4e-12], dtype=torch.float64), rtol=0, atol=0)
    assert "got 1.000000000003, expected 1.000000000004" in msg, msg


@pytest.mark.parametrize(
    "actual, expected, found",
    [
        (torch.tensor([1.0, float("nan"), 2.0]), torch.tensor([1.0, 1.5, 2.0]), r"has NaN at index \(1,\) where 1.5 was expected"),
        (torch.tensor([[1.0, 2.0], [float("inf"), 0.0]]), torch.ones(2, 2), r"has inf at index \(1, 0\) where 1 was expected"),
        (torch.tensor([1.0, -float("inf")]), torch.tensor([1.0, float("inf")]), r"has -inf at index \(1,\) where inf was expected"),
        (float("nan"), 0.5, r"^the result has NaN where 0.5 was expected$"),
        ((torch.zeros(2), torch.tensor([0.0, float("nan")])), (torch.zeros(2), torch.ones(2)), r"^the result\[1\] has NaN at index \(1,\)"),
    ],
    ids=["nan", "inf", "wrong-sign-inf", "number", "in-a-tuple"],
)
def test_nan_and_inf_where_none_is_expected_fail_naming_where(actual, expected, found):
    assert re.search(found, _message(actual, expected)), _message(actual, expected)
    if isinstance(actual, torch.Tensor):  # wide tolerances do not let them through
        assert re.search(found, _message(actual, expected, rtol=1e6, atol=1e6))


def test_nan_where_nan_is_expected_passes_only_when_asked():
    t = torch.tensor([1.0, float("nan")])
    assert_close(t, t.clone(), equal_nan=True)
    assert "has NaN at index (1,)" in _message(t, t.clone())


# --- what a function is documented to return ------------------------------------------

SOURCE = '''
def backward(dout, cache):
    """Gradients: returns (dx, dgamma, dbeta)."""
    raise NotImplementedError("backward")


def step(w, dw, config=None):
    """One step."""
    return w - dw, config


def loss(pred, y):
    """A scalar."""
    return ((pred - y) ** 2).mean()


def pair(x):
    """Returns ``(out, cache)``."""
'''


def test_documented_returns_are_read_from_docstring_or_return_statements():
    assert documented_return(SOURCE, "backward") == ("dx", "dgamma", "dbeta")  # a stub: the docstring says it
    assert documented_return(SOURCE, "step") == ("", "config")
    assert documented_return(SOURCE, "loss") == ()
    assert documented_return(SOURCE, "pair") == ("out", "cache")
    assert documented_return(SOURCE, "missing") is None
    assert documented_return("def f(:", "f") is None


def test_a_result_of_the_wrong_kind_reads_as_a_sentence():
    names = ("dx", "dgamma", "dbeta")
    assert mismatch("batchnorm_backward", Returned.of(None), names) == "`batchnorm_backward` returned None; expected a tuple (dx, dgamma, dbeta)"
    got = mismatch("batchnorm_backward", Returned.of((torch.zeros(1), torch.zeros(1))), names)
    assert got == "`batchnorm_backward` returned a tuple of 2 items; expected a tuple (dx, dgamma, dbeta)"
    assert mismatch("sgd", Returned.of(torch.zeros(2)), ("", "config")) == "`sgd` returned a torch.Tensor; expected a tuple of 2 items"
    assert mismatch("batchnorm_backward", Returned.of((1, 2, 3)), names) is None  # the right kind: the check's own error stands
    assert mismatch("loss", Returned.of(None), ()) == "`loss` returned None; expected a value (is a `return` missing?)"


def test_a_students_value_in_a_message_is_bounded_in_time_and_length():
    """A check that formats what a student returned (``{value!r}``) would repr all of it
    in the trusted process first: 30,000 tensors took minutes. ``shown`` reprs a few."""
    import torch

    from grader.checks import shown

    class Counted:
        calls = 0

        def __repr__(self):
            Counted.calls += 1
            return "x"

    text = shown([Counted() for _ in range(30_000)])
    assert Counted.calls <= 6 and len(text) <= 200, (Counted.calls, text)
    assert shown([torch.zeros(1000)] * 3) == "[tensor(shape=(1000,), dtype=float32), tensor(shape=(1000,), dtype=float32), tensor(shape=(1000,), dtype=float32)]"

    class Hostile:
        def __repr__(self):
            raise RuntimeError("no")

    assert shown(Hostile()).startswith("<")
