"""Outbox delivery: where a message's time goes, and whether the relay keeps up with the web.

    .venv/bin/python bench/outbox.py profile [--buys 1000] [--rounds 2]
    .venv/bin/python bench/outbox.py stack [--seconds 60] [--clients 16] [--relays N]

`profile` (in-process, no HTTP): seeds a throwaway database (tranche_bench_outbox) through
the real services, makes `--buys` real buys with the relay off (their messages stay
pending), then delivers them with `outbox_drain()` and prints messages per second for each
handler alone and for the mix a buy produces, on spread listings (1,000 of them) and on one
hot listing. Each figure is split into where the time went: claiming (the outbox's SELECTs
and locks), the handlers (their Python and SQL), savepoints, marking (the outbox's
UPDATEs), COMMIT, the after-commit work (live pushes, Celery enqueues) and the rest (the
relay's own Python), with this process's CPU and the database backend's CPU per message
(from /proc). Scenarios run in turn, `--rounds` times, since the machine drifts.

`stack` (the production shape): the Procfile's `web` (3 gunicorn workers), `--relays` outbox
relays (default: the Procfile's `outbox` count, `OUTBOX_CONCURRENCY`'s default), one Celery
worker, PostgreSQL and Redis, wrk saturating spread buys for `--seconds`, then the drain
with the web idle, then buys at half the saturated rate (paced in wrk's Lua) for
`--seconds`, then saturated buys for half as long with the relay paused and the backlog that
leaves delivered with the web idle (the relay's capacity). Prints the event production
rate, the relays' delivery rate, the backlog at the end of the saturated run and the time to
drain it, the p50/p99/max lag from a
message's commit to its handling (`processed_at − created_at`; `created_at` is the writing
transaction's own clock, a few milliseconds before its COMMIT), and checks the issue's
goals. Needs `wrk`. Ports 8820 (override with `--port`), Redis db 4 (`--redis-url`).

The buy rate with and without the relay, side by side, is `bench/buy.py --with-relay`.
"""

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import buy as bench_buy  # noqa: E402

DATABASE = "tranche_bench_outbox"
REDIS_URL = "redis://127.0.0.1:6379/4"


# --- profile --------------------------------------------------------------------------------------

