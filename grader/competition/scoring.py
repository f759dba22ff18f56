"""Scores on the public and private splits, and which baselines they beat.

The split is a fixed rule, so anyone holding the labels can recompute it: order the
test ids by sha256("<split_seed>:<id>") and the first ``public_fraction`` of them
are public, the rest private.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

from ..manifest import Competition
from .predictions import Predictions, TableError, is_integral, normalize_id, read_ids, read_labels

SPLITS = ("public", "private")


def public_ids(ids: list[str], split_seed: int, fraction: float) -> set[str]:
    order = sorted(ids, key=lambda i: hashlib.sha256(f"{split_seed}:{i}".encode()).digest())
    return set(order[: round(len(ids) * fraction)])


def metric(name: str, errors: list[float]) -> float:
    if name == "mae":
        return sum(abs(e) for e in errors) / len(errors)
    mse = math.fsum(e * e for e in errors) / len(errors)
    return math.sqrt(mse) if name == "rmse" else mse


@dataclass(frozen=True)
class Answer:
    """The hidden side of a competition: the test ids, their labels, and the split."""

    ids: list[str]  # normalized, in test-file order
    labels: dict[str, float]
    public: set[str]


def test_ids(competition: Competition) -> list[str]:
    """The ids a prediction file must cover, from the public test file."""
    text = _read(competition.test)
    ids = read_ids(text, _shown(competition.test), competition.id_column)
    integral = is_integral(ids)
    return [normalize_id(i, integral) for i in ids]


def load_answer(competition: Competition, labels_path: Path | None = None) -> Answer:
    """Raises TableError when the labels are unusable, FileNotFoundError when absent."""
    path = labels_path or competition.labels
    ids = test_ids(competition)
    integral = is_integral(ids)
    raw = read_labels(_read(path), _shown(path), competition.id_column, competition.target)
    labels = {normalize_id(k, integral): v for k, v in raw.items()}
    missing = [i for i in ids if i not in labels]
    if missing:
        raise TableError(f"{_shown(path)} has no label for {len(missing)} test ids (first: {missing[0]})")
    return Answer(ids=ids, labels=labels, public=public_ids(ids, competition.split_seed, competition.public_fraction))


def scores(competition: Competition, answer: Answer, predictions: Predictions) -> dict[str, float]:
    out = {}
    for split in SPLITS:
        chosen = [i for i in answer.ids if (i in answer.public) == (split == "public")]
        out[split] = metric(competition.metric, [predictions.values[i] - answer.labels[i] for i in chosen])
    return out


def beaten(competition: Competition, split: str, score: float) -> list[str]:
    """Names of the baselines this score beats (strictly lower) on the split."""
    return [b.name for b in competition.baselines if score < getattr(b, split)]


def tier(competition: Competition, split: str, score: float) -> str:
    names = beaten(competition, split, score)
    return names[-1] if names else "none"


def rms_difference(a: Predictions, b: Predictions) -> float:
    keys = a.values.keys() & b.values.keys()
    return math.sqrt(math.fsum((a.values[k] - b.values[k]) ** 2 for k in keys) / max(1, len(keys)))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise TableError(f"{_shown(path)} is not UTF-8 text") from None


def _shown(path: Path) -> str:
    parts = path.parts
    return "/".join(parts[-3:]) if len(parts) >= 3 else str(path)
