"""Scores of models of increasing strength on hw5 part B, to set the baselines from.

    python reference/hw5/baselines.py           # closed-form models only (seconds)
    python reference/hw5/baselines.py --train   # also trains the starter, the reference, and the
                                                # reference without its smoothing, and on one frame

Each closed-form model is fit on the whole training file and scored like a
submission, by accuracy on the public and private splits of
assignments/hw5/assignment.toml; the trained programs run as the grader runs them (in
a scratch folder holding the data, one thread, the manifest's device told by
GRADER_DEVICE) and are timed in CPU seconds. How the manifest's baselines follow from
these numbers is in README.md beside this file.
"""

from __future__ import annotations

import argparse
import os
import resource
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


def concat(x: np.ndarray, utterances: list[str], n: int) -> np.ndarray:
    """Each frame with its (n - 1) / 2 neighbours each side, inside its utterance (edges repeated)."""
    names = np.array(utterances)
    out, half = [], n // 2
    for name in dict.fromkeys(utterances):
        xs = x[names == name]
        index = np.clip(np.arange(len(xs))[:, None] + np.arange(-half, half + 1)[None, :], 0, len(xs) - 1)
        out.append(xs[index].reshape(len(xs), -1))
    return np.concatenate(out)


def frames(path: Path) -> tuple[list[str], np.ndarray]:
    import csv

    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    first = rows[0].index("f0")
    return [r[1] for r in rows[1:]], np.array([r[first : first + 39] for r in rows[1:]], dtype=np.float64)


def trained(program: Path, config: dict | None = None) -> tuple[str, float]:
    """(pred.csv's text, CPU seconds) of a program run in a scratch folder with the data."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "assignments" / "hw5" / "data", work / "data")
        shutil.copy(program, work / "phonemes.py")
        code = "import phonemes; phonemes.main(dict(phonemes.CONFIG, **%r))" % (config or {})
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", GRADER_DEVICE=manifest.find("hw5", ROOT).competition.device)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-c", code], cwd=work, stdout=subprocess.DEVNULL, check=True, env=env)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        return (work / "pred.csv").read_text(), cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true", help="also train the starter and the reference phonemes.py")
    args = parser.parse_args()
    hw5 = manifest.find("hw5", ROOT)
    comp = hw5.competition
    answer = scoring.load_answer(comp)
    train_utts, x = frames(comp.train)
    test_utts, xt = frames(comp.test)
    y = np.array([int(r.rsplit(",", 1)[1]) for r in comp.train.read_text().splitlines()[1:]])

    results, cpu = {}, {}
    for n in (1, 5):
        data = baselines.Dataset(tuple(f"f{i}" for i in range(39 * n)), concat(x, train_utts, n), y.astype(float), concat(xt, test_utts, n), tuple(answer.ids), ())
        for label, pred in baselines.classification_models(data).items():
            if label == "constant" and n > 1:
                continue
            name = label if label == "constant" else f"{label}, {n} frame{'s' if n > 1 else ''}"
            results[name] = scoring.scores(comp, answer, Predictions(dict(zip(answer.ids, map(int, pred)))))
    if args.train:
        runs = (
            ("starter phonemes.py", ROOT / "assignments" / "hw5" / "phonemes.py", None),
            ("reference phonemes.py, 1 frame, no smoothing", HERE / "phonemes.py", {"concat_nframes": 1, "smooth_nframes": 1}),
            ("reference phonemes.py, no smoothing", HERE / "phonemes.py", {"smooth_nframes": 1}),
            ("reference phonemes.py", HERE / "phonemes.py", None),
        )
        for label, program, config in runs:
            text, cpu[label] = trained(program, config)
            results[label] = scoring.scores(comp, answer, parse(text, "pred.csv", answer.ids, comp.id_column, comp.target, comp.num_classes))
    print(f"{'model':46} {'public':>8} {'private':>8} {'CPU s':>7}")
    for label, s in sorted(results.items(), key=lambda kv: kv[1]["public"]):
        print(f"{label:46} {s['public']:8.4f} {s['private']:8.4f} {cpu[label]:7.1f}" if label in cpu else f"{label:46} {s['public']:8.4f} {s['private']:8.4f}")
    print("manifest baselines: " + ", ".join(f"{b.name} {b.public:g}/{b.private:g}" for b in comp.baselines))


if __name__ == "__main__":
    main()
