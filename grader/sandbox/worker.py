"""The untrusted side: imports student modules and runs calls on request.

Everything here runs after containment, in a process that holds nothing secret.
Nothing it sends is believed by the trusted side beyond being data: a verdict is
never taken from it.
"""

from __future__ import annotations

import hashlib
import os
import random
import runpy
import sys
import traceback
import types
from typing import Any

from . import channel, forbidden
from .codec import Decoder, EncodeError, Encoder, HandleStore, StaleHandle

MAX_TEXT = 4000


def _short(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 15] + " … (truncated)"


def _safe_str(exc: BaseException) -> str:
    try:
        return _short(str(exc))
    except BaseException:  # a student exception whose __str__ itself raises
        return "(the exception could not be printed)"


def _type_name(exc: BaseException) -> str:
    try:
        return type(exc).__name__
    except BaseException:
        return "BaseException"


class StudentModules:
    """Loads student files by path; several module names may share one file (a notebook)."""

    def __init__(self, root: str):
        self.root = root
        self.kept = HandleStore(os.urandom(8).hex())  # objects a call left behind (a cache)
        self.by_path: dict[str, types.ModuleType] = {}
        self.failed: dict[str, dict] = {}

    def load(self, name: str, path: str) -> types.ModuleType | dict:
        if path in self.failed:
            return self.failed[path]
        if path in self.by_path:
            sys.modules.setdefault(name, self.by_path[path])
            return self.by_path[path]
        full = os.path.join(self.root, path)
        try:
            with open(full, encoding="utf-8") as f:
                source = f.read()
        except FileNotFoundError:
            return self._fail(path, {"kind": "no_file", "path": path})
        except (OSError, UnicodeDecodeError) as e:
            return self._fail(path, {"kind": "unreadable", "path": path, "message": _safe_str(e)})
        try:
            code = compile(source, full, "exec", dont_inherit=True)
        except SyntaxError as e:
            return self._fail(path, _syntax_error(path, e, source))
        except (ValueError, RecursionError, MemoryError) as e:
            return self._fail(path, {"kind": "syntax", "path": path, "lineno": _nul_line(source), "message": _safe_str(e), "text": ""})
        module = types.ModuleType(name)
        module.__file__ = full
        sys.modules[name] = module
        try:
            exec(code, module.__dict__)
        except BaseException as e:  # noqa: BLE001 - SystemExit, KeyboardInterrupt and custom ones too
            sys.modules.pop(name, None)
            return self._fail(path, {"kind": "import", "path": path, **_describe(e, self.root)})
        self.by_path[path] = module
        return module

    def _fail(self, path: str, info: dict) -> dict:
        self.failed[path] = info
        return info


def _syntax_error(path: str, e: SyntaxError, source: str = "") -> dict:
    return {"kind": "syntax", "path": path, "lineno": e.lineno or _nul_line(source), "message": e.msg or "invalid syntax",
            "text": (e.text or "").rstrip("\n")[:300]}  # fmt: skip


def _nul_line(source: str) -> int:
    """The line of the first NUL byte, which compile() refuses without saying where; else 0."""
    at = source.find("\0")
    return source.count("\n", 0, at) + 1 if at >= 0 else 0


def _describe(exc: BaseException, root: str) -> dict:
    frames = []
    try:
        for fr in traceback.extract_tb(exc.__traceback__):
            if fr.filename.startswith(root + os.sep):
                frames.append([os.path.relpath(fr.filename, root), fr.lineno or 0, fr.name, (fr.line or "")[:200]])
    except BaseException:
        frames = []
    info: dict[str, Any] = {
        "type": _type_name(exc),
        "message": _safe_str(exc),
        "frames": frames[-8:],
        "not_implemented": isinstance(exc, NotImplementedError),
        "memory": isinstance(exc, MemoryError),
    }
    if isinstance(exc, SystemExit):
        code = exc.code
        info["exit_code"] = code if isinstance(code, (int, type(None))) else str(code)[:200]
    return info


def warm_up() -> None:
    """Pays, once in the process workers are forked from, what training code would pay in
    every worker: the first optimizer (``zero_grad``, ``load_state_dict``...) imports
    torch._dynamo, ~1.3 s, through torch's lazy ``_disable_dynamo`` wrappers. Asked for
    only by assignments that train (it would slow every other one by as much)."""
    import torch._dynamo  # noqa: F401


def _seed(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % (2**32))
    seed_torch(torch, seed)


def seed_torch(torch, seed: int) -> None:
    """torch.manual_seed without its cost: on a machine with no CUDA, it queues a lazy
    CUDA seeding that records a stack trace, ~4 ms a call."""
    torch.default_generator.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def settle_in(output: str, cwd: str, env: dict) -> None:
    """Before any student code, whatever the backend: stdout and stderr into the output
    file, stdin from nothing, the worker's own folder and (scrubbed) environment."""
    out = os.open(output, os.O_WRONLY | os.O_APPEND | getattr(os, "O_BINARY", 0))
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    os.close(null)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    import tempfile

    tempfile.tempdir = None  # fixed at /tmp by an import in the zygote (torch._dynamo): read TMPDIR again


