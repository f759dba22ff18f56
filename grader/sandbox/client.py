"""The trusted side of the sandbox, shared by every backend: the call protocol.

A backend (backend.py: fork.py on Linux, spawn.py elsewhere) starts workers; every
worker speaks the same protocol (load, run, call over channel.py frames, values in
codec.py's form), implemented once here. A backend's worker adds how it starts, how
its death is seen and described, and how its whole process tree is killed.

Every failure of student code becomes a ``StudentError`` with a message a student
can act on; the worker is then replaced so the next check starts clean.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import threads
from . import channel
from .errors import (
    StudentBadOutput,
    StudentCrash,
    StudentError,
    StudentException,
    StudentForbidden,
    StudentImportError,
    StudentMissing,
    StudentNotImplemented,
    StudentTimeout,
    clean_uses,
    forbidden_message,
)
from .levels import NONE
from .limits import Limits
from .workdir import WorkDir

GRADER_ROOT = str(Path(__file__).resolve().parents[2])
READY_TIMEOUT = 60.0
MAX_REPLY_BYTES = 1 << 30  # a reply's tensors, at most (and never more than the worker's memory limit)
MAX_REPLY_HEADER = 4 << 20  # a reply's structure (numbers, strings, nesting) as JSON; tensors travel as buffers
SAFE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
    "MALLOC_ARENA_MAX": "2",
}
# CPU-only knobs a grader may choose to pass through (thread counts); nothing else.
PASS_THROUGH = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "CUDA_VISIBLE_DEVICES")
TREE_INTERVAL = 0.25  # seconds between two walks of a worker's tree, where its memory is polled


def interpreter_command(module: str) -> list[str]:
    """A fresh interpreter running ``grader.sandbox.<module>.main()``: this grader's own
    code, without the user's site-packages."""
    bootstrap = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        f"import grader.sandbox.{module} as m; sys.path.remove(sys.argv[1]); m.main()"
    )
    return [sys.executable, "-s", "-c", bootstrap, GRADER_ROOT]


def scrubbed_env(**extra: str) -> dict[str, str]:
    """A worker's whole environment: nothing of the grader's but the pass-through knobs."""
    env = dict(SAFE_ENV, **extra)
    env.update({k: os.environ[k] for k in PASS_THROUGH if k in os.environ})
    env.update(threads.environment())  # the caller's thread count never reaches student code
    return env


