"""HW1 part B (reference solution): predict today's COVID-19 positive-test rate from five days of surveys.

Run it as a script: ``python covid.py`` trains on ``data/covid.train.csv``, keeps the
best model by validation loss, and writes ``pred.csv`` (``id,tested_positive``) for
``data/covid.test.csv``. The grader runs it the same way, from this folder, with a
fixed seed and a time budget (see ``[competition]`` in assignment.toml), then scores
``pred.csv`` on a public and a private part of the test set.

As shipped it reaches the simple baseline. To beat the others, try: choosing
features in ``select_features``, normalizing them, a different model, optimizer,
learning rate or batch size. Keep training inside ``main()``: the grader imports
this file (and the notebook) without running it.
"""

# BEGIN SOLUTION
# The reference, against the starter: the features are the state, every survey reading
# of the infection, the behaviours that drive its growth, and their products with the
# day-4 level (growth is a factor); all normalized with the training split's statistics,
# the target standardized too; a linear layer trained by Adam with cosine decay.
# END SOLUTION
import csv
import math
import os

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, random_split

CONFIG = {
    "seed": 5201314,
    # BEGIN SOLUTION
    "select_all": False,
    # END SOLUTION
    # BEGIN STARTER
    # "select_all": True,  # use every feature; set False to use your own selection
    # END STARTER
    "valid_ratio": 0.2,  # share of the training data kept back for validation
    "n_epochs": 600,
    "batch_size": 256,
    # BEGIN SOLUTION
    "learning_rate": 1e-2,
    # END SOLUTION
    # BEGIN STARTER
    # "learning_rate": 1e-5,
    # END STARTER
    # BEGIN SOLUTION
    "early_stop": 600,  # with the learning rate decayed to 0, run to the end and keep the best
    # END SOLUTION
    # BEGIN STARTER
    # "early_stop": 100,  # stop after this many epochs without a better validation loss
    # END STARTER
    "save_path": "models/model.ckpt",
}

# BEGIN SOLUTION
N_STATES = 37
DAY_FEATURES = [
    "cli", "ili", "hh_cmnty_cli", "nohh_cmnty_cli", "wearing_mask", "travel_outside_state", "work_outside_home",
    "shop", "restaurant", "spent_time", "large_event", "public_transit", "anxious", "depressed", "worried_finances",
    "tested_positive",
]  # fmt: skip
# END SOLUTION


def same_seed(seed: int) -> None:
    """Makes a run repeatable."""
    np.random.seed(seed)
    torch.manual_seed(seed)


def read_csv(path: str) -> np.ndarray:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return np.array(rows[1:], dtype=np.float64)


class COVID19Dataset(Dataset):
    """x: features; y: targets, or None for the test set."""

    def __init__(self, x: np.ndarray, y: np.ndarray | None = None):
        self.x = torch.as_tensor(x, dtype=torch.float32)
        self.y = None if y is None else torch.as_tensor(y, dtype=torch.float32)

    def __getitem__(self, idx):
        if self.y is None:
            return self.x[idx]
        return self.x[idx], self.y[idx]

    def __len__(self) -> int:
        return len(self.x)


class MyModel(nn.Module):
    def __init__(self, input_dim: int):
        super().__init__()
        # TODO: try other architectures (and remember to match the input size).
        # BEGIN SOLUTION
        self.layers = nn.Linear(input_dim, 1)  # the products above make the problem linear
        # END SOLUTION
        # BEGIN STARTER
        # self.layers = nn.Sequential(
        #     nn.Linear(input_dim, 16),
        #     nn.ReLU(),
        #     nn.Linear(16, 8),
        #     nn.ReLU(),
        #     nn.Linear(8, 1),
        # )
        # END STARTER

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x).squeeze(1)  # (B, 1) -> (B,)


def select_features(train_data: np.ndarray, valid_data: np.ndarray, test_data: np.ndarray, select_all: bool = True):
    """Splits off the target (the last training column) and picks the feature columns.

    Column 0 is the row id and is never a feature.
    """
    y_train, y_valid = train_data[:, -1], valid_data[:, -1]
    raw_x_train, raw_x_valid, raw_x_test = train_data[:, 1:-1], valid_data[:, 1:-1], test_data[:, 1:]
    if select_all:
        feat_idx = list(range(raw_x_train.shape[1]))
    else:
        # BEGIN SOLUTION
        keep = {"cli", "ili", "hh_cmnty_cli", "nohh_cmnty_cli", "tested_positive", "wearing_mask", "spent_time",
                "work_outside_home", "travel_outside_state"}  # fmt: skip
        feat_idx = list(range(N_STATES))
        for day in range(5):
            feat_idx += [N_STATES + day * len(DAY_FEATURES) + i for i, f in enumerate(DAY_FEATURES) if f in keep]
        feat_idx = [i for i in feat_idx if i < raw_x_train.shape[1]]  # day 5 has no tested_positive
        # Infections grow by a factor, so day 5 is day 4 times a rate set by the state and by
        # behaviour: give a linear model those products.
        return (*(np.hstack([x[:, feat_idx], growth_features(x)]) for x in (raw_x_train, raw_x_valid, raw_x_test)), y_train, y_valid)
        # END SOLUTION
        # BEGIN STARTER
        # feat_idx = [0, 1, 2, 3, 4]  # TODO: choose good features
        # END STARTER
    return raw_x_train[:, feat_idx], raw_x_valid[:, feat_idx], raw_x_test[:, feat_idx], y_train, y_valid


