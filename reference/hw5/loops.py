"""HW5: training and evaluation loops (reference solution).

(placeholder: the signatures are final, the bodies are being written)
"""

import torch


def make_loaders(train_x, train_y, test_x, batch_size, seed):
    """(train_loader, test_loader)."""
    # BEGIN SOLUTION
    raise NotImplementedError
    # END SOLUTION


def train_epoch(model, loader, loss_fn, optimizer):
    """One epoch; returns (mean loss per sample, accuracy)."""
    # BEGIN SOLUTION
    raise NotImplementedError
    # END SOLUTION


def evaluate(model, loader, loss_fn):
    """(mean loss per sample, accuracy), without changing the model."""
    # BEGIN SOLUTION
    raise NotImplementedError
    # END SOLUTION


def save_checkpoint(path, model, optimizer, epoch):
    """Writes the model's and the optimizer's state_dicts and the epoch to path."""
    # BEGIN SOLUTION
    raise NotImplementedError
    # END SOLUTION


def load_checkpoint(path, model, optimizer):
    """Restores what save_checkpoint wrote; returns the epoch."""
    # BEGIN SOLUTION
    raise NotImplementedError
    # END SOLUTION
