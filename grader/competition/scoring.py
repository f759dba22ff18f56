"""Scores on the public and private splits, and which baselines they beat.

The split is a fixed rule, so anyone holding the labels can recompute it: order the
test ids by sha256("<split_seed>:<id>") and the first ``public_fraction`` of them
are public, the rest private.

Metrics: ``mse``, ``rmse`` and ``mae`` of the errors (lower is better); ``accuracy``,
the share of rows whose predicted class is the label, and ``macro_f1``, the mean
over classes of each class's F1 = 2·TP / (2·TP + FP + FN), taken over the classes
that occur among the split's labels or predictions (scikit-learn's
``f1_score(average="macro")``); both higher is better. The competition's
``better`` says which way a score beats a baseline.
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
    """A regression metric of ``errors`` (prediction minus label)."""
    if name == "mae":
        return sum(abs(e) for e in errors) / len(errors)
    mse = math.fsum(e * e for e in errors) / len(errors)
    return math.sqrt(mse) if name == "rmse" else mse


def classification_metric(name: str, predicted: list[int], actual: list[int]) -> float:
    """``accuracy`` or ``macro_f1`` of predicted classes against the labels (see the module's docstring)."""
    if not actual:
        return math.nan
    if name == "accuracy":
        return sum(p == a for p, a in zip(predicted, actual)) / len(actual)
    if name != "macro_f1":
        raise ValueError(f"not a classification metric: {name}")
    true_positive: dict[int, int] = {}
    false_positive: dict[int, int] = {}
    false_negative: dict[int, int] = {}
    for p, a in zip(predicted, actual):
        if p == a:
            true_positive[a] = true_positive.get(a, 0) + 1
        else:
            false_positive[p] = false_positive.get(p, 0) + 1
            false_negative[a] = false_negative.get(a, 0) + 1
    classes = set(predicted) | set(actual)
    f1 = [2 * true_positive.get(c, 0) / (2 * true_positive.get(c, 0) + false_positive.get(c, 0) + false_negative.get(c, 0)) for c in classes]
    return math.fsum(f1) / len(f1)


def split_score(competition: Competition, predicted: list[float], actual: list[float]) -> float:
    """The competition's metric of predictions against labels, given in the same order."""
    if competition.classification:
        return classification_metric(competition.metric, [int(p) for p in predicted], [int(a) for a in actual])
    return metric(competition.metric, [p - a for p, a in zip(predicted, actual)])


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
    if competition.classification:
        wrong = next((i for i in ids if labels[i] != int(labels[i]) or not 0 <= labels[i] < competition.num_classes), None)
        if wrong is not None:
            raise TableError(
                f"{_shown(path)}: the label of id {wrong} is {labels[wrong]:g}, not a class from 0 to {competition.num_classes - 1} "
                f"(the manifest's num_classes is {competition.num_classes})"
            )
        labels = {k: int(v) for k, v in labels.items()}
    return Answer(ids=ids, labels=labels, public=public_ids(ids, competition.split_seed, competition.public_fraction))


def scores(competition: Competition, answer: Answer, predictions: Predictions) -> dict[str, float]:
    out = {}
    for split in SPLITS:
        chosen = [i for i in answer.ids if (i in answer.public) == (split == "public")]
        out[split] = split_score(competition, [predictions.values[i] for i in chosen], [answer.labels[i] for i in chosen])
    return out


def beaten(competition: Competition, split: str, score: float) -> list[str]:
    """Names of the baselines this score beats (strictly better: lower, or higher for
    accuracy and macro_f1) on the split."""
    return [b.name for b in competition.baselines if competition.better(score, getattr(b, split))]


def rank_key(competition: Competition, score: float | None) -> tuple[bool, float]:
    """Sort key: the best score first, whichever way the metric goes; no score last."""
    if score is None:
        return (True, 0.0)
    return (False, -score if competition.higher_is_better else score)


def tier(competition: Competition, split: str, score: float) -> str:
    names = beaten(competition, split, score)
    return names[-1] if names else "none"


def difference(competition: Competition, a: Predictions, b: Predictions) -> float:
    """How far two prediction files differ: their RMS difference, or for classification
    the share of rows whose classes differ (``max_difference`` is in these terms)."""
    if not competition.classification:
        return rms_difference(a, b)
    keys = a.values.keys() & b.values.keys()
    return sum(a.values[k] != b.values[k] for k in keys) / max(1, len(keys))


def describe_difference(competition: Competition, gap: float) -> str:
    """``differ by 0.2 (RMS; allowed 0.1)`` / ``disagree on 12.5% of the rows (allowed 10%)``."""
    if competition.classification:
        return f"disagree on {gap:.1%} of the rows (allowed {competition.max_difference:.1%})"
    return f"differ by {gap:.4g} (RMS; allowed {competition.max_difference:g})"


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
