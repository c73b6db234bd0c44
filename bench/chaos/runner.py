"""Run the bank test: seed, start the stack, load it with clients while the nemesis injects
faults and the live checker watches, heal, drain, check, print a verdict; exit 1 on any
violation. See the package docstring for the pieces.

    .venv/bin/python -m bench.chaos [--seconds 60] [--config hot|spread] [--seed 1] [--clients 12]
    .venv/bin/python -m bench.chaos --smoke     # 60 s, hot, seed 1 (CI)
    .venv/bin/python -m bench.chaos --full      # 300 s × seeds 1, 2 × hot, spread

Uses its own database (`tranche_chaos`, created and dropped), Redis db 15 and port 8790.
Each run's history (JSONL), process logs and summary go to var/chaos/<time>-<config>-<seed>/.
"""

import argparse
import json
import os
import platform
import random
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.buy import ENV as BENCH_ENV  # noqa: E402 (the same production-like settings as the buy bench)
from bench.buy import sh  # noqa: E402

DATABASE = "tranche_chaos"
PG = os.environ.get("CHAOS_PG", "postgres://postgres@127.0.0.1:5432")
DSN = f"{PG}/{DATABASE}"
REDIS_URL = os.environ.get("CHAOS_REDIS_URL", "redis://127.0.0.1:6379/15")
PORT = int(os.environ.get("CHAOS_PORT", "8790"))
ENV = {
    **BENCH_ENV,
    "DATABASE_URL": DSN,
    "REDIS_URL": REDIS_URL,
    "CELERY_EAGER": "0",
    "LOG_LEVEL": "WARNING",
    "PORT": str(PORT),
    "WEB_CONCURRENCY": "3",
    "WORKER_CONCURRENCY": "2",
    "DATABASE_POOL_MAX": "4",
    "SITE_URL": f"http://127.0.0.1:{PORT}",
    "PAYMENT_PROVIDER": "sandbox",
    "PAYOUT_PROVIDER": "sandbox",
    "PAYMENT_SANDBOX_WEBHOOK_SECRET": "chaos-sandbox-payments-secret",
    "PAYOUT_SANDBOX_WEBHOOK_SECRET": "chaos-sandbox-payouts-secret",
    "DJANGO_SETTINGS_MODULE": "bench.chaos.settings",  # the project's, plus the outbox probe
}
DRAIN_TIMEOUT = 180.0


def psql(sql: str) -> None:
    sh(f'psql -X -q "{PG}/postgres" -c "{sql}"')


def django_setup() -> None:
    os.environ.update(ENV)
    os.environ["DATABASE_POOL"] = "0"  # the runner's own connections: plain, closed between phases
    os.environ["DJANGO_SETTINGS_MODULE"] = ENV["DJANGO_SETTINGS_MODULE"]
    import django

    django.setup()


def baseline_ids() -> dict[str, int]:
    from django.db.models import Max

    from bidding.models import Bid
    from trading.models import Listing, Trade
    from wallet.models import Deposit, Withdrawal

    models = {"trade": Trade, "listing": Listing, "bid": Bid, "deposit": Deposit, "withdrawal": Withdrawal}
    return {name: model.objects.aggregate(top=Max("pk"))["top"] or 0 for name, model in models.items()}


def wait_for_outbox(timeout: float) -> dict[str, int]:
    from core.outbox import OutboxMessage

    deadline = time.monotonic() + timeout
    while True:
        pending = OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).count()
        if pending == 0 or time.monotonic() > deadline:
            break
        time.sleep(1)
    return {"pending": pending, "failed": OutboxMessage.objects.filter(status=OutboxMessage.Status.FAILED).count()}


