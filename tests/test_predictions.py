"""Prediction files: every malformed CSV gets a precise message naming the line."""

from __future__ import annotations

import math

import pytest

from grader.competition import scoring
from grader.competition.predictions import PredictionError, parse

IDS = [str(i) for i in range(6)]


def good(**changes) -> str:
    rows = {i: f"{i},{float(i) + 0.5}" for i in IDS}
    rows.update(changes)
    return "id,tested_positive\n" + "\n".join(v for v in rows.values() if v is not None) + "\n"


def problems(text: str) -> str:
    with pytest.raises(PredictionError) as info:
        parse(text, "pred.csv", IDS, "id", "tested_positive")
    return str(info.value)


def test_a_valid_file_is_read_by_id():
    values = parse(good(), "pred.csv", IDS, "id", "tested_positive").values
    assert values == {i: float(i) + 0.5 for i in IDS}


def test_harmless_variations_are_accepted():
    text = "\ufeffid , tested_positive\n" + "\n".join(f"{i}.0, {i}" for i in reversed(IDS)) + "\n\n\n"
    values = parse(text, "pred.csv", IDS, "id", "tested_positive").values
    assert values == {i: float(i) for i in IDS}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "the file is empty; write the header `id,tested_positive`"),
        ("   \n", "the file is empty"),
        ("id;tested_positive\n0;1\n", "line 1 separates values with semicolons; use commas"),
        ("id\ttested_positive\n0\t1\n", "line 1 separates values with tabs"),
        ("ID,prediction\n" + good().split("\n", 1)[1], "line 1 should be the header `id,tested_positive`, found `ID,prediction`"),
        ("0,0.5\n1,1.5\n", "line 1 should be the header"),
        (good(**{"3": "3,3.5,extra"}), "line 5 has 3 values, expected 2"),
        (good(**{"4": None}), "1 test id has no row: 4"),
        (good(**{"1": None, "2": None}), "2 test ids have no row: 1, 2"),
        (good() + "2,9\n", "line 8: id '2' appears again (first on line 4)"),
        (good() + "77,1\n", "line 8: id '77' is not a test id"),
        (good(**{"2": "2,abc"}), "line 4: 'abc' is not a number"),
        (good(**{"2": "2,nan"}), "line 4: the prediction is nan; every prediction must be a finite number"),
        (good(**{"5": "5,inf"}), "line 7: the prediction is inf"),
        (good(**{"0": "0,"}), "line 2: '' is not a number"),
    ],
    ids=[
        "empty", "blank", "semicolons", "tabs", "wrong_header", "no_header", "extra_column", "missing_id",
        "missing_ids", "duplicate", "unknown_id", "not_a_number", "nan", "inf", "empty_value",
    ],
)  # fmt: skip
def test_each_problem_names_the_line(text, expected):
    message = problems(text)
    assert message.startswith("pred.csv: ")
    assert expected in message, message


def test_many_problems_are_summarised():
    text = "id,tested_positive\n" + "\n".join(f"{i},x" for i in IDS) + "\n"
    message = problems(text)
    assert message.count("is not a number") == 5 and "(and 1 more)" in message


def test_missing_rows_come_first():
    text = "id,tested_positive\n0,x\n1,x\n2,x\n3,x\n4,x\n"
    assert problems(text).startswith("pred.csv: 1 test id has no row: 5")


def test_split_is_a_fixed_rule_of_seed_and_fraction():
    ids = [str(i) for i in range(1001)]
    public = scoring.public_ids(ids, 20260222, 0.5)
    assert len(public) == 500  # round(1001 * 0.5), exactly, not about half
    assert public == scoring.public_ids(list(reversed(ids)), 20260222, 0.5)  # order of the file does not matter
    assert public != scoring.public_ids(ids, 1, 0.5)


def test_metrics():
    assert scoring.metric("mse", [1.0, -3.0]) == 5.0
    assert math.isclose(scoring.metric("rmse", [1.0, -3.0]), math.sqrt(5.0))
    assert scoring.metric("mae", [1.0, -3.0]) == 2.0


# Classification: a prediction is a class index 0 .. num_classes - 1.
CLASSES = 4


