"""The pickle-free codec: round trips, in-place write-back, and strict decoding."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from grader.sandbox.codec import Decoder, DecodeError, EncodeError, Encoder, encode_arguments


def _roundtrip(value):
    enc = Encoder()
    tree = enc.encode(value)
    return Decoder(enc.buffers).decode(tree)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.int64, torch.bool])
def test_tensor_roundtrip(dtype):
    t = (torch.randn(3, 4) * 10).to(dtype)
    out = _roundtrip(t)
    assert type(out) is torch.Tensor and out.dtype == dtype and torch.equal(out, t)


def test_plain_values_roundtrip():
    value = {"a": [1, 2.5, None, True, "s"], "b": (math.inf, -math.inf), 3: torch.float32, "e": torch.zeros(0, 2)}
    out = _roundtrip(value)
    assert out["a"] == [1, 2.5, None, True, "s"] and out["b"] == (math.inf, -math.inf) and out[3] is torch.float32
    assert math.isnan(_roundtrip(float("nan")))
    assert np.array_equal(_roundtrip(np.arange(4.0)), np.arange(4.0))


def test_non_contiguous_layout_is_kept():
    t = torch.randn(4, 6).T
    out = _roundtrip(t)
    assert not out.is_contiguous() and out.stride() == t.stride() and torch.equal(out, t)


def test_in_place_changes_come_back_to_the_originals():
    x, d = torch.zeros(3), {"k": 1}
    tree, buffers, originals = encode_arguments((x, d), {})
    # the worker side
    dec = Decoder(buffers)
    wx, wd = dec.decode(tree["args"])
    wx.add_(2)
    wd["k"] = 5
    wd["new"] = wx
    enc = Encoder({id(o): r for r, o in dec.refs.items()}, first_ref=len(dec.refs))
    reply = {"result": enc.encode(wx), "args": enc.encode((wx, wd))}
    # the trusted side
    back = Decoder(enc.buffers, originals)
    result = back.decode(reply["result"])
    back.decode(reply["args"])
    assert result is x and torch.equal(x, torch.full((3,), 2.0))
    assert d == {"k": 5, "new": x} and d["new"] is x


def test_subclass_and_objects_are_refused():
    class Sub(torch.Tensor):
        pass

    with pytest.raises(EncodeError, match="subclass"):
        Encoder().encode(torch.zeros(2).as_subclass(Sub))
    with pytest.raises(EncodeError, match="only tensors"):
        Encoder().encode(object())


@pytest.mark.parametrize(
    "tree, buffers",
    [
        ({"t": "T", "buf": 0, "dtype": "float32", "shape": [4], "device": "cpu", "ref": 0}, [b"\0" * 8]),
        ({"t": "T", "buf": 3, "dtype": "float32", "shape": [1], "device": "cpu", "ref": 0}, []),
        ({"t": "T", "buf": 0, "dtype": "object", "shape": [1], "device": "cpu", "ref": 0}, [b"\0" * 4]),
        ({"t": "pickle", "v": "gASV"}, []),
        ({"t": "r", "ref": 99}, []),
        ({"t": "o", "ref": 0, "v": {"t": "n"}}, []),
        ("not a node", []),
    ],
)
def test_malformed_messages_are_rejected(tree, buffers):
    with pytest.raises(DecodeError):
        Decoder(buffers).decode(tree)
