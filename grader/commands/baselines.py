"""``grade baselines hwN``: suggest a competition's baselines from a dataset (any dataset
with the manifest's id and target columns), with the scores they come from."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .. import manifest as manifest_mod
from ..errors import GraderError


def run(
    name: str, *, train: Path | None, test: Path | None, labels: Path | None, margin: float, fmt: str, root: Path | None, console: Console,
    target: str | None = None,
) -> int:
    from ..competition import baselines

    assignment = manifest_mod.find(name, root.resolve() if root else manifest_mod.find_root())
    competition = assignment.competition
    if competition is None:
        raise GraderError(f"{name} has no [competition] section, so no baselines")
    train, test, labels = train or competition.train, test or competition.test, labels or competition.labels
    for what, path in (("--train", train), ("--test", test), ("--labels", labels)):
        if not Path(path).is_file():
            raise GraderError(f"{path} ({what}) is not a file")
    found = baselines.suggest(competition, Path(train), Path(test), Path(labels), margin=margin, target=target)
    if fmt == "json":
        data = {
            "assignment": name, "metric": competition.metric, "train": str(train), "test": str(test), "labels": str(labels),
            "features": list(found.dataset.features), "notes": list(found.dataset.notes), "models": found.models,
            "baselines": [{"name": n, "public": pub, "private": priv} for n, pub, priv in found.baselines],
        }  # fmt: skip
        console.print_json(json.dumps(data))
        return 0
    table = Table(title=f"{name}: closed-form models on {escape(str(test))} ({competition.metric}, {manifest_mod.direction(competition.metric)})")
    for column in ("model", "public", "private"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for model, s in sorted(found.models.items(), key=lambda kv: kv[1]["public"] if competition.higher_is_better else -kv[1]["public"]):
        table.add_row(escape(model), f"{s['public']:.4f}", f"{s['private']:.4f}")
    console.print(table)
    console.print(f"[dim]{len(found.dataset.features)} numeric features; {len(found.dataset.ids)} test rows, split by the manifest's split_seed and public_fraction[/]")
    for note in found.dataset.notes[:10]:
        console.print(f"[dim]- {escape(note)}[/]")
    current = ", ".join(f"{b.name} {b.public:g}/{b.private:g}" for b in competition.baselines)
    console.print(f"\nSuggested baselines (now: {escape(current)}); check the starter and the reference against them:\n")
    console.print(baselines.toml(found), highlight=False, markup=False)
    return 0
