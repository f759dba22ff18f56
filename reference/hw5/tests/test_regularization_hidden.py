"""Hidden checks for hw5's dropout and weight decay.

Dropout is judged without any particular draw: the mask is read off the output (x has
no zero entries), every entry must be x / (1 - p) or exactly 0, and the number of kept
entries, overall and in every row and column, must lie where a mask keeping each entry
independently with probability 1 - p lands but for a chance below 10^-12 on either side
(exact binomial tails; a few in 10^8 over every row and column of every check). A mask
with p and 1 - p swapped, one drawn per row or per column, or one that keeps or drops
everything is far outside. Weight decay is compared with the reference in
float64, the float32 tolerance bounded by float32's own error on the same inputs."""

import math

import pytest
import torch

from grader.checks import assert_close, assert_raises

DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]


def _x(shape, dtype, device, seed):
    """Entries of either sign, none of them zero (|x| >= 0.25)."""
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(shape, generator=g, dtype=torch.float64) + 0.25) * torch.where(torch.rand(shape, generator=g) < 0.5, -1.0, 1.0).double()
    return x.to(dtype).to(device)


def _mask(out, x, p, name="out"):
    """The entries the call kept: out must be x / (1 - p) there and exactly 0 elsewhere."""
    if not isinstance(out, torch.Tensor) or (out.shape, out.dtype, out.device) != (x.shape, x.dtype, x.device):
        assert_close(out, x, name=name)  # says what differs: type, shape, dtype or device
    kept = out != 0
    expected = torch.where(kept, x / (1 - p), torch.zeros_like(x))
    assert_close(out, expected, name=f"{name} (a kept entry is x / (1 - p) = x / {1 - p:g}, a dropped one exactly 0)")
    return kept


def _bounds(p, m, alpha=1e-12):
    """The counts of kept entries (of m, each kept with probability 1 - p) between which
    an honest mask lands but for a chance below alpha on either side: exact binomial tails."""
    c = torch.arange(m + 1, dtype=torch.float64)
    n = torch.tensor(float(m), dtype=torch.float64)
    logpmf = torch.lgamma(n + 1) - torch.lgamma(c + 1) - torch.lgamma(n - c + 1) + c * math.log(1 - p) + (n - c) * math.log(p)
    pmf = logpmf.exp()
    below = pmf.cumsum(0)  # P(kept <= c)
    above = pmf.flip(0).cumsum(0).flip(0)  # P(kept >= c)
    return int((below >= alpha).nonzero()[0]), int((above >= alpha).nonzero()[-1])


def _near(counts, p, m, what):
    """Every count of kept entries (of m entries each) lies within _bounds(p, m)."""
    counts = torch.as_tensor(counts).reshape(-1).cpu().long()
    lo, hi = _bounds(p, m)
    off = ((counts < lo) | (counts > hi)).nonzero().flatten()
    if len(off):
        i = int(off[0])
        where = f"{what} {i}" if counts.numel() > 1 else what
        raise AssertionError(
            f"dropout_forward with p = {p} kept {int(counts[i])} of the {m} entries of {where}; a mask keeping each entry "
            f"independently with probability 1 - p = {1 - p:g} keeps between {lo} and {hi} of them, all but once in 10^12 tries"
        )


@pytest.mark.task("dropout_forward")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.1, 0.3, 0.9])
def test_dropout_keeps_each_entry_with_probability_one_minus_p(student, device, dtype, p):
    x = _x((400, 250), dtype, device, seed=11)
    out, _ = student.dropout_forward.keeping_objects(x, p, "train", 1234)
    kept = _mask(out, x, p).double()
    _near(kept.sum(), p, x.numel(), "x")
    _near(kept.sum(dim=1), p, x.shape[1], "row")
    _near(kept.sum(dim=0), p, x.shape[0], "column")


@pytest.mark.task("dropout_forward")
@pytest.mark.parametrize("shape", [(1, 7), (4, 3, 5), (9,)], ids=["batch_of_one", "3d", "1d"])
def test_dropout_other_shapes(student, device, shape):
    x = _x(shape, torch.float64, device, seed=5)
    out, _ = student.dropout_forward.keeping_objects(x, 0.35, "train", 99)
    _mask(out, x, 0.35, name=f"out for x of shape {tuple(shape)}")