def _signal_name(num: int) -> str:
    try:
        name = signal.Signals(num).name
    except ValueError:
        return f"signal {num}"
    extra = {"SIGSEGV": " (segmentation fault)", "SIGKILL": " (killed)", "SIGABRT": " (abort)", "SIGBUS": " (bus error)"}
    return name + extra.get(name, "")


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker gets: a copy of the submission, limits, and the paths to hide."""

    files: tuple[tuple[str, str], ...]  # (path inside cwd, source path or text marker)
    limits: Limits
    hide: tuple[str, ...] = ()
    isolate: bool = True
    output_limit: int = 8000
    texts: tuple[tuple[str, str], ...] = ()  # (path inside cwd, file text) e.g. a notebook turned module
    env: tuple[tuple[str, str], ...] = ()  # extra environment variables, e.g. a program's device
    guards: bool = False  # some task forbids APIs: guard them (see worker.begin)


class Worker:
    """One live worker process and its call socket: the protocol, whatever the backend.

    A backend's subclass sets ``sock`` in ``_start`` and provides ``alive``, ``kill``,
    ``_death`` (how it died, in words) and ``_release`` (wait for its tree, free what it
    holds); ``_watch`` is what channel.recv watches while a reply is awaited.
    """

    backend = ""  # the backend's name, as reports give it
    pid: int | None = None  # the worker process's pid, once started
    bounded_folder = False  # whether its folder is a tmpfs of a fixed size (Linux root: workdir.py)

    def __init__(self, starter: Any, spec: WorkerSpec):
        self.spec = spec
        self.seq = 0
        self.dir = WorkDir(bound=self.bounded_folder)
        self._output_pos = 0
        self._killed = False
        self.sock = None
        self.isolation = NONE
        self.isolation_reason = ""  # why no stronger level was reached, in words
        try:
            self._populate()
            self._start(starter, spec)
        except BaseException:  # Ctrl-C or SIGTERM mid-start too: no folder or process left behind
            self.close()
            raise

    def _start(self, starter: Any, spec: WorkerSpec) -> None:
        raise NotImplementedError

    def _watch(self) -> dict:
        """channel.recv's arguments that watch this worker: a pidfd, or a watch() callable."""
        raise NotImplementedError

    # Memory polled from outside, where no RLIMIT_AS bounds it (the portable backend, a GPU
    # host): the resident bytes the tree may hold (0: not polled), set once it is ready.
    _memory_limit = 0
    _over_memory = False  # it was killed for its memory
    _walked = 0.0

    def _resident(self) -> int:
        """The resident size of the worker's tree (where memory is polled)."""
        raise NotImplementedError

    def _too_big(self, now: bool = False) -> bool:
        """True, after the kill, once the tree holds more than its memory limit; looked at
        every TREE_INTERVAL while a reply is awaited, or ``now``."""
        at = time.monotonic()
        if not self._memory_limit or (not now and at - self._walked < TREE_INTERVAL):
            return False
        self._walked = at
        if self._resident() > self._memory_limit:
            self._over_memory = True
            self.kill()
            return True
        return False

    def _over_limits(self) -> bool:
        """Whether the worker, checked now, is past a limit polled from outside (and so
        stopped): between calls nothing else looks."""
        return self._too_big(now=True)

    def _memory_death(self) -> str:
        return f"was stopped: its processes used more than {self.spec.limits.memory_bytes >> 20} MiB of memory (the worker's memory limit)"

    def replace_after(self, error: StudentError) -> bool:
        """Whether a call that failed with ``error`` retires this worker (always, by default:
        the next check starts from a fresh one)."""
        return True

    def _populate(self) -> None:
        for rel, src in self.spec.files:
            dest = os.path.join(self.cwd, rel)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            _copy_plain_file(src, dest)
        for rel, text in self.spec.texts:
            dest = os.path.join(self.cwd, rel)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, "w", encoding="utf-8") as f:
                f.write(text)

    @property
    def base(self) -> str:
        return self.dir.base

    @property
    def cwd(self) -> str:
        return self.dir.cwd

    @property
    def output_path(self) -> str:
        return self.dir.output

    @property
    def alive(self) -> bool:
        raise NotImplementedError

    @property
    def tree_root(self) -> int | None:
        """The process below which everything the worker started is found (for a CPU budget)."""
        return self.pid

    def read_output(self, *, tail: bool = False) -> str:
        """What the student printed since the last read, cut to the output limit for display:
        the start of it, or with ``tail`` the end (where a long run's last words are)."""
        limit = self.spec.output_limit
        try:
            with open(self.output_path, "rb") as f:
                end = f.seek(0, os.SEEK_END)
                start = self._output_pos
                cut = tail and end - start > limit
                f.seek(end - limit if cut else start)
                data = f.read(limit + 1)
                self._output_pos = end
        except OSError:
            return ""
        if cut:
            return "… (earlier output left out)\n" + data[:limit].decode("utf-8", "replace")
        text = data[:limit].decode("utf-8", "replace")
        if len(data) > limit:
            text += f"\n… (output truncated at {limit} bytes)"
        return text

    def _exchange(self, header: dict, buffers: list[bytes], timeout: float, *, timed_out, died, garbled) -> tuple[dict, list[bytes]]:
        """One request and its reply. A transport failure becomes the caller's StudentError:
        ``timed_out()`` (the worker is killed), ``died(how)`` or ``garbled(error)`` (killed)."""
        self.seq += 1
        header["seq"] = self.seq
        if self._over_limits():  # grown while idle: the request finds it stopped
            raise died(self._death())
        try:
            channel.send(self.sock, header, buffers)
            return channel.recv(
                self.sock, deadline=time.monotonic() + timeout, **self._watch(),
                max_bytes=self.max_reply_bytes, max_header=MAX_REPLY_HEADER, check_header=self._check_reply,
            )  # fmt: skip
        except channel.ChannelTimeout:
            self.kill()
            raise timed_out() from None
        except (channel.PeerExited, channel.ChannelClosed, BrokenPipeError, ConnectionError):
            raise died(self._death()) from None
        except channel.FrameError as e:
            self.kill()
            raise garbled(e) from None

    @property
    def max_reply_bytes(self) -> int:
        """No honest reply is larger than what the worker may hold in memory; a larger one
        is refused before this (trusted) process allocates anything for it."""
        return min(self.spec.limits.memory_bytes, MAX_REPLY_BYTES) + (1 << 20)

    def _check_reply(self, header: dict, buffers: int) -> None:
        if header.get("seq") != self.seq:
            raise channel.FrameError("a reply out of turn")
        if buffers and not header.get("ok"):
            raise channel.FrameError("an error reply that carries data")

    def load(self, module: str, path: str, *, timeout: float) -> None:
        """Imports a student module; raises StudentError if that fails."""
        reply, _ = self._exchange(
            {"op": "load", "module": module, "path": path}, [], timeout,
            timed_out=lambda: StudentImportError(f"{path} took longer than {timeout:g} s to import (the time limit) and was stopped", path=path),
            died=lambda how: StudentImportError(f"the process importing {path} {how}", path=path),
            garbled=lambda e: StudentImportError(f"importing {path} produced an unreadable reply ({e})", path=path),
        )  # fmt: skip
        if reply.get("seq") != self.seq or not reply.get("ok"):
            self.kill()
            error = _error_from_reply(reply.get("error"), module)
            if not isinstance(error, StudentImportError):
                error = StudentImportError(str(error), path=path)
            raise error

    def run(self, path: str, *, timeout: float, seed: int) -> None:
        """Runs a program as ``__main__`` to its end; raises StudentError if it does not finish."""
        reply, _ = self._exchange(
            {"op": "run", "path": path, "seed": seed}, [], timeout,
            timed_out=lambda: StudentTimeout(f"{path} did not finish within its time budget of {timeout:g} s and was stopped"),
            died=lambda how: StudentCrash(f"the process running {path} {how}"),
            garbled=lambda e: StudentBadOutput(f"running {path} produced an unreadable reply ({e})"),
        )  # fmt: skip
        if reply.get("seq") != self.seq or not reply.get("ok"):
            self.kill()
            raise _error_from_reply(reply.get("error"), path, while_running=True)

    def call(
        self, module: str, path: str, function: str, args: tuple, kwargs: dict, *, timeout: float, seed: int,
        rules: dict[str, tuple[str, ...]] | None = None, keep_objects: bool = False,
        in_place: dict[int | str, str] | None = None, driver: dict | None = None,
    ) -> Any:
        """Calls ``function`` in the worker. Raises StudentError subclasses on any failure.

        ``rules``: for every task function, the API groups its task forbids (see
        sandbox/forbidden.py). ``keep_objects``: values that cannot cross (a layer's cache
        of arbitrary objects) stay in the worker as RemoteObjects. ``in_place``: the
        arguments (position or keyword -> parameter name) whose changes are written back
        into the caller's objects; the worker works on copies of all the others.
        ``driver``: run a check's driver (its source, entry function and the student
        functions it may use) around the student's code instead of one function; see
        ``grader.checks.drivers``.
        """
        from .codec import ArgumentChanged, DecodeError, Decoder, declared_refs, encode_arguments  # torch: loaded only once calls start

        tree, buffers, originals = encode_arguments(args, kwargs)
        writable = declared_refs(args, kwargs, in_place, originals) if in_place else {}
        header = {
            "module": module, "path": path, "function": function, "seed": seed,
            "rules": {f: list(g) for f, g in (rules or {}).items()}, "keep_objects": keep_objects, **tree,
        }  # fmt: skip
        if driver is not None:
            header["driver"] = driver
        reply, rbuf = self._exchange(
            header, buffers, timeout,
            timed_out=lambda: StudentTimeout(f"`{function}` took longer than {timeout:g} s (the time limit per call) and was stopped"),
            died=lambda how: StudentCrash(f"the process running `{function}` {how}"),
            garbled=lambda e: StudentBadOutput(f"`{function}` sent back something unreadable ({e})"),
        )  # fmt: skip
        if reply.get("seq") != self.seq:
            self.kill()
            raise StudentBadOutput(f"`{function}` sent back a reply out of turn")
        if not reply.get("ok"):
            err = reply.get("error")
            if driver is not None and isinstance(err, dict):
                if err.get("kind") == "driver":
                    self.kill()
                    raise DriverFailed(f"the check's driver `{driver.get('function')}` could not run around your code: {str(err.get('message', ''))[:500]}")
                if isinstance(err.get("function"), str) and err["function"] in (driver.get("functions") or {}):
                    function = err["function"]  # the student function the driver was in
            error = _error_from_reply(err, function)
            if self.replace_after(error):
                self.kill()  # replaced after a failure, so the next check starts clean
            raise error
        try:
            decoder = Decoder(rbuf, originals, writable=writable)
            value = decoder.decode(reply["result"])  # an argument it returns arrives as the worker's copy
            if writable:  # the declared arguments' new state, written into ours
                decoder.decode(reply["args"])
                decoder.decode(reply["kwargs"])
                decoder.commit()
        except ArgumentChanged as e:
            self.kill()
            raise StudentBadOutput(f"`{function}` {e}") from None
        except (DecodeError, KeyError, TypeError, ValueError, RuntimeError) as e:
            self.kill()
            raise StudentBadOutput(f"`{function}` returned a value that could not be read back ({e})") from None
        uses = reply.get("forbidden")
        if uses:
            uses = clean_uses(uses)
            raise StudentForbidden(forbidden_message(function, uses), function=function, uses=uses, value=value)
        return value

    def _death(self) -> str:
        """How the worker died, in words ("was killed by SIGSEGV ..."); kills what is left."""
        raise NotImplementedError

    def kill(self) -> None:
        raise NotImplementedError

    def _release(self) -> None:
        """After kill(): returns once the worker's whole tree is gone, and frees what it holds."""

    def close(self) -> None:
        try:
            self.kill()
            if self.sock is not None:
                self.sock.close()
            self._release()
        finally:  # even when Ctrl-C or SIGTERM lands mid-close
            self.dir.remove()


