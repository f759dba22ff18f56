"""Value comparisons for checks. Every failure reads as one sentence a student can act on.

NaN or inf where the expected value has none always fails, naming the first index;
values that differ print with as many digits as it takes to tell them apart.
"""

from __future__ import annotations

import math
from typing import Any

import torch

# Default tolerances per dtype: loose enough for correct code that orders its
# arithmetic differently, tight enough that a wrong formula is far outside.
TOLERANCES = {
    torch.float64: (1e-7, 1e-10),
    torch.float32: (1e-4, 1e-6),
    torch.float16: (1e-2, 1e-3),
    torch.bfloat16: (2e-2, 1e-2),
}


def tolerance_for(dtype: torch.dtype) -> tuple[float, float]:
    """(rtol, atol) used when a check gives none."""
    return TOLERANCES.get(dtype, (0.0, 0.0))


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def format_pair(got: float, expected: float) -> tuple[str, str]:
    """Both numbers with the fewest significant digits (6 at least, 17 at most) that show
    they differ: float64 results 1e-9 apart must not print as the same number."""
    for digits in (6, 9, 12, 15, 17):
        a, e = f"{got:.{digits}g}", f"{expected:.{digits}g}"
        if a != e:
            return a, e
    return a, e


def where(flat: int, shape: tuple[int, ...]) -> str:
    """`` at index (i, j)``, or nothing for a scalar."""
    return f" at index {_index(flat, shape)}" if shape else ""


def _index(flat: int, shape: tuple[int, ...]) -> str:
    if not shape:
        return "()"
    idx = []
    for n in reversed(shape):
        idx.append(flat % n)
        flat //= n
    return "(" + ", ".join(str(i) for i in reversed(idx)) + ("," if len(shape) == 1 else "") + ")"


def shape_text(t: torch.Tensor) -> str:
    return "(" + ", ".join(str(s) for s in t.shape) + ("," if t.dim() == 1 else "") + ")"


def shown(value: Any, limit: int = 200) -> str:
    """``repr`` of a value a student's code returned, bounded in time as well as length:
    the trusted process would otherwise format all of it before cutting (30,000 tensors
    took minutes). Tensors read as their shape and dtype, containers show a few items."""
    import reprlib

    class _Short(reprlib.Repr):
        def repr_Tensor(self, x: Any, level: int) -> str:  # noqa: N802 - reprlib's naming
            return f"tensor(shape={tuple(x.shape)}, dtype={str(x.dtype).removeprefix('torch.')})"

    short = _Short()
    short.maxlevel, short.maxlist, short.maxtuple, short.maxdict, short.maxstring, short.maxother = 3, 6, 6, 6, 60, 60
    try:
        text = short.repr(value)
    except Exception:  # noqa: BLE001 - a hostile __repr__
        text = f"<{type_name(value)}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def type_name(x: Any) -> str:
    if x is None:
        return "None"
    t = type(x)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__name__}"


