"""A class of hw2 submissions of every kind a regrade meets, for `grade batch` and its report.

Each student gets one kind; the first students take one of each special kind, the
rest are drawn (seeded) from the common ones. Every submission is real: reference
functions spliced into the stubs (``variants``), a typical mistake written into one
function, a forbidden API, a file that hangs on import, a syntax error, a student
repository with an edited check or workflow, a notebook, a linked file, a broken
notebook.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

from tests.conftest import REPO
from tests.variants import partly_solved

NAMES = (
    "ada", "ben", "cai", "dee", "eli", "fay", "gus", "hal", "ivy", "jon", "kim", "lea", "max", "nia", "oli", "pam",
    "quin", "ray", "sam", "tia", "uma", "vic", "wes", "xan", "yas", "zoe",
)  # fmt: skip

# (what a student got wrong, text in the reference, what they wrote instead)
MISTAKES = (
    ("softmax without the max shift", "    z = logits - logits.max(dim=1, keepdim=True).values\n    e = z.exp()", "    e = logits.exp()"),
    ("db as a mean", "dout.sum(dim=0)", "dout.mean(dim=0)"),
    ("mse gradient without the 2", "2 * diff / diff.numel()", "diff / diff.numel()"),
    ("cross-entropy gradient not divided by n", "return loss, dlogits / n", "return loss, dlogits"),
    ("sigmoid derivative as s^2", "dout * cache * (1 - cache)", "dout * cache * cache"),
)
SPECIAL = ("full", "stubs", "forbidden", "slow_import", "syntax", "modified_check", "modified_workflow", "notebook", "linked", "broken_notebook", "mistake", "partial")
COMMON = (("partial", 40), ("mistake", 25), ("full", 20), ("notebook", 8), ("stubs", 7))


def student_names(n: int) -> list[str]:
    return [NAMES[i % len(NAMES)] + (str(i // len(NAMES) + 1) if i >= len(NAMES) else "") for i in range(n)]


def make_class(folder: Path, n: int, *, seed: int = 15, root: Path = REPO) -> dict[str, str]:
    """Writes ``n`` submissions into ``folder``; returns student -> kind."""
    rng = random.Random(seed)
    stub = (root / "assignments" / "hw2" / "layers.py").read_text()
    solution = (root / "reference" / "hw2" / "layers.py").read_text()
    functions = [line.split("(")[0][4:] for line in stub.splitlines() if line.startswith("def ")]
    folder.mkdir(parents=True, exist_ok=True)
    kinds = {}
    for i, student in enumerate(student_names(n)):
        kind = SPECIAL[i] if i < len(SPECIAL) else rng.choices([k for k, _ in COMMON], [w for _, w in COMMON])[0]
        kinds[student] = kind
        partial = partly_solved(stub, solution, set(rng.sample(functions, rng.randint(2, len(functions) - 1))))
        if kind == "full":
            (folder / f"{student}.py").write_text(solution)
        elif kind == "stubs":
            (folder / f"{student}.py").write_text(stub)
        elif kind == "partial":
            (folder / f"{student}.py").write_text(partial)
        elif kind == "mistake":
            _what, right, wrong = rng.choice(MISTAKES)
            assert right in solution
            (folder / f"{student}.py").write_text(solution.replace(right, wrong, 1))
        elif kind == "forbidden":
            right = "    return (diff * diff).mean(), 2 * diff / diff.numel()"
            assert right in solution
            text = solution.replace(right, "    import torch.nn.functional as F\n\n    return F.mse_loss(pred, target), 2 * diff / diff.numel()")
            (folder / f"{student}.py").write_text(text)
        elif kind == "slow_import":
            (folder / f"{student}.py").write_text("import time\n\ntime.sleep(600)  # training left at the top level\n" + solution)
        elif kind == "syntax":
            (folder / f"{student}.py").write_text(solution.replace("def mse_loss(pred, target):", "def mse_loss(pred, target)", 1))
        elif kind in ("modified_check", "modified_workflow"):
            repo = folder / student  # a clone of the student release
            shutil.copytree(root / "assignments" / "hw2", repo / "assignments" / "hw2", ignore=shutil.ignore_patterns("__pycache__"))
            (repo / "assignments" / "hw2" / "layers.py").write_text(solution)
            if kind == "modified_check":
                check = repo / "assignments" / "hw2" / "tests" / "test_layers.py"
                check.write_text(check.read_text() + "\n\ndef test_free_points():\n    assert True\n")
            else:
                (repo / ".github" / "workflows").mkdir(parents=True)
                (repo / ".github" / "workflows" / "classroom.yml").write_text("on: push\njobs: {}\n")
        elif kind == "notebook":
            (folder / f"{student}.ipynb").write_text(_notebook(partial))
        elif kind == "linked":
            sub = folder / student
            sub.mkdir()
            (sub / "elsewhere.py").write_text(solution)
            os.symlink("elsewhere.py", sub / "layers.py")
        elif kind == "broken_notebook":
            (folder / f"{student}.ipynb").write_text("{not a notebook")
    return kinds


def _notebook(source: str) -> str:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# HW2: forward and backward passes by hand"), nbformat.v4.new_code_cell(source)]
    return json.dumps(nb, indent=1)
