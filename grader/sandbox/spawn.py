"""The portable backend, trusted side: workers are fresh interpreters (macOS, Windows).

Where there is no fork, no pidfd and no namespaces, a worker is a new Python process
(spawned.py) that imports torch once and then serves every check of its submission
over the same channel, codec and protocol as a forked one (client.py). It is replaced
after a failure, like a forked one, except after a stub's ``NotImplementedError``:
nothing but the raise ran, and a new interpreter costs an ``import torch`` (seconds,
where a fork costs milliseconds). One interpreter is started ahead, so the first
worker is warm when the first check needs it; once a worker has been replaced or has
ended, one is kept ahead for the next (a replacement, the next submission of a batch,
a re-grade), so a Spawner stays warm across sessions until ``close()``.

From outside, with psutil rather than platform code: the time limit (the reply's
deadline), death (polled), memory (the whole tree's resident size polled against the
limit; ``RLIMIT_AS`` as well where the platform takes it) and, on timeout, failure and
at the end, the whole process tree: suspended as it is walked, so it cannot fork as
fast as it is killed, then killed. There is no sandbox: isolation ``none``, and
docs/security.md says what each platform gets.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict

import psutil

from . import channel
from .client import READY_TIMEOUT, Worker, WorkerSpec, death_of, interpreter_command, scrubbed_env
from .errors import StudentError, StudentNotImplemented
from .levels import NONE
from .limits import tree_rss
from .spawned import SOCKET_FD_ENV

NAME = "spawn"
# What a Windows process needs of its environment to start at all (and to find torch's DLLs).
WINDOWS_ENV = ("SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "PATH", "PATHEXT", "COMSPEC", "NUMBER_OF_PROCESSORS", "PROCESSOR_ARCHITECTURE")
# How Windows reports a crash: the NTSTATUS as the exit code.
WINDOWS_CRASHES = {0xC0000005: "an access violation (a segmentation fault)", 0xC00000FD: "a stack overflow", 0xC0000409: "an abort"}


def host_env(folder: str) -> dict[str, str]:
    """The folder-related variables, and on Windows what a process cannot start without."""
    if os.name != "nt":
        return {"HOME": folder, "TMPDIR": folder}
    env = {k: os.environ[k] for k in WINDOWS_ENV if k in os.environ}
    env.update(HOME=folder, USERPROFILE=folder, TEMP=folder, TMP=folder)
    return env


class _Interpreter:
    """A started worker interpreter, not yet given a submission (it imports torch meanwhile)."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        top = os.path.abspath(os.sep)  # nothing of ours in sys.path[0] while it imports torch
        env = scrubbed_env(**host_env(top))
        options: dict = {"env": env, "cwd": top, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        try:
            if os.name == "nt":  # sockets are shared by handle, through the child's stdin
                flags = subprocess.CREATE_NEW_PROCESS_GROUP  # Ctrl-C is the grader's to handle
                self.proc = subprocess.Popen(interpreter_command("spawned"), stdin=subprocess.PIPE, creationflags=flags, **options)
                self.proc.stdin.write(theirs.share(self.proc.pid))
                self.proc.stdin.close()
            else:
                env[SOCKET_FD_ENV] = str(theirs.fileno())
                self.proc = subprocess.Popen(
                    interpreter_command("spawned"), stdin=subprocess.DEVNULL, pass_fds=[theirs.fileno()],
                    start_new_session=True, **options,  # its own process group: Ctrl-C is the grader's
                )  # fmt: skip
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.sock = ours

    def discard(self) -> None:
        self.sock.close()
        if self.proc.returncode is None:
            kill_tree(self.proc.pid, [])
        self.proc.wait()


class Spawner:
    """The portable backend: hands out workers, each a fresh interpreter."""

    name = NAME

    def __init__(self, reason: str):
        self.reason = reason  # why student code runs at isolation none here, in words
        self._lock = threading.Lock()
        self._spare: _Interpreter | None = _Interpreter()  # now: its `import torch` overlaps ours
        self._handed = 0
        self._closed = False
        self._live: set[SpawnWorker] = set()

    def take(self, worker: "SpawnWorker") -> _Interpreter:
        with self._lock:
            interpreter = self._spare or _Interpreter()
            self._spare = None
            self._handed += 1
            if self._handed > 1:  # a replacement: the next one starts now, in the background
                self._spare = _Interpreter()
            self._live.add(worker)
        return interpreter

    def forget(self, worker: "SpawnWorker") -> None:
        """A worker is gone: the next one (a replacement, the next submission, a re-grade)
        starts warming now."""
        with self._lock:
            self._live.discard(worker)
            if self._spare is None and not self._closed:
                self._spare = _Interpreter()

    @property
    def alive(self) -> bool:
        return not self._closed  # nothing of its own to die: each worker is its own interpreter

    def worker(self, spec: WorkerSpec) -> "SpawnWorker":
        return SpawnWorker(self, spec)

    def probe(self, *, isolate: bool = True) -> tuple[str, str]:
        """Known without starting anything: there is no sandbox to probe."""
        return NONE, self.reason

    def close(self) -> None:
        """Every worker it handed out is killed with its tree, and the spare with it."""
        with self._lock:
            self._closed = True
            live, self._live = list(self._live), set()
            spare, self._spare = self._spare, None
        for worker in live:
            worker.close()
        if spare is not None:
            spare.discard()


class SpawnWorker(Worker):
    """A worker that is a fresh interpreter; watched by polling (psutil)."""

    backend = NAME

    def __init__(self, spawner: Spawner, spec: WorkerSpec):
        self.spawner = spawner
        self.proc: subprocess.Popen | None = None
        self._family: dict[int, psutil.Process] = {}  # every process seen in its tree
        self._process: psutil.Process | None = None
        super().__init__(spawner, spec)

    def _start(self, spawner: Spawner, spec: WorkerSpec) -> None:
        interpreter = spawner.take(self)
        self.proc, self.sock = interpreter.proc, interpreter.sock
        self.pid = self.proc.pid
        self._process = psutil.Process(self.proc.pid)
        request = {
            "cwd": self.cwd,
            "output": self.output_path,
            "env": scrubbed_env(**dict(spec.env), **host_env(self.cwd)),
            "limits": asdict(spec.limits),
            "guards": spec.guards,
        }
        try:
            channel.send(self.sock, request)
            ready, _ = channel.recv(self.sock, deadline=time.monotonic() + READY_TIMEOUT, watch=self._gone)
        except Exception as e:
            how = f"exit status {self.proc.poll()}" if self.proc.poll() is not None else f"{type(e).__name__}: {e}"
            raise RuntimeError(f"a grading worker failed to start ({how})") from None
        self.isolation = NONE
        self.isolation_reason = "; ".join(r for r in (spawner.reason, str(ready.get("reason", ""))) if r)
        # the limit counts from the interpreter's size with torch loaded, as RLIMIT_AS does
        self._memory_limit = self._tree_rss() + spec.limits.memory_bytes

    @property
    def alive(self) -> bool:
        return not self._killed and self.proc is not None and not self._exited()

    def _exited(self) -> bool:
        """Whether the worker has ended, without reaping it on POSIX: until it is reaped
        its pid, and so its process group, cannot be anyone else's (kill_tree relies on it)."""
        if os.name == "nt" or self.proc.returncode is not None:  # Popen's handle pins a Windows pid
            return self.proc.poll() is not None
        try:
            return self._process.status() == psutil.STATUS_ZOMBIE
        except psutil.Error:
            return True

    def _watch(self) -> dict:
        return {"watch": self._gone}

    def _gone(self) -> bool:
        """channel.recv's watch: True once the worker is dead, or killed for its memory."""
        return self._exited() or self._too_big()

    def _resident(self) -> int:
        return self._tree_rss()

    def _tree_rss(self) -> int:
        """The resident size of the worker's tree (noting its processes, so a child that
        outlives the worker is still known at the kill)."""
        return tree_rss(self._process, self._family)

    def replace_after(self, error: StudentError) -> bool:
        return not isinstance(error, StudentNotImplemented)  # a stub: only the raise ran

    def _death(self) -> str:
        deadline = time.monotonic() + 2.0  # the socket may close a moment before the exit
        while not self._exited() and time.monotonic() < deadline:
            time.sleep(0.01)
        self.kill()  # before it is reaped: see _exited
        try:
            code = self.proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            code = None
        if self._over_memory:
            return self._memory_death()
        if code is not None and code < 0:
            return death_of(None, signaled=-code)
        if code is not None and os.name == "nt" and code & 0xFFFFFFFF in WINDOWS_CRASHES:
            return f"crashed with {WINDOWS_CRASHES[code & 0xFFFFFFFF]} (exit code {code & 0xFFFFFFFF:#x})"
        return death_of(code)

    def kill(self) -> None:
        self._killed = True
        if self.proc is not None and self.proc.returncode is None:  # not reaped: its pid is still its own
            kill_tree(self.proc.pid, list(self._family.values()))
        self.spawner.forget(self)  # its successor starts warming now

    def _release(self) -> None:
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        psutil.wait_procs([p for p in self._family.values() if _running(p)], timeout=5)


def _running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def kill_tree(pid: int, known: list[psutil.Process]) -> None:
    """Kill ``pid`` and every process below it, and those of ``known`` still running
    (children seen earlier, which its death re-parented out of reach of a walk).

    Each process found is suspended before the tree is walked again, until a walk finds
    no one new (a suspended process forks no more); then all are killed. On POSIX the
    worker's process group goes too: it leads one of its own (start_new_session), and a
    descendant that neither left it nor was seen still belongs to it."""
    found: dict[int, psutil.Process] = {p.pid: p for p in known if _running(p)}
    try:
        found.setdefault(pid, psutil.Process(pid))
    except psutil.Error:
        pass
    frozen: set[int] = set()
    while True:
        for process in list(found.values()):
            try:
                for child in process.children(recursive=True):
                    found.setdefault(child.pid, child)
            except psutil.Error:
                pass
        new = [p for key, p in found.items() if key not in frozen]
        if not new:
            break
        for process in new:
            frozen.add(process.pid)
            try:
                process.suspend()
            except psutil.Error:
                pass
    for process in found.values():
        try:
            process.kill()
        except psutil.Error:
            pass
    if os.name != "nt":
        import signal

        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:  # the group is empty already
            pass