class DriverFailed(StudentBadOutput):
    """The worker says a check's driver could not run. Every reply is the submission's to
    forge (it is imported first), so this is a failure of the submission, not of the
    check: a driver bug shows when the reference is graded (`grade build`)."""


def death_of(status: int | None, *, signaled: int | None = None) -> str:
    """A worker's end in words: killed by ``signaled`` (a signal number), or exited with
    ``status`` (None: unknown)."""
    if signaled is not None:
        hint = " — perhaps it ran out of memory" if signaled == getattr(signal, "SIGKILL", 9) else ""
        return f"was killed by {_signal_name(signaled)}{hint}"
    if status is None:
        return "stopped unexpectedly"
    return f"exited with status {status} (student code must not call sys.exit or os._exit)"


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_OPEN_FLAGS = getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def _copy_plain_file(src: str, dest: str) -> None:
    """Copy without following a link at ``src`` (the submission's file: a link there could
    point at the grader's own files), and only a regular file."""
    if not _NOFOLLOW and os.path.islink(src):  # a host without O_NOFOLLOW (Windows)
        raise OSError(f"{src} is a symbolic link")
    fd = os.open(src, os.O_RDONLY | _NOFOLLOW | _OPEN_FLAGS)
    with open(fd, "rb") as source:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{src} is not a plain file")
        with open(dest, "wb") as target:
            shutil.copyfileobj(source, target, 1 << 20)


