"""HW5: dropout and weight decay by hand.

Fill in each function, then run `grade hw5` to check your work.

(placeholder: the signatures are final, the bodies are being written)
"""

import torch


def dropout_forward(x, p, mode, seed):
    """Inverted dropout. Returns (out, cache)."""
    raise NotImplementedError("dropout_forward (task 'dropout_forward')")


def dropout_backward(dout, cache):
    """dx, with the forward's mask."""
    raise NotImplementedError("dropout_backward (task 'dropout_backward')")


def l2_penalty(params, weight_decay):
    """(loss, grads) of the L2 penalty over the weights."""
    raise NotImplementedError("l2_penalty (task 'l2_penalty')")
