"""The checker.

Live (`LiveChecker`): every 250 ms, in one read-only REPEATABLE READ snapshot, with its own
connection: all ledger balances sum to zero (user accounts' cached balances plus system
accounts' transfers), no user account is negative, every user account's cached balance
equals its transfers, units per offering are conserved (holdings + retired = total units)
and no holding lists more than it holds.

Final (`final_check`, after the outbox has drained and stuck payouts were resumed): every
invariant of `wallet.reconcile.reconcile()` (DESIGN.md §3, units included), then the
history against the database — each acknowledged operation happened exactly once, each
failed one not at all, each unknown one at most once:

- trades: every acknowledged buy / bid placed at the ask / bid accept names its trade, which
  exists with that buyer, listing (and units); no trade is claimed twice; trades nobody
  acknowledged are at most the unknown operations that could have made them, per
  (buyer, listing);
- secondary listings, bids and withdrawals: likewise by id, and unacknowledged rows per
  (seller, offering) / (bidder, listing) / (user, amount) at most the unknown operations;
- cancels, bid withdrawals and rejections acknowledged: the row ended in that state;
- deposits: an acknowledged deposit whose `payment.captured` webhook was acknowledged is
  credited exactly once (one journal entry, its amount); none is credited without a
  captured webhook having been sent (an unacknowledged deposit row that was never credited
  is only a note);
- withdrawals: one `requested` entry each; after the payouts are resumed each acknowledged
  one is `paid` (or `failed` for the sandbox's `.13` amounts) with exactly one closing entry;
- a reused key with another body is always refused with 422 `idempotency_key_reused`;
- no wallet read ever showed a negative balance.

Outbox (`probe_check`, from the probe app's non-idempotent handlers, bench/chaos/probe): every
trade's `trade.executed` reached the probe exactly once (neither lost nor delivered twice,
while two relays ran and one was killed), and each listing's `listing.changed` arrived in
commit order.
"""

import threading
import time
from collections import Counter, defaultdict
from decimal import Decimal

import psycopg

from bench.chaos.history import FAILED, OK, UNKNOWN
from bench.chaos.nemesis import CHECKER_APPLICATION

LIVE_CHECKS = {
    "ledger balances do not sum to zero": """
        SELECT 'sum ' || total FROM (
          SELECT (SELECT COALESCE(SUM(balance), 0) FROM wallet_ledgeraccount WHERE NOT is_system)
               + COALESCE((SELECT SUM(t.amount) FROM wallet_transfer t
                             JOIN wallet_ledgeraccount a ON a.id = t.credit_account_id WHERE a.is_system), 0)
               - COALESCE((SELECT SUM(t.amount) FROM wallet_transfer t
                             JOIN wallet_ledgeraccount a ON a.id = t.debit_account_id WHERE a.is_system), 0) AS total
        ) s WHERE total <> 0""",
    "negative user balance": """
        SELECT 'account ' || id || ' (user ' || owner_id || ', ' || kind || ') = ' || balance
          FROM wallet_ledgeraccount WHERE NOT is_system AND balance < 0""",
    "cached balance differs from transfers": """
        SELECT 'account ' || a.id || ' cached ' || a.balance || ' transfers ' ||
               (COALESCE(c.total, 0) - COALESCE(d.total, 0))
          FROM wallet_ledgeraccount a
          LEFT JOIN (SELECT credit_account_id AS id, SUM(amount) AS total FROM wallet_transfer GROUP BY 1) c
                 ON c.id = a.id
          LEFT JOIN (SELECT debit_account_id AS id, SUM(amount) AS total FROM wallet_transfer GROUP BY 1) d
                 ON d.id = a.id
         WHERE NOT a.is_system AND a.balance <> COALESCE(c.total, 0) - COALESCE(d.total, 0)""",
    "units of an offering not conserved": """
        SELECT 'offering ' || o.id || ': holdings ' || h.units || ' + retired ' || COALESCE(r.units, 0) ||
               ' != ' || o.total_units
          FROM trading_offering o
          JOIN (SELECT offering_id, SUM(units) AS units FROM trading_holding GROUP BY 1) h ON h.offering_id = o.id
          LEFT JOIN (SELECT offering_id, SUM(units) AS units FROM trading_unittransfer
                      WHERE to_holding_id IS NULL GROUP BY 1) r ON r.offering_id = o.id
         WHERE h.units + COALESCE(r.units, 0) <> o.total_units""",
    "holding lists more units than it holds": """
        SELECT 'holding ' || id || ': units ' || units || ', listed ' || units_listed
          FROM trading_holding WHERE units_listed > units OR units_listed < 0 OR units < 0""",
}