def sabotage(ops: list[dict]) -> list[dict]:
    """`--sabotage`: prove the checker can fail. A lost update (₹1.00 added to a user's cached
    balance with no transfer), a unit created from nothing (+1 on a holding), and one
    acknowledged buy dropped from the history as if the client had forgotten it (its trade
    then looks like one nobody asked for). Each must be reported."""
    import psycopg

    with psycopg.connect(DSN, autocommit=True) as connection:
        connection.execute("UPDATE wallet_ledgeraccount SET balance = balance + 1 WHERE id = "
                           "(SELECT MIN(id) FROM wallet_ledgeraccount WHERE NOT is_system AND kind = 'available')")
        connection.execute("UPDATE trading_holding SET units = units + 1 "
                           "WHERE id = (SELECT MAX(id) FROM trading_holding WHERE owner_id IS NOT NULL)")
        # The outbox: one trade's event delivered a second time to the non-idempotent probe, and
        # a listing's earlier state delivered after its later one.
        connection.execute("INSERT INTO chaos_probe_delivery (handler, key, units, status, pid) "
                           "SELECT handler, key, units, status, 0 FROM chaos_probe_delivery "
                           "WHERE handler = 'trade.executed' ORDER BY seq DESC LIMIT 1")
        connection.execute("INSERT INTO chaos_probe_delivery (handler, key, units, status, pid) "
                           "SELECT handler, key, units + 1, 'open', 0 FROM chaos_probe_delivery "
                           "WHERE handler = 'listing.changed' ORDER BY seq DESC LIMIT 1")
        time.sleep(1)  # let the live checker see it
    dropped = next(op for op in ops if op["f"] == "buy" and op["type"] == "ok")
    print(f"   sabotage: +1.00 on a cached balance, +1 unit on a holding, forgot buy op {dropped['index']}, "
          "a trade event delivered twice to the probe, a listing's state delivered out of order")
    return [op for op in ops if op is not dropped]


