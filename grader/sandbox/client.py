"""The trusted side of the sandbox: starts the zygote, spawns workers, makes calls.

Every failure of student code becomes a ``StudentError`` with a message a student
can act on; the worker is then replaced so the next check starts clean.
"""

from __future__ import annotations

import itertools
import json
import os
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .. import threads
from . import channel, isolation
from .workdir import WorkDir
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
    forbidden_message,
)

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


def _signal_name(num: int) -> str:
    try:
        name = signal.Signals(num).name
    except ValueError:
        return f"signal {num}"
    extra = {"SIGSEGV": " (segmentation fault)", "SIGKILL": " (killed)", "SIGABRT": " (abort)", "SIGBUS": " (bus error)"}
    return name + extra.get(name, "")


class Zygote:
    """A running zygote process. Start it early: its `import torch` overlaps ours."""

    def __init__(self) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = dict(SAFE_ENV)
        env.update({k: os.environ[k] for k in PASS_THROUGH if k in os.environ})
        env.update(threads.environment())  # the caller's thread count never reaches student code
        env["GRADER_ZYGOTE_FD"] = str(child.fileno())
        bootstrap = (
            "import sys; sys.path.insert(0, sys.argv[1]); "
            "import grader.sandbox.zygote as z; sys.path.remove(sys.argv[1]); z.main()"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-s", "-c", bootstrap, GRADER_ROOT],
            env=env,
            pass_fds=[child.fileno()],
            stdin=subprocess.DEVNULL,
            cwd="/",
            start_new_session=True,  # Ctrl-C in the terminal is for the grader, not the zygote
        )
        child.close()
        self.control = parent
        self._ready = False
        self._lock = threading.Lock()

    def wait_ready(self) -> None:
        if self._ready:
            return
        try:
            header, _ = channel.recv_with_fds(self.control, 0, timeout=READY_TIMEOUT)
        except (channel.ChannelClosed, channel.ChannelTimeout, OSError) as e:
            raise RuntimeError(f"the grader's worker process did not start ({type(e).__name__})") from None
        if not header.get("ready"):
            raise RuntimeError("the grader's worker process sent an unexpected greeting")
        self._ready = True

    def spawn(self, spec: dict, call_fd: int, status_fd: int) -> None:
        self.wait_ready()
        with self._lock:
            channel.send_with_fds(self.control, spec, [call_fd, status_fd])

    def close(self) -> None:
        try:
            self.control.close()
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()