def begin(sock, cwd: str, level: str, reason: str, guards: bool = False) -> None:
    """A contained worker's life, whatever its backend: say it is ready (at ``level``,
    and why not more), then answer calls on student modules in ``cwd`` until the end.
    ``guards``: some task forbids APIs, so they are replaced by guards before any student
    code exists (every alias it takes is guarded). Only then: a guard is a Python closure,
    which ``torch.jit.script`` cannot compile, so a worker with none (a training program,
    an assignment that forbids nothing) keeps TorchScript working."""
    import torch

    if guards:
        forbidden.install()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    sys.path[:] = [cwd] + [p for p in sys.path if p]
    sys.argv = ["submission"]
    channel.send(sock, {"ready": True, "isolation": level, "reason": reason})
    serve(sock, StudentModules(cwd))


def serve(sock, modules: StudentModules) -> None:
    """Answers requests until the socket closes."""
    while True:
        try:
            header, buffers = channel.recv(sock)
        except (channel.ChannelClosed, channel.FrameError, OSError):
            return
        reply, out_buffers = handle(header, buffers, modules)
        _flush()
        try:
            channel.send(sock, reply, out_buffers)
        except OSError:
            return


def run_program(path: str, root: str, seed: int) -> dict | None:
    """Runs a student's script (or notebook module) as ``__main__``; an error dict or None."""
    full = os.path.join(root, path)
    if not os.path.isfile(full):
        return {"kind": "no_file", "path": path}
    sys.argv = [path]
    _seed(seed)
    try:
        runpy.run_path(full, run_name="__main__")
    except SyntaxError as e:
        if e.filename == full:
            with open(full, encoding="utf-8", errors="replace") as f:  # where a NUL byte is
                return _syntax_error(path, e, f.read())
        return {"kind": "import", "path": path, **_describe(e, root)}
    except SystemExit as e:
        if e.code in (0, None):
            return None  # a script that ends with sys.exit(0) finished normally
        return {"kind": "import", "path": path, **_describe(e, root)}
    except BaseException as e:  # noqa: BLE001
        return {"kind": "import", "path": path, **_describe(e, root)}
    return None


def handle(header: dict, buffers: list[bytes], modules: StudentModules) -> tuple[dict, list[bytes]]:
    seq = header.get("seq")
    if header.get("op") == "run":
        error = run_program(str(header.get("path")), modules.root, int(header.get("seed", 0)))
        return ({"seq": seq, "ok": True} if error is None else {"seq": seq, "ok": False, "error": error}), []
    if header.get("op") == "load":
        loaded = modules.load(str(header.get("module")), str(header.get("path")))
        if isinstance(loaded, dict):
            return {"seq": seq, "ok": False, "error": loaded}, []
        return {"seq": seq, "ok": True}, []
    try:
        module_name, path, func_name = header["module"], header["path"], header["function"]
        decoder = Decoder(buffers, handles=modules.kept)
        args = decoder.decode(header["args"])
        kwargs = decoder.decode(header["kwargs"])
    except StaleHandle as e:
        return {"seq": seq, "ok": False, "error": {"kind": "stale", "message": str(e)}}, []
    except Exception as e:  # a grader bug, never the student's
        return {"seq": seq, "ok": False, "error": {"kind": "protocol", "message": repr(e)}}, []

    if header.get("driver"):
        return _drive(header, seq, args, kwargs, decoder, modules)
    func, error = _function(modules, module_name, path, func_name)
    if error is not None:
        return {"seq": seq, "ok": False, "error": error}, []
    result, error, uses = _call(header, func_name, modules.root, path, lambda: func(*args, **kwargs))
    if error is not None:
        return {"seq": seq, "ok": False, "error": error}, []
    originals = {id(obj): ref for ref, obj in decoder.refs.items()}
    encoder = Encoder(originals, first_ref=max(decoder.refs, default=-1) + 1, handles=modules.kept, keep_new=bool(header.get("keep_objects")))
    return _reply(seq, encoder, result, args, kwargs, uses)


def _function(modules: StudentModules, module_name: str, path: str, name: str) -> tuple[Any, dict | None]:
    """(the student's function, None), or (None, the error a call of it ends with)."""
    module = modules.load(module_name, path)
    if isinstance(module, dict):
        return None, module
    if not hasattr(module, name):
        return None, {"kind": "missing", "path": path, "name": name}
    func = getattr(module, name)
    if not callable(func):
        return None, {"kind": "not_callable", "path": path, "name": name, "type": type(func).__name__}
    return func, None