# BEGIN SOLUTION
def column(name: str, day: int) -> int:
    """Index of a day's survey feature among the feature columns (id excluded)."""
    return N_STATES + (day - 1) * len(DAY_FEATURES) + DAY_FEATURES.index(name)


def growth_features(x: np.ndarray) -> np.ndarray:
    level = x[:, [column("tested_positive", 4)]]
    mask = x[:, [column("wearing_mask", d) for d in range(1, 6)]].mean(axis=1, keepdims=True)
    outside = x[:, [column(f, d) for d in range(1, 6) for f in ("spent_time", "work_outside_home")]].mean(axis=1, keepdims=True)
    trend = level - x[:, [column("tested_positive", 3)]]
    return np.hstack([level * mask, level * outside, level * trend, level * x[:, :N_STATES]])


# END SOLUTION
def train_valid_split(data: np.ndarray, valid_ratio: float, seed: int):
    valid_size = int(valid_ratio * len(data))
    train_size = len(data) - valid_size
    train_set, valid_set = random_split(data, [train_size, valid_size], generator=torch.Generator().manual_seed(seed))
    return np.array(train_set), np.array(valid_set)


def trainer(train_loader: DataLoader, valid_loader: DataLoader, model: nn.Module, config: dict, device: str) -> float:
    criterion = nn.MSELoss(reduction="mean")
    # TODO: try other optimizers (Adam?), learning rates, weight decay.
    # BEGIN SOLUTION
    optimizer = torch.optim.Adam(model.parameters(), lr=config["learning_rate"])
    # decay the learning rate to 0 over the run (lecture: learning-rate scheduling)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config["n_epochs"])
    # END SOLUTION
    # BEGIN STARTER
    # optimizer = torch.optim.SGD(model.parameters(), lr=config["learning_rate"], momentum=0.9)
    # END STARTER
    os.makedirs(os.path.dirname(config["save_path"]) or ".", exist_ok=True)

    best_loss, stale = math.inf, 0
    for epoch in range(config["n_epochs"]):
        model.train()
        train_losses = []
        for x, y in train_loader:
            optimizer.zero_grad()
            x, y = x.to(device), y.to(device)
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            train_losses.append(loss.item())

        model.eval()
        valid_losses = []
        with torch.no_grad():
            for x, y in valid_loader:
                x, y = x.to(device), y.to(device)
                valid_losses.append(criterion(model(x), y).item() * len(x))
        valid_loss = sum(valid_losses) / len(valid_loader.dataset)
        # BEGIN SOLUTION
        scheduler.step()
        # END SOLUTION
        # BEGIN STARTER
        # END STARTER
        if epoch % 50 == 0:
            print(f"epoch {epoch + 1}: train loss {np.mean(train_losses):.4f}, valid loss {valid_loss:.4f}")

        if valid_loss < best_loss:
            best_loss, stale = valid_loss, 0
            torch.save(model.state_dict(), config["save_path"])
        else:
            stale += 1
            if stale >= config["early_stop"]:
                print(f"no better validation loss for {stale} epochs: stopping at epoch {epoch + 1}")
                break
    return best_loss


def predict_test(test_loader: DataLoader, model: nn.Module, device: str) -> np.ndarray:
    model.eval()
    preds = []
    with torch.no_grad():
        for x in test_loader:
            preds.append(model(x.to(device)).cpu())
    return torch.cat(preds).numpy()


def save_pred(ids: np.ndarray, preds: np.ndarray, path: str = "pred.csv") -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "tested_positive"])
        for i, p in zip(ids, preds):
            writer.writerow([int(i), float(p)])


def main(config: dict = CONFIG) -> None:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    same_seed(config["seed"])
    train_data, test_data = read_csv("data/covid.train.csv"), read_csv("data/covid.test.csv")
    train_data, valid_data = train_valid_split(train_data, config["valid_ratio"], config["seed"])
    x_train, x_valid, x_test, y_train, y_valid = select_features(train_data, valid_data, test_data, config["select_all"])
    # BEGIN SOLUTION
    mean, std = x_train.mean(axis=0), x_train.std(axis=0) + 1e-8  # the training split's statistics only
    x_train, x_valid, x_test = (x_train - mean) / std, (x_valid - mean) / std, (x_test - mean) / std
    y_mean, y_std = y_train.mean(), y_train.std()  # a target near 0 with unit scale trains faster
    y_train, y_valid = (y_train - y_mean) / y_std, (y_valid - y_mean) / y_std
    # END SOLUTION
    # BEGIN STARTER
    # END STARTER
    print(f"train {x_train.shape}, valid {x_valid.shape}, test {x_test.shape}; {x_train.shape[1]} features")

    train_loader = DataLoader(COVID19Dataset(x_train, y_train), batch_size=config["batch_size"], shuffle=True)
    valid_loader = DataLoader(COVID19Dataset(x_valid, y_valid), batch_size=config["batch_size"], shuffle=False)
    test_loader = DataLoader(COVID19Dataset(x_test), batch_size=config["batch_size"], shuffle=False)

    model = MyModel(input_dim=x_train.shape[1]).to(device)
    best = trainer(train_loader, valid_loader, model, config, device)
    print(f"best validation loss {best:.4f}")

    model.load_state_dict(torch.load(config["save_path"], map_location=device))
    preds = predict_test(test_loader, model, device)
    # BEGIN SOLUTION
    preds = preds * y_std + y_mean
    # END SOLUTION
    # BEGIN STARTER
    # END STARTER
    save_pred(test_data[:, 0], preds, "pred.csv")
    print("wrote pred.csv")


if __name__ == "__main__":
    main()
