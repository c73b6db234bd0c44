"""The probe's handlers (see the package docstring): every run writes, none checks first."""

import os

from django.db import connection

from core.outbox import outbox_handler


def _record(rows: list[tuple]) -> None:
    with connection.cursor() as cursor:  # one row per delivery, in delivery order
        cursor.executemany("INSERT INTO chaos_probe_delivery (handler, key, units, status, pid) "
                           "VALUES (%s, %s, %s, %s, %s)", [(*row, os.getpid()) for row in rows])


@outbox_handler("trade.executed", batch=True)
def probe_trade_executed(payloads: list[dict]) -> None:
    _record([("trade.executed", payload["trade_id"], None, None) for payload in payloads])


@outbox_handler("listing.changed", batch=True, ordered_by="listing_id")
def probe_listing_changed(payloads: list[dict]) -> None:
    _record([("listing.changed", payload["listing_id"], payload["units_remaining"], payload["status"])
             for payload in payloads])
