"""Generates hw5 part B's phoneme dataset, deterministically from a seed.

The course's data (ML2022/2023 HW2: LibriSpeech frames, 39 MFCCs, 41 phoneme classes)
cannot be shipped, so this makes data of the same shape and the same lessons: each
row is one 25 ms frame of an utterance, 39 features (13 static coefficients, their
deltas and their accelerations), and the frame's phoneme class, 0 to 40.

How the signal is built, so that the course's moves pay off as they do there:
- an utterance is a sequence of phonemes from a Markov chain (each class has a few
  likely successors; class 0, silence, opens and closes every utterance and is the
  most common class), each held for several frames (2 to ~15, the mean set per
  class): a frame's neighbours mostly share its class, so concatenating them
  (the course's ``concat_nframes``) averages noise away and shows the transitions;
- each class has two variants (allophones) with their own 13-d template, picked per
  segment: the classes are not linearly separable, an MLP beats a linear model;
- the statics move smoothly across segment boundaries (coarticulation), each
  utterance has its own offset (a speaker; per-utterance normalization helps a
  little), and each frame has noise, larger than the gap between many templates:
  one frame alone is a poor guess;
- deltas and accelerations are computed from the noisy statics as MFCC tools do
  (edge frames repeated), and the coefficients have very different scales (c0 is
  the largest): normalization matters.

Files (CSV, one row per frame, utterances in order and each one's frames in order):

    assignments/hw5/data/phoneme.train.csv   Id,utterance,frame,f0..f38,Class
    assignments/hw5/data/phoneme.test.csv    Id,utterance,frame,f0..f38
    reference/hw5/data/phoneme.test.labels.csv   Id,Class

``Id`` numbers each file's frames from 0; ``utterance`` names the utterance a frame
belongs to and ``frame`` is its position in it (0 first). Only this instructor-side
script knows the test labels: it writes them beside itself, never into assignments/.

    python reference/hw5/make_phoneme_data.py            # rewrites the three files
    python reference/hw5/make_phoneme_data.py --check    # exit 1 if they differ
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np

SEED = 20230303
N_CLASSES = 41
N_STATIC = 13
N_FEATURES = 3 * N_STATIC  # statics, deltas, accelerations
N_TRAIN_UTTERANCES = 130
N_TEST_UTTERANCES = 45
NOISE = 1.8  # per-frame noise on every static coefficient, before scaling
SPEAKER = 0.35  # per-utterance offset, same units
SUCCESSORS = 5  # likely next phonemes per class
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PUBLIC_DATA = ROOT / "assignments" / "hw5" / "data"
PRIVATE_DATA = HERE / "data"
FEATURE_COLUMNS = [f"f{i}" for i in range(N_FEATURES)]
# per-coefficient scale, as MFCCs have: c0 (energy) large, the higher ones small
SCALE = np.array([12.0, 6.0, 4.5, 3.5, 3.0, 2.5, 2.2, 2.0, 1.8, 1.6, 1.4, 1.2, 1.0])


class World:
    """The language: templates, durations and transitions, drawn once from the seed."""

    def __init__(self, rng: np.random.Generator):
        # two variants per class; a variant's template is its class's centre plus a shift
        centre = rng.normal(0.0, 1.0, (N_CLASSES, N_STATIC))
        shift = rng.normal(0.0, 1.0, (N_CLASSES, N_STATIC))
        self.templates = np.stack([centre + shift, centre - shift], 1)  # (class, variant, coefficient)
        self.templates[0] = rng.normal(0.0, 0.3, (2, N_STATIC)) - np.eye(N_STATIC)[0] * 2.5  # silence: low energy
        self.duration = rng.uniform(3.0, 9.0, N_CLASSES)  # mean frames per segment
        self.duration[0] = 8.0
        # transitions: each phoneme is followed by one of a few, with unequal odds; silence sometimes
        self.next = np.zeros((N_CLASSES, N_CLASSES))
        for c in range(N_CLASSES):
            choices = rng.choice(np.arange(1, N_CLASSES), SUCCESSORS, replace=False)
            self.next[c, choices] = rng.dirichlet(np.ones(SUCCESSORS)) * 0.92
            self.next[c, 0] += 0.04 if c else 0.0
            self.next[c] += 0.04 / N_CLASSES
            self.next[c, c] = 0.0  # a class does not follow itself (its duration holds it)
            self.next[c] /= self.next[c].sum()

    def utterance(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(features (frames, 39), classes (frames,)) of one utterance."""
        n_phonemes = int(rng.integers(10, 20))
        classes, c = [0], 0
        for _ in range(n_phonemes):
            c = int(rng.choice(N_CLASSES, p=self.next[c]))
            classes.append(c)
        classes.append(0)
        labels, clean = [], []
        for c in classes:
            frames = max(2, int(rng.poisson(self.duration[c])))
            template = self.templates[c, rng.integers(2)]
            labels += [c] * frames
            clean += [template] * frames
        clean = np.array(clean)
        # coarticulation: statics glide between neighbouring segments
        padded = np.concatenate([clean[:1], clean[:1], clean, clean[-1:], clean[-1:]])
        kernel = np.array([0.1, 0.2, 0.4, 0.2, 0.1])
        smooth = sum(k * padded[i : i + len(clean)] for i, k in enumerate(kernel))
        speaker = rng.normal(0.0, SPEAKER, N_STATIC)
        static = (smooth + speaker + rng.normal(0.0, NOISE, smooth.shape)) * SCALE
        delta = _delta(static)
        features = np.concatenate([static, delta, _delta(delta)], 1)
        return features, np.array(labels)


