"""Plain-data codec for values crossing the trusted/untrusted boundary.

A message is a JSON tree plus a list of raw byte buffers (tensor and array data).
Nothing is ever unpickled: the trusted side rebuilds only plain ``torch.Tensor``s,
numpy arrays, numbers, strings, bools, None, lists, tuples and dicts.

Every tensor, list and dict sent as an argument gets a reference number; the reply
carries the state the call left each argument in under that number (``{"t": "o"}``).
What the trusted side does with it is its own decision, never the worker's:

- by default the worker had a private copy: the argument's state comes back as a new
  object (where the call returned it, the check gets that) and the trusted side's own
  object is left exactly as it was;
- an argument the task declares as updated in place (``writable``: hw4's ``bn_param``)
  is written back into the original object, keeping aliasing as it is in-process, once
  the whole reply has been read (``Decoder.commit``); a declared tensor or array whose
  shape, dtype or device changed is refused (``ArgumentChanged``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

# dtype names that may cross; anything else is refused on both sides.
TORCH_DTYPES = {
    "float64": torch.float64,
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "int64": torch.int64,
    "int32": torch.int32,
    "int16": torch.int16,
    "int8": torch.int8,
    "uint8": torch.uint8,
    "bool": torch.bool,
    "complex64": torch.complex64,
    "complex128": torch.complex128,
}
TORCH_DTYPE_NAMES = {v: k for k, v in TORCH_DTYPES.items()}
NUMPY_DTYPES = {"float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"}

MAX_DEPTH = 64
MAX_NODES = 1_000_000
MAX_DIMS = 16


class RemoteObject:
    """An object that stayed in the worker (e.g. a layer's cache): the trusted side holds
    only its number and the worker it lives in, and can hand it back to a later call."""

    __slots__ = ("number", "worker")

    def __init__(self, number: int, worker: str):
        self.number = number
        self.worker = worker

    def __repr__(self) -> str:
        return f"<object kept in the worker #{self.number}>"


class HandleStore:
    """Worker side: objects kept for the trusted side, by number."""

    def __init__(self, token: str):
        self.token = token
        self.objects: dict[int, Any] = {}
        self._numbers: dict[int, int] = {}  # id(obj) -> number, so a kept object keeps its number

    def add(self, obj: Any) -> int:
        number = self._numbers.get(id(obj))
        if number is None:
            number = len(self.objects)
            self.objects[number] = obj
            self._numbers[id(obj)] = number
        return number

    def number_of(self, obj: Any) -> int | None:
        return self._numbers.get(id(obj))


class EncodeError(Exception):
    """A value that may not cross the boundary (raised where it is encoded)."""


class DecodeError(Exception):
    """A malformed message (raised on the receiving side)."""


class StaleHandle(DecodeError):
    """A kept object from a worker that no longer exists."""


class ArgumentChanged(DecodeError):
    """A declared in-place argument that came back with another shape, dtype or device."""


def _type_name(obj: Any) -> str:
    cls = type(obj)
    mod = getattr(cls, "__module__", "") or ""
    return cls.__qualname__ if mod in ("builtins", "__main__") else f"{mod}.{cls.__qualname__}"


class Encoder:
    """Encodes values into a JSON tree and buffers.

    ``originals`` maps id(obj) -> reference number for objects the other side already
    holds (the arguments it sent us); they are encoded as ``o`` nodes carrying state.
    """

    def __init__(
        self, originals: dict[int, int] | None = None, first_ref: int = 0, handles: HandleStore | None = None, keep_new: bool = False
    ):
        self._handles = handles  # worker side: objects already kept are sent as their handle
        self._keep_new = keep_new  # ... and, when the call allows it, new ones are kept too
        self.buffers: list[bytes] = []
        self._originals = dict(originals or {})
        self._seen: dict[int, int] = {}
        self._next_ref = first_ref
        self._keep: list[Any] = []  # keep encoded objects alive so id()s stay unique
        self._nodes = 0

    def encode(self, obj: Any, depth: int = 0) -> Any:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise EncodeError("the value is too large (more than a million items)")
        if depth > MAX_DEPTH:
            raise EncodeError(f"the value is nested more than {MAX_DEPTH} levels deep (or refers to itself)")
        if obj is None:
            return {"t": "n"}
        if obj is True or obj is False:
            return {"t": "b", "v": obj}
        cls = type(obj)
        if cls is int:
            return {"t": "i", "v": obj}
        if cls is float:
            return {"t": "f", "v": _float_out(obj)}
        if cls is str:
            return {"t": "s", "v": obj}
        if isinstance(obj, np.generic) and cls.__module__ == "numpy":
            return self.encode(obj.item(), depth)
        if isinstance(obj, torch.dtype):
            name = TORCH_DTYPE_NAMES.get(obj)
            if name is None:
                raise EncodeError(f"the dtype {obj} cannot be sent")
            return {"t": "D", "v": name}

        key = id(obj)
        if key in self._seen:
            return {"t": "r", "ref": self._seen[key]}
        if key in self._originals:
            ref = self._originals.pop(key)
            self._seen[key] = ref
            self._keep.append(obj)
            return {"t": "o", "ref": ref, "v": self._encode_mutable(obj, None, depth)}
        if cls in (tuple, torch.Size):
            return {"t": "u", "v": [self.encode(x, depth + 1) for x in obj]}
        if cls in (list, dict, torch.Tensor, torch.nn.Parameter) or cls is np.ndarray:
            ref = self._next_ref
            self._next_ref += 1
            self._seen[key] = ref
            self._keep.append(obj)
            return self._encode_mutable(obj, ref, depth)
        if isinstance(obj, torch.Tensor):
            raise EncodeError(
                f"got a torch.Tensor subclass `{_type_name(obj)}`; return a plain torch.Tensor"
            )
        if cls is RemoteObject:  # trusted side, handing a kept object back
            return {"t": "H", "v": obj.number, "w": obj.worker}
        if self._handles is not None and (self._keep_new or self._handles.number_of(obj) is not None):
            return {"t": "H", "v": self._handles.add(obj), "w": self._handles.token}
        raise EncodeError(
            f"got an object of type `{_type_name(obj)}`; only tensors, numbers, strings, bools, None "
            "and lists, tuples and dicts of those can be returned"
        )

    def _encode_mutable(self, obj: Any, ref: int | None, depth: int) -> dict:
        cls = type(obj)
        if cls is list:
            node = {"t": "l", "v": [self.encode(x, depth + 1) for x in obj]}
        elif cls is dict:
            items = []
            for k, v in obj.items():
                if type(k) not in (str, int, bool, float) and k is not None:
                    raise EncodeError(f"a dict key of type `{_type_name(k)}` cannot be sent; use strings")
                items.append([self.encode(k, depth + 1), self.encode(v, depth + 1)])
            node = {"t": "d", "v": items}
        elif cls is np.ndarray:
            node = self._ndarray(obj)
        elif isinstance(obj, torch.Tensor):
            node = self._tensor(obj)
        else:  # an original whose type changed cannot happen: originals are lists/dicts/tensors
            raise EncodeError(f"cannot send `{_type_name(obj)}`")
        if ref is not None:
            node["ref"] = ref
        return node

    def _tensor(self, t: torch.Tensor) -> dict:
        if t.is_sparse or t.layout != torch.strided:
            raise EncodeError("got a sparse tensor; return a dense torch.Tensor")
        if t.is_quantized or t.is_meta:
            raise EncodeError("got a quantized or meta tensor; return an ordinary torch.Tensor")
        name = TORCH_DTYPE_NAMES.get(t.dtype)
        if name is None:
            raise EncodeError(f"tensors of dtype {t.dtype} cannot be sent")
        plain = torch.Tensor._make_subclass(torch.Tensor, t.detach()) if type(t) is not torch.Tensor else t.detach()
        shape = list(plain.shape)
        stride = list(plain.stride())
        data = plain.cpu().contiguous()
        raw = data.reshape(-1).view(torch.uint8).numpy().tobytes() if data.numel() else b""
        self.buffers.append(raw)
        return {
            "t": "T",
            "buf": len(self.buffers) - 1,
            "dtype": name,
            "shape": shape,
            "stride": stride,
            "device": str(plain.device),
            "grad": bool(t.requires_grad),
        }

    def _ndarray(self, a: np.ndarray) -> dict:
        name = a.dtype.name
        if name not in NUMPY_DTYPES:
            raise EncodeError(f"numpy arrays of dtype {a.dtype} cannot be sent")
        self.buffers.append(np.ascontiguousarray(a).tobytes())
        return {"t": "A", "buf": len(self.buffers) - 1, "dtype": name, "shape": list(a.shape)}


def _float_out(x: float) -> Any:
    if math.isfinite(x):
        return x
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def _float_in(v: Any) -> float:
    if isinstance(v, str):
        if v in ("nan", "inf", "-inf"):
            return float(v)
        raise DecodeError("bad float")
    if type(v) not in (int, float):
        raise DecodeError("bad float")
    try:
        return float(v)
    except OverflowError:  # an int of hundreds of digits
        raise DecodeError("a float out of range") from None


class Decoder:
    """Strictly rebuilds plain values; every field is checked before use."""

    def __init__(
        self, buffers: list[bytes], originals: list[Any] | None = None, *, writable: dict[int, str] | None = None,
        cuda_ok: bool | None = None, handles: HandleStore | None = None,
    ):  # fmt: skip
        self._handles = handles  # worker side: resolve kept objects; trusted side: None
        self.buffers = buffers
        self._originals = list(originals or [])
        self._n_originals = len(self._originals)
        # ref -> how the check names it (``bn_param['running_mean']``): written back on commit
        self._writable = {ref: name for ref, name in (writable or {}).items() if 0 <= ref < self._n_originals}
        # only a writable original is ever handed back as itself; any other arrives as a copy
        self.refs: dict[int, Any] = {ref: self._originals[ref] for ref in self._writable}
        self._returned: set[int] = set()
        self._pending: list[Any] = []  # write-backs, done by commit() once the reply is whole
        self._used_buffers: set[int] = set()
        self._cuda_ok = torch.cuda.is_available() if cuda_ok is None else cuda_ok
        self._nodes = 0

    def decode(self, node: Any, depth: int = 0) -> Any:
        self._nodes += 1
        if self._nodes > MAX_NODES or depth > MAX_DEPTH:
            raise DecodeError("message too deep or too large")
        if type(node) is not dict or type(node.get("t")) is not str:
            raise DecodeError("malformed node")
        t = node["t"]
        if t == "n":
            return None
        if t == "b":
            return _expect(node.get("v"), bool)
        if t == "i":
            return _expect(node.get("v"), int)
        if t == "f":
            return _float_in(node.get("v"))
        if t == "s":
            return _expect(node.get("v"), str)
        if t == "D":
            name = node.get("v")
            if name not in TORCH_DTYPES:
                raise DecodeError("unknown dtype")
            return TORCH_DTYPES[name]
        if t == "u":
            return tuple(self.decode(x, depth + 1) for x in _expect(node.get("v"), list))
        if t == "r":
            ref = node.get("ref")
            if type(ref) is not int or ref not in self.refs:
                raise DecodeError("dangling reference")
            return self.refs[ref]
        if t == "o":
            return self._apply_original(node, depth)
        if t == "H":
            number, worker = node.get("v"), node.get("w")
            if type(number) is not int or type(worker) is not str:
                raise DecodeError("bad handle")
            if self._handles is None:
                return RemoteObject(number, worker)
            if worker != self._handles.token or number not in self._handles.objects:
                raise StaleHandle("an object kept from an earlier call is gone: the worker was replaced after a failure")
            return self._handles.objects[number]
        if t in ("l", "d", "T", "A"):
            ref = node.get("ref")
            if type(ref) is not int or ref < self._n_originals or ref in self.refs:
                raise DecodeError("bad reference number")
            return self._build(node, ref, depth)
        raise DecodeError(f"unknown node type {t!r}")

    def _build(self, node: dict, ref: int | None, depth: int) -> Any:
        t = node["t"]
        if t == "l":
            out: Any = []
            if ref is not None:
                self.refs[ref] = out
            out.extend(self.decode(x, depth + 1) for x in _expect(node.get("v"), list))
            return out
        if t == "d":
            out = {}
            if ref is not None:
                self.refs[ref] = out
            for pair in _expect(node.get("v"), list):
                if type(pair) is not list or len(pair) != 2:
                    raise DecodeError("bad dict item")
                k = self.decode(pair[0], depth + 1)
                if type(k) not in (str, int, bool, float) and k is not None:
                    raise DecodeError("bad dict key")
                out[k] = self.decode(pair[1], depth + 1)
            return out
        value = self._tensor(node) if t == "T" else self._ndarray(node)
        if ref is not None:
            self.refs[ref] = value
        return value

    def _apply_original(self, node: dict, depth: int) -> Any:
        ref = node.get("ref")
        if type(ref) is not int or not 0 <= ref < self._n_originals:
            raise DecodeError("bad original reference")
        if ref in self._returned:
            raise DecodeError("an argument came back twice")
        self._returned.add(ref)
        orig = self._originals[ref]
        state = node.get("v")
        if type(state) is not dict:
            raise DecodeError("bad original state")
        kind = state.get("t")
        expected = "T" if isinstance(orig, torch.Tensor) else {list: "l", dict: "d", np.ndarray: "A"}.get(type(orig))
        if kind != expected:
            raise DecodeError("an argument came back as a different kind of object")
        if ref not in self._writable:
            return self._build(state, ref, depth)  # the worker's copy, as the call left it
        name = self._writable[ref]
        if kind == "T":
            new = self._tensor(state)
            _same_layout(name, orig, new)
            self._pending.append(lambda: _copy_tensor(orig, new))
        elif kind == "l":
            items = self._build(state, None, depth)
            self._pending.append(lambda: orig.__setitem__(slice(None), items))
        elif kind == "d":
            items = self._build(state, None, depth)
            self._pending.append(lambda: (orig.clear(), orig.update(items)))
        else:
            new = self._ndarray(state)
            _same_layout(name, orig, new)
            self._pending.append(lambda: orig.__setitem__(Ellipsis, new))
        return orig

    def commit(self) -> None:
        """Writes the declared arguments' new state into the originals (after every part
        of the reply was read: a reply refused half-way changes nothing)."""
        pending, self._pending = self._pending, []
        for write in pending:
            write()

    def _take_buffer(self, node: dict) -> bytes:
        idx = node.get("buf")
        if type(idx) is not int or not 0 <= idx < len(self.buffers) or idx in self._used_buffers:
            raise DecodeError("bad buffer index")
        self._used_buffers.add(idx)
        return self.buffers[idx]

    @staticmethod
    def _shape(node: dict) -> list[int]:
        shape = node.get("shape")
        if type(shape) is not list or len(shape) > MAX_DIMS or any(type(s) is not int or s < 0 for s in shape):
            raise DecodeError("bad shape")
        return shape

    def _tensor(self, node: dict) -> torch.Tensor:
        dtype = TORCH_DTYPES.get(node.get("dtype"))
        if dtype is None:
            raise DecodeError("bad tensor dtype")
        shape = self._shape(node)
        raw = self._take_buffer(node)
        numel = math.prod(shape)
        itemsize = torch.empty((), dtype=dtype).element_size()
        if len(raw) != numel * itemsize:
            raise DecodeError("tensor data does not match its shape")
        device = node.get("device")
        if type(device) is not str or not (device == "cpu" or device.startswith("cuda")):
            raise DecodeError("bad tensor device")
        if device.startswith("cuda") and not self._cuda_ok:
            raise DecodeError("a CUDA tensor arrived but CUDA is not available here")
        if numel:
            flat = torch.frombuffer(bytearray(raw), dtype=dtype)
            value = flat.reshape(shape)
        else:
            value = torch.empty(shape, dtype=dtype)
        stride = node.get("stride")
        if (
            type(stride) is list
            and len(stride) == len(shape)
            and all(type(s) is int and s > 0 for s in stride)
            and list(value.stride()) != stride
            and _dense_non_overlapping(shape, stride)
        ):
            # Keep a non-contiguous layout (a transposed input stays transposed).
            strided = torch.empty_strided(shape, stride, dtype=dtype)
            strided.copy_(value)
            value = strided
        if device != "cpu":
            value = value.to(device)
        if node.get("grad") is True and (value.is_floating_point() or value.is_complex()):
            value.requires_grad_(True)
        return value

    def _ndarray(self, node: dict) -> np.ndarray:
        name = node.get("dtype")
        if name not in NUMPY_DTYPES:
            raise DecodeError("bad array dtype")
        shape = self._shape(node)
        raw = self._take_buffer(node)
        dt = np.dtype(name)
        if len(raw) != math.prod(shape) * dt.itemsize:
            raise DecodeError("array data does not match its shape")
        return np.frombuffer(raw, dtype=dt).reshape(shape).copy()


def _same_layout(name: str, orig: Any, new: Any) -> None:
    for what, show in (("shape", lambda a: str(tuple(a.shape))), ("dtype", lambda a: str(a.dtype).removeprefix("torch.")),
                       ("device", lambda a: str(getattr(a, "device", "cpu")))):  # fmt: skip
        before, after = show(orig), show(new)
        if before != after:
            raise ArgumentChanged(
                f"changed the {what} of {name} in place, from {before} to {after}; "
                "an argument updated in place must keep its shape, dtype and device"
            )


def _copy_tensor(orig: torch.Tensor, new: torch.Tensor) -> None:
    with torch.no_grad():
        if torch.equal(orig, new):
            return
        try:
            orig.copy_(new)
        except RuntimeError:  # e.g. an expanded (overlapping) tensor
            orig.data = new


def _dense_non_overlapping(shape: list[int], stride: list[int]) -> bool:
    dims = sorted((s, n) for s, n in zip(stride, shape) if n > 1)
    expected = 1
    for s, n in dims:
        if s != expected:
            return False
        expected *= n
    return True


def _expect(value: Any, kind: type) -> Any:
    if type(value) is not kind:
        raise DecodeError(f"expected {kind.__name__}")
    return value


def encode_arguments(args: tuple, kwargs: dict) -> tuple[dict, list[bytes], list[Any]]:
    """Trusted side: encode call arguments; returns (tree, buffers, originals by ref)."""
    enc = Encoder()
    tree = {"args": enc.encode(tuple(args)), "kwargs": enc.encode(dict(kwargs))}
    originals = [None] * enc._next_ref
    for obj in enc._keep:
        originals[enc._seen[id(obj)]] = obj
    return tree, enc.buffers, originals


def declared_refs(args: tuple, kwargs: dict, in_place: dict[int | str, str], originals: list[Any]) -> dict[int, str]:
    """The originals a call may change for the check: everything reachable from the
    arguments ``in_place`` names (position or keyword -> parameter name), each with the
    name a message gives it (``bn_param['running_mean']``). An object reachable from a
    declared argument is declared, wherever else it is passed too."""
    ref_of = {id(obj): ref for ref, obj in enumerate(originals) if obj is not None}
    found: dict[int, str] = {}

    def walk(obj: Any, name: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            return
        ref = ref_of.get(id(obj))
        if ref is not None:
            if ref in found:
                return
            found[ref] = name
        if type(obj) is dict:
            for k, v in obj.items():
                walk(v, f"{name}[{k!r}]", depth + 1)
        elif type(obj) in (list, tuple):
            for i, v in enumerate(obj):
                walk(v, f"{name}[{i}]", depth + 1)

    for key, name in in_place.items():
        if type(key) is int and 0 <= key < len(args):
            walk(args[key], name, 0)
        elif type(key) is str and key in kwargs:
            walk(kwargs[key], name, 0)
    return found