class LiveChecker(threading.Thread):
    def __init__(self, *, dsn: str, period: float = 0.25):
        super().__init__(name="live-checker", daemon=True)
        self.dsn = dsn
        self.period = period
        self.stopping = threading.Event()
        self.snapshots = 0
        self.errors = 0
        self.slowest = 0.0
        self.violations: list[str] = []

    def run(self) -> None:
        connection = None
        while not self.stopping.is_set():
            started = time.monotonic()
            try:
                if connection is None or connection.closed:
                    connection = psycopg.connect(self.dsn, application_name=CHECKER_APPLICATION)
                    connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                    connection.read_only = True
                with connection.transaction():
                    for name, sql in LIVE_CHECKS.items():
                        for (line,) in connection.execute(sql).fetchall()[:5]:
                            self.violations.append(f"snapshot {self.snapshots}: {name}: {line}")
                self.snapshots += 1
            except psycopg.Error:
                self.errors += 1
                if connection is not None:
                    connection.close()
                connection = None
            elapsed = time.monotonic() - started
            self.slowest = max(self.slowest, elapsed)
            self.stopping.wait(max(self.period - elapsed, 0))
        if connection is not None:
            connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)


# --- final --------------------------------------------------------------------------------------

TRADE_MAKERS = ("buy", "bid_place", "bid_modify", "bid_accept")


def _data(op: dict) -> dict:
    return op["result"].get("data") or {}


