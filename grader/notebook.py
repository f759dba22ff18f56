"""A notebook's code cells as one module, with a map back to cells for messages.

IPython magics (``%time``, ``%%capture``) and shell lines (``!pip install``) have no
meaning outside Jupyter: a line magic or shell line becomes ``pass`` at its own
indentation (so blocks stay valid and line numbers stay put), and a cell that starts
with a cell magic is left out, except ``%%time``/``%%timeit``/``%%capture`` whose
body is plain Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import nbformat

from .errors import SubmissionError

_LINE_MAGIC = re.compile(r"^(\s*)(%|!)")
_ASSIGN_MAGIC = re.compile(r"^(\s*)[A-Za-z_][A-Za-z0-9_]*\s*=\s*[%!]")
_PY_CELL_MAGICS = {"%%time", "%%timeit", "%%capture"}


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
        if isinstance(src, list):
            src = "".join(src)
        cell_lines = src.split("\n")
        start = 0
        if cell_lines and cell_lines[0].startswith("%%"):
            if cell_lines[0].split()[0] not in _PY_CELL_MAGICS:
                continue
            start = 1
        for i, line in enumerate(cell_lines[start:], start=start + 1):
            m = _LINE_MAGIC.match(line) or _ASSIGN_MAGIC.match(line)
            lines.append(f"{m.group(1)}pass" if m else line)
            line_map.append((cell_no, i))
        lines.append("")  # a blank line between cells, so a cell cannot run into the next
        line_map.append((cell_no, len(cell_lines) + 1))
    return NotebookModule(source="\n".join(lines) + "\n", line_map=tuple(line_map))
