"""Student files from reference files: one source of truth for every assignment.

The reference marks what students must not receive:

    # BEGIN SOLUTION            inside a function, with nothing after it: the block
    ...                          becomes one line raising NotImplementedError that
    # END SOLUTION               names the function and its task

    # BEGIN SOLUTION            followed by a STARTER block: the starter's lines
    ...                          (commented out in the reference, so it runs) replace
    # END SOLUTION               the solution; an empty STARTER block means the
    # BEGIN STARTER              starter has nothing there
    # ... starter line
    # END STARTER

A SOLUTION block at module level with no STARTER after it is left out. The module
docstring's first line loses " (reference solution)"; a file that gets stubs also
gets a line telling the student how to check their work. Each step is a function of
(lines, context) -> lines, applied in order.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import GraderError
from .manifest import Assignment

BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
BEGIN_STARTER, END_STARTER = "# BEGIN STARTER", "# END STARTER"
REFERENCE_TAG = " (reference solution)"
_DEF = re.compile(r"^(\s*)(?:async\s+)?def\s+(\w+)\s*\(")


class BuildError(GraderError):
    """A reference file whose markers cannot be turned into a student file."""


@dataclass(frozen=True)
class Context:
    shown: str  # the file as errors name it
    assignment: str
    task_of: dict  # function name -> task id


def _function_at(lines: list[str], index: int, indent: int) -> str | None:
    """The def enclosing line ``index`` (indented less than the block), or None at module level."""
    for i in range(index - 1, -1, -1):
        m = _DEF.match(lines[i])
        if m and len(m.group(1)) < indent:
            return m.group(2)
        stripped = lines[i].strip()
        if stripped and not lines[i][0].isspace() and not stripped.startswith(("#", "@", ")", "]", "}")):
            return None  # reached module level code first
    return None


def _uncomment(line: str, indent: str) -> str:
    body = line[len(indent):] if line.startswith(indent) else line.lstrip()
    if body.startswith("# "):
        return indent + body[2:]
    if body.startswith("#"):
        return indent + body[1:]
    return line


def solution_blocks(lines: list[str], ctx: Context) -> tuple[list[str], bool]:
    """Replaces every SOLUTION block; returns the lines and whether any stub was made."""
    out: list[str] = []
    stubbed = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == BEGIN:
            indent = line[: len(line) - len(line.lstrip())]
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == END), None)
            if end is None:
                raise BuildError(f"{ctx.shown}, line {i + 1}: {BEGIN} without {END}")
            nested = next((j for j in range(i + 1, end) if lines[j].strip() in (BEGIN, BEGIN_STARTER)), None)
            if nested is not None:
                raise BuildError(f"{ctx.shown}, line {nested + 1}: a marker inside a SOLUTION block (closed at line {end + 1})")
            after = end + 1
            if after < len(lines) and lines[after].strip() == BEGIN_STARTER:
                stop = next((j for j in range(after + 1, len(lines)) if lines[j].strip() == END_STARTER), None)
                if stop is None:
                    raise BuildError(f"{ctx.shown}, line {after + 1}: {BEGIN_STARTER} without {END_STARTER}")
                out += [_uncomment(s, indent) for s in lines[after + 1 : stop]]
                i = stop + 1
                continue
            function = _function_at(lines, i, len(indent)) if indent else None
            if function is not None:
                task = ctx.task_of.get(function)
                what = f"{function} (task '{task}')" if task else function
                out.append(f'{indent}raise NotImplementedError("{what}")')
                stubbed = True
            i = end + 1
            continue
        if line.strip() in (END, BEGIN_STARTER, END_STARTER):
            raise BuildError(f"{ctx.shown}, line {i + 1}: {line.strip()} without the marker that opens it")
        out.append(line)
        i += 1
    return out, stubbed


def docstring(lines: list[str], ctx: Context, stubbed: bool) -> list[str]:
    """The module docstring as students see it."""
    for i, line in enumerate(lines):
        if line.startswith('"""'):
            first = line.replace(REFERENCE_TAG, "")
            lines = lines[:i] + [first] + lines[i + 1 :]
            if stubbed and not first.rstrip().endswith('"""'):
                lines[i + 1 : i + 1] = ["", f"Fill in each function, then run `grade {ctx.assignment}` to check your work."]
            return lines
        if line.strip() and not line.startswith("#"):
            return lines  # no module docstring
    return lines


def build_text(text: str, ctx: Context) -> str:
    lines = text.split("\n")
    lines, stubbed = solution_blocks(lines, ctx)
    lines = docstring(lines, ctx, stubbed)
    out = _squeeze_blank_lines("\n".join(lines))
    try:
        ast.parse(out)
    except SyntaxError as e:
        raise BuildError(f"{ctx.shown}: the student version does not parse (line {e.lineno}: {e.msg}); check the markers around it") from None
    return out


def _squeeze_blank_lines(text: str) -> str:
    """At most two blank lines in a row, where a removed block left more."""
    return re.sub(r"\n{4,}", "\n\n\n", text)


def student_files(assignment: Assignment) -> dict[str, Path]:
    """The files built from the reference: every task's file and the competition's program."""
    names = list(assignment.files)
    if assignment.competition is not None:
        names.append(assignment.competition.program)
    return {name: assignment.reference_dir / name for name in dict.fromkeys(names)}


