"""Marketplace buy throughput: the Procfile's `web` process on PostgreSQL, driven by wrk.

    .venv/bin/python bench/buy.py [--seconds 30] [--clients 16] [--offerings 200] [--investors 200]
                                  [--rounds 1] [--idempotency-keys] [--with-relay] [--check]

Creates a throwaway database (tranche_bench_buy), migrates it, seeds verified investors with
money and open listings through the real services, starts the `web` process exactly as the
Procfile says (gunicorn, DEBUG off), and measures in one run:

- (a) `POST /listings/{id}/buy/` spread over 1,000 listings (offerings × 5 listings each),
- (b) the same on one hot listing,
- the framework's ceiling: `GET /api/v1/me/` on the same stack,
- the database's limit: `../shared/bench/raw_sql_buy.sh` (pgbench, same row locks and writes),
- with `--idempotency-keys`, (a) again with a fresh `Idempotency-Key` on every buy, as a
  careful client sends it.

With `--with-relay` each buy run is made twice in turn, side by side: without the relay, then
with the Procfile's `outbox` relay delivering the trades' events as production would
(`spread+relay`, `hot+relay`; the backlog the run without it left is delivered first, with
the web idle). The table then shows the relay's CPU per buy, how many messages were still
pending at the end of each run and how long they took to drain, and the buy rate with the
relay over the rate without it (issue 30's goal: at least 0.90). The relay's database
backend counts as the database's CPU.

The database's statistics are kept current during the runs by autovacuum's analyse rule,
checked every 5 s (see `StatisticsKeeper`), as autovacuum keeps a production database's.

With `--rounds N` the phases run N times in turn and each ratio is taken within a round, then
the median is reported: the machines here drift, so a single `/me/` run 30 s before the buys
can move a ratio by a tenth.

With `--check` it exits 1 when one of the issue's goals is missed and says which (`make
bench-buy` runs it so, for a scheduled job; it is not part of CI, whose host is shared and whose
p99 moves with its neighbours).

Prints buys/s, p50 and p99 latency as wrk saw it and as gunicorn's access log timed the
request itself (the difference is the queue in front of the workers), non-2xx counts, the
CPU each request cost the web processes and the database's backends (from /proc), both
ratios, and checks afterwards that every trade is in the ledger (`reconcile` clean). Needs
PostgreSQL, Redis and `wrk`.
"""

import argparse
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_BENCH = ROOT.parent / "shared" / "bench" / "raw_sql_buy.sh"
DATABASE = "tranche_bench_buy"
PORT = 8765
P99_GOAL_MS = 100
ENV = {
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
    "REDIS_URL": "redis://127.0.0.1:6379/13",
    "CELERY_EAGER": "0",
    "DEBUG": "0",
    # Production-like: DEBUG off, so the sandboxes must be allowed out loud and the keys must be
    # real ones (config/production.py refuses fixed or short keys): drawn for this run.
    "SANDBOX_PROVIDERS": "1",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "JWT_SIGNING_KEY": secrets.token_urlsafe(64),
    "FIELD_ENCRYPTION_KEYS": "hF2yXbB6cQnQz2c2mV0oX3b9D1q6c3a8Y7u5r4e2w1s=",
    "BLIND_INDEX_KEY": secrets.token_urlsafe(64),
    "JWT_ACCESS_MINUTES": "120",
    "LOG_LEVEL": "ERROR",
    "SECURE_COOKIES": "0",
    "SECURE_SSL_REDIRECT": "0",  # wrk and the bench speak plain HTTP to a local port
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "BUYER_FEE_BPS": "25",
}

