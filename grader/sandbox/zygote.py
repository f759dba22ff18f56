"""The zygote of the Linux fork backend (fork.py): a fresh interpreter that has
imported torch and forks workers.

It is started with a scrubbed environment, holds no secrets, has run no torch op
(forking after a parallel op deadlocks OpenMP) and has not touched CUDA. For each
request on its control socket it forks a *keeper*, which enters the namespaces,
forks the *worker* and stays behind as the worker's parent:

    trusted grader --control--> zygote --fork--> keeper --fork--> worker (student code)
                   <------------------ call socket ------------------->
                   <-- worker pidfd, exit status --- keeper

The keeper passes the trusted side a pidfd of the worker (so a grandchild holding
the call socket open cannot hide the worker's death), kills every process left in the
tree once the worker is gone, then reports the worker's exit status and closes the
status pipe: its end tells the trusted side that nothing of the tree is left.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys

from . import channel, isolation, linux, rootfs

CONTROL_FD_ENV = "GRADER_ZYGOTE_FD"
RUNTIME: list[str] = []


def main() -> None:
    control = socket.socket(fileno=int(os.environ.pop(CONTROL_FD_ENV)))
    linux.prctl(linux.PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the grader's to handle
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # keepers are reaped automatically

    import numpy  # noqa: F401 - preloaded so workers start warm
    import torch  # noqa: F401

    from . import forbidden, worker  # loaded before the fork: workers start warm

    forbidden.preload()

    global RUNTIME
    RUNTIME = rootfs.runtime_paths()  # after the imports: their libraries are loaded now

    channel.send_with_fds(control, {"ready": True}, [])
    while True:
        try:
            spec, fds = channel.recv_with_fds(control, 2)
        except (channel.ChannelClosed, ConnectionError, OSError):
            os._exit(0)
        except channel.FrameError:
            continue
        if len(fds) != 2:
            for fd in fds:
                os.close(fd)
            continue
        if spec.get("warm") and "torch._dynamo" not in sys.modules:
            try:
                worker.warm_up()
            except Exception:  # noqa: BLE001 - a torch without it: workers pay their own imports
                pass
            RUNTIME = rootfs.runtime_paths()  # what the warm-up loaded is the workers' runtime too
        pid = os.fork()
        if pid == 0:
            try:
                control.close()
                _keeper(spec, fds[0], fds[1])
            finally:
                os._exit(70)
        for fd in fds:
            os.close(fd)


def _close_other_fds(keep: set[int]) -> None:
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _keeper(spec: dict, call_fd: int, status_fd: int) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    linux.prctl(linux.PR_SET_PDEATHSIG, signal.SIGKILL)
    linux.prctl(linux.PR_SET_CHILD_SUBREAPER, 1)
    os.setsid()
    _close_other_fds({call_fd, status_fd})
    isolate = bool(spec.get("isolate", True))
    entered, reason = isolation.enter_namespaces() if isolate else (False, "")
    plan = isolation.Plan(
        cwd=spec["cwd"],
        stage=spec["stage"],
        runtime=tuple(rootfs.allowed(RUNTIME, spec["hide"], spec.get("roots", []))),
        limits=isolation.Limits(**spec["limits"]),
        uid=spec.get("uid"),
        isolate=isolate,
        namespaces=entered,
        reason=reason,
    )

    go_r, go_w = os.pipe()  # the worker speaks only after our hello is on the socket
    pid = os.fork()
    if pid == 0:
        os.close(status_fd)
        os.close(go_w)
        os.read(go_r, 1)
        os.close(go_r)
        try:
            _worker(spec, call_fd, plan)
        except BaseException:
            import traceback

            traceback.print_exc()  # lands in the worker's output log
            os._exit(70)
        os._exit(0)

    me = os.getpid()
    os.close(go_r)
    sock = socket.socket(fileno=call_fd)
    try:
        pidfd = os.pidfd_open(pid)
        channel.send_with_fds(sock, {"pid": pid}, [pidfd])
        os.close(pidfd)
        os.write(go_w, b"g")
    except OSError:
        os.kill(pid, signal.SIGKILL)
    os.close(go_w)
    sock.close()
    _, status = os.waitpid(pid, 0)
    # everything the worker left (a detached grandchild) dies before the status goes out:
    # the trusted side reads the status pipe's end as "this whole tree is gone"
    isolation.kill_descendants(me)
    try:
        os.write(status_fd, json.dumps({"status": status}).encode())
    except OSError:
        pass
    os.close(status_fd)
    os._exit(0)


def _worker(spec: dict, call_fd: int, plan: isolation.Plan) -> None:
    linux.prctl(linux.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getpid() != 1:  # pid 1 of a new namespace already leads its own session
        os.setsid()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    from .worker import begin, settle_in

    settle_in(spec["output"], spec["cwd"], spec["env"])
    level, reason = isolation.contain(plan)
    begin(socket.socket(fileno=call_fd), spec["cwd"], level, reason, guards=bool(spec.get("guards")))


if __name__ == "__main__":
    main()
