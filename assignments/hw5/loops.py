"""HW5: the training loop, the evaluation loop, loaders and checkpoints.

Fill in each function, then run `grade hw5` to check your work.

These functions take PyTorch objects (a model, a DataLoader, a loss, an optimizer) and
are the part of every course notebook that goes wrong most quietly: gradients never
cleared between batches, an evaluation with dropout still on, a validation loss
averaged over batches instead of samples, a shuffled test set.

Conventions the checks rely on:
- a loader yields ``(x, y)`` batches (``make_loaders``' test loader yields ``(x,)``);
- ``loss_fn(logits, y)`` returns the *mean* loss over its batch (as
  ``torch.nn.CrossEntropyLoss()`` does), so a batch's total is ``loss * len(y)``;
- a loop's "mean loss" is the mean over *samples*: the sum over batches of
  ``loss * len(y)``, divided by the number of samples (the last batch may be smaller);
- accuracy is the fraction of samples whose largest logit is the label, in [0, 1];
- both loops return Python floats: ``(mean_loss, accuracy)``.
"""

import torch
from torch.utils.data import DataLoader, TensorDataset


def make_loaders(train_x, train_y, test_x, batch_size, seed):
    """Returns ``(train_loader, test_loader)``.

    train_loader: batches of ``batch_size`` rows of ``(train_x, train_y)``, in a new
    random order every epoch (shuffled with a ``torch.Generator`` seeded with ``seed``),
    every row once per epoch, the last batch smaller when ``batch_size`` does not divide
    the rows. test_loader: ``(test_x,)`` batches of ``batch_size`` rows *in the order
    given* (predictions are matched to test ids by position), every row once.
    """
    raise NotImplementedError("make_loaders (task 'loaders')")


def train_epoch(model, loader, loss_fn, optimizer):
    """One pass over ``loader``: the model in training mode (dropout on), and for every
    batch the gradients cleared, the loss computed, back-propagated and one optimizer
    step taken. Returns ``(mean_loss, accuracy)`` over the epoch's samples, each batch's
    loss and predictions taken from the forward pass before its step.
    """
    raise NotImplementedError("train_epoch (task 'train_epoch')")


def evaluate(model, loader, loss_fn):
    """``(mean_loss, accuracy)`` of ``model`` over ``loader``, in evaluation mode (dropout
    off, batch norm on its running statistics) and without computing gradients; the
    model's parameters are left as they were, and the model is left in evaluation mode.
    """
    raise NotImplementedError("evaluate (task 'evaluate')")


def save_checkpoint(path, model, optimizer, epoch):
    """Writes a checkpoint to ``path`` with ``torch.save``: a dict holding the model's
    ``state_dict()`` under "model", the optimizer's ``state_dict()`` under "optimizer" and
    ``epoch`` (an int) under "epoch" — state dicts, not the objects, so that it loads with
    ``torch.load(path, weights_only=True)``.
    """
    raise NotImplementedError("save_checkpoint (task 'checkpoint')")


def load_checkpoint(path, model, optimizer):
    """Restores what ``save_checkpoint`` wrote into ``model`` and ``optimizer`` (built as
    they were when saved) and returns the epoch; training then goes on exactly as it
    would have without the round trip.
    """
    raise NotImplementedError("load_checkpoint (task 'checkpoint')")
