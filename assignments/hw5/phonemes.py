"""HW5 part B: classify each speech frame into one of 41 phonemes.

Run it as a script: ``python phonemes.py`` trains on ``data/phoneme.train.csv``, keeps
the model with the best validation accuracy, and writes ``pred.csv`` (``Id,Class``:
one predicted class, a whole number from 0 to 40, per test frame) for
``data/phoneme.test.csv``. The grader runs it the same way, from this folder, with a
fixed seed and a time budget (see ``[competition]`` in assignment.toml), then scores
``pred.csv`` by accuracy on a public and a private part of the test frames.

Each row of the data is one frame of an utterance: ``Id``, the ``utterance`` it belongs
to, its position ``frame`` in it, 39 MFCC-like features ``f0`` .. ``f38`` (13
coefficients, their deltas and accelerations) and, in the training file, its
``Class``. A phoneme lasts several frames, so a frame's neighbours say a lot about it.

Device: the grader sets ``GRADER_DEVICE`` to ``cuda`` when it grades on a GPU (else
``cpu``); ``pick_device`` follows it and falls back to the CPU when CUDA is not there.

As shipped it reaches the simple baseline. To beat the others, try: concatenating
neighbouring frames (``concat_nframes``), a wider and deeper model, batch
normalization and dropout, more epochs, another learning rate; and, since a phoneme lasts
several frames, predictions that agree with their neighbours. Keep training inside
``main()``: the grader imports this file (and the notebook) without running it.
"""

import csv
import math
import os

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

N_FEATURES = 39  # per frame
N_CLASSES = 41

CONFIG = {
    "seed": 5201314,
    "concat_nframes": 1,  # frames per sample, odd: the frame and (n - 1) / 2 on each side
    "valid_ratio": 0.2,  # share of the training utterances kept back for validation
    "n_epochs": 8,
    "batch_size": 256,
    "learning_rate": 1e-3,
    "weight_decay": 0.0,
    "hidden_layers": 1,
    "hidden_dim": 64,
    "dropout": 0.0,
    "save_path": "models/model.ckpt",
}


def same_seed(seed: int) -> None:
    """Makes a run repeatable."""
    np.random.seed(seed)
    torch.manual_seed(seed)


def pick_device() -> str:
    """``GRADER_DEVICE`` (set by the grader: "cuda" or "cpu"), falling back to the CPU
    when CUDA is not available or does not work; without it, a GPU if there is one."""
    wanted = os.environ.get("GRADER_DEVICE", "cuda").strip().lower()
    return "cuda" if wanted == "cuda" and torch.cuda.is_available() and cuda_works() else "cpu"


def cuda_works() -> bool:
    """Whether a tensor can be made on the GPU (a driver can be there and still refuse)."""
    try:
        torch.zeros(1, device="cuda")
    except Exception as e:  # noqa: BLE001 - any failure means: train on the CPU
        print(f"CUDA is there but cannot be used ({type(e).__name__}: {e}); training on the CPU")
        return False
    return True


def read_frames(path: str) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray | None]:
    """(ids, utterance of each frame, features (frames, 39), classes or None for the test file)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    first = header.index("f0")
    ids = np.array([int(r[0]) for r in rows])
    utterances = [r[header.index("utterance")] for r in rows]
    x = np.array([r[first : first + N_FEATURES] for r in rows], dtype=np.float32)
    y = np.array([int(r[header.index("Class")]) for r in rows]) if "Class" in header else None
    return ids, utterances, x, y


def concat_feat(x: np.ndarray, utterances: list[str], concat_nframes: int) -> np.ndarray:
    """Each frame with its (n - 1) / 2 neighbours on each side, within its utterance (the
    first and last frames repeated past its ends): (frames, 39) -> (frames, 39 * n)."""
    assert concat_nframes % 2 == 1, "concat_nframes must be odd"
    if concat_nframes == 1:
        return x
    half = concat_nframes // 2
    out = np.empty((len(x), x.shape[1] * concat_nframes), dtype=x.dtype)
    start = 0
    names = utterances + [None]
    for end in range(1, len(names)):
        if names[end] != names[start]:  # frames start .. end - 1 are one utterance
            n = end - start
            index = np.clip(np.arange(n)[:, None] + np.arange(-half, half + 1)[None, :], 0, n - 1)
            out[start:end] = x[start:end][index].reshape(n, -1)
            start = end
    return out


def split_utterances(utterances: list[str], valid_ratio: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (train, valid) over frames: whole utterances go to one side."""
    names = sorted(set(utterances))
    order = np.random.default_rng(seed).permutation(len(names))
    valid = {names[i] for i in order[: int(valid_ratio * len(names))]}
    is_valid = np.array([u in valid for u in utterances])
    return ~is_valid, is_valid