WRK_SCRIPT = r"""
local tokens, targets = {}, {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do tokens[#tokens + 1] = line end
for line in io.lines(os.getenv("BENCH_LISTINGS")) do targets[#targets + 1] = line end
local method = os.getenv("BENCH_METHOD")
local with_keys = os.getenv("BENCH_KEYS") == "1"
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
local prefix, counter = tostring(math.random(1e9)), 0
request = function()
  local token = tokens[math.random(#tokens)]
  local headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
  if with_keys then
    counter = counter + 1
    headers["Idempotency-Key"] = prefix .. "-" .. counter
  end
  if method == "GET" then
    return wrk.format("GET", "/api/v1/me/", headers)
  end
  local target = targets[math.random(#targets)]
  return wrk.format("POST", "/api/v1/listings/" .. target .. "/buy/", headers, '{"units": 1}')
end
"""


def use_services(*, port: int, database: str, redis_url: str) -> None:
    """Another port, database or Redis than the defaults (several engineers share a host)."""
    global PORT, DATABASE
    PORT, DATABASE = port, database
    ENV.update({"DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}", "REDIS_URL": redis_url})


def sh(command: str, **kwargs) -> str:
    return subprocess.run(command, shell=True, check=True, capture_output=True, text=True, **kwargs).stdout


def recreate_database() -> None:
    sh(f'psql -X -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)" '
       f'-c "CREATE DATABASE {DATABASE}"')


def django_setup() -> None:
    os.environ.update(ENV)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def market_world():
    """A primary-platform world (test factories) whose program and counterparty limits are
    large enough for any benchmark. Call with Celery eager, inside `django_setup()`."""
    from invoices.models import Counterparty, Program
    from tests.invoices.conftest import build_world

    world = build_world(signatures_required=1)
    Program.objects.filter(pk=world.program.pk).update(max_limit_amount=Decimal("1e12"),
                                                       max_invoice_amount=Decimal("1e10"))
    Counterparty.objects.filter(pk=world.counterparty.pk).update(limit_amount=Decimal("1e12"))
    world.program.refresh_from_db()
    world.counterparty.refresh_from_db()
    return world


UNIT_PRICE = Decimal("1000.00")


def offering_of(world, *, units: int, price: Decimal = UNIT_PRICE):
    """A 120-day invoice, 80% financed, signed, disbursed and cut into `units` bullet units of
    `price` each (the unit is large enough to keep its yield at par, see irr.UnitTooSmall)."""
    from datetime import timedelta

    from django.utils import timezone

    from invoices.services.financing import finance_request_create, finance_request_disburse, finance_request_sign
    from tests.invoices.factories import InvoiceFactory
    from trading.services import offering_fractionalize

    today = timezone.localdate()
    invoice = InvoiceFactory(counterparty=world.counterparty, amount=price * units * 5 / 4, issue_date=today,
                             due_date=today + timedelta(days=120))
    request = finance_request_create(invoice=invoice, actor=world.signer_a)
    finance_request_sign(finance_request=request, actor=world.signer_a)
    finance_request_disburse(finance_request=request, actor=world.admin)
    return offering_fractionalize(organization=world.organization, invoice_id=invoice.pk, total_units=units,
                                  schedule_kind="bullet", price_per_unit=price, created_by=world.admin)


def seed(offerings: int, investors: int) -> tuple[list[str], list[int], int]:
    """Through the services: `offerings` offerings with 5 primary listings each (the spread
    set), one hot listing, and `investors` verified, funded investors. Returns their access
    tokens, the spread listing ids and the hot listing id."""

    from django.core.management import call_command
    from django.test.utils import override_settings

    call_command("migrate", verbosity=0)
    with override_settings(CELERY_TASK_ALWAYS_EAGER=True):
        from accounts.services import token_for_user
        from tests.trading.factories import trader
        from trading.services import listing_post_primary

        world = market_world()
        spread = []
        started = time.monotonic()
        for number in range(offerings):
            made = offering_of(world, units=800)  # 80% of ₹10 lakh in units of ₹1,000
            for _ in range(5):
                spread.append(listing_post_primary(
                    organization=world.organization, offering_id=made.pk, units=160,
                    price_per_unit=UNIT_PRICE, created_by=world.admin).pk)
            if number % 50 == 49:
                print(f"  seeded {number + 1} offerings ({time.monotonic() - started:.0f} s)", flush=True)
        hot_offering = offering_of(world, units=80_000)  # ₹8 crore in units of ₹1,000
        hot = listing_post_primary(organization=world.organization, offering_id=hot_offering.pk,
                                   units=80_000, price_per_unit=UNIT_PRICE, created_by=world.admin).pk
        tokens = [str(token_for_user(trader("100000000.00")).access_token) for _ in range(investors)]
    # Fresh statistics, so the planner sees the seeded tables as they are (see shared/bench).
    sh(f'psql -X -q -h 127.0.0.1 -U postgres -d {DATABASE} -c "VACUUM ANALYZE"')
    return tokens, spread, hot


