"""A live line while a training program runs, so a long run is not a blank screen.

Shown only where someone watches: the terminal format, written to a terminal, without
``NO_COLOR`` and not into a file (``-o``). Piped output, CI logs and every other format
get nothing extra. The line is redrawn in place (a carriage return and an erase) about
twice a second and erased before the report is printed:

    ⏳ covid.py  14.2 s of 120 s CPU · 31 s elapsed · epoch 151: train loss 1.52, valid loss 1.61
"""

from __future__ import annotations

import threading

from rich.console import Console

from ..competition.budget import Progress

ERASE = "\r\x1b[2K"


class LiveLine:
    def __init__(self, console: Console):
        self.console = console
        self._lock = threading.Lock()
        self._shown = False

    @classmethod
    def open(cls, console: Console, *, fmt: str, to_file: bool) -> "LiveLine | None":
        """A live line on ``console``, or None where none belongs."""
        if fmt != "terminal" or to_file or not console.is_terminal or console.is_dumb_terminal or console.no_color:
            return None
        return cls(console)

    def text(self, p: Progress) -> str:
        line = f"⏳ {p.program}  {p.cpu:.1f} s of {p.budget:g} s CPU · {p.elapsed:.0f} s elapsed"
        if p.last_line:
            line += f" · {p.last_line}"
        width = max(20, self.console.width - 1)
        return line if len(line) <= width else line[: width - 1] + "…"

    def update(self, progress: Progress) -> None:
        with self._lock:
            self.console.file.write(ERASE + self.text(progress))
            self.console.file.flush()
            self._shown = True

    def close(self) -> None:
        with self._lock:
            if self._shown:
                self.console.file.write(ERASE)
                self.console.file.flush()
                self._shown = False
