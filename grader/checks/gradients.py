"""Gradient checks for hand-written backward passes, for assignment authors.

Three tools, all computing their ground truth in float64 in the trusted process:

- ``assert_gradients(grads, forward, inputs, dout)``: a student's gradients against
  autograd through the *reference* forward. The tolerance is scaled to what the
  student's dtype can reach on these inputs: the same autograd run in that dtype
  shows how far honest arithmetic lands from float64.
- ``numeric_gradients(forward, inputs, dout)``: central differences, element by
  element (exact but costs two forward calls per element: small inputs only).
- ``check_directional(forward, inputs, grads, dout)``: the derivative along a few
  random unit directions by central differences, against ``<grad, direction>``.
  Two forward calls per direction whatever the input size, so it suits large inputs.

Both assertions apply one contract before any value is compared: one gradient per
floating-point input, each a tensor with exactly that input's shape, dtype and device,
and no NaN or inf (the first one found is named by its index). So a public check built
on ``check_directional`` refuses what a hidden one built on ``assert_gradients`` refuses.

A failure names the argument, the worst index, the analytic and expected values
and the relative error, e.g. ``dw is wrong at index (3, 1): got 0.5, expected 0.25
(...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from .compare import assert_close, format_pair, shape_text, tolerance_for, type_name, where

__all__ = ["assert_finite", "assert_gradients", "autograd_gradients", "check_directional", "check_gradient_contract", "numeric_gradients"]

Forward = Callable[..., torch.Tensor]


def _as64(inputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    return [t.detach().to(torch.float64) if t.is_floating_point() else t for t in inputs]


def _loss(forward: Forward, inputs: Sequence, dout: torch.Tensor) -> torch.Tensor:
    out = forward(*inputs)
    return (out * dout).sum()


def autograd_gradients(forward: Forward, inputs: Sequence[torch.Tensor], dout: torch.Tensor, *, dtype=torch.float64) -> list[torch.Tensor | None]:
    """Gradients of ``sum(forward(*inputs) * dout)`` by autograd, computed in ``dtype``;
    None for inputs that are not floating point (class indices)."""
    leaves = [t.detach().to(dtype).requires_grad_(True) if t.is_floating_point() else t for t in inputs]
    with torch.enable_grad():
        # a scalar loss, not grad_outputs: passing a grad tensor makes torch import sympy
        # on first use (half a second per run)
        loss = (forward(*leaves) * dout.to(dtype)).sum()
        wrt = [t for t in leaves if t.is_floating_point()]
        grads = torch.autograd.grad(loss, wrt, allow_unused=True)
    it = iter(grads)
    return [(lambda g, t: torch.zeros_like(t) if g is None else g.detach())(next(it), t) if t.is_floating_point() else None for t in leaves]


def assert_gradients(
    grads: Sequence[torch.Tensor],
    forward: Forward,
    inputs: Sequence[torch.Tensor],
    dout: torch.Tensor,
    *,
    names: Sequence[str],
) -> None:
    """Asserts a student's gradients equal autograd's through ``forward`` (the reference).

    ``grads[i]`` pairs with the i-th floating-point input. Each must have that input's
    shape, dtype and device.
    """
    __tracebackhide__ = True
    floats = [t for t in inputs if t.is_floating_point()]
    check_gradient_contract(grads, floats, names)
    exact = [g for g in autograd_gradients(forward, inputs, dout) if g is not None]
    dtype = floats[0].dtype
    honest = [g for g in autograd_gradients(forward, inputs, dout, dtype=dtype) if g is not None] if dtype != torch.float64 else exact
    for name, got, x, e, h in zip(names, grads, floats, exact, honest):
        rtol, atol = tolerance_for(x.dtype)
        scale = float(e.abs().max()) if e.numel() else 0.0
        # what honest arithmetic in this dtype misses by, with room to spare
        slack = float((h.to(torch.float64) - e).abs().max()) if e.numel() else 0.0
        assert_close(got, e.to(x.dtype).to(x.device), rtol=rtol, atol=atol * max(1.0, scale) + 10 * slack, name=name)


def check_gradient_contract(grads, floats: Sequence[torch.Tensor], names: Sequence[str]) -> None:
    """One gradient per floating-point input, each a tensor of that input's shape, dtype
    and device, with no NaN or inf; the same rule for every gradient check."""
    __tracebackhide__ = True
    if not isinstance(grads, (tuple, list)) or len(grads) != len(floats):
        got = f"{len(grads)}" if isinstance(grads, (tuple, list)) else type_name(grads)
        raise AssertionError(f"the backward should return {len(floats)} gradients ({', '.join(names)}), got {got}")
    for name, g, x in zip(names, grads, floats):
        if not isinstance(g, torch.Tensor):
            raise AssertionError(f"{name} should be a torch.Tensor, got {type_name(g)}")
        if g.shape != x.shape:
            raise AssertionError(f"{name} has shape {shape_text(g)} but should have shape {shape_text(x)}, the shape of its input")
        if g.dtype != x.dtype:
            raise AssertionError(f"{name} has dtype {g.dtype} but should have {x.dtype}, the dtype of its input")
        if g.device != x.device:
            raise AssertionError(
                f"{name} is on {g.device} but the inputs are on {x.device} "
                "(create new tensors on the input's device, e.g. torch.zeros_like(x))"
            )
        assert_finite(g, name=name)


def assert_finite(t: torch.Tensor, *, name: str) -> None:
    """Fails on the first NaN or inf in ``t``, naming its index."""
    __tracebackhide__ = True
    flat = t.detach().reshape(-1)
    if not flat.is_floating_point() or bool(torch.isfinite(flat).all()):
        return
    i = int((~torch.isfinite(flat)).nonzero()[0])
    raise AssertionError(f"{name} has {float(flat[i])}{where(i, tuple(t.shape))}; a gradient must be finite here")


def numeric_gradients(forward: Forward, inputs: Sequence[torch.Tensor], dout: torch.Tensor, *, eps: float = 1e-6) -> list[torch.Tensor | None]:
    """Central differences in float64, one element at a time."""
    xs = _as64(inputs)
    d = dout.to(torch.float64)
    out: list[torch.Tensor | None] = []
    for k, x in enumerate(xs):
        if not x.is_floating_point():
            out.append(None)
            continue
        g = torch.zeros_like(x)
        flat, gflat = x.view(-1), g.view(-1)
        for i in range(flat.numel()):
            old = float(flat[i])
            flat[i] = old + eps
            plus = float(_loss(forward, xs, d))
            flat[i] = old - eps
            minus = float(_loss(forward, xs, d))
            flat[i] = old
            gflat[i] = (plus - minus) / (2 * eps)
        out.append(g)
    return out


def check_directional(
    forward: Forward,
    inputs: Sequence[torch.Tensor],
    grads: Sequence[torch.Tensor],
    dout: torch.Tensor,
    *,
    names: Sequence[str],
    directions: int = 3,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    seed: int = 0,
) -> None:
    """Asserts ``<grads[i], v> == d/dt sum(forward(x_i + t v) * dout)`` for random unit
    ``v`` per floating-point input, by central differences in float64."""
    __tracebackhide__ = True
    check_gradient_contract(grads, [t for t in inputs if t.is_floating_point()], names)
    xs = _as64(inputs)
    d = dout.to(torch.float64)
    gen = torch.Generator().manual_seed(seed)
    floats = [i for i, x in enumerate(xs) if x.is_floating_point()]
    for name, k, g in zip(names, floats, grads):
        x = xs[k]
        for _ in range(directions):
            v = torch.randn(x.shape, generator=gen, dtype=torch.float64).to(x.device)
            v /= v.norm().clamp_min(1e-300)
            shifted = list(xs)
            shifted[k] = x + eps * v
            plus = float(_loss(forward, shifted, d))
            shifted[k] = x - eps * v
            minus = float(_loss(forward, shifted, d))
            numeric = (plus - minus) / (2 * eps)
            analytic = float((g.detach().to(torch.float64) * v).sum())
            scale = max(abs(numeric), float(g.detach().abs().max()) if g.numel() else 0.0, 1e-12)
            # written so that NaN fails: `abs(nan) > tol` is False
            if not abs(analytic - numeric) <= rtol * scale + 1e-7:
                shown, wanted = format_pair(analytic, numeric)
                raise AssertionError(
                    f"{name} disagrees with the forward: along a random direction the backward gives {shown} "
                    f"but the forward changes at {wanted} (relative error {abs(analytic - numeric) / scale:.3g})"
                )