@pytest.mark.task("dropout_forward")
@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_p_zero_keeps_everything(student, device, dtype):
    x = _x((30, 20), dtype, device, seed=6)
    out, _ = student.dropout_forward.keeping_objects(x, 0.0, "train", 5)
    assert_close(out, x, name="out (train mode with p = 0: every entry kept, scaled by 1 / (1 - 0) = 1)")


@pytest.mark.task("dropout_forward")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.0, 0.6, 0.95])
def test_dropout_eval_is_the_identity_whatever_p(student, device, dtype, p):
    x = _x((1, 9), dtype, device, seed=7) if p == 0.95 else _x((40, 30), dtype, device, seed=7)
    out, _ = student.dropout_forward.keeping_objects(x, p, "eval", 21)
    assert_close(out, x, rtol=0.0, atol=0.0, name=f"out (eval mode with p = {p}: x itself, no mask, no scaling)")


@pytest.mark.task("dropout_forward")
@pytest.mark.parametrize("p", [0.2, 0.65])
def test_dropout_the_same_seed_the_same_mask_another_seed_another(student, device, p):
    """Two seeds' masks disagree on about 2 p (1 - p) of the entries when independent;
    at least half that is asked (far beyond 7 standard deviations)."""
    x = _x((100, 80), torch.float64, device, seed=8)
    masks = {}
    for seed in (31, 31, 4242):
        out, _ = student.dropout_forward.keeping_objects(x, p, "train", seed)
        masks.setdefault(seed, []).append(_mask(out, x, p, name=f"out (seed {seed})"))
    (a, b), (c,) = masks[31], masks[4242]
    assert torch.equal(a, b), f"seed 31 twice gave two masks, differing in {(a != b).sum().item()} of {x.numel()} entries: draw the mask from a torch.Generator seeded with seed"
    differ = (a != c).double().mean().item()
    assert differ >= p * (1 - p), (
        f"the masks of seeds 31 and 4242 differ in {differ:.4f} of the entries; independent masks differ in about "
        f"2 p (1 - p) = {2 * p * (1 - p):.3f}: seed a torch.Generator with seed and draw the mask from it"
    )


@pytest.mark.task("dropout_forward")
def test_dropout_the_bounds_of_p_and_mode(student, device):
    """p = 0.99 is accepted (its kept entries scaled by 100); p = 1, p > 1, p < 0 and an
    unknown mode raise ValueError."""
    x = _x((200, 100), torch.float64, device, seed=9)
    out, _ = student.dropout_forward.keeping_objects(x, 0.99, "train", 77)
    kept = _mask(out, x, 0.99, name="out (p = 0.99)")
    _near(kept.sum(), 0.99, x.numel(), "x")
    small = _x((3, 4), torch.float64, device, seed=10)
    for p, mode in ((1.0, "train"), (1.5, "train"), (-0.1, "train"), (0.5, "test")):
        assert_raises(student.dropout_forward.keeping_objects, (small, p, mode, 0), what=f"dropout_forward(x, p={p}, mode={mode!r}, seed=0)")


def _expected_dx(out, dout, p):
    """Where the forward kept an entry (out nonzero), dout / (1 - p); elsewhere 0."""
    assert isinstance(out, torch.Tensor) and out.shape == dout.shape, f"dropout_forward's out should be a tensor of shape {tuple(dout.shape)}, got {out!r:.120}"
    return torch.where(out != 0, dout / (1 - p), torch.zeros_like(dout))


@pytest.mark.task("dropout_backward")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.2, 0.7])
def test_backward_reuses_the_forward_mask(student, device, dtype, p):
    x = _x((64, 50), dtype, device, seed=12)
    dout = _x((64, 50), dtype, device, seed=13)
    out, cache = student.dropout_forward.keeping_objects(x, p, "train", 555)
    dx = student.dropout_backward(dout, cache)
    assert_close(dx, _expected_dx(out, dout, p), name=f"dx (p = {p}: dout / (1 - p) where the forward kept the entry, 0 where it dropped it)")