def classes(**changes) -> str:
    rows = {i: f"{i},{int(i) % CLASSES}" for i in IDS}
    rows.update(changes)
    return "Id,Class\n" + "\n".join(v for v in rows.values() if v is not None) + "\n"


def class_problems(text: str) -> str:
    with pytest.raises(PredictionError) as info:
        parse(text, "pred.csv", IDS, "Id", "Class", CLASSES)
    return str(info.value)


def test_a_valid_class_file_is_read_as_whole_numbers():
    values = parse(classes(**{"5": "5,1.0"}), "pred.csv", IDS, "Id", "Class", CLASSES).values
    assert values == {"0": 0, "1": 1, "2": 2, "3": 3, "4": 0, "5": 1}
    assert all(type(v) is int for v in values.values())


@pytest.mark.parametrize(
    "text, expected",
    [
        (classes(**{"2": "2,2.5"}), "line 4: '2.5' is not a whole number; write the predicted class (a whole number from 0 to 3), not a probability or a score"),
        (classes(**{"2": "2,0.93"}), "line 4: '0.93' is not a whole number"),
        (classes(**{"3": "3,4"}), "line 5: class 4 is out of range; there are 4 classes, a whole number from 0 to 3"),
        (classes(**{"3": "3,-1"}), "line 5: class -1 is out of range"),
        (classes(**{"1": "1,cat"}), "line 3: 'cat' is not a class index; write the class as a whole number from 0 to 3"),
        (classes(**{"1": "1,"}), "line 3: '' is not a class index"),
        (classes(**{"1": "1,nan"}), "line 3: the prediction is nan; write the class as a whole number from 0 to 3"),
        (classes(**{"4": None}), "1 test id has no row: 4"),
        (classes() + "2,1\n", "line 8: id '2' appears again (first on line 4)"),
        (classes() + "9,1\n", "line 8: id '9' is not a test id"),
        ("id,label\n" + classes().split("\n", 1)[1], "line 1 should be the header `Id,Class`, found `id,label`"),
        (classes(**{"0": "0,1,0.7"}), "line 2 has 3 values, expected 2 (`Id,Class`)"),
    ],
    ids=["half", "probability", "too_big", "negative", "name", "empty", "nan", "missing", "duplicate", "unknown", "header", "extra"],
)
def test_each_class_problem_names_the_line_and_what_to_do(text, expected):
    message = class_problems(text)
    assert message.startswith("pred.csv: ") and "\n" not in message
    assert expected in message, message


def test_accuracy_and_macro_f1_by_hand():
    predicted, actual = [0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0]
    assert scoring.classification_metric("accuracy", predicted, actual) == 4 / 6
    # class 0: TP 1, FP 1, FN 1 -> 2/4; class 1: TP 1, FP 0, FN 1 -> 2/3; class 2: TP 2, FP 1, FN 0 -> 4/5
    assert math.isclose(scoring.classification_metric("macro_f1", predicted, actual), (1 / 2 + 2 / 3 + 4 / 5) / 3)
    # a class only predicted (3) counts, with F1 0; a class absent from both does not
    assert math.isclose(scoring.classification_metric("macro_f1", [3, 1], [0, 1]), (0 + 1 + 0) / 3)
    assert scoring.classification_metric("macro_f1", actual, actual) == 1.0


def test_macro_f1_matches_scikit_learn():
    sklearn = pytest.importorskip("sklearn.metrics")
    rng = __import__("numpy").random.default_rng(0)
    actual = rng.integers(0, 7, 300).tolist()
    predicted = [a if rng.random() < 0.6 else int(rng.integers(0, 9)) for a in actual]
    assert math.isclose(scoring.classification_metric("macro_f1", predicted, actual), sklearn.f1_score(actual, predicted, average="macro"))


def test_a_field_over_the_csv_limit_is_one_line_not_a_crash():
    """csv refuses a field over 128 KiB with csv.Error: that is the file's problem, named."""
    text = "id,tested_positive\n0,\"" + "x" * 200_000 + "\"\n"
    assert problems(text).startswith("pred.csv: line 2 cannot be read as CSV (field larger than field limit")
