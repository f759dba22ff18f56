"""Student files between a stub and a solution: some functions solved, the rest stubs.

Functions are spliced by their source lines (``ast``), so a variant is real code a
student could have written: the reference's body for the functions solved, the
stub's ``raise NotImplementedError`` for the others.
"""

from __future__ import annotations

import ast


def _functions(source: str) -> dict[str, tuple[int, int]]:
    """Top-level function name -> (first line, last line), 0-based, end exclusive."""
    spans = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
            spans[node.name] = (start, node.end_lineno)
    return spans


def replace_function(source: str, name: str, new_function: str) -> str:
    """``source`` with top-level function ``name`` replaced by the text ``new_function``."""
    start, end = _functions(source)[name]
    lines = source.splitlines(keepends=True)
    return "".join(lines[:start]) + new_function.rstrip("\n") + "\n" + "".join(lines[end:])


def function_text(source: str, name: str) -> str:
    start, end = _functions(source)[name]
    return "".join(source.splitlines(keepends=True)[start:end])


def partly_solved(stub: str, reference: str, solved: set[str] | frozenset[str]) -> str:
    """The stub file with the reference's version of each function in ``solved``."""
    out = stub
    for name in _functions(stub):
        if name in solved:
            out = replace_function(out, name, function_text(reference, name))
    return out