def run_once(*, config: str, seconds: int, seed: int, clients: int, investors: int, interval: tuple[float, float],
             think: float, keep_database: bool, sabotaged: bool = False) -> dict:
    from django.core.management import call_command
    from django.db import connections

    from bench.chaos.checker import LiveChecker, final_check, probe_check
    from bench.chaos.clients import NORMAL_TIMEOUT, RETRY_BUDGET, Client, Shared
    from bench.chaos.history import History
    from bench.chaos.nemesis import FAULTS, Nemesis
    from bench.chaos.stack import Stack
    from bench.chaos.world import seed as seed_world
    from integrations.payments import SandboxPayments

    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_dir = ROOT / "var" / "chaos" / f"{stamp}-{config}-{seed}"
    run_dir.mkdir(parents=True, exist_ok=True)
    print(f"== {config}, seed {seed}, {seconds} s, {clients} clients → {run_dir.relative_to(ROOT)}", flush=True)

    connections.close_all()
    psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    psql(f"CREATE DATABASE {DATABASE}")
    sh(f"redis-cli -u {REDIS_URL} FLUSHDB")
    call_command("migrate", verbosity=0)
    from django.db import connection

    from bench.chaos.probe import PROBE_TABLE

    with connection.cursor() as cursor:
        cursor.execute(PROBE_TABLE)
    rng = random.Random(seed)
    world = seed_world(config=config, investors=investors, rng=rng)
    baseline = baseline_ids()
    connections.close_all()
    print(f"   seeded {len(world.investors)} investors, {len(world.offerings)} offerings, "
          f"{len(world.primary)} primary listings", flush=True)

    stack = Stack(env=ENV, run_dir=run_dir, port=PORT)
    history = History(run_dir / "history.jsonl")
    live = LiveChecker(dsn=DSN)
    violations: list[str] = []
    outbox: dict[str, int] = {}
    resumed = 0
    try:
        stack.start_all()
        live.start()
        started = time.monotonic()
        until = started + seconds
        nemesis = Nemesis(stack=stack, history=history, dsn=DSN, database=DATABASE, seed=seed, until=until,
                          interval=interval)
        shared = Shared(world)
        signer = SandboxPayments(secret=ENV["PAYMENT_SANDBOX_WEBHOOK_SECRET"]).sign_webhook
        threads = [Client(number=number, base_url=f"http://127.0.0.1:{PORT}", shared=shared, history=history,
                          seed=seed, until=until, think=think, webhook_signer=signer) for number in range(clients)]
        nemesis.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=max(until - time.monotonic(), 0) + RETRY_BUDGET + 3 * NORMAL_TIMEOUT)
        nemesis.stop()
        print(f"   load done after {time.monotonic() - started:.0f} s; faults {nemesis.injected}", flush=True)
        for thread in [*threads, nemesis]:
            if thread.is_alive() or thread.crashed:
                violations.append(f"{thread.name} did not finish cleanly: {thread.crashed!r}")

        # Heal, then let the system finish what it owes: the outbox, and payouts left in
        # flight by the payout faults or a killed worker (the resume job, run now).
        from django.utils import timezone

        from wallet.services.withdrawals import withdrawal_resume

        outbox = wait_for_outbox(DRAIN_TIMEOUT)
        resumed = withdrawal_resume(now=timezone.now() + timedelta(days=1), limit=100_000)
        outbox = wait_for_outbox(DRAIN_TIMEOUT)
        print(f"   drained: outbox {outbox}, {resumed} withdrawal(s) resumed", flush=True)
        ops = [op for op in history.completed if op["process"] != "nemesis"]
        if sabotaged:
            ops = sabotage(ops)
    finally:
        live.stop()
        stack.stop_all()
        history.close()

    from wallet.reconcile import reconcile

    differences = reconcile()
    violations += [f"reconcile: {line}" for line in differences]
    violations += live.violations
    if outbox.get("pending"):
        violations.append(f"outbox did not drain: {outbox['pending']} message(s) pending after {DRAIN_TIMEOUT:.0f} s")
    if outbox.get("failed"):
        violations.append(f"outbox: {outbox['failed']} message(s) parked as failed")
    if live.snapshots == 0:
        violations.append("the live checker took no snapshot")
    notes: list[str] = []
    violations += final_check(ops, baseline, notes)
    probe = probe_check(baseline, violations)

    counts = Counter((op["f"], op["type"]) for op in ops)
    faults = Counter(op["f"] for op in history.completed if op["process"] == "nemesis" and op["type"] == "ok")
    fault_failures = Counter(op["f"] for op in history.completed if op["process"] == "nemesis" and op["type"] != "ok")
    from trading.models import Trade
    from wallet.models import Deposit, Withdrawal

    summary = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"), "config": config, "seed": seed, "seconds": seconds,
        "clients": clients, "investors": investors, "run_dir": str(run_dir.relative_to(ROOT)),
        "machine": f"{platform.node()} · {os.cpu_count()} cores · {platform.python_version()} · "
                   f"load {os.getloadavg()[0]:.1f}",
        "operations": {f: {outcome: counts[(f, outcome)] for outcome in ("ok", "failed", "unknown")}
                       for f in sorted({f for f, _ in counts})},
        "client_timeouts": sum(op["result"].get("client_timeouts", 0) for op in ops),
        "faults": {fault: faults[fault] for fault in FAULTS},
        "fault_injection_errors": dict(fault_failures),
        "restarts": stack.restarts,
        "live_snapshots": live.snapshots, "live_snapshot_errors": live.errors,
        "slowest_snapshot_ms": round(live.slowest * 1000),
        "outbox": outbox, "withdrawals_resumed": resumed, "probe": probe,
        "database": {"trades": Trade.objects.filter(pk__gt=baseline["trade"]).count(),
                     "deposits_credited": Deposit.objects.filter(pk__gt=baseline["deposit"],
                                                                 status="credited").count(),
                     "withdrawals": dict(Counter(Withdrawal.objects.filter(pk__gt=baseline["withdrawal"])
                                                 .values_list("status", flat=True)))},
        "baseline": baseline, "sabotaged": sabotaged, "notes": notes,
        "violations": violations,
    }
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    print_summary(summary)
    from django.db import connections as final_connections

    final_connections.close_all()
    if not keep_database:
        psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    return summary


def print_summary(summary: dict) -> None:
    operations = summary["operations"]
    total = Counter()
    print(f"   {'operation':16s} {'ok':>7s} {'failed':>7s} {'unknown':>7s}")
    for f, outcomes in operations.items():
        total.update(outcomes)
        print(f"   {f:16s} {outcomes['ok']:7d} {outcomes['failed']:7d} {outcomes['unknown']:7d}")
    print(f"   {'total':16s} {total['ok']:7d} {total['failed']:7d} {total['unknown']:7d}   "
          f"(client timeouts retried: {summary['client_timeouts']})")
    print(f"   faults injected: {summary['faults']}  restarts: {summary['restarts']}")
    print(f"   outbox probe: {summary['probe']}")
    print(f"   live checker: {summary['live_snapshots']} snapshots ({summary['live_snapshot_errors']} errors, "
          f"slowest {summary['slowest_snapshot_ms']} ms); database: {summary['database']}")
    for line in summary["notes"]:
        print(f"   note: {line}")
    if summary["violations"]:
        print(f"   VERDICT: {len(summary['violations'])} VIOLATION(S)")
        for line in summary["violations"][:50]:
            print(f"     - {line}")
    else:
        print("   VERDICT: valid — no violation")


