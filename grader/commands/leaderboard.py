"""``grade leaderboard hwN SUBMISSION...``: rank submissions on the competition's test set."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console

from .. import bundle
from .. import manifest as manifest_mod
from ..render import leaderboard as render


def run(name: str, submissions: list[str], *, fmt: str, reveal: bool, hidden: Path | None, root: Path | None, isolate: bool) -> int:
    from ..sandbox.backend import start

    if hidden is not None:  # the bundle's manifest, data and labels decide
        assignment = bundle.locate(name, hidden)
    else:
        assignment = manifest_mod.find(name, root.resolve() if root else manifest_mod.find_root())
    from ..competition.leaderboard import parse_arguments

    given = parse_arguments([str(s) for s in submissions])  # before any work: a wrong path is one line
    zygote = start()
    try:
        from ..competition.leaderboard import standings

        entries = standings(assignment, given, zygote, hidden_dir=assignment.reference_dir if hidden else None, reveal=reveal, isolate=isolate)
    finally:
        zygote.close()
    if fmt == "rich":
        render.table(assignment, entries, Console(), reveal=reveal)
    elif fmt == "csv":
        sys.stdout.write(render.to_csv(entries, reveal=reveal))
    else:
        sys.stdout.write(render.to_json(assignment, entries, reveal=reveal) + "\n")
    return 0
