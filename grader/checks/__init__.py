"""The check library for assignment authors: one import path for every helper.

    from grader.checks import assert_close, assert_gradients, check_directional

- ``compare``: ``assert_close`` and ``assert_shape`` (values against expected values),
  ``shown`` (a student's value in a message, bounded: never ``{value!r}``);
- ``gradients``: ``assert_gradients``, ``check_directional``, ``numeric_gradients``,
  ``autograd_gradients`` and ``assert_finite`` (hand-written backward passes).
- ``raises``: ``assert_raises`` (a student's call refuses bad input with an exception);
- ``drivers``: worker-side code around the student's functions, for functions that take
  a model, a loader or an optimizer (reached through the ``drivers`` fixture and
  ``student.drive``).

What each guarantees is written down in docs/checks.md.
"""

from .compare import TOLERANCES, assert_close, assert_shape, format_pair, shown, tolerance_for
from .gradients import assert_finite, assert_gradients, autograd_gradients, check_directional, check_gradient_contract, numeric_gradients
from .raises import assert_raises

__all__ = [
    "TOLERANCES",
    "assert_close",
    "assert_finite",
    "assert_gradients",
    "assert_raises",
    "assert_shape",
    "autograd_gradients",
    "check_directional",
    "check_gradient_contract",
    "format_pair",
    "numeric_gradients",
    "shown",
    "tolerance_for",
]
