"""HW5: training and evaluation loops.

Fill in each function, then run `grade hw5` to check your work.

(placeholder: the signatures are final, the bodies are being written)
"""

import torch


def make_loaders(train_x, train_y, test_x, batch_size, seed):
    """(train_loader, test_loader)."""
    raise NotImplementedError("make_loaders (task 'loaders')")


def train_epoch(model, loader, loss_fn, optimizer):
    """One epoch; returns (mean loss per sample, accuracy)."""
    raise NotImplementedError("train_epoch (task 'train_epoch')")


def evaluate(model, loader, loss_fn):
    """(mean loss per sample, accuracy), without changing the model."""
    raise NotImplementedError("evaluate (task 'evaluate')")


def save_checkpoint(path, model, optimizer, epoch):
    """Writes the model's and the optimizer's state_dicts and the epoch to path."""
    raise NotImplementedError("save_checkpoint (task 'checkpoint')")


def load_checkpoint(path, model, optimizer):
    """Restores what save_checkpoint wrote; returns the epoch."""
    raise NotImplementedError("load_checkpoint (task 'checkpoint')")