_uid_counter = itertools.count()


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker gets: a copy of the submission, limits, and the paths to hide."""

    files: tuple[tuple[str, str], ...]  # (path inside cwd, source path or text marker)
    limits: isolation.Limits
    hide: tuple[str, ...] = ()
    isolate: bool = True
    output_limit: int = 8000
    texts: tuple[tuple[str, str], ...] = ()  # (path inside cwd, file text) e.g. a notebook turned module


class Worker:
    """One live worker process and its call socket."""

    def __init__(self, zygote: Zygote, spec: WorkerSpec):
        self.spec = spec
        self.seq = 0
        self.dir = WorkDir()
        self._output_pos = 0
        self.pid = None
        self.pidfd = None
        self._killed = False
        self.sock = None
        self.status_r = None
        self.isolation = isolation.NONE
        self.isolation_reason = ""  # why no stronger level was reached, in words
        try:
            self._start(zygote, spec)
        except BaseException:  # Ctrl-C or SIGTERM mid-start too: no folder or process left behind
            self.close()
            raise

    def _start(self, zygote: Zygote, spec: WorkerSpec) -> None:
        self._populate()
        uid = None
        if os.geteuid() == 0:
            uid = isolation.worker_uid(next(_uid_counter))
            for root, dirs, files in os.walk(self.base):
                for name in dirs + files:
                    os.lchown(os.path.join(root, name), uid, uid)
            os.chown(self.cwd, uid, uid)
            os.chmod(self.base, 0o711)
        env = dict(SAFE_ENV, HOME=self.cwd, TMPDIR=self.cwd)
        env.update({k: os.environ[k] for k in PASS_THROUGH if k in os.environ})
        env.update(threads.environment())  # the caller's thread count never reaches student code
        request = {
            "cwd": self.cwd,
            "output": self.output_path,
            "env": env,
            "limits": asdict(spec.limits),
            "hide": list(spec.hide),
            "roots": [os.path.expanduser("~")],
            "uid": uid,
            "isolate": spec.isolate,
            "stage": self.dir.stage,
        }
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        status_r, status_w = os.pipe()
        try:
            zygote.spawn(request, theirs.fileno(), status_w)
        finally:
            theirs.close()
            os.close(status_w)
        self.sock, self.status_r = ours, status_r
        try:
            hello, fds = channel.recv_with_fds(ours, 1, timeout=READY_TIMEOUT)
            self.pid, self.pidfd = hello["pid"], fds[0]
            ready, _ = channel.recv(ours, deadline=time.monotonic() + READY_TIMEOUT, pidfd=self.pidfd)
            self.isolation = ready.get("isolation", isolation.NONE)
            self.isolation_reason = str(ready.get("reason", ""))
        except Exception as e:
            raise RuntimeError(f"a grading worker failed to start ({type(e).__name__}: {e})") from None

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
        # once we have sent SIGKILL the worker is gone for our purposes, even if the
        # kernel has not finished it yet (the pidfd turns readable only at its exit)
        if self.pidfd is None or self._killed:
            return False
        ready, _, _ = select.select([self.pidfd], [], [], 0)
        return not ready

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
        try:
            channel.send(self.sock, header, buffers)
            return channel.recv(
                self.sock, deadline=time.monotonic() + timeout, pidfd=self.pidfd,
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
        in_place: dict[int | str, str] | None = None,
    ) -> Any:
        """Calls ``function`` in the worker. Raises StudentError subclasses on any failure.

        ``rules``: for every task function, the API groups its task forbids (see
        sandbox/forbidden.py). ``keep_objects``: values that cannot cross (a layer's cache
        of arbitrary objects) stay in the worker as RemoteObjects. ``in_place``: the
        arguments (position or keyword -> parameter name) whose changes are written back
        into the caller's objects; the worker works on copies of all the others.
        """
        from .codec import ArgumentChanged, DecodeError, Decoder, declared_refs, encode_arguments  # torch: loaded only once calls start

        tree, buffers, originals = encode_arguments(args, kwargs)
        writable = declared_refs(args, kwargs, in_place, originals) if in_place else {}
        header = {
            "module": module, "path": path, "function": function, "seed": seed,
            "rules": {f: list(g) for f, g in (rules or {}).items()}, "keep_objects": keep_objects, **tree,
        }  # fmt: skip
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
            self.kill()  # replace after any failure, so the next check starts clean
            raise _error_from_reply(reply.get("error"), function)
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
            uses = [u for u in uses if isinstance(u, dict)][:3] if isinstance(uses, list) else []
            raise StudentForbidden(forbidden_message(function, uses), function=function, uses=uses, value=value)
        return value

    def _death(self) -> str:
        """Describe how the worker died, from the status its keeper reports."""
        status = None
        ready, _, _ = select.select([self.status_r], [], [], 2.0)
        if ready:
            try:
                status = json.loads(os.read(self.status_r, 4096) or b"null")
            except (OSError, ValueError):
                status = None
        self.kill()
        if not isinstance(status, dict) or not isinstance(status.get("status"), int):
            return "stopped unexpectedly"
        raw = status["status"]
        if os.WIFSIGNALED(raw):
            sig = os.WTERMSIG(raw)
            hint = " — perhaps it ran out of memory" if sig == signal.SIGKILL else ""
            return f"was killed by {_signal_name(sig)}{hint}"
        code = os.WEXITSTATUS(raw)
        return f"exited with status {code} (student code must not call sys.exit or os._exit)"

    def _wait_tree_gone(self, timeout: float = 10.0) -> None:
        """Until the keeper closes the status pipe, after killing the worker's whole tree
        (so no process of it outlives close(): a result written next is nobody else's)."""
        deadline = time.monotonic() + timeout
        while self.status_r is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            ready, _, _ = select.select([self.status_r], [], [], left)
            try:
                if ready and not os.read(self.status_r, 4096):
                    return
            except OSError:
                return

    def kill(self) -> None:
        self._killed = True
        if self.pidfd is not None:
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            except (ProcessLookupError, OSError):
                pass

    def close(self) -> None:
        self.kill()
        if self.sock is not None:
            self.sock.close()
        self._wait_tree_gone()
        for fd in (self.pidfd, self.status_r):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.pidfd = self.status_r = None
        self.dir.remove()


def _copy_plain_file(src: str, dest: str) -> None:
    """Copy without following a link at ``src`` (the submission's file: a link there could
    point at the grader's own files), and only a regular file."""
    fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    with open(fd, "rb") as source:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{src} is not a plain file")
        with open(dest, "wb") as target:
            shutil.copyfileobj(source, target, 1 << 20)


def _error_from_reply(err: Any, function: str, *, while_running: bool = False) -> StudentError:
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
            lineno=err.get("lineno"),
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
        uses = [u for u in err.get("uses", []) if isinstance(u, dict)][:3]
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


def probe_level(zygote: Zygote, *, isolate: bool = True) -> tuple[str, str]:
    """The isolation level a worker reaches on this host, and why not more ("" at the top
    level): found by starting one empty worker, so it is exactly what grading will get."""
    worker = Worker(zygote, WorkerSpec(files=(), limits=isolation.Limits(memory_bytes=512 * 1024 * 1024), isolate=isolate))
    try:
        return worker.isolation, worker.isolation_reason
    finally:
        worker.close()
