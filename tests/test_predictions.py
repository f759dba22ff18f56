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
