"""Issue 22's moves, run backwards and forwards on a database holding the demo data: servicing
and tax leave trading (trading 0007, servicing 0001-0003, tax 0001-0004) and offerings move
from invoices to trading (trading 0008-0009, servicing 0004, invoices 0006). Every row must
survive both ways, a TDS deduction must keep its line, content types and pending outbox
messages must follow their models and handlers, and the books must reconcile after."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)

TABLES_AFTER = {
    "trading_offering": "invoices_offering", "trading_offeringcashflow": "invoices_offeringcashflow",
    "servicing_distribution": "trading_distribution", "servicing_distributioncashflow": "trading_distributioncashflow",
    "servicing_distributionline": "trading_distributionline", "tax_taxrule": "trading_taxrule",
    "tax_taxdeclaration": "trading_taxdeclaration", "tax_tdsdeduction": "trading_tdsdeduction",
}


def _rows(table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)} ORDER BY id")  # noqa: S608
        return [tuple(map(str, row)) for row in cursor.fetchall()]


def _one(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_the_moves_keep_every_row_backwards_and_forwards(assert_books_clean):
    from django.contrib.contenttypes.models import ContentType

    from core.outbox import OutboxMessage
    from tax.models import TDSDeduction

    call_command("seed_demo_data", "--force", "--no-progress", "--seed", "3", "--investors", "6",
                 "--offerings", "5", stdout=io.StringIO())
    before = {table: _rows(table) for table in TABLES_AFTER}
    assert all(before[table] for table in ("trading_offering", "servicing_distributionline", "tax_tdsdeduction"))
    lines_of_deductions = sorted(TDSDeduction.objects.values_list("id", "source_id"))
    content_types = {ct.model: (ct.pk, ct.app_label) for ct in ContentType.objects.filter(
        model__in=["offering", "distribution", "tdsdeduction"])}
    pending = OutboxMessage.objects.create(topic="distribution.recorded", payload={"distribution_id": 0},
                                           handler="servicing.handlers.on_distribution_recorded",
                                           status=OutboxMessage.Status.PROCESSED)

    call_command("migrate", "trading", "0006", verbosity=0)  # before both moves
    try:
        for new, old in TABLES_AFTER.items():
            rows = _rows(old)
            if old == "trading_tdsdeduction":  # the line is a one-to-one again, not a source
                assert sorted(_one("SELECT id, distribution_line_id FROM trading_tdsdeduction")) == lines_of_deductions
                assert len(rows) == len(before[new])
            else:
                assert rows == before[new], old
        assert _one("SELECT handler FROM core_outboxmessage WHERE id = %s", [pending.pk]) == [
            ("trading.servicing.handlers.on_distribution_recorded",)]
        assert {model: app for model, app in _one(
            "SELECT model, app_label FROM django_content_type WHERE model IN ('offering', 'distribution', "
            "'tdsdeduction')")} == {"offering": "invoices", "distribution": "trading", "tdsdeduction": "trading"}
    finally:
        call_command("migrate", verbosity=0)

    for table, rows in before.items():
        assert _rows(table) == rows, table
    assert sorted(TDSDeduction.objects.values_list("id", "source_id")) == lines_of_deductions
    assert set(TDSDeduction.objects.values_list("source_type", flat=True)) == {"servicing.distributionline"}
    pending.refresh_from_db()
    assert pending.handler == "servicing.handlers.on_distribution_recorded"
    after = {ct.model: (ct.pk, ct.app_label) for ct in ContentType.objects.filter(
        model__in=["offering", "distribution", "tdsdeduction"])}
    assert after == content_types == {"offering": (content_types["offering"][0], "trading"),
                                      "distribution": (content_types["distribution"][0], "servicing"),
                                      "tdsdeduction": (content_types["tdsdeduction"][0], "tax")}
    assert_books_clean()
