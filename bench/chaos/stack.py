"""The stack under test, as production runs it: the Procfile's `web` (gunicorn), `worker`
(Celery), `beat` and two `outbox` relays (`outbox` and `outbox-2`, the process type scaled to
two), each in its own process group so the nemesis can kill one and the runner can stop all
of them."""

import contextlib
import os
import re
import shlex
import signal
import subprocess
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
RELAYS = ("outbox", "outbox-2")
VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def procfile_command(name: str, env: dict[str, str]) -> list[str]:
    """The Procfile's command for `name`, with `${VAR:-default}` expanded from `env`."""
    line = next(row for row in (ROOT / "Procfile").read_text().splitlines() if row.startswith(f"{name}:"))
    command = VARIABLE.sub(lambda match: env.get(match.group(1)) or (match.group(2) or ""), line.split(":", 1)[1])
    return shlex.split(command)


class Stack:
    # Extra arguments only where the Procfile's defaults would write into the repository
    # (beat's schedule file) or clash with another engineer's worker name.
    EXTRA = {"beat": lambda run_dir: ["--schedule", str(run_dir / "celerybeat-schedule")],
             "worker": lambda run_dir: ["--hostname", f"chaos-{os.getpid()}@%h"]}

    def __init__(self, *, env: dict[str, str], run_dir: Path, port: int):
        self.env = {**os.environ, **env, "PATH": f"{ROOT}/.venv/bin:" + os.environ["PATH"]}
        self.run_dir = run_dir
        self.port = port
        self.processes: dict[str, subprocess.Popen] = {}
        self.restarts: dict[str, int] = {}

    def start(self, name: str) -> subprocess.Popen:
        kind = name.partition("-")[0]  # `outbox-2`: a second process of the Procfile's `outbox`
        command = procfile_command(kind, self.env) + self.EXTRA.get(kind, lambda _: [])(self.run_dir)
        log = (self.run_dir / f"{name}.log").open("a")
        process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        log.close()
        self.processes[name] = process
        return process

    def start_all(self) -> None:
        for name in ("web", "worker", "beat", *RELAYS):
            self.start(name)
        self.wait_healthy()

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the web process did not answer on port {self.port}; see {self.run_dir}/web.log")

    def web_workers(self) -> list[int]:
        """The gunicorn worker pids (children of the master)."""
        master = self.processes["web"].pid
        try:
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in children]

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (a Celery worker's pool children die with it)."""
        process = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def restart(self, name: str) -> None:
        self.start(name)
        self.restarts[name] = self.restarts.get(name, 0) + 1

    def ensure_running(self) -> None:
        for name, process in list(self.processes.items()):
            if process.poll() is not None:
                self.restart(name)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGCONT)  # a paused worker cannot act on SIGTERM
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for name in self.processes:
            try:
                self.processes[name].wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill(name)
