"""HW5: dropout and weight decay by hand (reference solution).

(placeholder: the signatures are final, the bodies are being written)
"""

import torch


def dropout_forward(x, p, mode, seed):
    """Inverted dropout. Returns (out, cache)."""
    # BEGIN SOLUTION
    raise NotImplementedError
    # END SOLUTION


def dropout_backward(dout, cache):
    """dx, with the forward's mask."""
    # BEGIN SOLUTION
    raise NotImplementedError
    # END SOLUTION


def l2_penalty(params, weight_decay):
    """(loss, grads) of the L2 penalty over the weights."""
    # BEGIN SOLUTION
    raise NotImplementedError
    # END SOLUTION