def _error_from_reply(err: Any, function: str, *, while_running: bool = False) -> StudentError:
    """The worker's error as the StudentError it describes. The worker's reply is the
    submission's to forge: a field of the wrong kind makes it unreadable, never a crash
    of the trusted process."""
    try:
        return _describe_error(err, function, while_running=while_running)
    except Exception:  # noqa: BLE001 - any field of any shape
        return StudentBadOutput(f"`{function}` failed and sent back an unreadable reason")


def _describe_error(err: Any, function: str, *, while_running: bool = False) -> StudentError:
    if not isinstance(err, dict):
        return StudentBadOutput(f"`{function}` failed and sent back no readable reason")
    kind = err.get("kind")
    path = str(err.get("path", "the submission"))
    if kind == "missing":
        return StudentMissing(f"`{err.get('name', function)}` is not defined in {path}")
    if kind == "not_callable":
        return StudentMissing(f"`{function}` in {path} is a {err.get('type', 'value')}, not a function")
    if kind == "no_file":
        return StudentMissing(f"{path} is missing from the submission")
    if kind == "unreadable":
        return StudentImportError(f"{path} could not be read: {err.get('message', '')}")
    if kind == "syntax":
        return StudentImportError(
            f"{path} has a syntax error at line {err.get('lineno', '?')}: {err.get('message', '')}",
            path=path,
            lineno=err.get("lineno") if type(err.get("lineno")) is int else 0,
            text=str(err.get("text", "")),
            detail=str(err.get("message", "invalid syntax"))[:300],
            syntax=True,
        )
    if kind == "import":
        when = "" if while_running else " while being imported"
        return StudentImportError(_exception_text(err, path, when), path=path, frames=err.get("frames"))
    if kind == "exception":
        if err.get("not_implemented"):
            return StudentNotImplemented(f"`{function}` is not implemented yet")
        return StudentException(_exception_text(err, f"`{function}`"), frames=err.get("frames"))
    if kind == "forbidden":
        uses = clean_uses(err.get("uses"))
        return StudentForbidden(forbidden_message(function, uses), function=function, uses=uses)
    if kind == "stale":
        return StudentBadOutput(f"`{function}` got back {str(err.get('message', 'an object that is gone'))[:300]}")
    if kind == "bad_value":
        return StudentBadOutput(f"`{function}` returned a value the grader cannot accept: {err.get('message', '')}")
    return StudentBadOutput(f"`{function}` failed: {str(err.get('message', kind))[:500]}")


def _exception_text(err: dict, subject: str, when: str = "") -> str:
    etype = str(err.get("type", "an exception"))[:100]
    message = str(err.get("message", ""))[:2000]
    if etype == "SystemExit":
        return f"{subject} called sys.exit({err.get('exit_code')!r}){when}; student code must not exit"
    if etype == "KeyboardInterrupt":
        return f"{subject} raised KeyboardInterrupt{when}"
    text = f"{subject} raised {etype}{when}" + (f": {message}" if message else "")
    lowered = message.lower()
    if err.get("memory") or "can't allocate memory" in lowered or "out of memory" in lowered:
        text += " (the worker's memory limit was reached)"
    elif "expected all tensors to be on the same device" in lowered:
        text += " (your code made a tensor on another device than its inputs: create new tensors with device=x.device)"
    return text


def probe_level(backend: Any, *, isolate: bool = True) -> tuple[str, str]:
    """The isolation level a worker of ``backend`` reaches on this host, and why not more
    ("" at the top level): exactly what grading will get."""
    return backend.probe(isolate=isolate)


def __getattr__(name: str) -> Any:
    # the old import paths of the fork backend's classes, loaded only when asked for
    if name == "Zygote":
        from .fork import Zygote

        return Zygote
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
