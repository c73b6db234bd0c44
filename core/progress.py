"""Progress of a long management command, on stderr so stdout keeps the results.

On a terminal: a tqdm bar that moves with every unit of work. Anywhere else (a log file, CI,
a pipe): plain lines, one each time another tenth of the work is done or `every_seconds`
have passed, and one at the end, so a log shows the command is alive without a line per row.
"""

import time
from typing import IO

from tqdm import tqdm


class Progress:
    def __init__(self, *, total: int, description: str, stream: IO[str], unit: str = "row",
                 every_seconds: float = 10.0):
        self.total, self.description, self.stream, self.unit = total, description, stream, unit
        self.done = 0
        self.every_seconds = every_seconds
        self.interactive = bool(getattr(stream, "isatty", lambda: False)())
        self._bar = None
        if self.interactive:
            self._bar = tqdm(total=total, desc=description, unit=unit, file=stream, leave=False)
        self._last_tenth = 0
        self._last_line_at = time.monotonic()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def update(self, count: int = 1) -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(count)
            return
        tenth = self.done * 10 // self.total if self.total else 10
        now = time.monotonic()
        if tenth > self._last_tenth or now - self._last_line_at >= self.every_seconds:
            self._last_tenth, self._last_line_at = tenth, now
            self._line()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._last_tenth < 10 or self.done != self.total:
            self._last_tenth = 10
            self._line()

    def _line(self) -> None:
        share = f" ({100 * self.done // self.total}%)" if self.total else ""
        self.stream.write(f"{self.description}: {self.done}/{self.total} {self.unit}s{share}\n")
        self.stream.flush()
