"""A notebook's code cells as one module, with a map back to cells for messages.

IPython magics (``%time``, ``%%capture``) and shell lines (``!pip install``) have no
meaning outside Jupyter: a line magic becomes ``pass`` at its own indentation (so
blocks stay valid and line numbers stay put), a shell line (``!gdown ...``, ``%pip``,
``%cd``) a ``print`` of a note saying it was skipped, and a cell that starts with a
cell magic is left out, except ``%%time``/``%%timeit``/``%%capture`` whose body is
plain Python.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cached_property

import nbformat

from .errors import SubmissionError

_LINE_MAGIC = re.compile(r"^(\s*)(%|!)")
_ASSIGN_MAGIC = re.compile(r"^(\s*)[A-Za-z_][A-Za-z0-9_]*\s*=\s*[%!]")
_PY_CELL_MAGICS = {"%%time", "%%timeit", "%%capture"}
_SHELL = re.compile(r"^(\s*)(!|%(?:pip|conda|cd|system|sx)\b)")
SHELL_NOTE = "[grader] skipped `{line}`: shell commands do not run when grading (the data files are already in the working folder; packages come from the grading environment)"


@dataclass(frozen=True)
class NotebookModule:
    source: str
    # line_map[i] is (cell number counting every cell from 1, line within that cell) for module line i+1
    line_map: tuple[tuple[int, int], ...]

    def locate(self, lineno: int) -> str:
        if 1 <= lineno <= len(self.line_map):
            cell, line = self.line_map[lineno - 1]
            return f"cell {cell}, line {line}"
        return f"line {lineno}"

    def may_define(self, name: str) -> bool:
        """False only when no top-level statement can bind ``name``: then importing the
        notebook (which runs every cell: a course notebook trains at the top level) is
        no use for a check that needs it."""
        names = self._top_level_names
        return names is None or name in names

    @cached_property
    def _top_level_names(self) -> frozenset[str] | None:
        """Names the module's top level binds; None when that cannot be known (a syntax
        error, ``import *``, ``exec``, ``globals()``)."""
        try:
            tree = ast.parse(self.source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        names: set[str] = set()
        todo = list(tree.body)
        while todo:
            node = todo.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
                continue  # their bodies bind nothing at the top level (but `global`: below)
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    if alias.name == "*":
                        return None
                    names.add((alias.asname or alias.name).split(".")[0])
                continue
            for child in ast.walk(node):
                if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                    names.add(child.id)
                elif isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and child.func.id in ("exec", "globals", "setattr", "vars"):
                    return None
            todo.extend(n for n in ast.iter_child_nodes(node) if isinstance(n, ast.stmt))
        for node in ast.walk(tree):
            if isinstance(node, ast.Global):
                names.update(node.names)
        return frozenset(names)


def to_module(text: str, shown_name: str) -> NotebookModule:
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as e:  # nbformat raises several kinds for bad JSON or schema
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise SubmissionError(f"{shown_name} is not a valid Jupyter notebook ({first[:200]})") from None
    lines: list[str] = []
    line_map: list[tuple[int, int]] = []
    for cell_no, cell in enumerate(nb.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        if isinstance(src, list) and all(isinstance(part, str) for part in src):
            src = "".join(src)
        if not isinstance(src, str):  # nbformat only logs a schema error
            raise SubmissionError(f"{shown_name} is not a valid Jupyter notebook (cell {cell_no}'s source is not text); save it again from Jupyter")
        cell_lines = src.split("\n")
        start = 0
        if cell_lines and cell_lines[0].startswith("%%"):
            if cell_lines[0].split()[0] not in _PY_CELL_MAGICS:
                continue
            start = 1
        for i, line in enumerate(cell_lines[start:], start=start + 1):
            shell = _SHELL.match(line)
            m = _LINE_MAGIC.match(line) or _ASSIGN_MAGIC.match(line)
            if shell:  # said where it would have run, so a later failure reads in context
                lines.append(f"{shell.group(1)}print({SHELL_NOTE.format(line=line.strip()[:200])!r}, flush=True)")
            else:
                lines.append(f"{m.group(1)}pass" if m else line)
            line_map.append((cell_no, i))
        lines.append("")  # a blank line between cells, so a cell cannot run into the next
        line_map.append((cell_no, len(cell_lines) + 1))
    return NotebookModule(source="\n".join(lines) + "\n", line_map=tuple(line_map))
