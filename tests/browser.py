"""Open a local page in headless Chromium and report what a person would see go wrong.

Talks the DevTools protocol over ``--remote-debugging-pipe`` (JSON messages ending in
NUL on fds 3 and 4): no port, no extra package. Collects console messages, uncaught
exceptions, log entries and every request the page makes; optionally a full-page
screenshot.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--mute-audio",
)  # fmt: skip


BASH = shutil.which("bash") or "/bin/bash"


def find() -> str | None:
    return next((path for path in map(shutil.which, CANDIDATES) if path), None)


@dataclass
class Visit:
    console: list[str] = field(default_factory=list)  # console messages of level warning or error
    exceptions: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)  # browser log entries of level warning or error
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    title: str = ""
    text: str = ""  # document.body.innerText
    screenshot: bytes = b""

    @property
    def problems(self) -> list[str]:
        return self.console + self.exceptions + self.log


class _Pipe:
    def __init__(self, proc, to_browser: int, from_browser: int):
        self.proc, self.to_browser, self.from_browser = proc, to_browser, from_browser
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 60) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self.receive(timeout)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def receive(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.from_browser], [], [], left)[0]:
                raise TimeoutError("the browser did not answer")
            chunk = os.read(self.from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError(f"the browser exited ({self.proc.poll()})")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def wait_for(self, method: str, timeout: float = 60) -> dict:
        for i, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(i)
        while True:
            event = self.receive(timeout)
            if event.get("method") == method:
                return event
            self.events.append(event)


def visit(page: Path, *, width: int = 1200, screenshot: bool = False, browser: str | None = None) -> Visit:
    """Loads ``page`` (a local file) and returns what happened."""
    browser = browser or find()
    if browser is None:
        raise FileNotFoundError("no Chromium found")
    cmd_r, cmd_w = os.pipe()
    out_r, out_w = os.pipe()
    # 10 or above: making them the child's fds 3 and 4 clobbers neither
    cmd_r, out_w = (_high(fd) for fd in (cmd_r, out_w))
    with tempfile.TemporaryDirectory(prefix="report-browser-") as profile:
        args = [browser, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe", f"--window-size={width},900", "about:blank"]
        # the protocol's fds are 3 (to the browser) and 4 (from it)
        proc = subprocess.Popen(
            [BASH, "-c", f'exec "$0" "$@" 3<&{cmd_r} 4>&{out_w}', *args],  # bash: dash takes one-digit fds only
            pass_fds=(cmd_r, out_w), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(cmd_r)
        os.close(out_w)
        pipe = _Pipe(proc, cmd_w, out_r)
        try:
            return _visit(pipe, Path(page).resolve(), width, screenshot)
        finally:
            try:
                pipe.send("Browser.close", timeout=10)
            except (RuntimeError, TimeoutError, OSError):
                pass
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            os.close(cmd_w)
            os.close(out_r)


def _high(fd: int) -> int:
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


def _visit(pipe: _Pipe, page: Path, width: int, screenshot: bool) -> Visit:
    target = pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        pipe.send(f"{domain}.enable", session=session)
    pipe.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=session)
    pipe.send("Page.navigate", {"url": page.as_uri()}, session=session)
    pipe.wait_for("Page.loadEventFired")
    found = Visit()
    found.title = _evaluate(pipe, session, "document.title")
    found.text = _evaluate(pipe, session, "document.body.innerText")
    if screenshot:
        height = int(_evaluate(pipe, session, "Math.ceil(document.documentElement.scrollHeight)"))
        pipe.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
        shot = pipe.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session=session)
        found.screenshot = base64.b64decode(shot["data"])
    for event in pipe.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
            found.console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            found.exceptions.append(json.dumps(params.get("exceptionDetails", {}))[:500])
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
            entry = params["entry"]
            found.log.append(f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}".strip())
        elif method == "Network.requestWillBeSent":
            found.requests.append(params.get("request", {}).get("url", ""))
    return found


def _evaluate(pipe: _Pipe, session: str, expression: str):
    result = pipe.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session)
    return result.get("result", {}).get("value")
