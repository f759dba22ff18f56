"""Generates hw1 part B's COVID-19 survey dataset, deterministically from a seed.

The course's own data cannot be shipped, so this makes data of the same shape and
difficulty: ``id``, 37 one-hot state columns, then 5 days x 16 survey features, the
target being day 5's ``tested_positive``.

How the signal is built, so that the usual moves pay off as they do in the course:
- each row is one state over 5 days; a latent positivity level grows or shrinks day
  to day, and ``tested_positive`` is that level plus noise whose size grows with it
  (heteroscedastic);
- ``cli``, ``ili``, ``hh_cmnty_cli`` and ``nohh_cmnty_cli`` are noisy, collinear
  readings of the same level (on different scales: normalization matters);
- the growth rate depends on the state and on two behaviours (mask wearing and time
  spent outside the home), so a few behaviour columns carry signal;
- the remaining behaviour and mood columns are noise around state-level habits.

Only this instructor-side script knows the test labels: it writes them next to
itself (``reference/hw1/data``), never into ``assignments/``.

    python reference/hw1/make_covid_data.py            # rewrites the three files
    python reference/hw1/make_covid_data.py --check    # exit 1 if they differ
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np

SEED = 5201314
N_TRAIN = 2700
N_TEST = 1100
STATES = [
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "FL", "GA", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "MD", "MA", "MI",
    "MN", "MS", "MO", "NE", "NV", "NJ", "NM", "NY", "NC", "OH", "OK", "OR", "PA", "RI", "SC", "TX", "UT", "VA",
]  # fmt: skip
FEATURES = [
    "cli", "ili", "hh_cmnty_cli", "nohh_cmnty_cli", "wearing_mask", "travel_outside_state", "work_outside_home",
    "shop", "restaurant", "spent_time", "large_event", "public_transit", "anxious", "depressed", "worried_finances",
    "tested_positive",
]  # fmt: skip
DAYS = 5
TARGET = "tested_positive"

HERE = Path(__file__).resolve().parent
PUBLIC_DATA = HERE.parents[1] / "assignments" / "hw1" / "data"
PRIVATE_DATA = HERE / "data"


def columns() -> list[str]:
    return ["id", *STATES, *(f"{f}_day{d}" for d in range(1, DAYS + 1) for f in FEATURES)]


def generate(seed: int = SEED, n_train: int = N_TRAIN, n_test: int = N_TEST) -> tuple[np.ndarray, np.ndarray]:
    """Returns (ids, table): table has one row per id and every column of ``columns()`` but id."""
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    n_states = len(STATES)

    # State habits and epidemic situation.
    s_level = rng.uniform(3.0, 26.0, n_states)
    s_mask = rng.uniform(70.0, 96.0, n_states)
    s_outside = rng.normal(0.0, 1.0, n_states)
    s_growth = rng.normal(0.0, 0.04, n_states)
    s_mood = rng.normal(0.0, 1.0, (n_states, 3))

    state = rng.integers(0, n_states, n)
    level = s_level[state] * np.exp(rng.normal(0.0, 0.3, n))
    mask = np.clip(s_mask[state] + rng.normal(0.0, 3.0, n), 40, 100)
    outside = s_outside[state] + rng.normal(0.0, 0.6, n)
    growth = s_growth[state] - 0.01 * (mask - 85.0) + 0.07 * outside

    table = np.zeros((n, n_states + DAYS * len(FEATURES)))
    table[np.arange(n), state] = 1.0
    col = {f: i for i, f in enumerate(FEATURES)}
    for day in range(DAYS):
        if day:
            level = level * np.exp(growth + rng.normal(0.0, 0.02, n))
        day_mask = np.clip(mask + rng.normal(0.0, 1.0, n), 0, 100)
        day_out = outside + rng.normal(0.0, 0.3, n)
        cli = 0.05 * level + 0.35 + rng.normal(0.0, 0.08 + 0.01 * level, n)
        ili = 1.04 * cli + 0.05 + rng.normal(0.0, 0.04, n)
        hh = 1.6 * level + 12.0 + rng.normal(0.0, 1.5 + 0.05 * level, n)
        nohh = 0.82 * hh - 2.0 + rng.normal(0.0, 0.8, n)
        values = {
            "cli": cli,
            "ili": ili,
            "hh_cmnty_cli": hh,
            "nohh_cmnty_cli": nohh,
            "wearing_mask": day_mask,
            "travel_outside_state": 8.0 + 2.0 * day_out + rng.normal(0.0, 1.5, n),
            "work_outside_home": 30.0 + 3.0 * day_out + rng.normal(0.0, 2.0, n),
            "shop": 55.0 + 2.5 * day_out + rng.normal(0.0, 2.0, n),
            "restaurant": 16.0 + 3.0 * outside + rng.normal(0.0, 2.5, n),
            "spent_time": 34.0 + 4.0 * day_out + rng.normal(0.0, 1.0, n),
            "large_event": 9.0 + 1.5 * outside + rng.normal(0.0, 1.5, n),
            "public_transit": 2.0 + np.abs(rng.normal(0.0, 1.0, n)) + 0.3 * s_mood[state, 0] ** 2,
            "anxious": 12.0 + 1.5 * s_mood[state, 0] + rng.normal(0.0, 1.0, n),
            "depressed": 13.0 + 1.5 * s_mood[state, 1] + rng.normal(0.0, 1.0, n),
            "worried_finances": 36.0 + 2.0 * s_mood[state, 2] + rng.normal(0.0, 1.5, n),
            # the reading: heteroscedastic, a few percent of the level plus a floor
            "tested_positive": level + rng.normal(0.0, 0.15 + 0.015 * level, n),
        }
        base = n_states + day * len(FEATURES)
        for name, value in values.items():
            table[:, base + col[name]] = np.clip(value, 0.0, 100.0)

    ids = np.arange(n)
    order = rng.permutation(n)  # train and test drawn from the same rows, shuffled
    return ids, table[order]


def _csv(header: list[str], ids: np.ndarray, rows: np.ndarray) -> str:
    out = io.StringIO()
    out.write(",".join(header) + "\n")
    for i, row in zip(ids, rows):
        out.write(str(int(i)) + "," + ",".join(_num(v) for v in row) + "\n")
    return out.getvalue()


def _num(v: float) -> str:
    return "0" if v == 0 else ("1" if v == 1 else f"{v:.5f}")


def files(seed: int = SEED) -> dict[Path, str]:
    ids, table = generate(seed)
    cols = columns()
    target = cols.index(f"{TARGET}_day{DAYS}") - 1  # index into table (no id column)
    train_ids, test_ids = ids[:N_TRAIN], ids[N_TRAIN:]
    train, test = table[:N_TRAIN], table[N_TRAIN:]
    test_ids = test_ids - N_TRAIN  # each file numbers its rows from 0, as the course's files do
    return {
        PUBLIC_DATA / "covid.train.csv": _csv(cols, train_ids, train),
        PUBLIC_DATA / "covid.test.csv": _csv(cols[:-1], test_ids, test[:, :target]),
        PRIVATE_DATA / "covid.test.labels.csv": _csv(["id", TARGET], test_ids, test[:, target : target + 1]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the files on disk instead of writing")
    args = parser.parse_args(argv)
    stale = []
    for path, text in files().items():
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path} ({len(text) >> 10} KiB)")
    for path in stale:
        print(f"{path} differs from what this script generates", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
