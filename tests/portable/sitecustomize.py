"""Loaded at start-up (PYTHONPATH) to make this Linux interpreter look like a host
without the Linux-only APIs: no os.fork, os.pidfd_open, signal.pidfd_send_signal or fd
passing over sockets anywhere, and no ``resource`` or ``fcntl`` for grader code (the
libraries beneath it, torch and psutil, import them on Linux, and do without elsewhere).
Interpreters it starts (the workers) get the same, through their environment."""

import builtins
import os
import signal
import socket
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
BLOCKED = ("resource", "fcntl")

for owner, names in ((os, ("fork", "forkpty", "pidfd_open")), (signal, ("pidfd_send_signal",)), (socket, ("send_fds", "recv_fds"))):
    for name in names:
        if hasattr(owner, name):
            delattr(owner, name)

_import = builtins.__import__


def _guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
    importer = (globals or {}).get("__name__") or ""
    if level == 0 and name.split(".")[0] in BLOCKED and (importer == "grader" or importer.startswith("grader.")):
        raise ModuleNotFoundError(f"No module named {name!r} (hidden: a host without it)", name=name)
    return _import(name, globals, locals, fromlist, level)


builtins.__import__ = _guarded_import

_popen_init = subprocess.Popen.__init__


def _popen_with_us(self, args, *rest, env=None, **kwargs):
    if env is not None:  # a scrubbed environment, as the grader gives its workers
        env = dict(env, PYTHONPATH=HERE)
    _popen_init(self, args, *rest, env=env, **kwargs)


subprocess.Popen.__init__ = _popen_with_us
