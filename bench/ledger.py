"""Benchmark: `wallet.services.ledger_post` throughput, against PostgreSQL's own limit.

    .venv/bin/python bench/ledger.py [--seconds 4] [--threads 1,4,16] [--pgbench-seconds 10]

One run, side by side (the machine's speed drifts; ratios measured together hold):

1. `../shared/bench/raw_sql_buy.sh 16 <seconds>`: pgbench doing a marketplace buy in raw SQL
   (lock listing, lock both wallets in id order, update balances, entry + postings, holding,
   trade), "spread" over 1,000 listings and "hot" on one.
2. `ledger_post` of a trade-shaped entry (buyer available → seller available, buyer
   available → fees: two user accounts locked, one system leg, plus the audit event) with 1,
   4 and 16 threads, each thread on its own buyer/seller pair ("distinct") or every thread
   paying one seller ("hot": one account row all threads lock).
3. Where the time goes, single-threaded: wall time per post, the share spent waiting on SQL
   statements (timed with `connection.execute_wrapper`), statements per post, and the same
   posts through the ORM path (`HAND_WRITTEN_SQL` off: what SQLite runs, and what every
   post cost before the hand-written statements; ADR 0005).

The database is `tranche_bench_ledger` (created, migrated and dropped by the script; pass
`--keep` to keep it). Connection: `BENCH_DATABASE_URL`, default postgres://postgres@127.0.0.1:5432.
Prints one line per figure and the ratios; results and their reading are in
docs/benchmarks.md ("Ledger").
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DB_NAME = "tranche_bench_ledger"
RAW_SQL = ROOT.parent / "shared" / "bench" / "raw_sql_buy.sh"

os.environ["DATABASE_URL"] = f"{BASE_URL}/{DB_NAME}"
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("LOG_LEVEL", "ERROR")
os.environ.setdefault("DATABASE_POOL_MAX", "40")
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("CELERY_EAGER", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def recreate_database(drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(f"{BASE_URL}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        if not drop_only:
            conn.execute(f"CREATE DATABASE {DB_NAME}")


def raw_sql_baseline(seconds: int) -> dict[str, float]:
    out = subprocess.run(["bash", str(RAW_SQL), "16", str(seconds)], capture_output=True, text=True, check=True)
    figures = {}
    for line in out.stdout.split("\n"):
        parts = line.split()
        if len(parts) == 2:
            figures[parts[0]] = float(parts[1])
    return figures


def setup_django():
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(pairs: int):
    """Buyers and sellers with wallets; the buyers funded; some history, then ANALYZE."""
    from django.db import connection

    from accounts.models import User
    from wallet.enums import AccountKind
    from wallet.services import ledger_post, wallet_open, wallet_system_account

    bank = wallet_system_account(AccountKind.BANK)
    fees = wallet_system_account(AccountKind.FEES)
    buyers, sellers = [], []
    for n in range(pairs):
        buyer = User.objects.create_user(f"+9170000{n:05d}")
        seller = User.objects.create_user(f"+9171000{n:05d}")
        buyers.append(wallet_open(user=buyer))
        sellers.append(wallet_open(user=seller))
        ledger_post(kind="deposit", transfers=[(bank, buyers[-1].available, Decimal("100000000.00"))])
    # History, so the planner's statistics describe a ledger with rows in it.
    for i in range(3000):
        buyer, seller = buyers[i % pairs], sellers[(i * 7) % pairs]
        ledger_post(kind="trade.buy", transfers=[(buyer.available, seller.available, Decimal("1.00")),
                                                 (buyer.available, fees, Decimal("0.01"))])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return buyers, sellers, fees


def post_trade(buyer, seller, fees):
    from wallet.services import ledger_post

    ledger_post(kind="trade.buy", transfers=[(buyer.available, seller.available, Decimal("1.00")),
                                             (buyer.available, fees, Decimal("0.01"))], reference="bench")


def run_threads(threads: int, seconds: float, buyers, sellers, fees, hot: bool) -> float:
    from django.db import connection

    stop = time.monotonic() + seconds
    counts = [0] * threads
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def worker(index: int) -> None:
        buyer = buyers[index]
        seller = sellers[0] if hot else sellers[index]
        try:
            barrier.wait()
            while time.monotonic() < stop:
                post_trade(buyer, seller, fees)
                counts[index] += 1
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    started = time.monotonic()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if errors:
        raise errors[0]
    return sum(counts) / (time.monotonic() - started)


def profile(buyers, sellers, fees, posts: int = 1500) -> dict[str, float]:
    """Single thread: wall time per post, time inside SQL statements, statements per post,
    and the same through the ORM path."""
    from unittest import mock

    from django.db import connection

    sql = {"time": 0.0, "count": 0}

    def timed(execute, statement, params, many, context):
        started = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            sql["time"] += time.perf_counter() - started
            sql["count"] += 1

    with connection.execute_wrapper(timed):
        started = time.perf_counter()
        for _ in range(posts):
            post_trade(buyers[0], sellers[0], fees)
        wall = time.perf_counter() - started
    with mock.patch("wallet.posting.HAND_WRITTEN_SQL", False):
        started = time.perf_counter()
        for _ in range(posts):
            post_trade(buyers[0], sellers[0], fees)
        orm_path = time.perf_counter() - started
    return {
        "ms_per_post": wall / posts * 1000,
        "sql_share": sql["time"] / wall,
        "statements_per_post": sql["count"] / posts,
        "ms_per_post_orm_path": orm_path / posts * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0, help="per ledger_post measurement")
    parser.add_argument("--threads", default="1,4,16")
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()
    thread_counts = [int(n) for n in args.threads.split(",")]

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"raw SQL baseline: {RAW_SQL} 16 {args.pgbench_seconds} …", flush=True)
    baseline = raw_sql_baseline(args.pgbench_seconds)
    print(f"  pgbench spread {baseline.get('spread', 0):.0f} tps, hot {baseline.get('hot', 0):.0f} tps")

    recreate_database()
    try:
        setup_django()
        buyers, sellers, fees = seed(max(thread_counts))
        results: dict[tuple[str, int], float] = {}
        for scenario in ("distinct", "hot"):
            for threads in thread_counts:
                tps = run_threads(threads, args.seconds, buyers, sellers, fees, hot=scenario == "hot")
                results[(scenario, threads)] = tps
                print(f"  ledger_post {scenario:8} {threads:2} threads: {tps:7.0f} posts/s", flush=True)
        where = profile(buyers, sellers, fees)

        from wallet.reconcile import reconcile

        differences = reconcile()
        print(f"reconcile after the run: {'clean' if not differences else differences[:3]}")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            recreate_database(drop_only=True)

    top = max(thread_counts)
    print("\nratios to the raw-SQL buy (same run, 16 clients):")
    print(f"  distinct/spread: {results[('distinct', top)] / baseline['spread']:.2f}"
          f"  ({results[('distinct', top)]:.0f} / {baseline['spread']:.0f})")
    print(f"  hot/hot:         {results[('hot', top)] / baseline['hot']:.2f}"
          f"  ({results[('hot', top)]:.0f} / {baseline['hot']:.0f})")
    print("\nwhere the time goes (1 thread):")
    print(f"  {where['ms_per_post']:.2f} ms per post, {where['statements_per_post']:.1f} SQL statements per post")
    print(f"  {where['sql_share'] * 100:.0f}% of the wall time is spent inside SQL statements (round trips)")
    print(f"  through the ORM path: {where['ms_per_post_orm_path']:.2f} ms per post")


if __name__ == "__main__":
    main()
