"""Length-prefixed frames over a Unix stream socket: a JSON header plus raw buffers.

Frame layout: ``!II`` (header length, buffer count), the UTF-8 JSON header, then for
each buffer ``!Q`` (length) and the bytes. The receiving side bounds every length
before reading, so a hostile peer can neither make it allocate without limit nor
block it past its deadline.

The peer's death is seen either from a pidfd (Linux) or, where a host has none, from a
``watch()`` callable asked every ``WATCH_INTERVAL`` seconds while a frame is awaited.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import struct
import time

HEAD = struct.Struct("!II")
BUFLEN = struct.Struct("!Q")
MAX_HEADER = 64 * 1024 * 1024
MAX_BUFFERS = 100_000
WATCH_INTERVAL = 0.05  # seconds between two watch() calls while waiting


class ChannelClosed(Exception):
    """The peer closed the socket."""


class ChannelTimeout(Exception):
    """No complete frame arrived before the deadline."""


class PeerExited(Exception):
    """The watched process exited while we waited for it."""


class FrameError(Exception):
    """The peer sent something that is not a valid frame."""


def pack(header: dict, buffers: list[bytes] = ()) -> list[bytes]:
    head = json.dumps(header, separators=(",", ":")).encode()
    parts = [HEAD.pack(len(head), len(buffers)), head]
    for b in buffers:
        parts.append(BUFLEN.pack(len(b)))
        parts.append(b)
    return parts


def send(sock: socket.socket, header: dict, buffers: list[bytes] = ()) -> None:
    # sendall per part: no join, so a large tensor is not copied once more
    for part in pack(header, buffers):
        sock.sendall(part)


class _Reader:
    """Reads exact byte counts, honouring a deadline and a pidfd (or watch()) to watch."""

    def __init__(self, sock: socket.socket, deadline: float | None, pidfd: int | None, watch=None):
        self.sock = sock
        self.deadline = deadline
        self.watch = watch
        self.sel = selectors.DefaultSelector()
        self.sel.register(sock, selectors.EVENT_READ, "sock")
        if pidfd is not None:
            self.sel.register(pidfd, selectors.EVENT_READ, "pid")

    def close(self) -> None:
        self.sel.close()

    def exact(self, n: int) -> bytearray:
        buf = bytearray(n)
        view = memoryview(buf)
        try:
            self._fill(view, n)
        except BaseException:
            # the traceback keeps this frame: let it not keep a large half-read buffer
            view.release()
            buf = None
            raise
        view.release()
        return buf  # not copied into bytes: a tensor's worth of memory once, not twice

    def _fill(self, view: memoryview, n: int) -> None:
        got = 0
        while got < n:
            timeout = None if self.deadline is None else self.deadline - time.monotonic()
            if timeout is not None and timeout <= 0:
                raise ChannelTimeout()
            if self.watch is not None:
                timeout = WATCH_INTERVAL if timeout is None else min(timeout, WATCH_INTERVAL)
            ready = self.sel.select(timeout)
            if not ready and self.watch is None:
                raise ChannelTimeout()
            if not ready and not self.watch():
                continue  # still alive: the deadline is checked again above
            if not any(key.data == "sock" for key, _ in ready):
                # Only the pidfd fired (or watch() said so): the process is gone. Data it wrote before
                # dying may still be buffered; drain without blocking, then give up.
                self.sock.setblocking(False)
                try:
                    k = self.sock.recv_into(view[got:], n - got)
                except (BlockingIOError, InterruptedError):
                    raise PeerExited() from None
                finally:
                    self.sock.setblocking(True)
                if k == 0:
                    raise PeerExited()
                got += k
                continue
            k = self.sock.recv_into(view[got:], n - got)
            if k == 0:
                raise ChannelClosed()
            got += k


def recv(
    sock: socket.socket,
    *,
    deadline: float | None = None,
    pidfd: int | None = None,
    watch=None,
    max_bytes: int = 1 << 34,
    max_header: int = MAX_HEADER,
    check_header=None,
) -> tuple[dict, list[bytearray]]:
    """Receives one frame. Raises ChannelTimeout, ChannelClosed, PeerExited or FrameError.

    ``max_bytes`` bounds the whole frame and ``max_header`` its JSON header before
    anything is allocated for them;
    ``check_header(header, buffer_count)`` may raise FrameError to refuse a frame from its
    header alone, before any of its buffers is read (a reply out of turn, an error reply
    that claims data). ``watch()`` returns True once the peer is gone (where no pidfd is
    to be had)."""
    reader = _Reader(sock, deadline, pidfd, watch)
    buffers: list[bytearray] = []
    try:
        hlen, nbuf = HEAD.unpack(reader.exact(HEAD.size))
        # the JSON header is parsed whole (it grows ~25x as objects): bound it before reading
        if hlen > min(max_header, max_bytes) or nbuf > MAX_BUFFERS:
            raise FrameError(f"frame header too large ({hlen} bytes)")
        try:
            header = json.loads(reader.exact(hlen))
        except (UnicodeDecodeError, ValueError, RecursionError) as e:  # ValueError: JSON, or an int of 5000 digits
            raise FrameError(f"frame header is not JSON: {e}") from None
        if type(header) is not dict:
            raise FrameError("frame header is not an object")
        if hlen > max_bytes:
            raise FrameError("frame larger than the allowed size")
        if check_header is not None:
            check_header(header, nbuf)
        total = hlen
        for _ in range(nbuf):
            (blen,) = BUFLEN.unpack(reader.exact(BUFLEN.size))
            total += blen
            if total > max_bytes:
                raise FrameError(f"frame larger than the allowed {max_bytes >> 20} MiB")
            buffers.append(reader.exact(blen))
        return header, buffers
    except BaseException:
        buffers.clear()  # nothing read so far outlives the failure in a traceback
        raise
    finally:
        reader.close()


def send_with_fds(sock: socket.socket, header: dict, fds: list[int]) -> None:
    socket.send_fds(sock, [json.dumps(header).encode()], fds)


def recv_with_fds(sock: socket.socket, maxfds: int, timeout: float | None = None) -> tuple[dict, list[int]]:
    sock.settimeout(timeout)
    try:
        data, fds, _flags, _addr = socket.recv_fds(sock, 1 << 16, maxfds)
    except TimeoutError:
        raise ChannelTimeout() from None
    finally:
        sock.settimeout(None)
    if not data:
        for fd in fds:
            os.close(fd)
        raise ChannelClosed()
    try:
        header = json.loads(data.decode("utf-8"))
    except ValueError:  # bad UTF-8 or bad JSON
        for fd in fds:
            os.close(fd)
        raise FrameError("bad control message") from None
    return header, list(fds)