def build(assignment: Assignment) -> dict[Path, str]:
    """What each student file should contain, {path under assignments/: text}, with the
    notebook that holds them all."""
    task_of = {f: t.id for t in assignment.tasks for f in t.functions}
    texts = {}
    for name, source in student_files(assignment).items():
        if not source.is_file():
            raise BuildError(f"{assignment.name}: the reference has no {name} ({source})")
        ctx = Context(shown=f"reference/{assignment.name}/{name}", assignment=assignment.name, task_of=task_of)
        texts[name] = build_text(source.read_text(encoding="utf-8"), ctx)
    out = {assignment.directory / name: text for name, text in texts.items()}
    out[notebook_path(assignment)] = notebook(assignment, texts)
    return out


def drift(assignment: Assignment, built: dict[Path, str] | None = None) -> list[Path]:
    """Student files that differ from what the reference builds (``built``, if already built)."""
    built = build(assignment) if built is None else built
    return [p for p, text in built.items() if not p.is_file() or p.read_text(encoding="utf-8") != text]


def notebook(assignment: Assignment, texts: dict[str, str]) -> str:
    """A notebook of the given student files (name -> text): per file its docstring and
    set-up, then a markdown and a code cell per task, then whatever else the file holds
    (a competition program's classes, main() and its guard), one cell per definition.

    Cell ids are fixed, so building twice gives the same file."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    cells = [new_markdown_cell(
        f"# {assignment.title}\n\nCheck your work with `grade {assignment.name} --submission {assignment.name}.ipynb`. "
        "The grader imports this notebook to call your functions, and runs it top to bottom for a training "
        'program: keep training inside `main()`, under `if __name__ == "__main__":`.'
    )]  # fmt: skip
    for name, text in texts.items():
        tree = ast.parse(text)
        lines = text.split("\n")
        body = list(tree.body)
        doc = ast.get_docstring(tree)
        if doc is not None:
            body = body[1:]
            cells.append(new_markdown_cell(f"## `{name}`\n\n{doc}"))

        def source(nodes: list[ast.stmt]) -> str:
            first = min((d.lineno for n in nodes for d in getattr(n, "decorator_list", [])), default=nodes[0].lineno)
            first = min(first, nodes[0].lineno)
            return "\n".join(lines[first - 1 : nodes[-1].end_lineno]).strip("\n")

        setup = [n for n in body if not isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.If))]
        if setup:
            cells.append(new_code_cell(source(setup)))
        pending: list[ast.stmt] = []  # helpers, shown with the task that follows them
        for node in body:
            if node in setup:
                continue
            task = next((t for t in assignment.tasks if isinstance(node, ast.FunctionDef) and node.name in t.functions), None)
            pending.append(node)
            if task is None:
                continue
            last = task.functions[-1]
            if node.name != last and any(isinstance(n, ast.FunctionDef) and n.name == last for n in body):
                continue  # the task's cell takes all of its functions
            cells.append(new_markdown_cell(f"### Task `{task.id}`: {task.title} ({task.points:g} points)"))
            cells.append(new_code_cell("\n\n\n".join(source([n]) for n in pending)))
            pending = []
        for node in pending:  # a program's classes and functions, and its main guard
            cells.append(new_code_cell(source([node])))
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def notebook_path(assignment: Assignment) -> Path:
    return assignment.directory / f"{assignment.name}.ipynb"


def validate(assignment: Assignment, built: dict[Path, str], zygote) -> list[str]:
    """Problems that stop a build: the reference short of full marks, stubs that score on a
    function task, a check that errors, a task no check scores. Grades the reference and
    the built files (in a scratch copy: nothing is written yet)."""
    import shutil
    import tempfile

    from .grading import grade

    problems = []
    if not assignment.reference_dir.is_dir():
        return [f"{assignment.name}: reference/{assignment.name} is missing, so nothing can be validated"]
    reference = grade(assignment, assignment.reference_dir, zygote=zygote, reveal_private=True)
    for err in reference.errors:
        problems.append(f"a check file did not load: {err}")
    for task in reference.tasks:
        ran = [c for c in task.checks if c.status != "skip"]
        if not ran:
            problems.append(f"task {task.id!r} has no check that ran (add one marked @pytest.mark.task({task.id!r}))")
        if task.points <= 0:
            problems.append(f"task {task.id!r} is worth no points")
    from .manifest import PRIVATE_TASK, PUBLIC_TASK

    for c in reference.checks:
        # baselines above the reference (boss, say) are allowed: a leaderboard is not pass/fail
        if c.status in ("fail", "error") and c.task not in (PUBLIC_TASK, PRIVATE_TASK):
            problems.append(f"the reference fails {c.nodeid}: {c.message[:300]}")
    with tempfile.TemporaryDirectory(prefix="grader-build-") as tmp:
        scratch = Path(tmp) / assignment.name
        shutil.copytree(assignment.directory, scratch, ignore=shutil.ignore_patterns("__pycache__", "*.ipynb"))
        for path, text in built.items():
            if path.suffix == ".py":
                (scratch / path.name).write_text(text, encoding="utf-8")
        stubs = grade(assignment, scratch, zygote=zygote, run_program=False)
    for task in stubs.tasks:
        spec = assignment.task(task.id)
        if spec is not None and spec.kind == "checks" and task.score > 0:
            passing = next((c.nodeid for c in task.checks if c.status == "pass"), "")
            problems.append(f"the stubs score {task.score:g} on task {task.id!r} (e.g. {passing} passes without a solution)")
    return problems
