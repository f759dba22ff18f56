"""The reference solution, imported in the trusted process for the ``ref`` fixture."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

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
