"""Benchmark: the `transactions` report page and the `tds` quarterly CSV export at scale.

    .venv/bin/python bench/reports.py [--transfers 1000000] [--tds 200000] [--users 1000] [--keep]

Data set (bulk SQL, `INSERT … SELECT generate_series`, in a throwaway database
`tranche_bench_reports` that the script creates, migrates and drops):
- `--users` investors with KYC profiles (PANs encrypted through the real field) and an
  `available` account each;
- `--transfers` ledger transfers, one journal entry each: three in four bank → a user's
  available account, one in four a user's available → fees; spread over the last year, with
  a balance after each;
- `--tds` TDS deductions, every one in FY 2026-27 Q1 (the worst case for one quarter), each on
  its own distribution line of one offering (made through the real services).

Measured through the whole Django stack (JWT auth, permission, view, SQL, JSON), on a fresh
database connection:
- `GET /api/v1/admin/reports/transactions/` first page, a page filtered to one user, a page
  filtered to one month, and a page deep in the keyset (cursor) — median of 5 each;
- `GET /api/v1/admin/reports/tds/?financial_year=2026-27&quarter=Q1&format=csv` streamed
  (the inline limit raised so the view streams it), consumed chunk by chunk: wall time, rows,
  the process's peak RSS (getrusage) and, in a second run, the Python heap's peak
  (tracemalloc, which slows Python down, so its time is not the figure);
- the same export as the Celery job writes it (`report_export_run`, eager): wall time.
Goals: page < 200 ms, export < 10 s, peak < 500 MB. Results: docs/benchmarks.md ("Reports").
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DB_NAME = "tranche_bench_reports"

os.environ["DATABASE_URL"] = f"{BASE_URL}/{DB_NAME}"
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("LOG_LEVEL", "ERROR")
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("CELERY_EAGER", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "0Ah9B8-adaICXVdTx6j8Vqz7Nmfvx1S9FTPYdLSWtx4=")
os.environ.setdefault("BLIND_INDEX_KEY", "bench-only-blind-index-key-0123456789abcdef")


def recreate_database(drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(f"{BASE_URL}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        if not drop_only:
            conn.execute(f"CREATE DATABASE {DB_NAME}")


def setup_django() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def timed(label: str, started: float) -> None:
    print(f"  {label}: {time.perf_counter() - started:.1f} s", flush=True)


def seed(*, users: int, transfers: int, tds: int):
    from django.db import connection
    from django.utils import timezone

    from accounts.enums import Role
    from accounts.models import User
    from core.crypto import blind_index, encrypt
    from kyc.enums import KYCStatus
    from kyc.models import KYCProfile
    from wallet.enums import AccountKind
    from wallet.services import wallet_system_account

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO accounts_user (password, is_superuser, phone, email, name, role, is_active, is_staff,
                                       date_joined)
            SELECT '!', false, '+9197' || lpad(n::text, 8, '0'), '', 'Bench Investor ' || n, %s, true, false,
                   now() - (n || ' minutes')::interval
            FROM generate_series(1, %s) AS n""", [Role.INVESTOR, users])
    investors = list(User.objects.filter(role=Role.INVESTOR).order_by("id"))
    profiles = []
    for number, user in enumerate(investors):
        pan = f"ABCPB{number:04d}K"
        profiles.append(KYCProfile(user=user, full_name=user.name, pan=encrypt(pan), pan_index=blind_index(pan),
                                   status=KYCStatus.VERIFIED))
    KYCProfile.objects.bulk_create(profiles, batch_size=1000)
    bank = wallet_system_account(AccountKind.BANK)
    with connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO wallet_ledgeraccount (owner_id, kind, currency, balance, is_system, created_at)
            SELECT id, 'available', 'INR', 0, false, now() FROM accounts_user WHERE role = %s""",
                       [Role.INVESTOR])
    timed(f"{users} investors with KYC and accounts", started)

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id) FROM wallet_ledgeraccount WHERE kind = 'available'")
        first_account = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(id), 0) FROM wallet_journalentry")
        base = cursor.fetchone()[0]
        now = timezone.now()  # one time for both statements (each its own transaction)
        cursor.execute("""
            INSERT INTO wallet_journalentry (id, kind, reference, memo, created_at)
            SELECT %s + n, 'deposit', 'bench:' || n, '', %s - ((%s - n) * interval '30 seconds')
            FROM generate_series(1, %s) AS n""", [base, now, transfers, transfers])
        cursor.execute("SELECT setval(pg_get_serial_sequence('wallet_journalentry', 'id'), %s)", [base + transfers])
        # Three in four are deposits (bank → a user's available, +100.00), one in four a fee-like
        # payment (the user's available → fees, −1.00), so both sides of user accounts appear.
        # The balances after are plausible, not exact (the report only reads them). Each
        # transfer carries its entry's time, as `ledger_post` writes it.
        fees = wallet_system_account(AccountKind.FEES)
        cursor.execute("""
            INSERT INTO wallet_transfer (entry_id, debit_account_id, credit_account_id, amount,
                                         debit_balance_after, credit_balance_after, created_at)
            SELECT %s + n,
                   CASE WHEN n %% 4 = 0 THEN %s + (n %% %s) ELSE %s END,
                   CASE WHEN n %% 4 = 0 THEN %s ELSE %s + (n %% %s) END,
                   CASE WHEN n %% 4 = 0 THEN 1.00 ELSE 100.00 END,
                   CASE WHEN n %% 4 = 0 THEN ((n - 1) / %s + 1) * 74.00 END,
                   CASE WHEN n %% 4 = 0 THEN NULL ELSE ((n - 1) / %s + 1) * 75.00 END,
                   %s - ((%s - n) * interval '30 seconds')
            FROM generate_series(1, %s) AS n""",
                       [base, first_account, users, bank.pk, fees.pk, first_account, users, users, users,
                        now, transfers, transfers])
        cursor.execute("ANALYZE wallet_transfer; ANALYZE wallet_journalentry; ANALYZE wallet_ledgeraccount")
    timed(f"{transfers:,} transfers", started)

    started = time.perf_counter()
    from tests.trading.factories import make_offering

    offering = make_offering()
    with connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO trading_holding (owner_id, offering_id, units, units_listed, cost_basis, created_at,
                                         updated_at)
            SELECT id, %s, 1, 0, 0, now(), now() FROM accounts_user WHERE role = %s""",
                       [offering.pk, Role.INVESTOR])
        distributions = -(-tds // users)
        cursor.execute("SELECT id FROM wallet_journalentry ORDER BY id LIMIT 1")
        entry_id = cursor.fetchone()[0]
        cursor.execute("""
            INSERT INTO servicing_distribution (offering_id, reference, amount, received_on, source, interest_topup,
                status, created_by_id, created_at, receipt_entry_id, journal_entry_id, record_date, paid_at,
                principal, interest, tds, spread, shortfall, matured)
            SELECT %s, 'bench-' || n, 1000.00, date '2026-04-01' + (n %% 91), 'admin', 0, 'paid', NULL, now(),
                   %s, %s, date '2026-04-01' + (n %% 91), now(), 0, 1000.00, 100.00, 0, 0, false
            FROM generate_series(1, %s) AS n""", [offering.pk, entry_id, entry_id, distributions])
        cursor.execute("""
            INSERT INTO servicing_distributionline (distribution_id, offering_id, holding_id, user_id, units,
                principal, interest, gross, tds, net, paid_on, created_at)
            SELECT d.id, %s, h.id, h.owner_id, 1, 0, 12000.00, 12000.00, 1200.00, 10800.00, d.received_on, now()
            FROM servicing_distribution d CROSS JOIN trading_holding h
            WHERE h.owner_id IS NOT NULL AND d.offering_id = %s
            LIMIT %s""", [offering.pk, offering.pk, tds])
        cursor.execute("SELECT id FROM tax_taxrule WHERE section = '393(1)'")
        rule_id = cursor.fetchone()[0]
        # One in twenty has no valid PAN (20%, remark C); one in fifty a Form 15G (remark B).
        cursor.execute("""
            INSERT INTO tax_tdsdeduction (user_id, source_type, source_id, tax_rule_id, section, financial_year,
                pan_masked, pan_index, pan_valid, reason, gross, rate, tds, net, deducted_on, created_at)
            SELECT l.user_id, 'servicing.distributionline', l.id, %s, '393(1)', '2026-27', 'XXXXXX000K', '',
                   (l.id %% 20 <> 0),
                   CASE WHEN l.id %% 50 = 0 THEN 'declaration' ELSE 'deducted' END, 12000.00,
                   CASE WHEN l.id %% 50 = 0 THEN 0 WHEN l.id %% 20 = 0 THEN 0.2 ELSE 0.1 END,
                   CASE WHEN l.id %% 50 = 0 THEN 0 WHEN l.id %% 20 = 0 THEN 2400.00 ELSE 1200.00 END,
                   CASE WHEN l.id %% 50 = 0 THEN 12000.00 WHEN l.id %% 20 = 0 THEN 9600.00 ELSE 10800.00 END,
                   l.paid_on, now()
            FROM servicing_distributionline l WHERE l.user_id IS NOT NULL""", [rule_id])
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM tax_tdsdeduction")
        print(f"  TDS rows: {cursor.fetchone()[0]:,}")
    timed("TDS deductions", started)


def page_ms(client, url: str, runs: int = 5) -> tuple[float, dict]:
    times, body = [], None
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
        body = response.json()
    return statistics.median(times), body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--transfers", type=int, default=1_000_000)
    parser.add_argument("--tds", type=int, default=200_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    recreate_database()
    try:
        setup_django()
        print("seeding:")
        seed(users=args.users, transfers=args.transfers, tds=args.tds)
        # Measure on a fresh connection, as a web process would. The seeding one has run
        # the bulk INSERTs, which cross `jit_above_cost`: once a session has loaded LLVM's
        # JIT, each parallel worker it starts loads it too (docs/benchmarks.md, "Reports").
        from django.db import connections

        connections.close_all()
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            recreate_database(drop_only=True)


def run(args) -> None:
    from django.conf import settings
    from rest_framework.test import APIClient

    from accounts.enums import Role
    from accounts.models import User
    from accounts.services import token_for_user

    settings.ALLOWED_HOSTS = ["*"]
    staff = User.objects.create_user("+919999999999", role=Role.ADMIN, is_staff=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for_user(staff).access_token}")
    base = "/api/v1/admin/reports/transactions/"
    someone = User.objects.filter(role=Role.INVESTOR).order_by("id")[args.users // 2]

    print("transactions page (50 rows, median of 5):")
    first_ms, first = page_ms(client, base)
    print(f"  first page: {first_ms:.0f} ms ({len(first['results'])} rows)")
    user_ms, _ = page_ms(client, f"{base}?user={someone.pk}")
    print(f"  one user's statement: {user_ms:.0f} ms")
    import datetime as dt

    from django.utils import timezone

    month_start = timezone.localdate() - dt.timedelta(days=180)
    month_ms, _ = page_ms(client, f"{base}?from={month_start}&to={month_start + dt.timedelta(days=30)}")
    print(f"  one month (half a year back): {month_ms:.0f} ms")
    cursor_url = first["next"]
    for _ in range(20):  # walk 20 pages in, then time the next one
        cursor_url = client.get(cursor_url).json()["next"]
    deep_ms, _ = page_ms(client, cursor_url)
    print(f"  21st page by cursor: {deep_ms:.0f} ms")

    export_url = "/api/v1/admin/reports/tds/?financial_year=2026-27&quarter=Q1&format=csv"
    settings.REPORT_EXPORT_SYNC_MAX_ROWS = 10**9  # stream it inline through the view
    rss_before = rss_mb()
    started = time.perf_counter()
    response = client.get(export_url)
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    elapsed = time.perf_counter() - started
    print(f"tds quarterly CSV (streamed through the view): {elapsed:.1f} s, {lines - 1:,} rows, "
          f"{size / 1e6:.1f} MB; process peak RSS {rss_mb():.0f} MB (before: {rss_before:.0f} MB)")

    tracemalloc.start()
    response = client.get(export_url)
    for _chunk in response.streaming_content:
        pass
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  Python heap peak during the export (tracemalloc): {peak / 1e6:.1f} MB")

    from reports.models import ReportExport
    from reports.services import report_export_run

    export = ReportExport.objects.create(requested_by=staff, name="tds", format="csv",
                                         params={"financial_year": "2026-27", "quarter": "Q1"})
    started = time.perf_counter()
    export = report_export_run(export_id=export.pk)
    print(f"tds quarterly CSV as the export job: {time.perf_counter() - started:.1f} s, "
          f"{export.row_count:,} rows, status {export.status}; process peak RSS {rss_mb():.0f} MB")
    export.file.delete(save=False)


if __name__ == "__main__":
    main()
