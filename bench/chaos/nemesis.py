"""The nemesis: one fault every 10–20 s (configurable), each healed before the next.

Faults, taken in a seeded shuffled cycle so every kind comes up:
- `kill_web_worker`: `kill -9` of one gunicorn worker (the master starts a new one);
- `kill_celery_worker`: `kill -9` of the Celery worker's process group, restarted 2 s later;
- `kill_outbox_relay`: `kill -9` of one of the two outbox relays (chosen at random), restarted
  2 s later (the other relay, and beat's drain, deliver meanwhile);
- `terminate_db_connections`: `pg_terminate_backend` of every connection of the app to its
  database (the checker's and the nemesis's own excepted);
- `pause_web_worker`: SIGSTOP of one gunicorn worker for 5 s, then SIGCONT;
- `payout_fault`: the sandbox payout provider fails after executing the payout, or times
  out (alternately), for 8 s (`integrations.payouts.SANDBOX_FAULT_CACHE_KEY`).
Each injection is logged in the history (process `nemesis`)."""

import contextlib
import os
import random
import signal
import threading
import time

import psycopg

from bench.chaos.history import FAILED, OK, History
from bench.chaos.stack import RELAYS, Stack

FAULTS = ("kill_web_worker", "kill_celery_worker", "kill_outbox_relay", "terminate_db_connections", "pause_web_worker",
          "payout_fault")
CHECKER_APPLICATION = "chaos-checker"
NEMESIS_APPLICATION = "chaos-nemesis"


class Nemesis(threading.Thread):
    def __init__(self, *, stack: Stack, history: History, dsn: str, database: str, seed: int, until: float,
                 interval: tuple[float, float]):
        super().__init__(name="nemesis", daemon=True)
        self.stack = stack
        self.history = history
        self.dsn = dsn
        self.database = database
        self.rng = random.Random(seed * 7919)
        self.until = until
        self.interval = interval
        self.stopping = threading.Event()
        self.injected: dict[str, int] = dict.fromkeys(FAULTS, 0)
        self.payout_modes = ["after_execute", "timeout"]
        self.crashed: BaseException | None = None

    def run(self) -> None:
        cycle: list[str] = []
        try:
            if self.stopping.wait(self.rng.uniform(3, 5)):
                return
            while time.monotonic() < self.until - 3 and not self.stopping.is_set():
                if not cycle:
                    cycle = list(FAULTS)
                    self.rng.shuffle(cycle)
                fault = cycle.pop()
                started = time.monotonic()
                invoked = self.history.invoke("nemesis", fault, {})
                try:
                    detail = getattr(self, fault)()
                except Exception as exc:
                    self.history.complete(invoked, FAILED, {"error": repr(exc)})
                else:
                    self.injected[fault] += 1
                    self.history.complete(invoked, OK, detail)
                wait = self.rng.uniform(*self.interval) - (time.monotonic() - started)
                if self.stopping.wait(max(wait, 0)):
                    return
        except BaseException as exc:
            self.crashed = exc
            raise

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)
        self.heal()

    def heal(self) -> None:
        """Whatever state a fault left, undo it (used at the end, and safe to repeat)."""
        from django.core.cache import cache

        from integrations.payouts import SANDBOX_FAULT_CACHE_KEY

        cache.delete(SANDBOX_FAULT_CACHE_KEY)
        for pid in self.stack.web_workers():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self.stack.ensure_running()

    # --- faults ---------------------------------------------------------------------------------

    def _a_web_worker(self) -> int:
        workers = self.stack.web_workers()
        if not workers:
            raise RuntimeError("no gunicorn worker to pick")
        return self.rng.choice(workers)

    def _wait_for_web_workers(self, count: int, timeout: float = 15.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.stack.web_workers()) < count:
            time.sleep(0.2)
        return len(self.stack.web_workers())

    def kill_web_worker(self) -> dict:
        before = len(self.stack.web_workers())
        pid = self._a_web_worker()
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        return {"pid": pid, "workers_after_respawn": self._wait_for_web_workers(before)}

    def _kill_and_restart(self, name: str) -> dict:
        pid = self.stack.processes[name].pid
        self.stack.kill(name, signal.SIGKILL)
        time.sleep(2)
        self.stack.restart(name)
        return {"pid": pid, "restarted_as": self.stack.processes[name].pid}

    def kill_celery_worker(self) -> dict:
        return self._kill_and_restart("worker")

    def kill_outbox_relay(self) -> dict:
        relay = self.rng.choice(RELAYS)
        return {"relay": relay, **self._kill_and_restart(relay)}

    def terminate_db_connections(self) -> dict:
        with psycopg.connect(self.dsn, autocommit=True, application_name=NEMESIS_APPLICATION) as connection:
            rows = connection.execute(
                "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid() AND application_name NOT IN (%s, %s)",
                (self.database, CHECKER_APPLICATION, NEMESIS_APPLICATION),
            ).fetchall()
        return {"terminated": sum(1 for _pid, done in rows if done)}

    def pause_web_worker(self) -> dict:
        pid = self._a_web_worker()
        os.kill(pid, signal.SIGSTOP)
        try:
            self.stopping.wait(5)
        finally:
            os.kill(pid, signal.SIGCONT)
        return {"pid": pid, "paused_seconds": 5}

    def payout_fault(self) -> dict:
        from django.core.cache import cache

        from integrations.payouts import SANDBOX_FAULT_CACHE_KEY

        mode = self.payout_modes[0]
        self.payout_modes.reverse()
        cache.set(SANDBOX_FAULT_CACHE_KEY, mode, timeout=60)
        try:
            self.stopping.wait(8)
        finally:
            cache.delete(SANDBOX_FAULT_CACHE_KEY)
        return {"mode": mode, "seconds": 8}