def markdown(summaries: list[dict], command: str) -> str:
    """The results block of docs/reliability.md."""
    lines = [f"Run {summaries[0]['date']} on {summaries[0]['machine']}; command `{command}`.", ""]
    functions = sorted({f for s in summaries for f in s["operations"]})
    header = "| operation | " + " | ".join(f"{s['config']} / seed {s['seed']} ({s['seconds']} s)" for s in summaries)
    lines += [header + " |", "|---|" + "---:|" * len(summaries)]
    for f in functions:
        cells = []
        for s in summaries:
            o = s["operations"].get(f, {"ok": 0, "failed": 0, "unknown": 0})
            cells.append(f"{o['ok']} / {o['failed']} / {o['unknown']}")
        lines.append(f"| {f} (ok / failed / unknown) | " + " | ".join(cells) + " |")
    totals = []
    for s in summaries:
        total = Counter()
        for outcomes in s["operations"].values():
            total.update(outcomes)
        totals.append(f"**{sum(total.values())}** ({total['ok']} / {total['failed']} / {total['unknown']})")
    lines.append("| **all operations** | " + " | ".join(totals) + " |")
    lines.append("| client timeouts (retried with the same key) | "
                 + " | ".join(str(s["client_timeouts"]) for s in summaries) + " |")
    for fault in summaries[0]["faults"]:
        lines.append(f"| fault: {fault} | " + " | ".join(str(s["faults"][fault]) for s in summaries) + " |")
    lines.append("| live snapshots checked (every 250 ms) | "
                 + " | ".join(str(s["live_snapshots"]) for s in summaries) + " |")
    lines.append("| probe deliveries: trade.executed / listing.changed (processes that delivered) | " + " | ".join(
        f"{s['probe']['trade.executed']} / {s['probe']['listing.changed']} ({s['probe']['processes']})"
        for s in summaries) + " |")
    lines.append("| trades / deposits credited / withdrawals | " + " | ".join(
        f"{s['database']['trades']} / {s['database']['deposits_credited']} / "
        f"{sum(s['database']['withdrawals'].values())}" for s in summaries) + " |")
    lines.append("| **violations** | " + " | ".join(f"**{len(s['violations'])}**" for s in summaries) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description="Jepsen-style bank test of the running platform.")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--config", choices=("hot", "spread"), default="hot")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--investors", type=int, default=24)
    parser.add_argument("--fault-interval", default=None,
                        help="seconds between faults: min,max (default 10,20; the smoke run 8,9 so that all "
                             "six kinds come up in its 60 s)")
    parser.add_argument("--think", type=float, default=0.1, help="mean pause between a client's operations (s)")
    parser.add_argument("--smoke", action="store_true", help="the CI run: 60 s, hot, seed 1")
    parser.add_argument("--full", action="store_true", help="300 s × seeds 1, 2 × hot, spread")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--sabotage", action="store_true",
                        help="self-test: corrupt the books and the history on purpose; the run must then fail")
    args = parser.parse_args()
    interval = tuple(float(part) for part in (args.fault_interval or ("8,9" if args.smoke else "10,20")).split(","))

    if args.full:
        plan = [(config, seed, 300) for config in ("hot", "spread") for seed in (1, 2)]
    elif args.smoke:
        plan = [("hot", 1, 60)]
    else:
        plan = [(args.config, args.seed, args.seconds)]

    django_setup()
    summaries = []
    for config, seed, seconds in plan:
        summaries.append(run_once(config=config, seconds=seconds, seed=seed, clients=args.clients,
                                  investors=args.investors, interval=interval, think=args.think,
                                  keep_database=args.keep_database, sabotaged=args.sabotage))
    command = "make chaos" if args.full else "make chaos-smoke" if args.smoke else " ".join(sys.argv)
    results = markdown(summaries, command)
    (ROOT / "var" / "chaos" / "last-results.md").write_text(results)
    print("\n" + results)
    failed = [s for s in summaries if s["violations"]]
    print(f"VERDICT: {'INVALID' if failed else 'valid'} — {len(summaries)} run(s), "
          f"{sum(len(s['violations']) for s in summaries)} violation(s)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
