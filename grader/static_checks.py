"""Forbidden APIs found in the student's source, before anything runs.

For each task with a ``forbidden`` list, the bodies of its functions, and of the
module's functions they call (transitively), are searched for uses of a forbidden
group: dotted names resolved through imports and aliases (``import torch.nn.functional
as F``, ``from torch.autograd import grad as g``, ``ag = torch.autograd``), constant
``getattr(torch, "autograd")`` and ``importlib.import_module("torch.func")``, and any
``.backward`` attribute. The run-time guard (``sandbox/forbidden.py``) catches what a
reading cannot; each finds what the other may miss.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

from . import uploads
from .manifest import Assignment
from .results import CheckResult
from .sandbox.forbidden import DROPOUT, DROPOUT_FUNCTIONAL, DROPOUT_KERNELS, DROPOUT_MODULES
from .submission import Submission

# names that reach a forbidden entry's APIs by another path
ALSO = {
    "torch.autograd": ("torch.enable_grad",),
    "torch.func": ("functorch",),
    "Tensor.backward": ("torch.Tensor.backward",),
    "torch.nn.functional.batch_norm": ("torch.batch_norm",),
    DROPOUT: (
        *(f"torch.nn.functional.{n}" for n in DROPOUT_FUNCTIONAL),
        *(f"{where}.{n}" for where in ("torch", "torch._VF", "torch._C._VariableFunctions", "torch.ops.aten") for n in DROPOUT_KERNELS),
        *(f"torch.nn.{n}" for n in DROPOUT_MODULES),
        "torch.nn.modules.dropout",
    ),
}


@dataclass(frozen=True)
class Use:
    line: int
    api: str
    function: str  # the task function (or helper) it appears in


def _aliases(nodes: list[ast.stmt], known: dict[str, str]) -> dict[str, str]:
    names = dict(known)
    for node in nodes:
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    names[a.asname] = a.name
                else:
                    top = a.name.split(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                names[a.asname or a.name] = f"{node.module}.{a.name}"
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            path = _dotted(node.value, names)
            if path:
                names[node.targets[0].id] = path
    return names


def _dotted(node: ast.AST, names: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, names)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[-1], ast.Constant) and isinstance(node.args[-1].value, str):
        func = _dotted(node.func, names) or (node.func.id if isinstance(node.func, ast.Name) else None)
        text = node.args[-1].value
        if func == "getattr" and len(node.args) == 2:
            base = _dotted(node.args[0], names)
            return f"{base}.{text}" if base else None
        if func in ("importlib.import_module", "__import__"):
            return text
    return None


def _forbidden(path: str, groups: tuple[str, ...]) -> bool:
    prefixes = [p for g in groups for p in (g, *ALSO.get(g, ())) if g != "Tensor.backward" or p != g]
    return any(path == p or path.startswith(p + ".") for p in prefixes)


class TooDeep(Exception):
    """A source nested past what the reader (and Python's parser) can follow."""


TOO_DEEP = object()


@functools.lru_cache(maxsize=8)
def _parse(source: str) -> ast.Module | object | None:
    """Each module once, however many of its tasks forbid something (the tree is only read)."""
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):  # ValueError: a NUL byte, on older Pythons
        return None  # the checks report syntax errors themselves
    except (RecursionError, MemoryError):
        return TOO_DEEP


def forbidden_uses(source: str, functions: tuple[str, ...], groups: tuple[str, ...], others: frozenset[str] = frozenset()) -> list[Use]:
    """Uses of the groups inside ``functions`` and the helpers they call; ``others`` are
    other tasks' functions, judged by their own task's rules and not followed. Raises
    TooDeep for a source nested too deeply to read (it cannot be cleared)."""
    tree = _parse(source)
    if tree is None:
        return []
    if tree is TOO_DEEP:
        raise TooDeep
    try:
        return _uses(tree, functions, groups, others)
    except (RecursionError, MemoryError):  # _dotted on a chain of thousands of attributes
        raise TooDeep from None


def _uses(tree: ast.Module, functions: tuple[str, ...], groups: tuple[str, ...], others: frozenset[str]) -> list[Use]:
    defs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    module_names = _aliases(list(tree.body), {})
    todo = [f for f in functions if f in defs]
    seen: set[str] = set()
    uses: dict[int, Use] = {}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        fn = defs[name]
        local = _aliases([n for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom, ast.Assign))], module_names)
        for node in ast.walk(fn):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in defs and node.func.id not in others:
                todo.append(node.func.id)
            path = _dotted(node, local) if isinstance(node, (ast.Attribute, ast.Call, ast.Name)) else None
            if isinstance(node, ast.Attribute) and node.attr == "backward" and "Tensor.backward" in groups:
                path = path or "Tensor.backward"
                if not path.endswith("backward"):
                    path += ".backward"
                hit = True
            else:
                hit = bool(path) and _forbidden(path, groups)
            if hit:
                line = getattr(node, "lineno", 0)
                if line not in uses or len(path) > len(uses[line].api):  # the fullest name on a line
                    uses[line] = Use(line, path, name)
    return sorted(uses.values(), key=lambda u: u.line)


def _module_text(submission: Submission, module_path: str) -> str | None:
    for rel, text in submission.texts:
        if rel == module_path:
            return text
    for rel, src in submission.files:
        if rel == module_path:
            try:  # a student file: never through a link
                return uploads.read_bytes(Path(src).parent, Path(src).name).decode("utf-8")
            except (OSError, UnicodeDecodeError):
                return None
    return None


def static_checks(assignment: Assignment, submission: Submission) -> list[CheckResult]:
    """One failing check (that zeroes its task) per task whose source uses a forbidden API."""
    out = []
    texts: dict[str, str | None] = {}
    for task in assignment.tasks:
        if not task.forbidden:
            continue
        module_path = submission.modules.get(task.file, task.file)
        if module_path not in texts:
            texts[module_path] = _module_text(submission, module_path)
        source = texts[module_path]
        if source is None:
            continue
        others = frozenset(f for t in assignment.tasks if t is not task for f in t.functions)
        shown = submission.shown(module_path)
        try:
            uses = forbidden_uses(source, task.functions, task.forbidden, others)
        except TooDeep:
            message = (f"{shown} is too deeply nested for the grader to read it for {', '.join(task.forbidden)} "
                       "(thousands of nested operators or attributes), so this task cannot be cleared and scores 0")  # fmt: skip
            out.append(_violation(task, message))
            continue
        if not uses:
            continue
        said = "; ".join(f"`{u.api}` in `{u.function}` ({shown}, {submission.locate(module_path, u.line)})" for u in uses[:3])
        more = f" and {len(uses) - 3} more" if len(uses) > 3 else ""
        out.append(_violation(task, f"this task may not use {', '.join(task.forbidden)}; found {said}{more} (the whole task scores 0)"))
    return out


def _violation(task, message: str) -> CheckResult:
    """The failing check that zeroes ``task``."""
    return CheckResult(
        nodeid=f"static::{task.id}",
        name=f"{task.id}: no forbidden API in the source",
        task=task.id,
        status="fail",
        message=message,
        visibility="public",
        duration=0.0,
        violation=True,
    )
