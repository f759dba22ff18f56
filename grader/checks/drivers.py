"""Drivers: check code that runs inside the worker, around the student's functions.

Only plain data crosses between a check and the student's code, so a function that
takes a model, a DataLoader, a loss or an optimizer (``train_epoch(model, loader,
loss_fn, optimizer)``) cannot be called from a check directly. A driver is a plain
function, in a file of the assignment's public checks folder (``tests/drivers/NAME.py``),
that builds those objects, calls the student's function and returns plain data:

    def one_epoch(fns, x, y, *, seed, batch_size):
        model = tiny_model(seed)
        loss, acc = fns.train_epoch(model, loader(x, y, batch_size), ...)
        return {"loss": float(loss), "params": [p.detach() for p in model.parameters()]}

``fns`` holds the student's task functions by name. A check runs it on both sides, with
the same arguments:

    def test_one_epoch(student, ref, drivers):
        got = student.drive(drivers.loops.one_epoch, x, y, seed=3, batch_size=4)
        expected = drivers.loops.one_epoch(ref, x, y, seed=3, batch_size=4)

In the worker the driver is run from the source the trusted process loaded (never from
a file in the student's folder). Its output is evidence, never a verdict: the check
compares it with the reference's run of the same driver. A driver file imports only
torch, numpy and the standard library (it runs alone in the worker, without the grader)
and must be deterministic given its arguments: seed what it builds.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path
from types import FunctionType, ModuleType
from typing import Any

SOURCE = "__grader_driver_source__"  # the text a driver module was loaded from
FOLDER = "drivers"  # under the assignment's public checks folder


class DriverError(LookupError):
    """A driver asked for that does not exist or cannot be shipped (the check's fault)."""


class Drivers:
    """The ``drivers`` fixture: ``drivers.loops`` is ``tests/drivers/loops.py``, loaded once."""

    def __init__(self, folder: Path, assignment: str):
        self._folder = folder
        self._assignment = assignment
        self._modules: dict[str, ModuleType] = {}

    def __getattr__(self, name: str) -> ModuleType:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._modules:
            self._modules[name] = load(self._folder / f"{name}.py", f"_grader_drivers_{self._assignment}_{name}")
        return self._modules[name]


def load(path: Path, module_name: str) -> ModuleType:
    """Imports a driver file in the trusted process, keeping the exact text it ran."""
    if not path.is_file():
        raise DriverError(f"no driver file {path.name} in {path.parent} (drivers live in the public checks' {FOLDER}/ folder)")
    source = path.read_text(encoding="utf-8")
    spec = importlib.util.spec_from_loader(module_name, loader=None, origin=str(path))
    module = importlib.util.module_from_spec(spec)
    module.__file__ = str(path)
    setattr(module, SOURCE, source)
    sys.modules[module_name] = module
    exec(compile(source, str(path), "exec", dont_inherit=True), module.__dict__)
    return module


def shipped(driver: Any) -> dict:
    """What the worker needs to run ``driver``: its module's source and its name there."""
    module = sys.modules.get(getattr(driver, "__module__", None) or "")
    source = getattr(module, SOURCE, None)
    if not isinstance(driver, FunctionType) or source is None:
        raise DriverError(f"{driver!r} is not a driver: pass a function of a tests/{FOLDER}/ file, reached through the `drivers` fixture")
    if getattr(module, driver.__name__, None) is not driver or "<locals>" in driver.__qualname__:
        raise DriverError(f"driver `{driver.__qualname__}` must be a function defined at the top level of its file")
    problem = signature_problem(driver)
    if problem:
        raise DriverError(problem)
    name = Path(getattr(module, "__file__", "driver")).stem
    return {"source": source, "name": name, "function": driver.__name__}


def signature_problem(driver: FunctionType) -> str | None:
    """Why ``driver`` cannot be a driver (it must take the functions first), or None."""
    params = list(inspect.signature(driver).parameters.values())
    if not params or params[0].kind not in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
        return f"driver `{driver.__name__}` must take the student's functions as its first argument"
    return None
