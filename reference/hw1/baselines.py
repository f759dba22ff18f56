"""Scores of models of increasing strength on hw1 part B, to set the baselines from.

    python reference/hw1/baselines.py           # closed-form models only (seconds)
    python reference/hw1/baselines.py --train   # also runs the starter and the reference covid.py

Each model is fit on the whole training file and scored like a submission, on the
public and private splits of assignments/hw1/assignment.toml. How the manifest's
baselines follow from these numbers is in README.md beside this file.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from grader import manifest  # noqa: E402
from grader.competition import scoring  # noqa: E402
from grader.competition.predictions import Predictions, parse  # noqa: E402


def load(path: Path) -> tuple[list[str], np.ndarray]:
    lines = path.read_text().splitlines()
    return lines[0].split(","), np.array([line.split(",") for line in lines[1:]], dtype=np.float64)


def least_squares(a: np.ndarray, y: np.ndarray, at: np.ndarray) -> np.ndarray:
    mean, std = a.mean(0), a.std(0) + 1e-8
    a, at = (a - mean) / std, (at - mean) / std
    a, at = np.c_[a, np.ones(len(a))], np.c_[at, np.ones(len(at))]
    w = np.linalg.solve(a.T @ a + 1e-3 * np.eye(a.shape[1]), a.T @ y)
    return at @ w


def closed_form_models(names: list[str], x: np.ndarray, y: np.ndarray, xt: np.ndarray) -> dict[str, np.ndarray]:
    def cols(*features: str) -> list[int]:
        return list(range(37)) + [i for i, n in enumerate(names) if n.rsplit("_day", 1)[0] in features]

    def col(name: str) -> np.ndarray:
        return names.index(name)

    def growth(z: np.ndarray) -> np.ndarray:
        level = z[:, [col("tested_positive_day4")]]
        mask = z[:, [col(f"wearing_mask_day{d}") for d in range(1, 6)]].mean(1, keepdims=True)
        out = z[:, [col(f"{f}_day{d}") for d in range(1, 6) for f in ("spent_time", "work_outside_home")]].mean(1, keepdims=True)
        trend = level - z[:, [col("tested_positive_day3")]]
        return np.hstack([level * mask, level * out, level * trend, level * z[:, :37]])

    core = cols("cli", "ili", "hh_cmnty_cli", "nohh_cmnty_cli", "tested_positive")
    chosen = cols("cli", "ili", "hh_cmnty_cli", "nohh_cmnty_cli", "tested_positive", "wearing_mask", "spent_time", "work_outside_home", "travel_outside_state")
    everything = list(range(x.shape[1]))
    return {
        "constant mean": np.full(len(xt), y.mean()),
        "linear, tested_positive only": least_squares(x[:, cols("tested_positive")], y, xt[:, cols("tested_positive")]),
        "linear, infection readings": least_squares(x[:, core], y, xt[:, core]),
        "linear, every feature": least_squares(x[:, everything], y, xt[:, everything]),
        "linear, growth features (reference's)": least_squares(
            np.hstack([x[:, chosen], growth(x)]), y, np.hstack([xt[:, chosen], growth(xt)])
        ),
    }


def trained(folder: Path) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "assignments" / "hw1" / "data", work / "data")
        shutil.copy(folder / "covid.py", work / "covid.py")
        subprocess.run([sys.executable, "covid.py"], cwd=work, stdout=subprocess.DEVNULL, check=True)
        return (work / "pred.csv").read_text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true", help="also train the starter and the reference covid.py")
    args = parser.parse_args()
    hw1 = manifest.find("hw1", ROOT)
    comp = hw1.competition
    answer = scoring.load_answer(comp)
    names, train = load(comp.train)
    _, test = load(comp.test)
    x, y, xt = train[:, 1:-1], train[:, -1], test[:, 1:]
    names = names[1:-1]
    ids = [str(int(i)) for i in test[:, 0]]

    results = {}
    for label, pred in closed_form_models(names, x, y, xt).items():
        results[label] = scoring.scores(comp, answer, Predictions(dict(zip(ids, map(float, pred)))))
    if args.train:
        for label, folder in (("starter covid.py", ROOT / "assignments" / "hw1"), ("reference covid.py", HERE)):
            results[label] = scoring.scores(comp, answer, parse(trained(folder), "pred.csv", answer.ids, comp.id_column, comp.target))
    print(f"{'model':42} {'public':>9} {'private':>9}")
    for label, s in sorted(results.items(), key=lambda kv: -kv[1]["public"]):
        print(f"{label:42} {s['public']:9.4f} {s['private']:9.4f}")
    print("manifest baselines: " + ", ".join(f"{b.name} {b.public:g}/{b.private:g}" for b in comp.baselines))


if __name__ == "__main__":
    main()
