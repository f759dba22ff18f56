"""What a task function is documented to return, and a sentence for a result that is not that.

A check that unpacks ``dx, dgamma, dbeta = student.batchnorm_backward(...)`` meets
``TypeError: cannot unpack non-iterable NoneType object`` when the function returned
None. The plugin turns that into "`batchnorm_backward` returned None; expected a tuple
(dx, dgamma, dbeta)". The expectation is read (never imported) from the trusted
definition's source: the docstring's "Returns (a, b)" first, else the names in its
``return a, b`` statements.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_DOCUMENTED = re.compile(r"\breturns:?\s*`{0,2}\(([^()]*)\)", re.IGNORECASE)
_MAX_SOURCE = 1_000_000


@dataclass(frozen=True)
class Returned:
    """What a call gave back, without holding the value: its kind and length."""

    kind: str  # "None", "tuple", "list", "dict", "torch.Tensor", "float", ...
    length: int | None = None

    @classmethod
    def of(cls, value: Any) -> Returned:
        if value is None:
            return cls("None")
        t = type(value)
        kind = t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__name__}"
        return cls(kind, len(value) if isinstance(value, (tuple, list, dict)) else None)

    def describe(self) -> str:
        if self.kind == "None":
            return "None"
        if self.kind in ("tuple", "list"):
            return f"a {self.kind} of {self.length} item{'s' if self.length != 1 else ''}"
        return f"a {self.kind}"


def documented_return(source: str, function: str) -> tuple[str, ...] | None:
    """The names of the items ``function`` returns as a tuple, e.g. ("dx", "dgamma", "dbeta")
    ("" for an item with no name); () for a function that returns one value; None when
    the source does not say."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    node = next((n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function), None)
    if node is None:
        return None
    doc = ast.get_docstring(node) or ""
    found = _DOCUMENTED.search(doc)
    if found:
        names = tuple(part.strip().strip("`") for part in found.group(1).split(",") if part.strip())
        if len(names) > 1:
            return names
    shapes = set()
    for ret in (n for n in ast.walk(node) if isinstance(n, ast.Return)):
        value = ret.value
        if isinstance(value, ast.Tuple):
            shapes.add(tuple(e.id if isinstance(e, ast.Name) else "" for e in value.elts))
        elif value is not None and not (isinstance(value, ast.Constant) and value.value is None):
            shapes.add(())
    return shapes.pop() if len(shapes) == 1 else None


def expected_from(paths: list[Path], function: str) -> tuple[str, ...] | None:
    for path in paths:
        try:
            if path.is_file() and path.stat().st_size <= _MAX_SOURCE:
                found = documented_return(path.read_text(errors="replace"), function)
                if found is not None:
                    return found
        except OSError:
            continue
    return None


def mismatch(function: str, got: Returned, expected: tuple[str, ...] | None) -> str | None:
    """A sentence when ``got`` cannot be what ``function`` is documented to return, else None."""
    if expected:  # a tuple of named items
        if got.kind in ("tuple", "list") and got.length == len(expected):
            return None
        wanted = f"({', '.join(expected)})" if all(expected) else f"of {len(expected)} items"
        return f"`{function}` returned {got.describe()}; expected a tuple {wanted}"
    if got.kind == "None":
        return f"`{function}` returned None; expected a value (is a `return` missing?)"
    return None
