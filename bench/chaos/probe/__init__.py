"""A Django app the bank test adds to the stack (`bench.chaos.settings`): outbox handlers that
are deliberately not idempotent, so a message delivered twice, lost or out of order shows in
the database for the checker (bench/chaos/checker.py, `PROBE_CHECKS`).

- `trade.executed` → one row per delivery (`handler = 'trade.executed'`, `key` = the trade):
  every trade must have exactly one.
- `listing.changed`, ordered by listing as the real marketplace handler is → one row per
  delivery with the listing's units and status, numbered in delivery order (`seq`): per
  listing, units never go up and a closed listing never reopens, since they cannot in
  commit order.

The table is made by the runner (`PROBE_TABLE`), not by a migration: the app exists only in
the bank test's processes."""

PROBE_TABLE = """
CREATE TABLE IF NOT EXISTS chaos_probe_delivery (
    seq bigserial PRIMARY KEY,
    handler text NOT NULL,
    key bigint NOT NULL,
    units integer,
    status text,
    pid integer NOT NULL  -- the delivering process (a relay, or the worker running beat's drain)
)"""