def final_check(ops: list[dict], baseline: dict[str, int], notes: list[str]) -> list[str]:
    """Violations found by comparing the completed operations with the database; what is
    odd but harmless goes to `notes`."""
    from bidding.models import Bid
    from trading.models import Listing, Trade
    from wallet.models import Deposit, JournalEntry, Withdrawal

    violations: list[str] = []
    by_f: dict[str, list[dict]] = defaultdict(list)
    for op in ops:
        by_f[op["f"]].append(op)

    def ok(f):
        return [op for op in by_f[f] if op["type"] == OK]

    def unknown(f):
        return [op for op in by_f[f] if op["type"] == UNKNOWN]

    # Trades ------------------------------------------------------------------------------------
    trades = {t.pk: t for t in Trade.objects.filter(pk__gt=baseline["trade"])}
    claimed: dict[int, dict] = {}
    bids_by_id = {b.pk: b for b in Bid.objects.filter(pk__gt=baseline["bid"])}
    for f in TRADE_MAKERS:
        for op in ok(f):
            data = _data(op)
            trade_id = data.get("id") if f in ("buy", "bid_accept") else (data.get("trade") or {}).get("id")
            if trade_id is None:
                continue
            if trade_id in claimed:
                violations.append(f"trade {trade_id} acknowledged twice (ops {claimed[trade_id]['index']}, "
                                  f"{op['index']})")
                continue
            claimed[trade_id] = op
            trade = trades.get(trade_id)
            buyer = op["value"].get("bidder", op["value"]["user"])
            if trade is None:
                violations.append(f"{f} op {op['index']} acknowledged trade {trade_id}, which does not exist")
            elif (trade.buyer_id, trade.listing_id) != (buyer, op["value"]["listing"]):
                violations.append(f"trade {trade_id}: buyer/listing {(trade.buyer_id, trade.listing_id)} but "
                                  f"{f} op {op['index']} was {(buyer, op['value']['listing'])}")
            elif f == "buy" and trade.units != op["value"]["body"]["units"]:
                violations.append(f"trade {trade_id}: {trade.units} units, buy op {op['index']} asked "
                                  f"{op['value']['body']['units']}")
            elif f == "bid_accept" and trade.bid_id != op["value"]["bid"]:
                violations.append(f"trade {trade_id}: bid {trade.bid_id}, accept op was for bid {op['value']['bid']}")
    allowance: Counter = Counter()
    for f in TRADE_MAKERS:
        for op in unknown(f):
            buyer = op["value"].get("bidder", op["value"]["user"])
            if f == "bid_accept":
                bid = bids_by_id.get(op["value"]["bid"])
                buyer = bid.bidder_id if bid else buyer
            allowance[(buyer, op["value"]["listing"])] += 1
    unclaimed = Counter((t.buyer_id, t.listing_id) for pk, t in trades.items() if pk not in claimed)
    for pair, count in sorted(unclaimed.items()):
        if count > allowance[pair]:
            violations.append(f"{count} trade(s) of buyer {pair[0]} on listing {pair[1]} that no operation "
                              f"acknowledged; only {allowance[pair]} unknown operation(s) could have made them")

    # Secondary listings and cancels ---------------------------------------------------------------
    listings = {row.pk: row for row in Listing.objects.filter(pk__gt=baseline["listing"])}
    claimed_listings = set()
    for op in ok("sell"):
        listing = listings.get(_data(op).get("id"))
        body = op["value"]["body"]
        claimed_listings.add(_data(op).get("id"))
        if listing is None:
            violations.append(f"sell op {op['index']} acknowledged listing {_data(op).get('id')}, which does not exist")
        elif (listing.seller_id, listing.offering_id, listing.units_offered, listing.price_per_unit) != (
                op["value"]["user"], body["offering"], body["units"], Decimal(body["price_per_unit"])):
            violations.append(f"listing {listing.pk} differs from sell op {op['index']}")
    allowance = Counter((op["value"]["user"], op["value"]["body"]["offering"]) for op in unknown("sell"))
    unclaimed = Counter((row.seller_id, row.offering_id) for pk, row in listings.items()
                        if pk not in claimed_listings and row.seller_id is not None)
    for pair, count in sorted(unclaimed.items()):
        if count > allowance[pair]:
            violations.append(f"{count} listing(s) by seller {pair[0]} of offering {pair[1]} nobody acknowledged "
                              f"(unknown sells: {allowance[pair]})")
    for op in ok("cancel"):
        listing = Listing.objects.filter(pk=op["value"]["listing"]).first()
        if listing is None or listing.status != "cancelled":
            violations.append(f"cancel op {op['index']} acknowledged, listing {op['value']['listing']} is "
                              f"{listing.status if listing else 'missing'}")

    # Bids ------------------------------------------------------------------------------------------
    claimed_bids = set()
    for op in ok("bid_place"):
        bid = bids_by_id.get(_data(op).get("id"))
        claimed_bids.add(_data(op).get("id"))
        if bid is None or (bid.bidder_id, bid.listing_id) != (op["value"]["user"], op["value"]["listing"]):
            violations.append(f"bid_place op {op['index']}: bid {_data(op).get('id')} missing or not as placed")
    allowance = Counter((op["value"]["user"], op["value"]["listing"]) for op in unknown("bid_place"))
    unclaimed = Counter((b.bidder_id, b.listing_id) for pk, b in bids_by_id.items() if pk not in claimed_bids)
    for pair, count in sorted(unclaimed.items()):
        if count > allowance[pair]:
            violations.append(f"{count} bid(s) by {pair[0]} on listing {pair[1]} nobody acknowledged "
                              f"(unknown places: {allowance[pair]})")
    for f, status in (("bid_withdraw", "withdrawn"), ("bid_reject", "rejected")):
        for op in ok(f):
            bid = Bid.objects.filter(pk=op["value"]["bid"]).first()
            if bid is None or bid.status != status:
                violations.append(f"{f} op {op['index']} acknowledged, bid {op['value']['bid']} is "
                                  f"{bid.status if bid else 'missing'}")

    # Deposits --------------------------------------------------------------------------------------
    deposits = {d.pk: d for d in Deposit.objects.filter(pk__gt=baseline["deposit"])}
    credits = Counter(JournalEntry.objects.filter(kind="deposit", reference__in=[f"deposit:{pk}" for pk in deposits])
                      .values_list("reference", flat=True))
    captured_sent, captured_acked = set(), set()
    for op in by_f["deposit_webhook"]:
        if op["value"]["event"] == "payment.captured":
            captured_sent.add(op["value"]["deposit_id"])
            if op["type"] == OK:
                captured_acked.add(op["value"]["deposit_id"])
    claimed_deposits = set()
    for op in ok("deposit"):
        deposit_id = _data(op).get("id")
        claimed_deposits.add(deposit_id)
        deposit = deposits.get(deposit_id)
        if deposit is None or (deposit.user_id, deposit.amount) != (op["value"]["user"],
                                                                     Decimal(op["value"]["body"]["amount"])):
            violations.append(f"deposit op {op['index']}: deposit {deposit_id} missing or not as asked")
            continue
        count = credits[f"deposit:{deposit_id}"]
        if deposit_id in captured_acked and (count != 1 or deposit.status != "credited"):
            violations.append(f"deposit {deposit_id}: payment captured and acknowledged, credited {count} time(s), "
                              f"status {deposit.status}")
    for deposit_id in deposits:
        count = credits[f"deposit:{deposit_id}"]
        if count > 1:
            violations.append(f"deposit {deposit_id} credited {count} times")
        if count and deposit_id not in captured_sent:
            violations.append(f"deposit {deposit_id} credited but no captured webhook was ever sent for it")
    # A deposit row nobody acknowledged is harmless while it is never credited (nobody can pay
    # it: its payment id was never handed out), so it is a note, not a violation: a 5xx after
    # the row committed frees the key and the retry starts a second deposit.
    allowance = Counter(op["value"]["user"] for op in unknown("deposit"))
    unclaimed = Counter(d.user_id for pk, d in deposits.items() if pk not in claimed_deposits)
    for user_id, count in sorted(unclaimed.items()):
        if count > allowance[user_id]:
            notes.append(f"{count} uncredited deposit row(s) of user {user_id} nobody acknowledged "
                         f"(unknown deposits: {allowance[user_id]})")

    # Withdrawals -----------------------------------------------------------------------------------
    withdrawals = {w.pk: w for w in Withdrawal.objects.filter(pk__gt=baseline["withdrawal"])}
    entries = Counter(JournalEntry.objects.filter(reference__in=[f"withdrawal:{pk}" for pk in withdrawals])
                      .values_list("reference", "kind"))
    for pk, withdrawal in withdrawals.items():
        reference = f"withdrawal:{pk}"
        requested = entries[(reference, "withdrawal.requested")]
        closing = entries[(reference, "withdrawal.paid")] + entries[(reference, "withdrawal.failed")]
        if requested != 1 or closing > 1:
            violations.append(f"withdrawal {pk}: {requested} requested and {closing} closing entries")
        if withdrawal.status in ("paid", "failed") and closing != 1:
            violations.append(f"withdrawal {pk} is {withdrawal.status} with {closing} closing entries")
    claimed_withdrawals = set()
    for op in ok("withdrawal"):
        withdrawal = withdrawals.get(_data(op).get("id"))
        claimed_withdrawals.add(_data(op).get("id"))
        amount = Decimal(op["value"]["body"]["amount"])
        expected = "failed" if amount % 1 == Decimal("0.13") else "paid"
        if withdrawal is None or (withdrawal.user_id, withdrawal.amount) != (op["value"]["user"], amount):
            violations.append(f"withdrawal op {op['index']}: withdrawal {_data(op).get('id')} missing or not as asked")
        elif withdrawal.status != expected:
            violations.append(f"withdrawal {withdrawal.pk} is {withdrawal.status} after payouts resumed, "
                              f"expected {expected}")
    allowance = Counter((op["value"]["user"], Decimal(op["value"]["body"]["amount"])) for op in unknown("withdrawal"))
    unclaimed = Counter((w.user_id, w.amount) for pk, w in withdrawals.items() if pk not in claimed_withdrawals)
    for pair, count in sorted(unclaimed.items()):
        if count > allowance[pair]:
            violations.append(f"{count} withdrawal(s) of {pair[1]} by user {pair[0]} nobody acknowledged "
                              f"(unknown withdrawals: {allowance[pair]})")

    # Key reuse and reads ------------------------------------------------------------------------------
    for op in by_f["key_reuse"]:
        if op["type"] == OK or (op["type"] == FAILED and op["result"].get("code") != "idempotency_key_reused"):
            violations.append(f"key reuse op {op['index']} answered {op['result'].get('status')} "
                              f"{op['result'].get('code')}, expected 422 idempotency_key_reused")
    for op in ok("read"):
        data = _data(op)
        for name in ("available", "held", "pending_withdrawal"):
            if name in data and Decimal(data[name]) < 0:
                violations.append(f"read op {op['index']} showed {name} = {data[name]}")
    return violations


