"""The Linux fork backend, trusted side: a warm zygote forks every worker.

Workers are forked (keeper, then worker) from a zygote that has imported torch, so
one costs milliseconds; each contains itself at the strongest tier the host allows
(isolation.py). The trusted side holds a pidfd of each worker, so a grandchild holding
the call socket open cannot hide its death, and the keeper's status pipe, whose end
means the whole tree is gone. Linux only: imported by backend.py alone, when it picks
this backend.
"""

from __future__ import annotations

import itertools
import json
import os
import select
import signal
import socket
import subprocess
import threading
import time
from dataclasses import asdict

from . import channel, isolation
from .client import READY_TIMEOUT, Worker, WorkerSpec, death_of, interpreter_command, scrubbed_env
from .limits import tree_rss

NAME = "fork"


class Zygote:
    """A running zygote process. Start it early: its `import torch` overlaps ours."""

    name = NAME

    def __init__(self) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = scrubbed_env(GRADER_ZYGOTE_FD=str(child.fileno()))
        self.proc = subprocess.Popen(
            interpreter_command("zygote"),
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
            if getattr(self, "_warm", False):
                spec = {**spec, "warm": True}  # the zygote warms once, whatever it is told after
            channel.send_with_fds(self.control, spec, [call_fd, status_fd])

    def warm_up(self) -> None:
        """Has the zygote import what training code needs (worker.warm_up) before it forks
        the next worker; later workers start with it loaded. Said in that worker's request,
        not a message of its own: two messages waiting in the zygote's socket can be read
        as one."""
        self._warm = True

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def worker(self, spec: WorkerSpec) -> "ForkWorker":
        return ForkWorker(self, spec)

    def probe(self, *, isolate: bool = True) -> tuple[str, str]:
        """Found by starting one empty worker, so it is exactly what grading will get."""
        worker = self.worker(WorkerSpec(files=(), limits=isolation.Limits(memory_bytes=512 * 1024 * 1024), isolate=isolate))
        try:
            return worker.isolation, worker.isolation_reason
        finally:
            worker.close()

    def close(self) -> None:
        try:
            self.control.close()
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()


_uid_counter = itertools.count()


class ForkWorker(Worker):
    """A worker forked by the zygote's keeper; watched through its pidfd."""

    backend = NAME
    bounded_folder = True

    def __init__(self, zygote: Zygote, spec: WorkerSpec):
        self.pid = None
        self.pidfd = None
        self.status_r = None
        super().__init__(zygote, spec)

    def _start(self, zygote: Zygote, spec: WorkerSpec) -> None:
        uid = None
        if os.geteuid() == 0:
            uid = isolation.worker_uid(next(_uid_counter))
            for root, dirs, files in os.walk(self.base):
                for name in dirs + files:
                    os.lchown(os.path.join(root, name), uid, uid)
            os.chown(self.cwd, uid, uid)
            os.chmod(self.base, 0o711)
        env = scrubbed_env(**dict(spec.env), HOME=self.cwd, TMPDIR=self.cwd)
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
            "guards": spec.guards,
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
        if not spec.limits.address_space:  # no RLIMIT_AS (a GPU host): bound the tree's resident size
            import psutil

            try:
                # from the keeper: an orphan of the worker is re-parented to it (a subreaper)
                self._root = psutil.Process(psutil.Process(self.pid).ppid())
            except psutil.Error as e:
                raise RuntimeError(f"a grading worker failed to start (it is gone: {e})") from None
            self._memory_limit = tree_rss(self._root) + spec.limits.memory_bytes

    @property
    def tree_root(self) -> int | None:
        """The keeper: a child subreaper, so what the worker leaves behind is re-parented to it."""
        import psutil

        try:
            return psutil.Process(self.pid).ppid() if self.pid else None
        except psutil.Error:
            return None

    @property
    def alive(self) -> bool:
        # once we have sent SIGKILL the worker is gone for our purposes, even if the
        # kernel has not finished it yet (the pidfd turns readable only at its exit)
        if self.pidfd is None or self._killed:
            return False
        ready, _, _ = select.select([self.pidfd], [], [], 0)
        return not ready

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
        if self._over_memory:
            return self._memory_death()
        if not isinstance(status, dict) or not isinstance(status.get("status"), int):
            return death_of(None)
        raw = status["status"]
        if os.WIFSIGNALED(raw):
            return death_of(None, signaled=os.WTERMSIG(raw))
        return death_of(os.WEXITSTATUS(raw))

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

    def _watch(self) -> dict:
        return {"pidfd": self.pidfd, "watch": self._too_big} if self._memory_limit else {"pidfd": self.pidfd}

    def _resident(self) -> int:
        return tree_rss(self._root)  # from the keeper: orphans are re-parented to it

    def _release(self) -> None:
        self._wait_tree_gone()
        for fd in (self.pidfd, self.status_r):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.pidfd = self.status_r = None