@pytest.mark.task("dropout_backward")
@pytest.mark.parametrize("shape", [(1, 6), (3, 2, 4)], ids=["batch_of_one", "3d"])
def test_backward_other_shapes(student, device, shape):
    x, dout = _x(shape, torch.float64, device, seed=14), _x(shape, torch.float64, device, seed=15)
    out, cache = student.dropout_forward.keeping_objects(x, 0.45, "train", 8)
    assert_close(student.dropout_backward(dout, cache), _expected_dx(out, dout, 0.45), name=f"dx for x of shape {tuple(shape)}")


@pytest.mark.task("dropout_backward")
@pytest.mark.parametrize("mode, p", [("train", 0.0), ("eval", 0.0), ("eval", 0.6)])
def test_backward_of_an_identity_forward(student, device, mode, p):
    """dx is the gradient of what the forward returned, dout * out / x (elementwise),
    which is dout itself when the forward was the identity, as eval mode and p = 0 are."""
    x, dout = _x((20, 10), torch.float64, device, seed=16), _x((20, 10), torch.float64, device, seed=17)
    out, cache = student.dropout_forward.keeping_objects(x, p, mode, 3)
    assert isinstance(out, torch.Tensor) and out.shape == x.shape, f"dropout_forward's out should be a tensor of shape {tuple(x.shape)}, got {out!r:.120}"
    dx = student.dropout_backward(dout, cache)
    assert_close(dx, dout * out / x, name=f"dx after {'an' if mode == 'eval' else 'a'} {mode}-mode forward with p = {p} (dout: nothing was dropped or scaled)")


def _params(dtype, device, seed, names):
    g = torch.Generator().manual_seed(seed)
    shapes = {"weight": (7, 5), "bias": (7,)}
    out = {}
    for name in names:
        kind = "weight" if name.endswith("weight") else "bias"
        out[name] = (torch.randn(shapes[kind], generator=g, dtype=torch.float64) * 2 + (3.0 if kind == "bias" else 0.0)).to(dtype).to(device)
    return out


NET = ["net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias", "head.weight", "head.bias"]


@pytest.mark.task("l2_penalty")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weight_decay", [0.37, 5e-4, 0.0])
def test_l2_penalty_matches_reference(student, ref, device, dtype, weight_decay):
    params = _params(dtype, device, 20, NET)
    loss, grads = student.l2_penalty(params, weight_decay)
    exact_loss, exact_grads = ref.l2_penalty({k: v.double() for k, v in params.items()}, weight_decay)
    rough_loss, _ = ref.l2_penalty(params, weight_decay)
    slack = (rough_loss.double() - exact_loss).abs().item()
    atol = 1e-6 + 10 * slack if dtype == torch.float32 else 1e-10
    assert_close(loss, exact_loss.to(dtype), atol=atol, name=f"loss (weight_decay = {weight_decay}; weights only, biases not decayed)")
    assert isinstance(grads, dict) and set(grads) == set(params), f"grads should be a dict with every name of params, {sorted(params)}; got {sorted(grads) if isinstance(grads, dict) else grads!r:.200}"
    for name in NET:
        assert_close(grads[name], exact_grads[name].to(dtype), name=f"grads[{name!r}]" + (" (a bias: zeros)" if name.endswith("bias") else " (weight_decay * w)"))


@pytest.mark.task("l2_penalty")
@pytest.mark.parametrize("names", [["weight", "bias"], ["layer.bias"], ["fc1.weight"]], ids=["bare_names", "biases_only", "weights_only"])
def test_l2_penalty_names(student, ref, device, names):
    params = _params(torch.float64, device, 21, names)
    loss, grads = student.l2_penalty(params, 0.8)
    exact_loss, exact_grads = ref.l2_penalty(params, 0.8)
    said = " (no weights: a 0-dim tensor holding 0)" if not any(n.endswith("weight") for n in names) else ""
    assert_close(loss, exact_loss, name=f"loss for the parameters {names}{said}")
    assert isinstance(grads, dict) and set(grads) == set(params), f"grads should be a dict with every name of params, {sorted(params)}; got {grads!r:.200}"
    for name in names:
        assert_close(grads[name], exact_grads[name], name=f"grads[{name!r}]")