class StatisticsKeeper(threading.Thread):
    """Vacuum and analyse the benchmark's tables while the runs go on, by autovacuum's own
    rules: every `interval` seconds, `VACUUM` each table with more dead rows than
    `autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor × rows` and `ANALYZE` each
    changed by more than `autovacuum_analyze_threshold + autovacuum_analyze_scale_factor ×
    rows` since its last analysis (the table's own settings where it has them, as the outbox
    does, else the server's), as a production database's autovacuum does.

    This machine's PostgreSQL runs with `autovacuum = off` (a CI setting). Without analysis
    the statistics stay those of the empty tables taken after seeding: the plans cached for
    foreign-key checks then scan whole tables, and a buy's database time grows with every
    trade. Without vacuum the outbox's pending indexes keep an entry for every message ever
    delivered, and each claim walks over all of them (issue 30). The check runs more often
    than autovacuum's default naptime (60 s) because the bench's tables start empty and
    grow fast; the rules keep it from touching tables that barely changed (analysing the
    whole database every 5 s took 0.2–0.5 s of a core each time)."""

    SETTING = """coalesce((SELECT option_value::float FROM pg_options_to_table(c.reloptions)
                            WHERE option_name = '{name}'), current_setting('{name}')::float)"""
    DUE = f"""
        SELECT format('%I.%I', s.schemaname, s.relname),
               s.n_dead_tup > {SETTING.format(name="autovacuum_vacuum_threshold")}
                   + {SETTING.format(name="autovacuum_vacuum_scale_factor")} * greatest(c.reltuples, 0),
               s.n_mod_since_analyze > {SETTING.format(name="autovacuum_analyze_threshold")}
                   + {SETTING.format(name="autovacuum_analyze_scale_factor")} * greatest(c.reltuples, 0)
        FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
    """

    def __init__(self, interval: float = 5.0):
        super().__init__(name="analyze", daemon=True)
        self.interval = interval
        self.stopping = threading.Event()
        self.analysed = 0  # tables analysed, summed over the checks
        self.vacuumed = 0
        self.seconds = 0.0  # time spent in VACUUM and ANALYZE

    def run(self) -> None:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={DATABASE}", autocommit=True) as connection:
            while not self.stopping.wait(self.interval):
                for table, vacuum, analyse in connection.execute(self.DUE).fetchall():
                    if not (vacuum or analyse):
                        continue
                    started = time.monotonic()
                    connection.execute(f"{'VACUUM ANALYZE' if vacuum else 'ANALYZE'} {table}")
                    self.seconds += time.monotonic() - started
                    self.analysed += 1
                    self.vacuumed += int(vacuum)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)

    def summary(self) -> str:
        return (f"VACUUM and ANALYZE by autovacuum's rules, checked every {self.interval:.0f} s "
                f"({self.vacuumed} vacuums, {self.analysed} tables analysed, {self.seconds:.1f} s in all)")