def _call(header: dict, charged: str | tuple[str, ...], root: str, path: str, run, last=lambda: None) -> tuple[Any, dict | None, list]:
    """``run()`` seeded and under the forbidden-API rules, uses charged to ``charged``:
    (its result, None, the uses), or (None, the error it ended with, []). ``last()``
    names the student function an error happened in, where a driver called several."""
    _seed(int(header.get("seed", 0)))
    rules = forbidden.scope(header.get("rules") or {}, charged, root)
    try:
        with rules:
            return run(), None, rules.violations[:5]
    except _Unavailable as e:
        return None, e.error, []
    except BaseException as e:  # noqa: BLE001
        who = {"function": last()} if last() else {}
        if rules.violations:  # the use decides, whatever happened after it
            return None, {"kind": "forbidden", "uses": rules.violations[:5], **who}, []
        return None, {"kind": "exception", "path": path, **who, **_describe(e, root)}, []


def _reply(seq: Any, encoder: Encoder, result: Any, args: Any, kwargs: Any, uses: list) -> tuple[dict, list[bytes]]:
    """The reply of a finished call: its result (and arguments, for those written back)."""
    try:
        tree = {"result": encoder.encode(result), "args": encoder.encode(args), "kwargs": encoder.encode(kwargs)}
    except EncodeError as e:
        return {"seq": seq, "ok": False, "error": {"kind": "bad_value", "message": str(e)}}, []
    except BaseException as e:  # noqa: BLE001 - a hostile __len__ or __iter__ on a returned object
        return {"seq": seq, "ok": False, "error": {"kind": "bad_value", "message": f"the returned value could not be read: {_safe_str(e)}"}}, []
    # a finished call that used a forbidden API still returns its value: a check of another
    # task (a backward check building its cache) may go on; the trusted side decides
    return {"seq": seq, "ok": True, **tree, **({"forbidden": uses} if uses else {})}, encoder.buffers


class _Unavailable(BaseException):
    """A function a driver asked for cannot be had (missing, not callable, its file
    broken): the call ends with ``error``, as a plain call of that function would.
    BaseException, so no ``except Exception`` on the way can swallow it."""

    def __init__(self, error: dict):
        super().__init__(error.get("kind"))
        self.error = error


class StudentFunctions:
    """What a driver gets: the student's task functions by name, each loaded on first
    use. ``last`` is the one the driver called most recently (messages name it)."""

    def __init__(self, modules: StudentModules, where: dict):
        self._modules = modules
        self._where = where  # function -> [module name, path, whether it may be defined there]
        self.last: str | None = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._where:  # the driver's mistake, not the student's
            raise _Unavailable({"kind": "driver", "message": f"it asked for `{name}`, which no task of the manifest lists"})
        module_name, path, defined = self._where[name]
        if not defined:  # a notebook none of whose cells defines it
            raise _Unavailable({"kind": "missing", "path": path, "name": name})
        func, error = _function(self._modules, str(module_name), str(path), name)
        if error is not None:
            raise _Unavailable(error)

        def called(*args: Any, **kwargs: Any) -> Any:
            self.last = name
            return func(*args, **kwargs)

        called.__name__ = name
        return called


_DRIVERS: dict[str, types.ModuleType] = {}


def _driver_module(source: str, name: str) -> types.ModuleType:
    """A driver file, run once per worker from the text the trusted side sent (never
    from a file in the student's folder). Its frames are not the student's: errors
    point past them, and forbidden-API uses are never charged to them."""
    key = hashlib.sha256(source.encode("utf-8")).hexdigest()
    module = _DRIVERS.get(key)
    if module is None:
        module = types.ModuleType(f"grader_driver_{key[:12]}")
        module.__file__ = f"<grader driver {name}>"
        sys.modules[module.__name__] = module  # dataclasses and pickling look modules up
        exec(compile(source, module.__file__, "exec", dont_inherit=True), module.__dict__)
        _DRIVERS[key] = module
    return module


def _drive(header: dict, seq: Any, args: Any, kwargs: Any, decoder: Decoder, modules: StudentModules) -> tuple[dict, list[bytes]]:
    """Runs a check's driver around the student's functions: ``driver(functions, *args,
    **kwargs)``. It returns plain data (a model's parameters, what a loop reported, what it
    did to the model) that the trusted side compares with the reference run through the
    same driver; nothing it says is a verdict."""
    spec = header["driver"]
    try:
        entry = getattr(_driver_module(str(spec["source"]), str(spec["name"])), str(spec["function"]))
    except BaseException as e:  # noqa: BLE001 - a driver that does not load is the grader's to fix
        return {"seq": seq, "ok": False, "error": {"kind": "driver", "message": f"{_type_name(e)}: {_safe_str(e)}"}}, []
    functions = StudentFunctions(modules, dict(spec.get("functions") or {}))
    names = tuple(str(f) for f in (spec.get("charged") or spec.get("functions") or {}))
    result, error, uses = _call(header, names, modules.root, header["path"], lambda: entry(functions, *args, **kwargs), lambda: functions.last)
    if error is not None:
        return {"seq": seq, "ok": False, "error": error}, []
    return _reply(seq, Encoder({}, first_ref=max(decoder.refs, default=-1) + 1, handles=modules.kept), result, [], {}, uses)
