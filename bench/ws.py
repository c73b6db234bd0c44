"""Benchmark: WebSocket fan-out of marketplace updates to 1,000 watchers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tranche_bench_ws REDIS_URL=redis://127.0.0.1:6379/7 \
        .venv/bin/python bench/ws.py [--clients 1000] [--listings 20] [--rate 5] [--seconds 10] [--burst 100]

What runs, all on this machine:
- the Procfile's `ws` process (uvicorn, config.asgi) with channels-redis;
- the Procfile's `outbox` process (`manage.py outbox_relay`), which drains the outbox, and
  one Celery worker (solo pool) that runs the throttle's flush task;
- this process: `--clients` WebSocket clients (the `websockets` package) on /ws/marketplace/;
- a publisher subprocess (`--publish`) that stands in for trading, so no buy's own cost is measured:
  each "trade" is a committed transaction that writes a `listing.changed` outbox event
  (`outbox_publish`), exactly what trading will do. From there the path is production's:
  commit → the relay's next poll runs the handler → throttle → channel layer → ws process →
  every client.

Phases: a steady phase (`--rate` trades a second spread over `--listings` listings, about one
per listing per `listings/rate` seconds, so the throttle rarely holds anything back) and a
burst (`--burst` trades on one listing as fast as they commit, which the throttle coalesces).
Each event carries a unique `units_remaining` per listing, so every update a client receives
maps to the commit time of the state it shows. Delay = client receive time - commit time
(same clock). The ws process's RSS is sampled throughout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent

BENCH_ENV = {
    "DEBUG": "0",
    # DEBUG off: sandboxes allowed out loud, and keys drawn for this run (config/production.py).
    "SANDBOX_PROVIDERS": "1",
    "SECURE_SSL_REDIRECT": "0",  # plain HTTP and ws:// to a local port
    "SECRET_KEY": secrets.token_urlsafe(64),
    "JWT_SIGNING_KEY": secrets.token_urlsafe(64),
    "FIELD_ENCRYPTION_KEYS": "0Ah9B8-adaICXVdTx6j8Vqz7Nmfvx1S9FTPYdLSWtx4=",
    "BLIND_INDEX_KEY": secrets.token_urlsafe(64),
    "CELERY_EAGER": "0",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "config.settings",
}


def bench_env() -> dict[str, str]:
    env = dict(os.environ)
    for key, value in BENCH_ENV.items():
        env.setdefault(key, value)
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tranche_bench_ws")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/7")
    env["PYTHONPATH"] = str(ROOT)
    return env


# --- publisher subprocess -----------------------------------------------------------------

def publish_main(args) -> None:
    import django

    django.setup()
    from django.db import transaction

    from core.outbox import outbox_publish

    rng = random.Random(7)
    units = {listing_id: 1_000_000 for listing_id in range(1, args.listings + 1)}
    events = []

    def trade(listing_id: int, phase: str) -> None:
        units[listing_id] -= rng.randint(1, 5)
        payload = {"listing_id": listing_id, "offering_id": 1, "units_remaining": units[listing_id],
                   "status": "open", "price_per_unit": "1000.00", "best_bid": None}
        with transaction.atomic():
            outbox_publish(topic="listing.changed", payload=payload)
        events.append({"listing_id": listing_id, "units": units[listing_id], "at": time.time(), "phase": phase})

    # Warm-up: one event on listing 0 that the orchestrator waits for (worker ready).
    units[0] = 1_000_000
    trade(0, "warmup")
    sys.stdout.write(json.dumps({"warmup": True}) + "\n")
    sys.stdout.flush()
    sys.stdin.readline()  # the orchestrator says "go" once every client saw the warm-up

    period = 1 / args.rate
    start = time.monotonic()
    for n in range(int(args.rate * args.seconds)):
        time.sleep(max(0.0, start + n * period - time.monotonic()))
        trade(1 + n % args.listings, "steady")
    time.sleep(1.0)
    for _ in range(args.burst):
        trade(1, "burst")
    sys.stdout.write(json.dumps({"events": events}) + "\n")
    sys.stdout.flush()


# --- orchestrator -------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def run_clients(args, port: int, ws_pid: int) -> dict:
    from websockets.asyncio.client import connect

    received: list[tuple[int, int, float]] = []  # (listing, units, at)
    warmup_seen = 0
    warmup_event = asyncio.Event()
    sockets = []

    async def reader(connection):
        nonlocal warmup_seen
        async for raw in connection:
            at = time.time()
            listing = json.loads(raw)["listing"]
            if listing["listing_id"] == 0:
                warmup_seen += 1
                if warmup_seen == args.clients:
                    warmup_event.set()
                continue
            received.append((listing["listing_id"], listing["units_remaining"], at))

    rss = {"baseline": rss_mb(ws_pid)}
    url = f"ws://127.0.0.1:{port}/ws/marketplace/"
    started = time.monotonic()
    for offset in range(0, args.clients, 50):
        batch = await asyncio.gather(*[
            connect(url, origin="http://127.0.0.1", open_timeout=30, max_queue=None, ping_interval=None)
            for _ in range(min(50, args.clients - offset))
        ])
        sockets += batch
    connect_seconds = time.monotonic() - started
    readers = [asyncio.create_task(reader(connection)) for connection in sockets]
    await asyncio.sleep(1.0)
    rss["connected"] = rss_mb(ws_pid)

    publisher = await asyncio.create_subprocess_exec(
        PYTHON, __file__, "--publish", "--listings", str(args.listings), "--rate", str(args.rate),
        "--seconds", str(args.seconds), "--burst", str(args.burst),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=bench_env(), cwd=ROOT,
    )
    await publisher.stdout.readline()  # warm-up published
    await asyncio.wait_for(warmup_event.wait(), timeout=60)
    publisher.stdin.write(b"go\n")
    await publisher.stdin.drain()

    peak = rss["connected"]

    async def sample():
        nonlocal peak
        while True:
            peak = max(peak, rss_mb(ws_pid))
            await asyncio.sleep(0.25)

    sampler = asyncio.create_task(sample())
    cpu_before = {"ws": cpu_seconds(ws_pid), "clients": sum(os.times()[:2])}
    run_started = time.monotonic()
    line = await publisher.stdout.readline()
    await publisher.wait()
    await asyncio.sleep(3.0)  # stragglers and the last trailing flush
    sampler.cancel()
    rss["peak"] = peak
    elapsed = time.monotonic() - run_started
    cpu = {"ws": (cpu_seconds(ws_pid) - cpu_before["ws"]) / elapsed,
           "clients": (sum(os.times()[:2]) - cpu_before["clients"]) / elapsed}
    for connection in sockets:
        await connection.close()
    for task in readers:
        task.cancel()
    return {"events": json.loads(line)["events"], "received": received, "rss": rss,
            "connect_seconds": connect_seconds, "cpu": cpu}


def report(args, result: dict) -> None:
    events = {(e["listing_id"], e["units"]): e for e in result["events"]}
    by_phase: dict[str, list[float]] = {"steady": [], "burst": []}
    updates: dict[str, set] = {"steady": set(), "burst": set()}
    unknown = 0
    for listing_id, units, at in result["received"]:
        event = events.get((listing_id, units))
        if event is None:
            unknown += 1
            continue
        by_phase[event["phase"]].append((at - event["at"]) * 1000)
        updates[event["phase"]].add((listing_id, units))
    published = {phase: sum(1 for e in result["events"] if e["phase"] == phase) for phase in by_phase}
    burst_events = [e for e in result["events"] if e["phase"] == "burst"]
    burst_seconds = (burst_events[-1]["at"] - burst_events[0]["at"]) if len(burst_events) > 1 else 0
    last_burst = (burst_events[-1]["listing_id"], burst_events[-1]["units"]) if burst_events else None

    print(f"clients: {args.clients} (connected in {result['connect_seconds']:.1f} s); listings: {args.listings}")
    for phase in ("steady", "burst"):
        delays = by_phase[phase]
        if not delays:
            print(f"{phase}: nothing received")
            continue
        per_update = len(delays) / max(1, len(updates[phase]))
        first: dict[tuple, float] = {}
        last: dict[tuple, float] = {}
        for listing_id, units, at in result["received"]:
            event = events.get((listing_id, units))
            if event is not None and event["phase"] == phase:
                delay = (at - event["at"]) * 1000
                first[(listing_id, units)] = min(first.get((listing_id, units), delay), delay)
                last[(listing_id, units)] = max(last.get((listing_id, units), delay), delay)
        print(f"{phase}: per update, first client p50 {percentile(list(first.values()), 0.5):.0f} ms, "
              f"last client p50 {percentile(list(last.values()), 0.5):.0f} ms")
        print(f"{phase}: {published[phase]} trades → {len(updates[phase])} distinct updates sent, "
              f"{len(delays)} deliveries ({per_update:.0f} per update); "
              f"delay p50 {percentile(delays, 0.5):.0f} ms, p99 {percentile(delays, 0.99):.0f} ms, "
              f"max {max(delays):.0f} ms, mean {statistics.fmean(delays):.0f} ms")
    if burst_events:
        print(f"burst: {len(burst_events)} trades in {burst_seconds:.2f} s on one listing; "
              f"final state delivered to every client: "
              f"{sum(1 for lid, u, _ in result['received'] if (lid, u) == last_burst)} of {args.clients}")
    rss = result["rss"]
    print(f"ws process RSS: {rss['baseline']:.0f} MB idle, {rss['connected']:.0f} MB with {args.clients} "
          f"clients, {rss['peak']:.0f} MB peak")
    print(f"CPU while publishing (share of one core): ws process {result['cpu']['ws']:.0%}, "
          f"the {args.clients} clients {result['cpu']['clients']:.0%}")
    if unknown:
        print(f"(ignored {unknown} messages that matched no event)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--listings", type=int, default=20)
    parser.add_argument("--rate", type=float, default=5.0, help="steady-phase trades per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="steady-phase length")
    parser.add_argument("--burst", type=int, default=100, help="trades on one listing, back to back")
    parser.add_argument("--publish", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publish:
        publish_main(args)
        return

    env = bench_env()
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    port = free_port()
    # The Procfile's `ws` command, on a free local port.
    ws = subprocess.Popen([str(BIN / "uvicorn"), "config.asgi:application", "--host", "127.0.0.1",
                           "--port", str(port), "--no-access-log", "--log-level", "warning"], cwd=ROOT, env=env)
    worker = subprocess.Popen([str(BIN / "celery"), "-A", "config", "worker", "--loglevel", "WARNING",
                               "--pool", "solo", "--without-heartbeat", "--without-gossip", "--without-mingle"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    relay = subprocess.Popen([PYTHON, "manage.py", "outbox_relay"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        result = asyncio.run(run_clients(args, port, ws.pid))
    finally:
        for process in (ws, worker, relay):
            process.send_signal(signal.SIGTERM)
        for process in (ws, worker, relay):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
    report(args, result)


if __name__ == "__main__":
    main()