def assert_close(
    actual: Any,
    expected: Any,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    name: str = "the result",
    check_dtype: bool = True,
    equal_nan: bool = False,
) -> None:
    """Asserts ``actual`` matches ``expected`` (tensors, numbers, or tuples/lists of them).

    Shape, dtype and device mismatches are reported first; then NaN/inf; then the
    worst element: its index, both values, absolute and relative error.
    """
    __tracebackhide__ = True
    if isinstance(expected, (tuple, list)):
        if not isinstance(actual, (tuple, list)):
            raise AssertionError(f"{name} should be a {type(expected).__name__} of {len(expected)} items, got {type_name(actual)}")
        if len(actual) != len(expected):
            raise AssertionError(f"{name} should have {len(expected)} items, got {len(actual)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_close(a, e, rtol=rtol, atol=atol, name=f"{name}[{i}]", check_dtype=check_dtype, equal_nan=equal_nan)
        return
    if isinstance(expected, torch.Tensor):
        if not isinstance(actual, torch.Tensor):
            raise AssertionError(f"{name} should be a torch.Tensor, got {type_name(actual)}")
        _compare_tensors(actual, expected, rtol, atol, name, check_dtype, equal_nan)
        return
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        if type(actual) is not type(expected) or actual != expected:
            raise AssertionError(f"{name} should be {shown(expected)}, got {shown(actual)}")
        return
    if isinstance(expected, (int, float)):
        if isinstance(actual, bool) or not isinstance(actual, (int, float)):
            raise AssertionError(f"{name} should be a number, got {type_name(actual)}")
        _compare_tensors(
            torch.tensor(float(actual), dtype=torch.float64),
            torch.tensor(float(expected), dtype=torch.float64),
            rtol,
            atol,
            name,
            False,
            equal_nan,
        )
        return
    raise TypeError(f"assert_close cannot compare {type_name(expected)} values")


def _compare_tensors(actual, expected, rtol, atol, name, check_dtype, equal_nan) -> None:
    __tracebackhide__ = True
    if actual.shape != expected.shape:
        raise AssertionError(f"{name} has shape {shape_text(actual)} but should have shape {shape_text(expected)}")
    if check_dtype and actual.dtype != expected.dtype:
        raise AssertionError(f"{name} has dtype {actual.dtype} but should have {expected.dtype}")
    if actual.device != expected.device:
        raise AssertionError(
            f"{name} is on {actual.device} but should be on {expected.device} "
            "(create new tensors on the input's device, e.g. torch.zeros(..., device=x.device))"
        )
    default_rtol, default_atol = tolerance_for(expected.dtype)
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    a = actual.detach().to(torch.float64).cpu().reshape(-1)
    e = expected.detach().to(torch.float64).cpu().reshape(-1)
    if a.numel() == 0:
        return
    a_nan, e_nan = torch.isnan(a), torch.isnan(e)
    bad_nan = a_nan & ~e_nan if equal_nan else a_nan | e_nan
    if bad_nan.any():
        i = int(bad_nan.nonzero()[0])
        what = "NaN" if a_nan[i] else _fmt(float(a[i]))
        raise AssertionError(f"{name} has {what}{where(i, tuple(actual.shape))} where {_fmt(float(e[i]))} was expected")
    a_inf, e_inf = torch.isinf(a), torch.isinf(e)
    bad_inf = (a_inf | e_inf) & ~(a_inf & e_inf & (torch.sign(a) == torch.sign(e)))
    if bad_inf.any():
        i = int(bad_inf.nonzero()[0])
        raise AssertionError(f"{name} has {_fmt(float(a[i]))}{where(i, tuple(actual.shape))} where {_fmt(float(e[i]))} was expected")
    finite = ~(a_nan | e_nan | a_inf | e_inf)
    diff = torch.where(finite, (a - e).abs(), torch.zeros_like(a))
    allowed = atol + rtol * e.abs()
    excess = torch.where(finite, diff - allowed, torch.full_like(a, -1.0))
    if (excess > 0).any():
        ratio = torch.where(finite, diff / allowed.clamp_min(1e-300), torch.zeros_like(a))
        i = int(ratio.argmax())
        n_bad = int((excess > 0).sum())
        rel = float(diff[i]) / abs(float(e[i])) if float(e[i]) != 0 else math.inf
        got, want = format_pair(float(a[i]), float(e[i]))
        raise AssertionError(
            f"{name} is wrong{where(i, tuple(actual.shape))}: got {got}, expected {want} "
            f"(absolute error {float(diff[i]):.3g}, relative error {rel:.3g}; allowed rtol={rtol:g}, atol={atol:g}); "
            f"{n_bad} of {a.numel()} elements are off"
        )


def assert_shape(actual: Any, shape: tuple[int, ...], *, name: str = "the result") -> None:
    __tracebackhide__ = True
    if not isinstance(actual, torch.Tensor):
        raise AssertionError(f"{name} should be a torch.Tensor, got {type_name(actual)}")
    if tuple(actual.shape) != tuple(shape):
        raise AssertionError(f"{name} has shape {shape_text(actual)} but should have shape {tuple(shape)}")
