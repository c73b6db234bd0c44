"""The operation history, Jepsen style: every operation is logged when it is invoked and
again when it completes as `ok`, `failed` (a definite refusal: it did not happen) or
`unknown` (no definite answer: it may or may not have happened). One JSON object a line."""

import itertools
import json
import threading
import time
from pathlib import Path

INVOKED, OK, FAILED, UNKNOWN = "invoked", "ok", "failed", "unknown"


class History:
    def __init__(self, path: Path):
        self._file = path.open("w")
        self._lock = threading.Lock()
        self._counter = itertools.count()
        self._started = time.monotonic()
        self.completed: list[dict] = []

    def _write(self, record: dict) -> None:
        with self._lock:
            self._file.write(json.dumps(record, default=str) + "\n")
            if record["type"] != INVOKED:
                self.completed.append(record)

    def invoke(self, process, f: str, value: dict) -> dict:
        record = {"index": next(self._counter), "time": round(time.monotonic() - self._started, 4),
                  "process": process, "type": INVOKED, "f": f, "value": value}
        self._write(record)
        return record

    def complete(self, invoked: dict, outcome: str, result: dict | None = None) -> dict:
        record = {"index": next(self._counter), "time": round(time.monotonic() - self._started, 4),
                  "process": invoked["process"], "type": outcome, "f": invoked["f"], "value": invoked["value"],
                  "invoke_index": invoked["index"], "result": result or {}}
        self._write(record)
        return record

    def close(self) -> None:
        with self._lock:
            self._file.close()