# --- the outbox probe -----------------------------------------------------------------------------

def probe_check(baseline: dict[str, int], violations: list[str]) -> dict:
    """The outbox's delivery promises, read from the probe's non-idempotent handlers
    (bench/chaos/probe): each trade's `trade.executed` delivered exactly once (not lost, not
    twice), and each listing's `listing.changed` in commit order (units never rise, a closed
    listing never reopens). Returns the counts for the summary."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT t.id, count(p.seq) FROM trading_trade t
                 LEFT JOIN chaos_probe_delivery p ON p.handler = 'trade.executed' AND p.key = t.id
                WHERE t.id > %s GROUP BY t.id HAVING count(p.seq) <> 1 ORDER BY t.id""", [baseline["trade"]])
        for trade_id, deliveries in cursor.fetchall()[:20]:
            what = "lost (never delivered)" if deliveries == 0 else f"delivered {deliveries} times"
            violations.append(f"outbox: trade {trade_id}'s trade.executed {what} to a non-idempotent handler")
        cursor.execute("SELECT key, units, status, seq FROM chaos_probe_delivery WHERE handler = 'listing.changed' "
                       "ORDER BY key, seq")
        previous: tuple | None = None
        for listing_id, units, status, seq in cursor.fetchall():
            if previous is not None and previous[0] == listing_id:
                _, units_before, status_before, seq_before = previous
                if units > units_before or (status_before != "open" and status != status_before):
                    violations.append(f"outbox: listing {listing_id}'s changes out of commit order: {units_before} "
                                      f"units ({status_before}, delivery {seq_before}) then {units} ({status}, "
                                      f"delivery {seq})")
            previous = (listing_id, units, status, seq)
        cursor.execute("SELECT handler, count(*), count(DISTINCT pid) FROM chaos_probe_delivery GROUP BY handler")
        counts = {handler: (count, processes) for handler, count, processes in cursor.fetchall()}
        cursor.execute("SELECT count(DISTINCT pid) FROM chaos_probe_delivery")
        processes = cursor.fetchone()[0]
    return {"trade.executed": counts.get("trade.executed", (0, 0))[0],
            "listing.changed": counts.get("listing.changed", (0, 0))[0], "processes": processes}