class Phases:
    """Wall time by phase of delivery, measured around the calls that make each phase: an
    execute wrapper classifies the outbox's own statements, the registered handlers are
    wrapped, and the connection's COMMIT and after-commit hooks are timed. A statement run
    inside a timed call (a handler's, an after-commit hook's) counts toward that call only."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.statements: dict[str, int] = defaultdict(int)
        self.regions: list[str] = []

    def classify(self, sql: str) -> str:
        head = sql.lstrip()[:30].upper()
        if head.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            return "savepoint"
        if self.regions:
            return self.regions[-1]
        if "core_outboxmessage" in sql:
            return "mark" if head.startswith("UPDATE") else "claim"
        return "other SQL"

    def __call__(self, execute, sql, params, many, context):
        phase = self.classify(sql)
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if not self.regions:  # otherwise the enclosing call's timer has it
                self.seconds[phase] += time.perf_counter() - started
            self.statements[phase] += 1

    def region(self, function, phase: str):
        def timed(*args, **kwargs):
            self.regions.append(phase)
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.regions.pop()
                elapsed = time.perf_counter() - started
                self.seconds[phase] += elapsed
                if self.regions:  # each region's own time: not again in the one around it
                    self.seconds[self.regions[-1]] -= elapsed
        timed.__wrapped__ = function
        return timed

    def wrap(self, function):
        return self.region(function, "handler")

    def timed_method(self, owner, name: str, phase: str):
        original = getattr(owner, name)
        setattr(owner, name, self.region(original, phase))
        return lambda: setattr(owner, name, original)


def backend_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def seed_profile_world(*, offerings: int, investors: int):
    """`offerings` × 5 spread listings of 160 units, one hot listing, funded investors."""
    from django.core.management import call_command
    from django.test.utils import override_settings

    call_command("migrate", verbosity=0)
    with override_settings(CELERY_TASK_ALWAYS_EAGER=True):
        from tests.trading.factories import trader
        from trading.services import listing_post_primary

        world = bench_buy.market_world()
        spread = []
        for _ in range(offerings):
            made = bench_buy.offering_of(world, units=800)
            spread += [listing_post_primary(organization=world.organization, offering_id=made.pk, units=160,
                                            price_per_unit=bench_buy.UNIT_PRICE, created_by=world.admin).pk
                       for _ in range(5)]
        hot_offering = bench_buy.offering_of(world, units=80_000)
        hot = listing_post_primary(organization=world.organization, offering_id=hot_offering.pk, units=80_000,
                                   price_per_unit=bench_buy.UNIT_PRICE, created_by=world.admin).pk
        buyers = [trader("100000000.00") for _ in range(investors)]
    bench_buy.sh(f'psql -X -q -h 127.0.0.1 -U postgres -d {bench_buy.DATABASE} -c "VACUUM ANALYZE"')
    return spread, hot, buyers


def make_buys(*, count: int, listings: list[int], buyers: list, rng: random.Random) -> int:
    """Real buys with nothing delivering: their messages stay pending. Returns the first
    message id they wrote."""
    from django.db.models import Max
    from django.test.utils import override_settings

    from core.outbox import OutboxMessage
    from trading.services import listing_buy

    first = (OutboxMessage.objects.aggregate(top=Max("id"))["top"] or 0) + 1
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False):
        for _ in range(count):
            listing_buy(buyer=rng.choice(buyers), listing_id=rng.choice(listings), units=1)
    return first


def deliver(*, first_id: int, topics: tuple[str, ...] | None, batch_size: int | None = None) -> dict:
    """Deliver the pending messages from `first_id` on whose topic is in `topics` (all when
    None); the others are marked processed first, untimed. Returns the figures."""
    from django.db import connection
    from django.utils import timezone

    from core.outbox import OutboxMessage, outbox_drain

    pending = OutboxMessage.objects.filter(id__gte=first_id, status=OutboxMessage.Status.PENDING)
    if topics is not None:
        pending.exclude(topic__in=topics).update(status=OutboxMessage.Status.PROCESSED, processed_at=timezone.now())
    messages = pending.count()
    phases = Phases()
    time_handlers(phases)
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    from celery.app.task import Task

    from notifications import live

    restore = [phases.timed_method(connection, "_commit", "commit"),
               phases.timed_method(connection, "run_and_clear_commit_hooks", "after commit (the rest)"),
               # Inside "after commit"; subtracted from it below.
               phases.timed_method(live, "_group_send_many" if hasattr(live, "_group_send_many") else "_group_send",
                                   "live pushes"),
               phases.timed_method(Task, "apply_async", "Celery enqueues")]
    database_before, cpu_before, started = backend_cpu_seconds(backend), time.process_time(), time.perf_counter()
    try:
        with connection.execute_wrapper(phases):
            delivered = outbox_drain(batch_size=batch_size)
    finally:
        for undo in restore:
            undo()
    wall = time.perf_counter() - started
    cpu, database = time.process_time() - cpu_before, backend_cpu_seconds(backend) - database_before
    left = OutboxMessage.objects.filter(id__gte=first_id, status=OutboxMessage.Status.PENDING).count()
    accounted = sum(phases.seconds.values())
    phases.seconds["relay (the rest)"] = max(wall - accounted, 0.0)
    return {"messages": messages, "delivered": delivered, "left": left, "wall": wall, "cpu": cpu,
            "database": database, "phases": dict(phases.seconds), "statements": dict(phases.statements)}


PROFILE_SCENARIOS = (
    # name, listings ("spread" or "hot"), topics delivered (None: the whole mix a buy writes),
    # batch size (None: OUTBOX_BATCH_SIZE; 8: what a relay polling every 50 ms finds at 80 buys/s)
    ("trade.executed alone", "spread", ("trade.executed",), None),
    ("listing.changed alone, spread", "spread", ("listing.changed",), None),
    ("listing.changed alone, hot", "hot", ("listing.changed",), None),
    ("a buy's mix, spread", "spread", None, None),
    ("a buy's mix, hot", "hot", None, None),
    ("a buy's mix, spread, batches of 8", "spread", None, 8),
)
PHASE_ORDER = ("claim", "handler", "savepoint", "mark", "commit", "live pushes", "Celery enqueues",
               "after commit (the rest)", "other SQL", "relay (the rest)")


def profile(args) -> None:
    bench_buy.recreate_database()
    bench_buy.django_setup()
    from django.conf import settings

    from core.outbox import OutboxMessage

    print(f"seeding {args.offerings} offerings × 5 listings, a hot listing and {args.investors} investors …",
          flush=True)
    spread, hot, buyers = seed_profile_world(offerings=args.offerings, investors=args.investors)
    rng = random.Random(args.seed)
    results: dict[str, list[dict]] = defaultdict(list)
    for round_number in range(1, args.rounds + 1):
        for name, kind, topics, batch_size in PROFILE_SCENARIOS:
            if args.only and args.only not in name:
                continue
            OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).update(
                status=OutboxMessage.Status.PROCESSED)
            first = make_buys(count=args.buys, listings=spread if kind == "spread" else [hot], buyers=buyers, rng=rng)
            if args.cprofile and args.cprofile in name:
                import cProfile
                import pstats

                profiler = cProfile.Profile()
                figures = profiler.runcall(deliver, first_id=first, topics=topics, batch_size=batch_size)
                pstats.Stats(profiler).sort_stats(args.sort).print_stats(25)
            else:
                figures = deliver(first_id=first, topics=topics, batch_size=batch_size)
            results[name].append(figures)
            print(f"round {round_number}: {name}: {figures['delivered']} of {figures['messages']} messages in "
                  f"{figures['wall']:.2f} s ({figures['delivered'] / figures['wall']:.0f}/s), left {figures['left']}",
                  flush=True)
    load = os.getloadavg()
    bench_buy.sh(f'psql -X -q -h 127.0.0.1 -U postgres -d postgres -c '
                 f'"DROP DATABASE IF EXISTS {bench_buy.DATABASE} WITH (FORCE)"')
    print()
    print(f"date {time.strftime('%Y-%m-%d %H:%M %Z')}; {os.cpu_count()} cores; load average "
          f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) at the end; {args.buys} buys per scenario, "
          f"{args.rounds} round(s); MARKETPLACE_PUSH_INTERVAL_MS {settings.MARKETPLACE_PUSH_INTERVAL_MS}")
    print("| scenario | messages | msg/s (median) | ms per message: " + " / ".join(PHASE_ORDER)
          + " | CPU ms per message: relay / database | statements per message |")
    print("|---|---:|---:|---|---|---:|")
    for name, *_ in PROFILE_SCENARIOS:
        runs = results[name]
        if not runs:
            continue
        best = sorted(runs, key=lambda run: run["delivered"] / run["wall"])[len(runs) // 2]
        count = max(best["delivered"], 1)
        phase_ms = " / ".join(f"{best['phases'].get(phase, 0.0) * 1000 / count:.3f}" for phase in PHASE_ORDER)
        rates = statistics.median(run["delivered"] / run["wall"] for run in runs)
        print(f"| {name} | {best['delivered']} | {rates:.0f} | {phase_ms} | "
              f"{best['cpu'] * 1000 / count:.3f} / {best['database'] * 1000 / count:.3f} | "
              f"{sum(best['statements'].values()) / count:.2f} |")


def time_handlers(phases: Phases) -> None:
    """Time every registered handler into `phases`, whatever shape the registry has (plain
    functions of one payload; batch handlers in `_options`, where the registry has them)."""
    import dataclasses

    from core import outbox

    for by_name in outbox._handlers.values():
        for name, handler in list(by_name.items()):
            by_name[name] = phases.wrap(getattr(handler, "__wrapped__", handler))
    for name, options in list(getattr(outbox, "_options", {}).items()):
        if options.batch is not None:
            outbox._options[name] = dataclasses.replace(
                options, batch=phases.wrap(getattr(options.batch, "__wrapped__", options.batch)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("profile", "stack"))
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--port", type=int, default=8820)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--buys", type=int, default=1000, help="profile: buys per scenario")
    parser.add_argument("--rounds", type=int, default=2, help="profile: rounds of the scenarios")
    parser.add_argument("--offerings", type=int, default=200)
    parser.add_argument("--investors", type=int, default=100)
    parser.add_argument("--cprofile", default=None, help="profile: cProfile the scenarios whose name contains this")
    parser.add_argument("--sort", choices=("tottime", "cumulative"), default="tottime")
    parser.add_argument("--only", default=None, help="profile: run only the scenarios whose name contains this")
    parser.add_argument("--seconds", type=int, default=60, help="stack: seconds of each load run")
    parser.add_argument("--clients", type=int, default=16, help="stack: wrk connections")
    parser.add_argument("--relays", type=int, default=None,
                        help="stack: OUTBOX_CONCURRENCY for the outbox process (default: the Procfile's)")
    parser.add_argument("--check", action="store_true", help="stack: exit 1 when a goal is missed")
    args = parser.parse_args()
    bench_buy.use_services(port=args.port, database=args.database, redis_url=args.redis_url)
    if args.mode == "profile":
        profile(args)
    else:
        stack(args)


def stack(args) -> None:
    bench_buy.recreate_database()
    bench_buy.django_setup()
    from django.db import connections

    from bench.chaos.stack import procfile_command

    print(f"seeding {args.offerings} offerings × 5 listings and {args.investors} investors …", flush=True)
    tokens, spread, _hot = bench_buy.seed(args.offerings, args.investors)
    connections.close_all()
    with tempfile.NamedTemporaryFile("w", delete=False) as tokens_file:
        tokens_file.write("\n".join(tokens) + "\n")
    env = {**os.environ, **bench_buy.ENV, "PATH": f"{ROOT}/.venv/bin:" + os.environ["PATH"]}
    if args.relays:
        env["OUTBOX_CONCURRENCY"] = str(args.relays)
    command = procfile_command("outbox", env)
    relays = int(command[command.index("--processes") + 1]) if "--processes" in command else 1
    logs = Path(tempfile.mkdtemp(prefix="bench-outbox-"))

    def start(name: str, extra: list[str]) -> subprocess.Popen:
        with (logs / f"{name}.log").open("w") as log:
            return subprocess.Popen(procfile_command(name, env) + extra, cwd=ROOT, env=env, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)

    keeper = bench_buy.StatisticsKeeper()
    keeper.start()
    server_times = bench_buy.ServerTimes()
    web = bench_buy.start_web(server_times)
    worker = start("worker", ["--hostname", f"bench-outbox-{os.getpid()}@%h"])
    relay = start("outbox", [])
    results = {}
    try:
        bench_buy.wrk("POST", spread, tokens_file.name, 3, args.clients)  # warm up
        drain(timeout=300)
        results["saturated"] = window(lambda: bench_buy.wrk("POST", spread, tokens_file.name, args.seconds,
                                                            args.clients))
        half = results["saturated"]["wrk"]["rate"] / 2
        results["half"] = window(lambda: bench_buy.wrk("POST", spread, tokens_file.name, args.seconds, args.clients,
                                                       rate=half))
        # The relay's capacity with the web idle: a backlog built while it is paused (SIGSTOP
        # between its polls or in a batch, which then just waits), then delivered.
        os.killpg(relay.pid, signal.SIGSTOP)
        try:
            results["paused"] = window(lambda: bench_buy.wrk("POST", spread, tokens_file.name, args.seconds // 2,
                                                             args.clients), resume=lambda: os.killpg(relay.pid,
                                                                                                     signal.SIGCONT))
        finally:
            os.killpg(relay.pid, signal.SIGCONT)
    finally:
        keeper.stop()
        for process in (relay, worker, web):
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(process.pid, signal.SIGKILL)
        server_times.path.unlink(missing_ok=True)
    load = os.getloadavg()
    from wallet.reconcile import reconcile

    differences = reconcile()
    bench_buy.sh(f'psql -X -q -h 127.0.0.1 -U postgres -d postgres -c '
                 f'"DROP DATABASE IF EXISTS {bench_buy.DATABASE} WITH (FORCE)"')
    report_stack(args, results, relays=relays, load=load, differences=differences, logs=logs)


def window(load, resume=None) -> dict:
    """Run `load` (a wrk run) and measure the outbox around it: what the run wrote and
    delivered, the backlog when it stopped, the time to drain that with the web idle, and
    the lag of every message it wrote."""
    from django.db import connection
    from django.db.models import Max

    from core.outbox import OutboxMessage

    first = (OutboxMessage.objects.aggregate(top=Max("id"))["top"] or 0) + 1
    connection.close()
    started = time.time()
    ran = load()
    ended = time.time()
    backlog = pending()
    if resume is not None:
        resume()
    drain_seconds = drain(timeout=900)
    last = OutboxMessage.objects.aggregate(top=Max("id"))["top"] or 0
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*),
                      count(*) FILTER (WHERE processed_at <= to_timestamp(%s)),
                      percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - created_at)),
                      percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - created_at)),
                      max(extract(epoch FROM processed_at - created_at))
                 FROM core_outboxmessage WHERE id BETWEEN %s AND %s AND created_at <= to_timestamp(%s)""",
            [ended, first, last, ended])
        written, delivered_during, p50, p99, worst = cursor.fetchone()
        cursor.execute(
            """SELECT topic, count(*), percentile_cont(0.99) WITHIN GROUP
                      (ORDER BY extract(epoch FROM processed_at - created_at))
                 FROM core_outboxmessage WHERE id BETWEEN %s AND %s GROUP BY topic ORDER BY topic""", [first, last])
        by_topic = {topic: (count, p99_topic) for topic, count, p99_topic in cursor.fetchall()}
    seconds = ended - started
    figures = {"wrk": ran, "seconds": seconds, "written": written, "written_per_s": written / seconds,
               "delivered_per_s": delivered_during / seconds, "backlog": backlog, "drain_s": drain_seconds,
               "lag_p50_ms": (p50 or 0) * 1000, "lag_p99_ms": (p99 or 0) * 1000, "lag_max_ms": (worst or 0) * 1000,
               "by_topic": by_topic, "load": os.getloadavg()[0]}
    print(json.dumps({key: value for key, value in figures.items() if key != "by_topic"}, default=str), flush=True)
    return figures