def _delta(x: np.ndarray) -> np.ndarray:
    """The regression delta over two frames each side, edge frames repeated (as MFCC tools)."""
    p = np.concatenate([x[:1], x[:1], x, x[-1:], x[-1:]])
    n = len(x)
    return (p[3 : 3 + n] - p[1 : 1 + n] + 2 * (p[4 : 4 + n] - p[0:n])) / 10.0


def generate(seed: int = SEED) -> dict[str, tuple[list[str], np.ndarray, np.ndarray, np.ndarray]]:
    """split -> (utterance names, frame positions, features, classes), one row per frame."""
    rng = np.random.default_rng(seed)
    world = World(rng)
    out = {}
    for split, count in (("train", N_TRAIN_UTTERANCES), ("test", N_TEST_UTTERANCES)):
        names, positions, feats, labels = [], [], [], []
        for u in range(count):
            x, y = world.utterance(rng)
            names += [f"{split}{u:03d}"] * len(y)
            positions.append(np.arange(len(y)))
            feats.append(x)
            labels.append(y)
        out[split] = (names, np.concatenate(positions), np.concatenate(feats), np.concatenate(labels))
    return out


def _csv(names: list[str], positions: np.ndarray, features: np.ndarray, labels: np.ndarray | None) -> str:
    out = io.StringIO()
    out.write(",".join(["Id", "utterance", "frame", *FEATURE_COLUMNS] + (["Class"] if labels is not None else [])) + "\n")
    for i, (name, pos, row) in enumerate(zip(names, positions, features)):
        tail = f",{int(labels[i])}" if labels is not None else ""
        out.write(f"{i},{name},{int(pos)}," + ",".join(_num(v) for v in row) + tail + "\n")
    return out.getvalue()


def _num(v: float) -> str:
    text = f"{v:.2f}"
    return "0.00" if text == "-0.00" else text


def files(seed: int = SEED) -> dict[Path, str]:
    data = generate(seed)
    train, test = data["train"], data["test"]
    labels = io.StringIO()
    labels.write("Id,Class\n")
    labels.writelines(f"{i},{int(c)}\n" for i, c in enumerate(test[3]))
    return {
        PUBLIC_DATA / "phoneme.train.csv": _csv(*train),
        PUBLIC_DATA / "phoneme.test.csv": _csv(*test[:3], None),
        PRIVATE_DATA / "phoneme.test.labels.csv": labels.getvalue(),
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
