"""Where a buy's time goes, measured in-process: no HTTP server, no concurrency, no wrk.

    .venv/bin/python bench/buy_profile.py [--requests 300] [--rounds 3] [--cprofile buy+key]

Seeds a throwaway database (tranche_prof_buy) like bench/buy.py, then sends requests through
Django's test client (the whole middleware, authentication and DRF stack, with the
production settings of bench/buy.py) in interleaved rounds, since the machine drifts:

- `me`: `GET /api/v1/me/`, the framework's own cost;
- `buy`: `POST /listings/{id}/buy/` for one unit of a random listing;
- `buy+key`: the same with a fresh `Idempotency-Key`.

For each it prints wall time, this process's CPU and the database backends' CPU (from /proc)
per request, and the SQL statements each request ran (counted with an execute wrapper).
`--cprofile MODE` then profiles MODE and prints the functions that cost the most.
"""

import argparse
import cProfile
import pstats
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import buy as bench_buy

bench_buy.DATABASE = "tranche_prof_buy"
bench_buy.ENV.update({
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{bench_buy.DATABASE}",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
})
MODES = ("me", "buy", "buy+key")


class StatementCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per mode per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--offerings", type=int, default=20)
    parser.add_argument("--investors", type=int, default=50)
    parser.add_argument("--cprofile", choices=MODES, default=None)
    parser.add_argument("--sort", choices=("tottime", "cumulative"), default="tottime",
                        help="order of the --cprofile listing")
    args = parser.parse_args()

    bench_buy.recreate_database()
    bench_buy.django_setup()
    tokens, spread, _hot = bench_buy.seed(args.offerings, args.investors)
    statistics_keeper = bench_buy.StatisticsKeeper()  # as in bench/buy.py: what autovacuum would do
    statistics_keeper.start()

    from django.db import connection
    from django.test import Client

    from wallet.reconcile import reconcile

    rng = random.Random(7)
    client = Client()

    def one(mode: str) -> int:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {rng.choice(tokens)}"}
        if mode == "me":
            return client.get("/api/v1/me/", **headers).status_code
        if mode == "buy+key":
            headers["HTTP_IDEMPOTENCY_KEY"] = str(uuid.uuid4())
        return client.post(f"/api/v1/listings/{rng.choice(spread)}/buy/", '{"units": 1}',
                           content_type="application/json", **headers).status_code

    def measure(mode: str, requests: int) -> dict[str, float]:
        counter = StatementCounter()
        before = bench_buy.cpu_by_process(-1)
        cpu, wall = time.process_time(), time.perf_counter()
        with connection.execute_wrapper(counter):
            statuses = [one(mode) for _ in range(requests)]
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        backend = bench_buy.cpu_per_request(before, bench_buy.cpu_by_process(-1), requests)["postgres"]
        failed = sum(status >= 300 for status in statuses)
        if failed:
            raise SystemExit(f"{mode}: {failed} of {requests} requests failed (e.g. {statuses[0]})")
        return {"wall": wall * 1000 / requests, "python": cpu * 1000 / requests, "postgres": backend,
                "statements": counter.count / requests}

    for mode in MODES:  # warm up: imports, caches, prepared statements
        measure(mode, 30)
    results = {mode: [] for mode in MODES}
    for _ in range(args.rounds):
        for mode in MODES:
            results[mode].append(measure(mode, args.requests))

    print(f"\n{args.rounds} rounds × {args.requests} requests per mode, interleaved; "
          f"ms per request (min–max over the rounds)")
    print("| request | wall | Python CPU | PostgreSQL CPU | SQL statements |")
    print("|---|---:|---:|---:|---:|")
    for mode, runs in results.items():
        cells = [f"{min(r[k] for r in runs):.2f}–{max(r[k] for r in runs):.2f}"
                 for k in ("wall", "python", "postgres")]
        print(f"| {mode} | {' | '.join(cells)} | {runs[0]['statements']:.1f} |")

    if args.cprofile:
        profile = cProfile.Profile()
        profile.runcall(lambda: [one(args.cprofile) for _ in range(args.requests)])
        stats = pstats.Stats(profile)
        stats.sort_stats(args.sort).print_stats(40)
    statistics_keeper.stop()
    differences = reconcile()
    print(f"reconcile: {'clean' if not differences else differences[:5]}")
    connection.close()
    bench_buy.sh(f'psql -X -q -h 127.0.0.1 -U postgres -d postgres -c '
                 f'"DROP DATABASE IF EXISTS {bench_buy.DATABASE} WITH (FORCE)"')


if __name__ == "__main__":
    main()