def pending() -> int:
    from core.outbox import OutboxMessage

    return OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).count()


def drain(*, timeout: float) -> float:
    started = time.monotonic()
    while pending() and time.monotonic() - started < timeout:
        time.sleep(0.1)
    return time.monotonic() - started


DRAIN_GOAL_S, LAG_P99_GOAL_MS = 30.0, 1000.0


def report_stack(args, results: dict, *, relays: int, load, differences, logs: Path) -> None:
    saturated, half = results["saturated"], results["half"]
    print()
    print(f"date {time.strftime('%Y-%m-%d %H:%M %Z')}; {os.cpu_count()} cores; {args.clients} clients; "
          f"{args.seconds} s per run; relay processes {relays} (the Procfile's outbox, OUTBOX_CONCURRENCY); web 3 "
          f"workers, 1 Celery worker; load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end "
          f"(at the end of each run: {saturated['load']:.1f}, {half['load']:.1f}); logs in {logs}")
    print("| run | buys/s | buy p99 ms | messages written/s | delivered/s during the run | backlog at the end | "
          "drained in s | lag p50 / p99 / max ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for name, run in (("saturated", saturated), ("half the saturated rate", half),
                      ("saturated, relay paused (then drained with the web idle)", results["paused"])):
        print(f"| {name} | {run['wrk']['rate']:.0f} | {run['wrk']['p99_ms']:.0f} | {run['written_per_s']:.0f} | "
              f"{run['delivered_per_s']:.0f} | {run['backlog']} | {run['drain_s']:.1f} | "
              f"{run['lag_p50_ms']:.0f} / {run['lag_p99_ms']:.0f} / {run['lag_max_ms']:.0f} |")
    paused = results["paused"]
    print(f"relay capacity with the web idle: {paused['backlog']} messages in {paused['drain_s']:.1f} s = "
          f"{paused['backlog'] / max(paused['drain_s'], 0.001):.0f} messages/s")
    for name, run in (("saturated", saturated), ("half", half)):
        print(f"lag p99 by topic ({name}): " + ", ".join(f"{topic} {count} messages {p99 * 1000:.0f} ms"
                                                       for topic, (count, p99) in run["by_topic"].items()))
    misses = []
    if saturated["drain_s"] > DRAIN_GOAL_S:
        misses.append(f"the backlog after the saturated run took {saturated['drain_s']:.1f} s to drain "
                      f"(goal {DRAIN_GOAL_S:.0f} s)")
    if half["lag_p99_ms"] >= LAG_P99_GOAL_MS:
        misses.append(f"p99 lag at half rate {half['lag_p99_ms']:.0f} ms (goal under {LAG_P99_GOAL_MS:.0f} ms)")
    if saturated["wrk"]["non_2xx"] or half["wrk"]["non_2xx"]:
        misses.append(f"non-2xx answers: {saturated['wrk']['non_2xx']} and {half['wrk']['non_2xx']}")
    if differences:
        misses.append(f"reconcile: {len(differences)} differences")
    print("reconcile: " + ("clean" if not differences else str(differences[:5])))
    print("goals (drain ≤ 30 s, p99 lag < 1 s at half rate; the buy rate with/without the relay is bench/buy.py "
          "--with-relay): " + ("met" if not misses else "MISSED\n  " + "\n  ".join(misses)))
    if args.check and misses:
        sys.exit(1)


if __name__ == "__main__":
    main()
