"""The pickle-free codec: round trips, private copies and declared write-back, and strict decoding."""

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


def _worker_changes(tree, buffers):
    """The worker side of a call that adds 2 to x in place, rewrites d and returns x."""
    dec = Decoder(buffers)
    wx, wd = dec.decode(tree["args"])
    wx.add_(2)
    wd["k"] = 5
    wd["new"] = wx
    enc = Encoder({id(o): r for r, o in dec.refs.items()}, first_ref=len(dec.refs))
    reply = {"result": enc.encode(wx), "args": enc.encode((wx, wd))}
    return reply, enc.buffers


def test_by_default_changes_to_arguments_stay_in_the_worker():
    x, d = torch.zeros(3), {"k": 1}
    tree, buffers, originals = encode_arguments((x, d), {})
    reply, rbuf = _worker_changes(tree, buffers)
    back = Decoder(rbuf, originals)
    result = back.decode(reply["result"])
    back.decode(reply["args"])
    back.commit()
    # what the call returned is the worker's copy, as it left it; ours are untouched
    assert result is not x and torch.equal(result, torch.full((3,), 2.0))
    assert torch.equal(x, torch.zeros(3)) and d == {"k": 1}


def test_declared_arguments_are_written_back_on_commit():
    from grader.sandbox.codec import declared_refs

    x, d = torch.zeros(3), {"k": 1}
    tree, buffers, originals = encode_arguments((x, d), {})
    writable = declared_refs((x, d), {}, {0: "x", 1: "d"}, originals)
    assert sorted(writable.values()) == ["d", "x"]
    reply, rbuf = _worker_changes(tree, buffers)
    back = Decoder(rbuf, originals, writable=writable)
    result = back.decode(reply["result"])
    back.decode(reply["args"])
    assert torch.equal(x, torch.zeros(3)) and d == {"k": 1}, "nothing is written before commit"
    back.commit()
    assert result is x and torch.equal(x, torch.full((3,), 2.0))
    assert d == {"k": 5, "new": x} and d["new"] is x


def test_only_what_a_declared_argument_holds_is_written_back():
    from grader.sandbox.codec import declared_refs

    x, inner = torch.zeros(2), torch.zeros(2)
    param = {"stat": inner}
    tree, buffers, originals = encode_arguments((x, param), {})
    writable = declared_refs((x, param), {}, {1: "param"}, originals)
    assert sorted(writable.values()) == ["param", "param['stat']"]
    dec = Decoder(buffers)
    wx, wparam = dec.decode(tree["args"])
    wx.fill_(7)
    wparam["stat"].fill_(3)
    enc = Encoder({id(o): r for r, o in dec.refs.items()}, first_ref=len(dec.refs))
    reply = {"result": enc.encode(None), "args": enc.encode((wx, wparam))}
    back = Decoder(enc.buffers, originals, writable=writable)
    back.decode(reply["result"])
    back.decode(reply["args"])
    back.commit()
    assert torch.equal(x, torch.zeros(2)) and param["stat"] is inner and torch.equal(inner, torch.full((2,), 3.0))


def test_a_reply_cannot_reach_an_undeclared_original_by_reference():
    x = torch.zeros(2)
    _, _, originals = encode_arguments((x,), {})
    # a forged reply: a plain reference to our argument, or its state sent twice
    with pytest.raises(DecodeError, match="dangling"):
        Decoder([], originals).decode({"t": "r", "ref": 0})
    enc = Encoder()
    state = enc.encode(torch.ones(2))
    state.pop("ref")
    twice = {"t": "u", "v": [{"t": "o", "ref": 0, "v": state}, {"t": "o", "ref": 0, "v": state}]}
    with pytest.raises(DecodeError, match="twice"):
        Decoder(enc.buffers * 2, originals).decode(twice)


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
