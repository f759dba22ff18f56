"""Scores of models of increasing strength on hw1 part B, to set the baselines from.

    python reference/hw1/baselines.py           # closed-form models only (seconds)
    python reference/hw1/baselines.py --train   # also runs the starter and the reference covid.py

Each model is fit on the whole training file and scored like a submission, on the
public and private splits of assignments/hw1/assignment.toml. How the manifest's
baselines follow from these numbers is in README.md beside this file.

The columns are read by name from the files (``grader/competition/baselines.py``, as
``grade baselines hw1`` does); the models that use the survey's features by name run
only where the files have them, so the script also works on another dataset with the
manifest's id and target columns (``--data-dir`` holding covid.train.csv and covid.test.csv).
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
from grader.competition import baselines, scoring  # noqa: E402
from grader.competition.predictions import Predictions, parse  # noqa: E402


def least_squares(a: np.ndarray, y: np.ndarray, at: np.ndarray) -> np.ndarray:
    mean, std = a.mean(0), a.std(0) + 1e-8
    a, at = (a - mean) / std, (at - mean) / std
    a, at = np.c_[a, np.ones(len(a))], np.c_[at, np.ones(len(at))]
    w = np.linalg.solve(a.T @ a + 1e-3 * np.eye(a.shape[1]), a.T @ y)
    return at @ w


def closed_form_models(names: list[str], x: np.ndarray, y: np.ndarray, xt: np.ndarray) -> dict[str, np.ndarray]:
    """The survey's models, by feature name; empty where the files lack those names."""
    needed = [f"{f}_day{d}" for d in range(1, 6) for f in ("tested_positive", "wearing_mask", "spent_time", "work_outside_home") if (f, d) != ("tested_positive", 5)]
    if any(n not in names for n in needed):
        return {}
    states = [i for i, n in enumerate(names) if "_day" not in n]

    def cols(*features: str) -> list[int]:
        return states + [i for i, n in enumerate(names) if n.rsplit("_day", 1)[0] in features]

    def col(name: str) -> np.ndarray:
        return names.index(name)

    def growth(z: np.ndarray) -> np.ndarray:
        level = z[:, [col("tested_positive_day4")]]
        mask = z[:, [col(f"wearing_mask_day{d}") for d in range(1, 6)]].mean(1, keepdims=True)
        out = z[:, [col(f"{f}_day{d}") for d in range(1, 6) for f in ("spent_time", "work_outside_home")]].mean(1, keepdims=True)
        trend = level - z[:, [col("tested_positive_day3")]]
        return np.hstack([level * mask, level * out, level * trend, level * z[:, states]])

    core = cols("cli", "ili", "hh_cmnty_cli", "nohh_cmnty_cli", "tested_positive")
    chosen = cols("cli", "ili", "hh_cmnty_cli", "nohh_cmnty_cli", "tested_positive", "wearing_mask", "spent_time", "work_outside_home", "travel_outside_state")
    return {
        "linear, tested_positive only": least_squares(x[:, cols("tested_positive")], y, xt[:, cols("tested_positive")]),
        "linear, infection readings": least_squares(x[:, core], y, xt[:, core]),
        "linear, growth features (reference's)": least_squares(
            np.hstack([x[:, chosen], growth(x)]), y, np.hstack([xt[:, chosen], growth(xt)])
        ),
    }


def trained(folder: Path, data: Path) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(data, work / "data")
        shutil.copy(folder / "covid.py", work / "covid.py")
        subprocess.run([sys.executable, "covid.py"], cwd=work, stdout=subprocess.DEVNULL, check=True)
        return (work / "pred.csv").read_text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true", help="also train the starter and the reference covid.py")
    parser.add_argument("--data-dir", type=Path, help="a folder with covid.train.csv and covid.test.csv (default: the assignment's)")
    parser.add_argument("--labels", type=Path, help="the test labels (default: the manifest's)")
    args = parser.parse_args()
    hw1 = manifest.find("hw1", ROOT)
    comp = hw1.competition
    train_path = args.data_dir / comp.train.name if args.data_dir else comp.train
    test_path = args.data_dir / comp.test.name if args.data_dir else comp.test
    labels_path = args.labels or comp.labels
    data = baselines.load(comp, train_path, test_path)
    # the split on these test ids, as grading would make it
    labels = scoring.read_labels(labels_path.read_text(), str(labels_path), comp.id_column, comp.target)
    integral = scoring.is_integral(list(data.ids))
    answer = scoring.Answer(
        ids=list(data.ids),
        labels={scoring.normalize_id(k, integral): v for k, v in labels.items()},
        public=scoring.public_ids(list(data.ids), comp.split_seed, comp.public_fraction),
    )

    results = {}
    models = {**baselines.models(data, comp.metric), **closed_form_models(list(data.features), data.x, data.y, data.xt)}
    for label, pred in models.items():
        results[label] = scoring.scores(comp, answer, Predictions(dict(zip(data.ids, map(float, pred)))))
    if args.train:
        folder_of_data = args.data_dir or comp.train.parent
        for label, folder in (("starter covid.py", ROOT / "assignments" / "hw1"), ("reference covid.py", HERE)):
            results[label] = scoring.scores(comp, answer, parse(trained(folder, folder_of_data), "pred.csv", answer.ids, comp.id_column, comp.target))
    print(f"{'model':52} {'public':>9} {'private':>9}")
    for label, s in sorted(results.items(), key=lambda kv: -kv[1]["public"]):
        print(f"{label:52} {s['public']:9.4f} {s['private']:9.4f}")
    print("manifest baselines: " + ", ".join(f"{b.name} {b.public:g}/{b.private:g}" for b in comp.baselines))


if __name__ == "__main__":
    main()
