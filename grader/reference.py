"""The reference solution, imported in the trusted process for the ``ref`` fixture."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from .manifest import Assignment


class ReferenceModules:
    """``ref.predict`` is the reference ``predict``, found through the manifest's tasks."""

    def __init__(self, assignment: Assignment, directory: Path):
        self._assignment = assignment
        self._directory = directory
        self._modules: dict[str, ModuleType] = {}

    def module(self, file: str) -> ModuleType:
        if file not in self._modules:
            path = self._directory / file
            name = f"_grader_reference_{self._assignment.name}_{Path(file).stem}".replace("-", "_").replace(".", "_")
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or not path.is_file():
                raise LookupError(f"the reference has no {file} in {self._directory}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            self._modules[file] = module
        return self._modules[file]

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        file = self._assignment.file_of(name)
        if file is None:
            raise LookupError(f"no task in assignment.toml lists a function named `{name}`")
        return getattr(self.module(file), name)


def reachable(obj: Any, name: str, depth: int = 0):
    """``obj`` and the dicts, lists and tensors inside it, each with the name a message gives it."""
    if isinstance(obj, (dict, list)) or hasattr(obj, "data_ptr"):
        yield obj, name
    if depth < 8 and type(obj) is dict:
        for k, v in obj.items():
            yield from reachable(v, f"{name}[{k!r}]", depth + 1)
    elif depth < 8 and type(obj) in (list, tuple):
        for i, v in enumerate(obj):
            yield from reachable(v, f"{name}[{i}]", depth + 1)


class CheckedReference:
    """``ref`` for one check: the reference functions, refusing an argument that a student
    call of this check has already changed in place (a declared ``in_place`` argument).
    Expected values come from inputs as the check made them: computed before the call,
    or from a ``copy.deepcopy`` the student never sees."""

    def __init__(self, modules: ReferenceModules, changed: list[tuple[Any, str, str]]):
        self._modules = modules
        self._changed = changed  # (object, its name, the student function), filled as the check runs

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        function = getattr(self._modules, name)
        if not callable(function):
            return function

        def call(*args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True
            if self._changed:
                changed = {id(obj): (where, by) for obj, where, by in self._changed}
                for obj, _ in reachable(list(args) + list(kwargs.values()), "the arguments"):
                    if id(obj) in changed:
                        from .plugin import CheckDefinitionError

                        was, by = changed[id(obj)]
                        raise CheckDefinitionError(
                            f"ref.{name} was given {was} after `{by}` changed it in place: compute expected values "
                            "before the student's call, or from a copy.deepcopy the student never sees"
                        )
            return function(*args, **kwargs)

        call.__name__ = name
        return call
