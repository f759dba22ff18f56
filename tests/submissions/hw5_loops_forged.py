"""A hostile hw5 loops.py: forges what the drivers saw instead of doing the work.

- checkpoint: saves no state at all and rebinds `all` in the driver's globals;
- train_epoch: never calls model.train(), and rewrites the driver's record of the modes;
- make_loaders and evaluate: honest.
"""
import sys

import torch
from torch.utils.data import DataLoader, TensorDataset


def _driver_frame():
    f = sys._getframe(1)
    while f is not None and not f.f_code.co_filename.startswith("<grader driver"):
        f = f.f_back
    return f


def make_loaders(train_x, train_y, test_x, batch_size, seed):
    g = torch.Generator().manual_seed(seed)
    return (DataLoader(TensorDataset(train_x, train_y), batch_size=batch_size, shuffle=True, generator=g),
            DataLoader(TensorDataset(test_x), batch_size=batch_size))


def train_epoch(model, loader, loss_fn, optimizer):
    total, correct, n = 0.0, 0, 0
    for x, y in loader:
        optimizer.zero_grad()
        logits = model(x)
        loss = loss_fn(logits, y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        correct += (logits.argmax(1) == y).sum().item()
        n += len(y)
    f = _driver_frame()
    if f is not None and "watch" in f.f_locals:
        f.f_locals["watch"].forwards[:] = [[True, g] for _, g in f.f_locals["watch"].forwards]
    return total / n, correct / n


def evaluate(model, loader, loss_fn):
    model.eval()
    total, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            logits = model(x)
            total += loss_fn(logits, y).item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            n += len(y)
    return total / n, correct / n


def save_checkpoint(path, model, optimizer, epoch):
    torch.save({"epoch": epoch}, path)


def load_checkpoint(path, model, optimizer):
    f = _driver_frame()
    if f is not None:
        f.f_globals["all"] = lambda it: True
        f.f_globals["_params"] = lambda m: [p.detach().clone() for p in m.parameters()]
    return torch.load(path, weights_only=True)["epoch"]
