"""``assert_raises``: a student's call must refuse bad input with a given exception."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def assert_raises(call: Callable[..., Any], args: tuple, exception: str = "ValueError", *, what: str) -> None:
    """Asserts ``call(*args)`` (a ``student.*`` function) raises ``exception`` (by name: the
    exception itself stays in the worker). ``what`` names the call in the failure."""
    __tracebackhide__ = True
    from ..sandbox.errors import StudentException

    try:
        call(*args)
    except StudentException as e:
        if f" raised {exception}" in e.message:
            return
        raise AssertionError(f"{what} should raise {exception}; instead {e.message}") from None
    raise AssertionError(f"{what} should raise {exception}; it returned")