class BasicBlock(nn.Module):
    def __init__(self, input_dim: int, output_dim: int, dropout: float):
        super().__init__()
        self.block = nn.Sequential(nn.Linear(input_dim, output_dim), nn.ReLU())  # TODO: batch norm? dropout?

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class Classifier(nn.Module):
    def __init__(self, input_dim: int, output_dim: int = N_CLASSES, hidden_layers: int = 1, hidden_dim: int = 256, dropout: float = 0.0):
        super().__init__()
        self.fc = nn.Sequential(
            BasicBlock(input_dim, hidden_dim, dropout),
            *[BasicBlock(hidden_dim, hidden_dim, dropout) for _ in range(hidden_layers - 1)],
            nn.Linear(hidden_dim, output_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


def trainer(train_loader: DataLoader, valid_loader: DataLoader, model: nn.Module, config: dict, device: str) -> float:
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=config["learning_rate"], weight_decay=config["weight_decay"])
    os.makedirs(os.path.dirname(config["save_path"]) or ".", exist_ok=True)
    best_acc = -math.inf
    for epoch in range(config["n_epochs"]):
        model.train()
        train_loss, train_right = 0.0, 0
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            logits = model(x)
            loss = criterion(logits, y)
            loss.backward()
            optimizer.step()
            train_loss += loss.item() * len(y)
            train_right += (logits.argmax(1) == y).sum().item()

        model.eval()
        valid_right = 0
        with torch.no_grad():
            for x, y in valid_loader:
                x, y = x.to(device), y.to(device)
                valid_right += (model(x).argmax(1) == y).sum().item()
        n_train, n_valid = len(train_loader.dataset), len(valid_loader.dataset)
        valid_acc = valid_right / n_valid
        print(f"epoch {epoch + 1}: train loss {train_loss / n_train:.4f}, acc {train_right / n_train:.4f}; valid acc {valid_acc:.4f}")
        if valid_acc > best_acc:
            best_acc = valid_acc
            torch.save(model.state_dict(), config["save_path"])
    return best_acc


def predict_test(test_loader: DataLoader, model: nn.Module, device: str) -> np.ndarray:
    """Class probabilities, (frames, 41)."""
    model.eval()
    probs = []
    with torch.no_grad():
        for (x,) in test_loader:
            probs.append(torch.softmax(model(x.to(device)), dim=1).cpu())
    return torch.cat(probs).numpy()


def save_pred(ids: np.ndarray, preds: np.ndarray, path: str = "pred.csv") -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Id", "Class"])
        for i, p in zip(ids, preds):
            writer.writerow([int(i), int(p)])


def main(config: dict = CONFIG) -> None:
    device = pick_device()
    same_seed(config["seed"])
    _, train_utts, x, y = read_frames("data/phoneme.train.csv")
    test_ids, test_utts, x_test = read_frames("data/phoneme.test.csv")[:3]
    x, x_test = concat_feat(x, train_utts, config["concat_nframes"]), concat_feat(x_test, test_utts, config["concat_nframes"])
    is_train, is_valid = split_utterances(train_utts, config["valid_ratio"], config["seed"])
    x_train, y_train, x_valid, y_valid = x[is_train], y[is_train], x[is_valid], y[is_valid]
    print(f"train {x_train.shape}, valid {x_valid.shape}, test {x_test.shape}; device {device}")

    def tensors(*arrays):
        return TensorDataset(*(torch.as_tensor(a) for a in arrays))

    train_loader = DataLoader(tensors(x_train, y_train), batch_size=config["batch_size"], shuffle=True)
    valid_loader = DataLoader(tensors(x_valid, y_valid), batch_size=config["batch_size"], shuffle=False)
    test_loader = DataLoader(tensors(x_test), batch_size=config["batch_size"], shuffle=False)

    model = Classifier(x_train.shape[1], N_CLASSES, config["hidden_layers"], config["hidden_dim"], config["dropout"]).to(device)
    best = trainer(train_loader, valid_loader, model, config, device)
    print(f"best validation accuracy {best:.4f}")

    model.load_state_dict(torch.load(config["save_path"], map_location=device))
    probs = predict_test(test_loader, model, device)
    save_pred(test_ids, probs.argmax(axis=1), "pred.csv")
    print("wrote pred.csv")


if __name__ == "__main__":
    main()
