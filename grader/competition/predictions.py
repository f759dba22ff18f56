"""Reading and validating a prediction file (``pred.csv``) in the trusted process.

Every problem is a sentence naming the line (as a spreadsheet would number it, the
header being line 1), and at most a few are listed: a student fixes the first ones
and runs again. Ids are compared as text, except that when every test id is a whole
number, ``5.0`` is accepted for ``5`` (pandas writes ids that way after a float cast).

For a classification metric (``num_classes`` given, from the manifest's
``[competition] num_classes``) each prediction is a class index: a whole number
from 0 to ``num_classes - 1`` (``3.0`` is read as 3, as for ids); a probability, a
score or a class name is refused with the line it is on.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

MAX_BYTES = 50 * 1024 * 1024
SHOWN_PROBLEMS = 5


class TableError(Exception):
    """A CSV the grader cannot use; the message names the file and what to do."""


class PredictionError(Exception):
    """A prediction file with problems; ``problems`` are one sentence each."""

    def __init__(self, name: str, problems: list[str], total: int | None = None):
        self.name = name
        self.problems = problems
        total = len(problems) if total is None else total
        more = f" (and {total - len(problems)} more)" if total > len(problems) else ""
        super().__init__(f"{name}: " + "; ".join(problems) + more)


@dataclass(frozen=True)
class Predictions:
    values: dict[str, float]  # normalized id -> prediction (a class index, as an int, for classification)


class UnreadableCsv(ValueError):
    """A CSV text that csv cannot read (a field over its size limit, a NUL byte)."""


def _rows(text: str) -> list[list[str]]:
    """CSV rows; csv.Error (a field over csv's size limit, a NUL byte) as a ValueError
    whose message says which line, for the caller to turn into its own one-line error."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        return list(reader)
    except csv.Error as e:
        raise UnreadableCsv(f"line {reader.line_num} cannot be read as CSV ({e})") from None


def _table_rows(text: str, name: str) -> list[list[str]]:
    try:
        return _rows(text)
    except UnreadableCsv as e:
        raise TableError(f"{name}: {e}") from None


def normalize_id(raw: str, integral: bool) -> str:
    value = raw.strip()
    if integral:
        try:
            number = float(value)
        except ValueError:
            return value
        if math.isfinite(number) and number == int(number):
            return str(int(number))
    return value


def read_ids(text: str, name: str, id_column: str) -> list[str]:
    """The ids of a test or label table, in file order; TableError when unusable."""
    rows = _table_rows(text, name)
    if not rows:
        raise TableError(f"{name} is empty")
    header = [h.strip() for h in rows[0]]
    if id_column not in header:
        raise TableError(f"{name} has no column {id_column!r} (columns: {', '.join(header[:8])}{', …' if len(header) > 8 else ''})")
    at = header.index(id_column)
    ids = [row[at].strip() for row in rows[1:] if any(cell.strip() for cell in row)]
    seen: set[str] = set()
    for i, value in enumerate(ids):
        if value in seen:
            raise TableError(f"{name}: id {value!r} appears twice (line {i + 2})")
        seen.add(value)
    return ids


def read_labels(text: str, name: str, id_column: str, target: str) -> dict[str, float]:
    rows = _table_rows(text, name)
    if not rows:
        raise TableError(f"{name} is empty")
    header = [h.strip() for h in rows[0]]
    for column in (id_column, target):
        if column not in header:
            raise TableError(f"{name} has no column {column!r}")
    at_id, at_y = header.index(id_column), header.index(target)
    labels = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            labels[row[at_id].strip()] = float(row[at_y])
        except (ValueError, IndexError):
            raise TableError(f"{name} line {line}: no number in column {target!r}") from None
    return labels


def is_integral(ids: list[str]) -> bool:
    return all(i.lstrip("-").isdigit() for i in ids)


def class_index(raw: str, num_classes: int) -> tuple[int | None, str]:
    """(the class, "") or (None, what is wrong with ``raw`` as a class index, in words)."""
    classes = f"a whole number from 0 to {num_classes - 1}"
    try:
        value = float(raw)
    except ValueError:
        return None, f"{raw[:40]!r} is not a class index; write the class as {classes}"
    if not math.isfinite(value):
        return None, f"the prediction is {raw}; write the class as {classes}"
    if value != int(value):
        return None, f"{raw[:40]!r} is not a whole number; write the predicted class ({classes}), not a probability or a score"
    if not 0 <= value < num_classes:
        return None, f"class {int(value)} is out of range; there are {num_classes} classes, {classes}"
    return int(value), ""


def parse(text: str, name: str, expected_ids: list[str], id_column: str, target: str, num_classes: int = 0) -> Predictions:
    """Validates a prediction file against the test ids; raises PredictionError.
    ``num_classes`` > 0: each prediction must be a class index below it (classification)."""
    header_hint = f"`{id_column},{target}`"
    if not text.strip():
        raise PredictionError(name, [f"the file is empty; write the header {header_hint} and one row per test id"])
    try:
        rows = _rows(text)
    except UnreadableCsv as e:
        raise PredictionError(name, [f"{e}; write one `id,prediction` pair per line"]) from None
    header = [h.strip() for h in rows[0]]
    if len(header) == 1:
        for sep, said in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if sep in rows[0][0]:
                raise PredictionError(name, [f"line 1 separates values with {said}; use commas ({header_hint})"])
    if header != [id_column, target]:
        shown = ",".join(rows[0])[:80]
        raise PredictionError(name, [f"line 1 should be the header {header_hint}, found `{shown}`"])

    integral = is_integral(expected_ids)
    expected = set(expected_ids)
    values: dict[str, float] = {}
    first_line: dict[str, int] = {}
    problems: list[str] = []
    total = 0

    def problem(text: str) -> None:
        nonlocal total
        total += 1
        if len(problems) < SHOWN_PROBLEMS:
            problems.append(text)

    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank lines (a trailing newline) are harmless
        if len(row) != 2:
            problem(f"line {line} has {len(row)} values, expected 2 ({header_hint})")
            continue
        raw_id, raw_value = row[0].strip(), row[1].strip()
        key = normalize_id(raw_id, integral)
        if key not in expected:
            problem(f"line {line}: id {raw_id!r} is not a test id")
            continue
        if key in first_line:
            problem(f"line {line}: id {raw_id!r} appears again (first on line {first_line[key]})")
            continue
        first_line[key] = line
        if num_classes:
            label, wrong = class_index(raw_value, num_classes)
            if label is None:
                problem(f"line {line}: {wrong}")
            else:
                values[key] = label
            continue
        try:
            value = float(raw_value)
        except ValueError:
            problem(f"line {line}: {raw_value[:40]!r} is not a number")
            continue
        if not math.isfinite(value):
            problem(f"line {line}: the prediction is {raw_value}; every prediction must be a finite number")
            continue
        values[key] = value

    missing = [i for i in expected_ids if i not in first_line]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        # first: a missing block of rows explains more than the line problems after it
        problems.insert(0, f"{len(missing)} test id{'s' if len(missing) > 1 else ''} ha{'ve' if len(missing) > 1 else 's'} no row: {shown}")
        del problems[SHOWN_PROBLEMS:]
        total += 1
    if total:
        raise PredictionError(name, problems, total)
    return Predictions(values)
