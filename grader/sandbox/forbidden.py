"""Forbidden APIs at run time, on the worker side.

A task may forbid groups of APIs (``forbidden = ["torch.autograd", ...]`` in the
manifest). A worker of such an assignment replaces each API of every group with a guard before any
student code exists, so names a student binds later (``from torch.autograd import
grad``, ``F = torch.nn.functional``, ``getattr(torch, "autograd")``) all reach the
guard. During a call, a use is charged to the innermost task function on the stack
(``mlp_loss`` calling the student's own ``linear_backward`` charges that task, not
``mlp``) and recorded, with the student's file and line, if that function's task
forbids the group. Nothing is raised: the call goes on, and the verdict (the task
scores 0) is the trusted side's. Outside calls the guards pass straight through.

The autograd engine itself is guarded too, so a backward pass started by any route
(``Tensor.backward``, ``torch.autograd.grad``, a captured original) is seen. A task
that forbids autograd also runs under ``torch.no_grad()``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

# A manifest's `forbidden` entry is one of these roots or a name under one
# ("torch.nn.functional.batch_norm"); it forbids every guarded API it names or contains.
ROOTS = ("torch.autograd", "Tensor.backward", "torch.nn.functional", "torch.func", "torch.optim")
AUTOGRAD_GROUPS = {"torch.autograd", "Tensor.backward"}

# The library's dropout in every form. The rule "torch.nn.functional.dropout" forbids them
# all: F.dropout's siblings (dropout1d on a 2-D input drops rows, but feature_dropout is
# elementwise there), the modules built on them (nn.Dropout calls F.dropout), and the
# kernels under them, reached as torch.<name> or torch._VF.<name>.
DROPOUT = "torch.nn.functional.dropout"
DROPOUT_FUNCTIONAL = ("dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout")
DROPOUT_KERNELS = (
    "dropout", "dropout_", "feature_dropout", "feature_dropout_", "alpha_dropout", "alpha_dropout_",
    "feature_alpha_dropout", "feature_alpha_dropout_", "native_dropout", "_fused_dropout",
)  # fmt: skip
DROPOUT_MODULES = ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout")


def known(entry: str) -> bool:
    return any(entry == root or entry.startswith(root + ".") for root in ROOTS)


def _covers(rule: str, api: str) -> bool:
    return api == rule or api.startswith(rule + ".")


class _Scope:
    def __init__(self) -> None:
        self.rules: dict[str, frozenset[str]] = {}  # every task function -> groups its task forbids
        self.root = ""
        self.violations: list[dict] = []


SCOPE = _Scope()


def _hit(apis: tuple[str, ...], shown: str) -> None:
    """Records a use if the innermost task function on the stack forbids one of ``apis``."""
    import linecache

    root = SCOPE.root + os.sep
    frame = sys._getframe(2)
    first = None  # the student's line nearest the call
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(root):
            if first is None:
                first = frame
            owner = frame.f_code.co_name
            if owner in SCOPE.rules:
                hit = [rule for rule in SCOPE.rules[owner] for api in apis if _covers(rule, api)]
                if hit:
                    where = first.f_code.co_filename
                    record = {
                        "api": shown, "group": hit[0], "function": owner, "path": os.path.relpath(where, SCOPE.root),
                        "line": first.f_lineno, "code": linecache.getline(where, first.f_lineno).strip()[:160],
                    }  # fmt: skip
                    if not any(v["path"] == record["path"] and v["line"] == record["line"] for v in SCOPE.violations):
                        SCOPE.violations.append(record)
                return
        frame = frame.f_back


def _guard(api: str, original: Any, shown: str | None = None, also: tuple[str, ...] = ()) -> Any:
    """``api`` is the name rules match (and ``also`` more of them); ``shown`` what a
    message calls it, when they differ."""
    apis = (api, *also)
    said = shown or api

    def guarded(*args: Any, **kwargs: Any) -> Any:
        if SCOPE.rules:
            _hit(apis, said)
        return original(*args, **kwargs)

    # no functools.wraps: it would hand out the original as __wrapped__
    guarded.__name__ = getattr(original, "__name__", api.rsplit(".", 1)[-1])
    guarded.__qualname__ = guarded.__name__
    guarded.__doc__ = getattr(original, "__doc__", None)
    return guarded


class _GuardedEngine:
    """Stands in for the autograd engine: every backward pass goes through here."""

    def __init__(self, engine: Any):
        object.__setattr__(self, "_run", engine.run_backward)
        object.__setattr__(self, "_engine", engine)

    def run_backward(self, *args: Any, **kwargs: Any) -> Any:
        if SCOPE.rules:
            _hit(("torch.autograd.engine", "Tensor.backward"), "a backward pass of the autograd engine")
        return object.__getattribute__(self, "_run")(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(object.__getattribute__(self, "_engine"), name)


def preload() -> None:
    """Imports what ``install`` guards, in the process workers start from: a worker that
    installs guards then reads nothing more from disk."""
    import torch.autograd.functional  # noqa: F401
    import torch.func  # noqa: F401
    import torch.nn.functional  # noqa: F401
    import torch.optim  # noqa: F401


def install() -> None:
    """Puts guards in place. Called once per worker that needs them (worker.begin), before
    any student code exists; a worker of an assignment that forbids nothing (or running a
    training program) has none, so that ``torch.jit.script`` works there."""
    import torch
    import torch.autograd.functional
    import torch.func
    import torch.nn.functional as F
    from torch.autograd import grad_mode, variable

    import torch.optim

    for name in ("grad", "backward"):
        setattr(torch.autograd, name, _guard(f"torch.autograd.{name}", getattr(torch.autograd, name)))
    for name in ("jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"):
        fn = getattr(torch.autograd.functional, name)
        setattr(torch.autograd.functional, name, _guard(f"torch.autograd.functional.{name}", fn))
    # turning gradients back on inside a task run under no_grad (torch itself uses
    # set_grad_enabled(False) everywhere, e.g. in nn.Linear's init, so only this is guarded)
    enable_grad = _guard("torch.autograd.enable_grad", grad_mode.enable_grad)
    for module in (torch, torch.autograd, grad_mode):
        module.enable_grad = enable_grad
    torch.Tensor.backward = _guard("Tensor.backward", torch.Tensor.backward)
    variable.Variable._execution_engine = _GuardedEngine(variable.Variable._execution_engine)
    for name in dir(F):
        value = getattr(F, name)
        if not name.startswith("_") and callable(value) and not isinstance(value, type):
            also = (DROPOUT,) if name in DROPOUT_FUNCTIONAL else ()
            setattr(F, name, _guard(f"torch.nn.functional.{name}", value, also=also))
    for name in dir(torch.func):
        value = getattr(torch.func, name)
        if not name.startswith("_") and callable(value) and not isinstance(value, type):
            setattr(torch.func, name, _guard(f"torch.func.{name}", value))
    # the same kernel without going through F
    torch.batch_norm = _guard("torch.nn.functional.batch_norm", torch.batch_norm, "torch.batch_norm")
    # the dropout kernels: torch.dropout is the one F.dropout calls, through torch._VF
    # (a module whose attributes, once set, come before the kernels it forwards to)
    for name in DROPOUT_KERNELS:
        fn = getattr(torch, name, None)
        if callable(fn):
            setattr(torch, name, _guard(DROPOUT, fn, f"torch.{name}"))
            setattr(torch._VF, name, _guard(DROPOUT, fn, f"torch._VF.{name}"))
    # every optimizer's constructor goes through Optimizer.__init__; the functional forms
    # (torch.optim.adam.adam, ...) are guarded where they live
    torch.optim.Optimizer.__init__ = _guard("torch.optim.Optimizer", torch.optim.Optimizer.__init__)
    for module_name in ("sgd", "adam", "adamw", "adagrad", "rmsprop"):
        module = getattr(torch.optim, module_name, None)
        fn = getattr(module, module_name, None)
        if callable(fn):
            setattr(module, module_name, _guard(f"torch.optim.{module_name}.{module_name}", fn))


class scope:
    """``with scope(rules, function, root):`` runs a call under every task's rules.

    ``rules`` maps each task function to the groups its task forbids. The violations
    that count for this call are those charged to ``function`` itself (or to any of
    the functions, for a driver's run of several).
    """

    def __init__(self, rules: dict, function: str | tuple[str, ...], root: str):
        self.rules = {str(f): frozenset(g for g in groups if known(g)) for f, groups in dict(rules).items()}
        self.functions = (function,) if isinstance(function, str) else tuple(function)
        self.root = root
        self._no_grad = None

    def __enter__(self) -> "scope":
        if any(rule in AUTOGRAD_GROUPS or rule.startswith("torch.autograd.") for f in self.functions for rule in self.rules.get(f, ())):
            import torch

            self._no_grad = torch.no_grad()
            self._no_grad.__enter__()
        SCOPE.rules = {f: g for f, g in self.rules.items() if g} if any(self.rules.values()) else {}
        SCOPE.root, SCOPE.violations = self.root, []
        return self

    def __exit__(self, *exc: Any) -> None:
        SCOPE.rules = {}
        if self._no_grad is not None:
            self._no_grad.__exit__(*exc)

    @property
    def violations(self) -> list[dict]:
        return [v for v in SCOPE.violations if v["function"] in self.functions]