def start_relay() -> subprocess.Popen:
    """The Procfile's `outbox` process (the relay, `OUTBOX_CONCURRENCY` processes), in its own
    process group."""
    from bench.chaos.stack import procfile_command  # django_setup() put the project on sys.path

    env = {**os.environ, **ENV}
    return subprocess.Popen(procfile_command("outbox", env), cwd=ROOT, start_new_session=True,
                            env={**env, "PATH": f"{ROOT}/.venv/bin:" + os.environ["PATH"]},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_relay(relay: subprocess.Popen) -> None:
    os.killpg(relay.pid, signal.SIGTERM)
    relay.wait(timeout=30)


def drain_outbox(timeout: float = 600) -> float:
    """Seconds until nothing is pending (the relay must be running)."""
    started = time.monotonic()
    while outbox_pending() and time.monotonic() - started < timeout:
        time.sleep(0.2)
    return time.monotonic() - started


def outbox_pending() -> int:
    from core.outbox import OutboxMessage

    return OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).count()


class ServerTimes:
    """The `web` process's access log, sent to a file instead of stdout with one field per
    request: gunicorn's own time for it (`%(D)s`, from the parsed request to its last byte
    written). Beside wrk's latency it splits a request's time into the queue in front of
    the workers and the workers' own time (docs/benchmarks.md, "Seventh round")."""

    def __init__(self):
        handle, name = tempfile.mkstemp(prefix="bench-buy-access-", suffix=".log")
        os.close(handle)
        self.path = Path(name)

    def arguments(self) -> list[str]:
        # After the Procfile's own `--access-logfile -`, so these win.
        return ["--access-logfile", str(self.path), "--access-logformat", "%(D)s"]

    def mark(self) -> int:
        return self.path.stat().st_size

    def since(self, offset: int) -> dict[str, float]:
        with self.path.open() as log:
            log.seek(offset)
            micros = sorted(int(line) for line in log if line.strip().isdigit())
        if not micros:
            return {"server_p50_ms": 0.0, "server_p99_ms": 0.0}
        at = lambda share: micros[min(len(micros) - 1, int(share * len(micros)))] / 1000  # noqa: E731
        return {"server_p50_ms": at(0.50), "server_p99_ms": at(0.99)}


def start_web(server_times: ServerTimes) -> subprocess.Popen:
    """The Procfile's `web` command, its `${VAR:-default}`s expanded as a shell would: the
    worker count is the Procfile's default unless WEB_CONCURRENCY is set. Only the access
    log's destination and format differ (`ServerTimes`)."""
    from bench.chaos.stack import procfile_command  # django_setup() put the project on sys.path

    env = {**os.environ, **ENV, "PORT": str(PORT)}
    process = subprocess.Popen([*procfile_command("web", env), *server_times.arguments()], cwd=ROOT,
                               env={**env, "PATH": f"{ROOT}/.venv/bin:" + env["PATH"]},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    for _ in range(100):
        try:
            sh(f"curl -sf -o /dev/null http://127.0.0.1:{PORT}/healthz")
            return process
        except subprocess.CalledProcessError:
            time.sleep(0.2)
    raise RuntimeError("the web process did not start")


def cpu_by_process(web_group: int, relay_group: int | None = None) -> dict[tuple[str, int], float]:
    """CPU seconds used so far by each process of the web process group (and the relay's, when
    it runs) and each PostgreSQL backend serving the benchmark's database, read from /proc
    (Linux); the relay's backend counts as the database's."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry.name}/cmdline", "rb") as cmdline:
                command = cmdline.read().decode(errors="replace")
        except OSError:
            continue  # exited meanwhile
        seconds = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        if int(fields[2]) == web_group:  # process group
            used[("web", int(entry.name))] = seconds
        elif relay_group is not None and int(fields[2]) == relay_group:
            used[("relay", int(entry.name))] = seconds
        elif command.startswith("postgres: ") and f" {DATABASE} " in command:
            used[("postgres", int(entry.name))] = seconds
    return used


def cpu_per_request(before: dict, after: dict, requests: int) -> dict[str, float]:
    """Milliseconds of CPU per request by role (a process that exited during the run is
    left out; one that started during it counts from zero)."""
    spent = {"web": 0.0, "postgres": 0.0, "relay": 0.0}
    for (role, pid), seconds in after.items():
        spent[role] += seconds - before.get((role, pid), 0.0)
    return {role: round(value * 1000 / max(requests, 1), 2) for role, value in spent.items()}


# `rate`: requests a second in all, paced by each wrk thread on the monotonic clock (LuaJIT's
# ffi): each request takes the thread's next slot, and a connection waits for it.
PACING = r"""
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
           int clock_gettime(int clock, bench_timespec *now); ]]
