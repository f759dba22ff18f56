"""Baselines for any dataset, from the manifest's columns alone.

A competition's baselines are scores to beat, and they do not carry over from one
dataset to another: thresholds set on the course's synthetic data say nothing about
the real one. Here a ladder of closed-form models is fit on a training file and
scored on a test file's labels with the manifest's metric and split, knowing nothing
of the data but ``id_column`` and ``target``: every other column the training and
test files share, and that holds numbers, is a feature. The training file's target is
the column named ``target``, or else the one column it has that the test file lacks
(the course's files call it ``tested_positive_day5``), or the one given.

    constant                      the training target's mean (its median for mae)
    linear, best single feature   least squares on the feature most correlated with the target
    linear, k best features       ... on the k (about sqrt of their number) most correlated
    linear, every feature         ridge regression on all of them, standardized

For a classification metric (``accuracy``, ``macro_f1``) the ladder is

    constant                      the training file's most common class
    nearest class mean            each test row gets the class whose mean row is closest (standardized)
    linear, every feature         ridge regression on the one-hot classes, the largest output wins

and the bars are set the same way on the error, 1 - score (so the margin shrinks the
error by 10%, and the ladder runs from a low score to a high one).

The suggested baselines run from the easiest (the fit on the k best features, plus a
margin, so a plain model passes) to the hardest (the best of these fits, less the
margin, so it takes more than a linear model), evenly spaced in ratio between them. They are a
starting point: grade the starter and the reference against them (``grade hwN
--reference``) before shipping.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import GraderError
from ..manifest import CLASSIFICATION_METRICS, Competition
from . import scoring
from .predictions import TableError, is_integral, normalize_id, read_labels


@dataclass(frozen=True)
class Dataset:
    features: tuple[str, ...]
    x: np.ndarray  # training features
    y: np.ndarray  # training target
    xt: np.ndarray  # test features
    ids: tuple[str, ...]  # test ids, normalized, in file order
    notes: tuple[str, ...]  # columns left out or filled in, and why


@dataclass(frozen=True)
class Suggestion:
    models: dict[str, dict[str, float]]  # model -> split -> score
    baselines: tuple[tuple[str, float, float], ...]  # (name, public, private), easiest first
    dataset: Dataset


def _table(path: Path) -> tuple[list[str], list[list[str]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise GraderError(f"{path} cannot be read ({e})") from None
    rows = [r for r in csv.reader(io.StringIO(text.lstrip("\ufeff"))) if any(c.strip() for c in r)]
    if len(rows) < 2:
        raise GraderError(f"{path} has no data rows")
    return [h.strip() for h in rows[0]], rows[1:]


def _number(cell: str) -> float:
    cell = cell.strip()
    return math.nan if cell in ("", "nan", "NaN", "NA") else float(cell)


def _columns(header: list[str]) -> str:
    return ", ".join(header[:8]) + (" …" if len(header) > 8 else "")


def target_column(competition: Competition, head: list[str], test_head: list[str], train: Path, given: str | None = None) -> str:
    if given or competition.target in head:
        column = given or competition.target
        if column not in head:
            raise GraderError(f"{train} has no column {column!r}; its columns: {_columns(head)}")
        return column
    only_train = [h for h in head if h not in test_head and h != competition.id_column]
    if len(only_train) == 1:
        return only_train[0]
    raise GraderError(
        f"{train} has no column {competition.target!r} (the manifest's target) and not exactly one column the test file "
        f"lacks; name the training target with --target-column (columns: {_columns(head)})"
    )


def load(competition: Competition, train: Path, test: Path, target: str | None = None) -> Dataset:
    """The numeric features the two files share, the training target and the test ids."""
    head, rows = _table(train)
    test_head, test_rows = _table(test)
    if competition.id_column not in test_head:
        raise GraderError(f"{test} has no column {competition.id_column!r} (the manifest's id_column); its columns: {_columns(test_head)}")
    target = target_column(competition, head, test_head, train, target)
    notes, names, train_cols, test_cols = [], [], [], []
    for name in head:
        if name in (competition.id_column, target):
            continue
        if name not in test_head:
            notes.append(f"{name}: not in the test file, left out")
            continue
        at, test_at = head.index(name), test_head.index(name)
        try:
            column = np.array([_number(r[at]) for r in rows], dtype=np.float64)
            test_column = np.array([_number(r[test_at]) for r in test_rows], dtype=np.float64)
        except (ValueError, IndexError):
            notes.append(f"{name}: not numbers, left out")
            continue
        missing = int(np.isnan(column).sum() + np.isnan(test_column).sum())
        if missing:
            fill = float(np.nanmean(column)) if not np.isnan(column).all() else 0.0
            column, test_column = np.nan_to_num(column, nan=fill), np.nan_to_num(test_column, nan=fill)
            notes.append(f"{name}: {missing} empty cells, filled with the training mean")
        names.append(name)
        train_cols.append(column)
        test_cols.append(test_column)
    if not names:
        raise GraderError(f"{train} and {test} share no numeric column besides {competition.id_column!r} and {competition.target!r}")
    at_y = head.index(target)
    try:
        y = np.array([float(r[at_y]) for r in rows], dtype=np.float64)
    except (ValueError, IndexError):
        raise GraderError(f"{train}: the target column {target!r} must hold a number on every row") from None
    at_id = test_head.index(competition.id_column)
    raw_ids = [r[at_id].strip() for r in test_rows]
    integral = is_integral(raw_ids)
    ids = tuple(normalize_id(i, integral) for i in raw_ids)
    return Dataset(tuple(names), np.stack(train_cols, 1), y, np.stack(test_cols, 1), ids, tuple(notes))


def _least_squares(a: np.ndarray, y: np.ndarray, at: np.ndarray, ridge: float = 1e-3) -> np.ndarray:
    mean, std = a.mean(0), a.std(0) + 1e-8
    a, at = (a - mean) / std, (at - mean) / std
    a, at = np.c_[a, np.ones(len(a))], np.c_[at, np.ones(len(at))]
    w = np.linalg.solve(a.T @ a + ridge * np.eye(a.shape[1]), a.T @ y)
    return at @ w


def classification_models(data: Dataset) -> dict[str, np.ndarray]:
    """Test predictions (classes) of the classification ladder, simplest first."""
    x, y, xt = data.x, data.y.astype(np.int64), data.xt
    classes = np.unique(y)
    found = {"constant": np.full(len(xt), int(np.bincount(y).argmax()))}
    mean, std = x.mean(0), x.std(0) + 1e-8
    z, zt = (x - mean) / std, (xt - mean) / std
    centres = np.stack([z[y == c].mean(0) for c in classes])
    distance = (zt**2).sum(1)[:, None] - 2 * zt @ centres.T + (centres**2).sum(1)[None, :]
    found["nearest class mean"] = classes[distance.argmin(1)]
    onehot = (y[:, None] == classes[None, :]).astype(np.float64)
    a, at = np.c_[z, np.ones(len(z))], np.c_[zt, np.ones(len(zt))]
    w = np.linalg.solve(a.T @ a + 1e-3 * np.eye(a.shape[1]), a.T @ onehot)
    found["linear, every feature"] = classes[(at @ w).argmax(1)]
    return found


def models(data: Dataset, metric: str) -> dict[str, np.ndarray]:
    """Test predictions of each model of the ladder, simplest first."""
    if metric in CLASSIFICATION_METRICS:
        return classification_models(data)
    x, y, xt = data.x, data.y, data.xt
    std = x.std(0)
    corr = np.zeros(x.shape[1])
    ok = std > 0
    corr[ok] = np.abs(((x[:, ok] - x[:, ok].mean(0)) * (y - y.mean())[:, None]).mean(0) / (std[ok] * (y.std() or 1.0)))
    order = np.argsort(-corr, kind="stable")
    constant = float(np.median(y)) if metric == "mae" else float(y.mean())
    found = {"constant": np.full(len(xt), constant)}
    best = order[:1]
    found[f"linear, best single feature ({data.features[best[0]]})"] = _least_squares(x[:, best], y, xt[:, best])
    k = max(2, round(math.sqrt(x.shape[1])))
    if k < x.shape[1]:
        chosen = order[:k]
        found[f"linear, {k} best features"] = _least_squares(x[:, chosen], y, xt[:, chosen])
    if x.shape[1] > 1:
        found["linear, every feature"] = _least_squares(x, y, xt)
    return found


def score(competition: Competition, data: Dataset, labels: dict[str, float], predictions: np.ndarray) -> dict[str, float]:
    public = scoring.public_ids(list(data.ids), competition.split_seed, competition.public_fraction)
    out = {}
    for split in scoring.SPLITS:
        chosen = [(float(p), labels[i]) for i, p in zip(data.ids, predictions) if (i in public) == (split == "public")]
        out[split] = scoring.split_score(competition, [p for p, _ in chosen], [a for _, a in chosen])
    return out


def ladder(easiest: float, hardest: float, count: int) -> list[float]:
    """``count`` strictly falling bars from ``easiest`` to ``hardest``, evenly spaced in
    ratio (in difference where a bar is 0), each rounded to 3 significant digits."""
    if count == 1:
        return [_round(easiest)]
    geometric = easiest > 0 and hardest > 0
    bars = []
    for i in range(count):
        t = i / (count - 1)
        bars.append(easiest ** (1 - t) * hardest**t if geometric else easiest + (hardest - easiest) * t)
    out = []
    for bar in bars:
        value = _round(bar)
        if out and value >= out[-1]:  # rounding must not make two bars equal
            value = out[-1] * (1 - 1e-3) if out[-1] > 0 else out[-1] - 1e-3
        out.append(value)
    return out


def _round(value: float) -> float:
    return float(f"{value:.3g}") if value else 0.0


def suggest(competition: Competition, train: Path, test: Path, labels_path: Path, *, margin: float = 0.1, target: str | None = None) -> Suggestion:
    data = load(competition, train, test, target)
    try:
        raw = read_labels(labels_path.read_text(encoding="utf-8"), str(labels_path), competition.id_column, competition.target)
    except (OSError, UnicodeDecodeError) as e:
        raise GraderError(f"{labels_path} cannot be read ({e})") from None
    except TableError as e:
        raise GraderError(str(e)) from None
    integral = is_integral(list(data.ids))
    labels = {normalize_id(k, integral): v for k, v in raw.items()}
    missing = [i for i in data.ids if i not in labels]
    if missing:
        raise GraderError(f"{labels_path} has no label for {len(missing)} of the test ids in {test} (first: {missing[0]})")
    scores = {name: score(competition, data, labels, pred) for name, pred in models(data, competition.metric).items()}
    names = [b.name for b in competition.baselines]
    # bars are set on an error: the score itself (lower is better), or 1 - score (higher is better)
    flip = competition.higher_is_better
    errors = {k: {split: (1 - v[split]) if flip else v[split] for split in v} for k, v in scores.items()}
    if flip:  # the plainest model that learns: the nearest class mean
        plain = errors["nearest class mean"]
    else:  # the k best features (the single best where there are too few features for k)
        plain = errors.get(next((k for k in errors if k.endswith(" best features")), ""), next(v for k, v in errors.items() if k.startswith("linear, best single")))
    bars = {}
    for split in scoring.SPLITS:
        easiest = plain[split] * (1 + margin)
        hardest = min(v[split] for k, v in errors.items() if k != "constant") * (1 - margin)
        if hardest >= easiest:
            hardest = easiest * (1 - margin) ** max(1, len(names) - 1)
        ladder_ = ladder(easiest, hardest, len(names))
        bars[split] = [round(1 - e, 6) for e in ladder_] if flip else ladder_
    baselines = tuple((n, bars["public"][i], bars["private"][i]) for i, n in enumerate(names))
    return Suggestion(scores, baselines, data)


def toml(suggestion: Suggestion) -> str:
    """The suggested ``[[competition.baselines]]`` tables, ready to paste."""
    return "\n".join(f'[[competition.baselines]]\nname = "{n}"\npublic = {pub:g}\nprivate = {priv:g}\n' for n, pub, priv in suggestion.baselines)
