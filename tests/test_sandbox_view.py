"""What a worker can see and touch: only the allow-list, at whatever tier this host gives.

Secrets are planted where a CI runner or an instructor's machine has them (a course
clone whose .git holds the reference, an ``autograder/`` checkout with a token and
sibling assignments, a second copy of ``reference/``, the host's /tmp, /dev/shm and
the home folder, the grader's own environment); a probe running as student code
must see none of them and leave nothing behind. tests/test_tiers.py runs this file
again at the other tiers (non-root, and with namespaces refused).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from grader.sandbox import isolation, levels, rootfs, workdir
from grader.sandbox.client import WorkerSpec, probe_level
from grader.sandbox.errors import StudentError
from tests.conftest import REPO, SECRET
from tests.own_processes import worker_processes


@pytest.fixture(scope="session")
def zygote(fork_zygote):
    """This file tests the fork backend's sandbox, whatever GRADER_BACKEND says
    (tests/test_portable.py has the portable backend's own)."""
    return fork_zygote


PROBE = '''
import os

def probe(paths, writes):
    seen = {}
    for p in paths:
        try:
            if os.path.isdir(p):
                seen[p] = sorted(os.listdir(p))
            else:
                with open(p, "rb") as f:
                    f.read(1)
                seen[p] = None
        except OSError:
            pass
    wrote = []
    for p in writes:
        try:
            with open(p, "w") as f:
                f.write("written by student code")
            wrote.append(p)
        except OSError:
            pass
    environ = []
    try:
        pids = [n for n in os.listdir("/proc") if n.isdigit() and int(n) != os.getpid()]
    except OSError:
        pids = []
    for pid in pids:
        for name in ("environ", "cmdline"):
            try:
                with open(f"/proc/{pid}/{name}", "rb") as f:
                    environ.append(f.read().decode("utf-8", "replace"))
            except OSError:
                pass
    return {"seen": seen, "wrote": wrote, "proc": "\\n".join(environ)}
'''


@pytest.fixture
def planted(tmp_path):
    """Secrets in the places a real host keeps them; yields (paths to probe, writes, cleanup list)."""
    marker = f"grader-view-{secrets.token_hex(4)}"
    clone = tmp_path / "course-clone"
    (clone / ".git" / "objects").mkdir(parents=True)
    (clone / ".git" / "objects" / "pack-reference").write_text(SECRET)
    (clone / "reference" / "hw1" / "tests").mkdir(parents=True)
    (clone / "reference" / "hw1" / "regression.py").write_text(SECRET)
    (clone / "reference" / "hw1" / "tests" / "test_hidden.py").write_text(SECRET)
    auto = tmp_path / "checkout" / "autograder"
    (auto / ".git").mkdir(parents=True)
    (auto / ".git" / "config").write_text(f'[http]\n\textraheader = AUTHORIZATION: basic {SECRET}\n')
    for hw in ("hw1", "hw3"):
        (auto / "reference" / hw).mkdir(parents=True)
        (auto / "reference" / hw / "solution.py").write_text(SECRET)
    copy = tmp_path / "elsewhere" / "backup" / "reference" / "hw1"
    copy.mkdir(parents=True)
    (copy / "regression.py").write_text(SECRET)
    home = Path(os.path.expanduser("~"))
    host_files = [Path("/tmp") / f"{marker}.txt", home / f".{marker}"]
    if os.path.isdir("/dev/shm"):
        host_files.append(Path("/dev/shm") / f"{marker}.txt")
    for f in host_files:
        f.write_text(SECRET)
    paths = [
        str(clone), str(clone / ".git"), str(clone / "reference" / "hw1" / "regression.py"),
        str(auto), str(auto / ".git" / "config"), str(auto / "reference" / "hw3" / "solution.py"),
        str(copy / "regression.py"), str(tmp_path), str(REPO / "reference"), str(REPO / ".git"),
        str(home), str(home / ".ssh"), str(home / ".bash_history"), *map(str, host_files), "/root", "/home", "/etc/passwd", "/etc/shadow", "/var", "/run",
    ]  # fmt: skip
    writes = [f"/tmp/{marker}-w", f"/dev/shm/{marker}-w", str(home / f".{marker}-w"), str(tmp_path / "w")]
    yield {"paths": paths, "writes": writes, "hide": (str(clone / "reference"), str(auto / "reference" / "hw1")), "home": home}
    for f in host_files + [Path(w) for w in writes]:
        f.unlink(missing_ok=True)


@contextlib.contextmanager
def _worker(zygote, tmp_path, name: str, source: str, **spec):
    """A worker holding ``source`` as ``name.py``; closed (its whole tree killed) on exit."""
    src = tmp_path / f"{name}.py"
    src.write_text(source)
    worker = zygote.worker(WorkerSpec(files=((f"{name}.py", str(src)),), limits=isolation.Limits(memory_bytes=1 << 30), **spec))
    try:
        yield worker
    finally:
        worker.close()


def _probe(zygote, tmp_path, planted, *, isolate=True):
    with _worker(zygote, tmp_path, "probe", PROBE, hide=planted["hide"], isolate=isolate) as worker:
        return worker.isolation, worker.call("probe", "probe.py", "probe", (planted["paths"], planted["writes"]), {}, timeout=20, seed=0)


def _scaffolding(folder: str, entries: list[str]) -> bool:
    """A folder of the new root that exists only to lead to the runtime (/root holding
    just .pyenv): every entry is on the way to a runtime path."""
    runtime = [os.path.realpath(p) for p in rootfs.runtime_paths()] + list(rootfs.runtime_paths())
    return all(any(r == os.path.join(folder, e) or r.startswith(os.path.join(folder, e) + "/") for r in runtime) for e in entries)


def test_worker_sees_nothing_of_the_host_but_the_runtime(zygote, tmp_path, planted):
    level, found = _probe(zygote, tmp_path, planted)
    assert level in (levels.NAMESPACES, levels.LANDLOCK), level
    shown = {p: v for p, v in found["seen"].items() if v is None or not _scaffolding(p, v)}
    assert shown == {}, f"at {level} the worker saw {shown}"
    assert SECRET not in found["proc"], f"at {level} the worker read the grader's environment through /proc"


def test_worker_writes_reach_nothing_outside_its_folder(zygote, tmp_path, planted):
    level, found = _probe(zygote, tmp_path, planted)
    # at the namespaces tier /tmp and /dev/shm are private: a write may succeed there, but
    # nothing may reach the host's
    leaked = [w for w in planted["writes"] if os.path.exists(w)]
    assert leaked == [], f"at {level} student code wrote {leaked} on the host"


def test_the_probe_is_able_to_see(zygote, tmp_path, planted):
    """The probe itself works: without isolation it sees a world-readable planted file (so
    an empty answer above means contained, not a broken probe). As root even `none`
    runs as a uid of its own, so the file must be readable by others to be seen."""
    folder = Path(tempfile.mkdtemp(prefix="grader-view-open-"))
    try:
        folder.chmod(0o755)
        (folder / "open.txt").write_text(SECRET)
        (folder / "open.txt").chmod(0o644)
        planted["paths"] += [str(folder), str(folder / "open.txt")]
        level, found = _probe(zygote, tmp_path, planted, isolate=False)
    finally:
        shutil.rmtree(folder)
    assert level == levels.NONE
    assert str(folder / "open.txt") in found["seen"]
    assert not _scaffolding(str(folder), found["seen"][str(folder)])


SOCKETS = """
import socket

def connect(path, abstract):
    reached = []
    for address in (path, abstract):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(2)
            s.connect(address)
            reached.append(repr(address))
            s.close()
        except OSError:
            pass
    a, b = socket.socketpair()  # torch's own pipes must keep working
    a.sendall(b"ok")
    return {"reached": reached, "pair": b.recv(2).decode()}
"""


def test_no_host_unix_socket_is_in_reach(zygote, tmp_path):
    """A socket file anyone may connect to (docker.sock, an agent) and an abstract one."""
    folder = Path(tempfile.mkdtemp(prefix="grader-view-sock-"))
    listeners = []
    try:
        folder.chmod(0o755)
        path = str(folder / "s")
        abstract = "\0grader-view-" + secrets.token_hex(4)
        for address in (path, abstract):
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            server.bind(address)
            server.listen(4)
            listeners.append(server)
        os.chmod(path, 0o666)
        with _worker(zygote, tmp_path, "sockets", SOCKETS) as worker:
            level = worker.isolation
            found = worker.call("sockets", "sockets.py", "connect", (path, abstract), {}, timeout=20, seed=0)
    finally:
        for server in listeners:
            server.close()
        shutil.rmtree(folder)
    assert found == {"reached": [], "pair": "ok"}, f"at {level}: {found}"


FORGE = '''
import json, os, signal

def predict(x, w, b):
    forged = {{"score": 999, "tests": [], "forged": True}}
    for path in {targets!r}:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                json.dump(forged, f)
        except OSError:
            pass
    for pid, sig in ((os.getppid(), signal.SIGSTOP), (os.getppid(), signal.SIGKILL), (-1, signal.SIGSTOP), (-1, signal.SIGKILL)):
        try:
            os.kill(pid, sig)
        except OSError:
            pass
    return x @ w + b + 1
'''


def test_a_forged_result_and_killing_the_grader_change_nothing(course, tmp_path, reference_source):
    out = tmp_path / "results" / "results.json"
    out.parent.mkdir()
    source = reference_source + "\n\n" + FORGE.format(targets=[str(out), "/autograder/results/results.json", str(tmp_path / "results.json")])
    submission = tmp_path / "regression.py"
    submission.write_text(source)
    cmd = [sys.executable, "-m", "grader.cli", "hw1", "--root", str(course), "--submission", str(submission), "--format", "json", "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr[-2000:]
    data = json.loads(out.read_text())
    assert "forged" not in data
    predict = next(t for t in data["tasks"] if t["id"] == "predict")
    assert predict["score"] == 0
    assert not (tmp_path / "results.json").exists()


def test_no_signal_reaches_the_grader(zygote, tmp_path):
    """SIGSTOP and SIGKILL aimed at the parent and at every process: the grader carries on."""
    attack = (
        "import os, signal\n"
        "def attack():\n"
        "    for pid in (os.getppid(), -1):\n"
        "        for sig in (signal.SIGSTOP, signal.SIGKILL):\n"
        "            try:\n"
        "                os.kill(pid, sig)\n"
        "            except OSError:\n"
        "                pass\n"
    )
    with _worker(zygote, tmp_path, "sig", attack) as worker:
        try:
            worker.call("sig", "sig.py", "attack", (), {}, timeout=10, seed=0)
        except StudentError:  # the worker may well have stopped or killed itself; that is its business
            pass
    assert zygote.proc.poll() is None, "the zygote was killed by student code"
    state = Path(f"/proc/{zygote.proc.pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    assert state != "T", "the zygote was stopped by student code"
    os.kill(os.getpid(), 0)  # and we are alive to say so
    assert probe_level(zygote)[0] in (levels.NAMESPACES, levels.LANDLOCK)



DISK = """
def fill():
    n = 0
    try:
        while True:
            with open(f"f{n}", "wb") as f:
                f.write(bytes(64 << 20))
            n += 1
    except OSError as e:
        return [n, e.errno]
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="the worker's folder is a bounded tmpfs only when the grader is root")
def test_a_worker_cannot_fill_the_disk(zygote, tmp_path):
    with _worker(zygote, tmp_path, "disk", DISK) as worker:
        if not worker.dir.bounded:  # never fill a real disk to find out
            pytest.skip("this root grader may not mount (a container without CAP_SYS_ADMIN): the folder is unbounded")
        files, errno_ = worker.call("disk", "disk.py", "fill", (), {}, timeout=60, seed=0)
    assert errno_ == 28 and files * (64 << 20) <= workdir.DISK_BYTES  # ENOSPC at the bound
    assert not os.path.exists(worker.base)


def test_what_a_killed_grader_left_is_swept(monkeypatch, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # its pid names a grading process that no longer exists
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    left = tmp_path / f"grader-{dead.pid}-abcd" / "work"
    left.mkdir(parents=True)
    (left / "big.bin").write_bytes(bytes(1024))
    copy = tmp_path / f"grader-trusted-{dead.pid}-efgh"  # a root grader's private copy
    copy.mkdir()
    mine = tmp_path / f"grader-{os.getpid()}-live"
    mine.mkdir()
    monkeypatch.setattr(workdir, "_swept", False)
    folder = workdir.WorkDir()
    folder.remove()
    assert not left.parent.exists() and not copy.exists() and mine.exists()


def test_sigterm_to_the_grader_kills_its_workers_and_removes_their_folders(course, tmp_path, reference_source):
    slow = reference_source + "\n\ndef predict(x, w, b):\n    import time\n    time.sleep(0.5)\n    return x @ w + b\n"
    submission = tmp_path / "regression.py"
    submission.write_text(slow)
    cmd = [sys.executable, "-m", "grader.cli", "hw1", "--root", str(course), "--submission", str(submission), "--format", "json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    pattern = f"grader-{proc.pid}-*"
    try:
        for _ in range(600):  # a worker of this grader exists: it is mid-grading
            if list(Path(tempfile.gettempdir()).glob(pattern)) or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "grading ended before it could be stopped"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143 and "grade: terminated" in err, err[-2000:]
    assert list(Path(tempfile.gettempdir()).glob(pattern)) == []


DETACH = """
import os, time

def detach():
    r, w = os.pipe()
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.write(w, str(os.getpid()).encode())
            time.sleep(600)
        os._exit(0)
    os.close(w)
    return int(os.read(r, 32))
"""


def test_no_process_of_a_worker_outlives_its_close(zygote, tmp_path):
    """A detached grandchild is dead when close() returns (not merely soon after): a result
    written next can be no student process's doing."""
    with _worker(zygote, tmp_path, "detach", DETACH) as worker:
        pid = worker.call("detach", "detach.py", "detach", (), {}, timeout=20, seed=0)
        level = worker.isolation
    if level == levels.NAMESPACES:
        return  # that pid is one of the worker's own PID namespace, which died with it
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[-1].split()[0]
    except FileNotFoundError:
        state = None
    assert state in (None, "Z", "X"), f"the worker's grandchild {pid} is still alive ({state}) after close()"


CHAIN = """
import os, time

def chain():
    if os.fork() == 0:
        os.setsid()
        deadline = time.time() + 60
        while time.time() < deadline:  # each process forks one child and stays; the newest forks on,
            try:                           # retrying at the process limit: a killed link is refilled at once
                pid = os.fork()
            except OSError:
                continue
            if pid:
                time.sleep(max(0.0, deadline - time.time()))
                os._exit(0)
        os._exit(0)
    time.sleep(0.5)
    return "running"
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="survivors are told apart by the worker uids of a root grader")
def test_a_forking_chain_does_not_outlive_the_worker(zygote, tmp_path):
    """A chain that forks as fast as it is killed is frozen, then killed, by close()."""
    with _worker(zygote, tmp_path, "chain", CHAIN) as worker:
        assert worker.call("chain", "chain.py", "chain", (), {}, timeout=20, seed=0) == "running"
    alive = worker_processes()  # at once: close() returned, so none may be left
    assert alive == [], f"student processes outlived close(): {alive}"


SYSCALLS = """
import ctypes, os, socket, threading

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

def try_all():
    opened = []
    for family in ("AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET"):
        try:
            socket.socket(getattr(socket, family), socket.SOCK_DGRAM if family != "AF_PACKET" else socket.SOCK_RAW)
            opened.append(family)
        except OSError:
            pass
    calls = {
        "unshare(CLONE_NEWUSER)": lambda: libc.unshare(0x10000000),
        "unshare(CLONE_NEWNS)": lambda: libc.unshare(0x00020000),
        "ptrace(PTRACE_TRACEME)": lambda: libc.ptrace(0, 0, None, None),
        "mount tmpfs": lambda: libc.mount(b"tmpfs", b"/tmp", b"tmpfs", 0, None),
        "keyctl": lambda: libc.syscall(250 if os.uname().machine == "x86_64" else 219, 0, 0, 0, 0),
    }
    allowed = [name for name, call in calls.items() if call() == 0]
    done = []
    t = threading.Thread(target=lambda: done.append(1))
    t.start()
    t.join()
    return {"sockets": opened, "calls": allowed, "threads": len(done)}
"""


def test_the_worker_cannot_open_networks_or_namespaces(zygote, tmp_path):
    with _worker(zygote, tmp_path, "calls", SYSCALLS) as worker:
        level = worker.isolation
        found = worker.call("calls", "calls.py", "try_all", (), {}, timeout=20, seed=0)
    assert found == {"sockets": [], "calls": [], "threads": 1}, f"at {level}: {found}"