local clock = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end
local interval, next_slot = tonumber(os.getenv("BENCH_INTERVAL_MS")), nil
delay = function()
  local now = now_ms()
  next_slot = math.max((next_slot or now) + interval, now)
  return math.max(next_slot - now, 0)
end
"""


def wrk(method: str, targets: list[int], tokens_file: str, seconds: int, clients: int, with_keys: bool = False,
        rate: float | None = None) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script, \
            tempfile.NamedTemporaryFile("w", delete=False) as listing_file:
        script.write(WRK_SCRIPT + (PACING if rate else ""))
        listing_file.write("\n".join(map(str, targets)) + "\n")
    env = {**os.environ, "BENCH_TOKENS": tokens_file, "BENCH_LISTINGS": listing_file.name, "BENCH_METHOD": method,
           "BENCH_KEYS": "1" if method == "POST" and with_keys else "0",
           "BENCH_INTERVAL_MS": str(2 * 1000 / rate) if rate else ""}  # two wrk threads
    out = sh(f"wrk -t2 -c{clients} -d{seconds}s --latency -s {script.name} http://127.0.0.1:{PORT}", env=env)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non_2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1])
    errors = re.search(r"Socket errors: (.*)", out)

    def percentile(label: str) -> float:
        value, unit = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {"rate": rate, "requests": total, "non_2xx": non_2xx, "p50_ms": percentile("50"),
            "p99_ms": percentile("99"), "socket_errors": errors.group(1) if errors else ""}


def raw_sql(clients: int, seconds: int) -> dict[str, float]:
    out = sh(f"bash {SHARED_BENCH} {clients} {seconds}")
    return {name: float(value) for name, value in (line.split() for line in out.strip().splitlines())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--offerings", type=int, default=200)
    parser.add_argument("--investors", type=int, default=200)
    parser.add_argument("--raw-seconds", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the phases this many times in turn; ratios per round and their median")
    parser.add_argument("--with-relay", action="store_true",
                        help="also run the Procfile's `outbox` relay, as production does, and report whether it "
                             "keeps up (its CPU, and the messages pending after each run)")
    parser.add_argument("--idempotency-keys", action="store_true",
                        help="also run the spread buys with a fresh Idempotency-Key on each request")
    parser.add_argument("--port", type=int, default=PORT, help=f"the web process's port (default {PORT})")
    parser.add_argument("--database", default=DATABASE, help=f"the throwaway database (default {DATABASE})")
    parser.add_argument("--redis-url", default=ENV["REDIS_URL"], help=f"default {ENV['REDIS_URL']}")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 unless the issue's goals are met (see `goal_misses`), for a scheduled run")
    args = parser.parse_args()
    use_services(port=args.port, database=args.database, redis_url=args.redis_url)

    recreate_database()
    django_setup()
    print(f"seeding {args.offerings} offerings × 5 listings and {args.investors} investors …", flush=True)
    tokens, spread, hot = seed(args.offerings, args.investors)
    from django.db import connections

    connections.close_all()
    with tempfile.NamedTemporaryFile("w", delete=False) as tokens_file:
        tokens_file.write("\n".join(tokens) + "\n")

    statistics_keeper = StatisticsKeeper()
    statistics_keeper.start()
    server_times = ServerTimes()
    web = start_web(server_times)
    relay = None
    results = {}
    try:
        phases = [("me", "GET", [], False), ("spread", "POST", spread, False), ("hot", "POST", [hot], False)]
        if args.idempotency_keys:
            phases.append(("spread+key", "POST", spread, True))
        if args.with_relay:  # each buy run again right after, with the relay delivering
            phases = [variant for phase in phases
                      for variant in ([phase] if phase[1] == "GET" else [phase, (f"{phase[0]}+relay", *phase[1:])])]
        runs = [(f"{name}#{number}" if args.rounds > 1 else name, method, targets, with_keys)
                for number in range(1, args.rounds + 1) for name, method, targets, with_keys in phases]
        for name, method, targets, with_keys in runs:
            with_relay = "+relay" in name
            if with_relay and relay is None:
                relay = start_relay()
                drain_outbox()  # the backlog of the run without it, with the web idle
            elif not with_relay and relay is not None:
                stop_relay(relay)
                relay = None
            relay_group = relay.pid if relay else None
            wrk(method, targets, tokens_file.name, 3, args.clients, with_keys)  # warm up
            if with_relay:
                drain_outbox()
            before, logged = cpu_by_process(web.pid, relay_group), server_times.mark()
            results[name] = wrk(method, targets, tokens_file.name, args.seconds, args.clients, with_keys)
            results[name].update(server_times.since(logged))
            results[name]["cpu_ms"] = cpu_per_request(before, cpu_by_process(web.pid, relay_group),
                                                      results[name]["requests"])
            if with_relay:
                results[name]["outbox_pending"] = outbox_pending()
                results[name]["drain_s"] = drain_outbox()
            print(f"{name:7s} {json.dumps(results[name])}", flush=True)
    finally:
        statistics_keeper.stop()
        if relay:
            stop_relay(relay)
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=20)
        server_times.path.unlink(missing_ok=True)

    from trading.models import Trade
    from wallet.reconcile import reconcile

    trades = Trade.objects.count()
    with connections["default"].cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        autovacuum = cursor.fetchone()[0]
    differences = reconcile()
    results["raw_sql"] = raw_sql(args.clients, args.raw_seconds)
    sh(f'psql -X -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"')

    raw = results["raw_sql"]
    print()
    print(f"date {time.strftime('%Y-%m-%d %H:%M %Z')}; {os.cpu_count()} cores; {args.clients} clients; "
          f"{args.seconds} s per run; load average {os.getloadavg()[0]:.1f}; server autovacuum {autovacuum}, "
          f"{statistics_keeper.summary()}")
    relay_columns = ((" relay CPU ms per request | outbox pending at the end | drained in s |", "---:|---:|---:|")
                     if args.with_relay else ("", ""))
    print(f"| run | req/s | p50 ms | p99 ms | in gunicorn: p50 / p99 ms | non-2xx | "
          f"CPU ms per request: web / postgres |{relay_columns[0]}")
    print(f"|---|---:|---:|---:|---:|---:|---:|{relay_columns[1]}")
    for name in [run_name for run_name, *_ in runs]:
        run = results[name]
        cpu = run["cpu_ms"]
        relay_cells = ""
        if args.with_relay:
            relay_cells = (f" {cpu['relay']:.2f} | {run['outbox_pending']} | {run['drain_s']:.1f} |" if "outbox_pending"
                           in run else " | | |")
        print(f"| {name} | {run['rate']:.0f} | {run['p50_ms']:.1f} | {run['p99_ms']:.1f} | "
              f"{run['server_p50_ms']:.1f} / {run['server_p99_ms']:.1f} | {run['non_2xx']} | "
              f"{cpu['web']:.2f} / {cpu['postgres']:.2f} |{relay_cells}")
    print(f"| raw SQL DvP (pgbench) | spread {raw['spread']:.0f} / hot {raw['hot']:.0f} | | | | |")
    print()
    # Each ratio from runs of the same round (side by side); with --rounds, each round's and
    # the median, since a shared machine drifts between rounds.
    rounds = [{name.split("#")[0]: run for name, run in results.items() if name.endswith(f"#{number}")}
              for number in range(1, args.rounds + 1)] if args.rounds > 1 else [results]
    ratios = [("spread buys / GET me/     ", "spread", "me", "  (goal ≥ 0.40)"),
              ("hot buys / spread buys    ", "hot", "spread", "  (goal ≥ 0.60)"),
              ("spread buys with a key / GET me/", "spread+key", "me", ""),
              ("spread buys with the relay / without", "spread+relay", "spread", "  (goal ≥ 0.90, issue 30)"),
              ("hot buys with the relay / without", "hot+relay", "hot", "  (goal ≥ 0.90, issue 30)"),
              ("keyed buys with the relay / without", "spread+key+relay", "spread+key", "")]
    for label, numerator, denominator, goal in ratios:
        if numerator not in rounds[0]:
            continue
        values = ratio_by_round(rounds, numerator, denominator)
        each = f"  (rounds: {', '.join(f'{value:.2f}' for value in values)})" if len(values) > 1 else ""
        print(f"{label} = {statistics.median(values):.2f}{goal}{each}")
    for label, numerator, reference in (("spread buys / raw SQL     ", "spread", "spread"),
                                        ("hot buys / raw SQL hot    ", "hot", "hot")):
        median = statistics.median(found[numerator]["rate"] for found in rounds)
        print(f"{label} = {median / raw[reference]:.2f}")
    buys = sum(run["requests"] - run["non_2xx"] for name, run in results.items()
               if name != "raw_sql" and not name.startswith("me"))
    print(f"trades in the database: {trades} (successful buy responses incl. warm-up ≥ {buys}); "
          f"reconcile: {'clean' if not differences else differences[:5]}")
    if args.check:
        misses = goal_misses(rounds, results, differences)
        print("goals: " + ("all met" if not misses else "MISSED\n  " + "\n  ".join(misses)))
        sys.exit(1 if misses else 0)


def ratio_by_round(rounds: list[dict], numerator: str, denominator: str) -> list[float]:
    return [found[numerator]["rate"] / found[denominator]["rate"] for found in rounds]


def goal_misses(rounds: list[dict], results: dict, differences: list) -> list[str]:
    """The issue's goals, each one that was missed worded: the median ratios (spread buys ≥ 0.4 ×
    `/me/`, hot ≥ 0.6 × spread; with the relay, ≥ 0.9 × the same buys without it, issue 30),
    p99 under 100 ms in every spread and hot run, no non-2xx
    response in any buy run (the bench seeds enough units that none runs out), `reconcile`
    clean. The keyed runs' p99 is reported but is not one of the issue's goals."""
    misses = []
    for numerator, denominator, floor in (("spread", "me", 0.40), ("hot", "spread", 0.60),
                                          ("spread+relay", "spread", 0.90), ("hot+relay", "hot", 0.90)):
        if numerator not in rounds[0]:
            continue
        median = statistics.median(ratio_by_round(rounds, numerator, denominator))
        if median < floor:
            misses.append(f"{numerator} / {denominator} = {median:.2f}, below {floor:.2f}")
    for name, run in results.items():
        if name == "raw_sql" or name.startswith("me"):
            continue
        if run["non_2xx"]:
            misses.append(f"{name}: {run['non_2xx']} non-2xx responses")
        if not name.startswith("spread+key") and run["p99_ms"] >= P99_GOAL_MS:
            misses.append(f"{name}: p99 {run['p99_ms']:.1f} ms, not under {P99_GOAL_MS} ms")
    if differences:
        misses.append(f"reconcile: {len(differences)} differences")
    return misses


if __name__ == "__main__":
    main()
