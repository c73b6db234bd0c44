"""Uploading invoices: validation, one at a time and as CSV (all or nothing)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.errors import DomainError
from invoices.enums import ProgramKind
from invoices.errors import BulkUploadInvalid
from invoices.models import Invoice
from invoices.services import invoice_bulk_create, invoice_create
from tests.invoices.factories import CounterpartyFactory, PartyFactory, ProgramFactory

pytestmark = pytest.mark.django_db


def _create(world, **overrides):
    fields = {"organization": world.organization, "actor": world.signer_a, "seller": world.seller,
              "buyer": world.buyer, "number": "INV-1", "amount": Decimal("1000.00"),
              "issue_date": date(2026, 1, 1), "due_date": date(2026, 2, 1)} | overrides
    return invoice_create(**fields)


def test_upload_finds_the_one_program_that_fits(world):
    invoice = _create(world)
    assert (invoice.program, invoice.status, invoice.uploaded_by) == (world.program, "uploaded", world.signer_a)


@pytest.mark.parametrize(("overrides", "code"), [
    ({"due_date": date(2026, 1, 1)}, "due_before_issue"),
    ({"due_date": date(2026, 1, 5)}, "tenor_out_of_range"),        # 4 days < 7
    ({"due_date": date(2026, 12, 31)}, "tenor_out_of_range"),      # 364 days > 180
    ({"amount": Decimal("0")}, "invalid_amount"),
    ({"number": "  "}, "required"),
])
def test_upload_rules(world, overrides, code):
    with pytest.raises(DomainError) as caught:
        _create(world, program=world.program, **overrides)
    assert caught.value.code == code
    assert not Invoice.objects.exists()


def test_the_buyer_must_be_a_counterparty_of_the_program(world):
    stranger = PartyFactory(organization=world.organization)
    with pytest.raises(DomainError) as caught:
        _create(world, buyer=stranger, program=world.program)
    assert caught.value.code == "not_a_counterparty"
    with pytest.raises(DomainError) as caught:
        _create(world, buyer=stranger)
    assert caught.value.code == "not_a_counterparty"
    assert not Invoice.objects.exists()


def test_under_apf_the_anchor_is_the_buyer(world):
    anchor = PartyFactory(organization=world.organization, kind="anchor")
    supplier = PartyFactory(organization=world.organization)
    program = ProgramFactory(organization=world.organization, anchor=anchor, kind=ProgramKind.APF)
    CounterpartyFactory(program=program, party=supplier)
    invoice = invoice_create(organization=world.organization, actor=None, seller=supplier, buyer=anchor,
                             number="S-1", amount=Decimal("500.00"), issue_date=date(2026, 1, 1),
                             due_date=date(2026, 2, 1))
    assert invoice.program == program
    with pytest.raises(DomainError) as caught:  # the other way round does not fit APF
        invoice_create(organization=world.organization, actor=None, seller=anchor, buyer=supplier, program=program,
                       number="S-2", amount=Decimal("500.00"), issue_date=date(2026, 1, 1),
                       due_date=date(2026, 2, 1))
    assert caught.value.code == "not_a_counterparty"


def test_an_invoice_number_is_unique_per_seller(world):
    _create(world)
    with pytest.raises(DomainError) as caught:
        _create(world, amount=Decimal("2.00"))
    assert caught.value.code == "duplicate_invoice_number"
    assert Invoice.objects.count() == 1


def _csv(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("invoices.csv", text.encode(), content_type="text/csv")


def test_bulk_upload_saves_every_row(world):
    created = invoice_bulk_create(organization=world.organization, actor=world.signer_a, seller=world.seller,
                                  file=_csv("number,buyer_gstin,amount,issue_date,due_date\n"
                                            f"B-1,{world.buyer.gstin},1000.50,2026-01-01,2026-02-01\n"
                                            f"B-2,{world.buyer.gstin.lower()},2500,2026-01-01,2026-03-01\n"))
    assert [(i.number, i.amount) for i in created] == [("B-1", Decimal("1000.50")), ("B-2", Decimal("2500.00"))]
    assert Invoice.objects.count() == 2


def test_bulk_upload_with_a_bad_row_saves_nothing_and_reports_each_problem(world):
    _create(world, number="DUP")
    text = ("number,buyer_gstin,amount,issue_date,due_date\n"
            f"B-1,{world.buyer.gstin},1000,2026-01-01,2026-02-01\n"
            f"B-2,{world.buyer.gstin},abc,2026-01-01,2026-02-01\n"
            f"B-3,27AAAAA0000A1Z5,1000,2026-01-01,01/02/2026\n"
            f"DUP,{world.buyer.gstin},1000,2026-01-01,2026-02-01\n"
            f"B-1,{world.buyer.gstin},1000,2026-01-01,2026-02-01\n"
            f"B-6,{world.buyer.gstin},1000,2026-01-01,2026-01-03\n")
    with pytest.raises(BulkUploadInvalid) as caught:
        invoice_bulk_create(organization=world.organization, actor=world.signer_a, seller=world.seller,
                            file=_csv(text))
    assert caught.value.row_errors == [
        (3, "amount", "invalid", "Enter an amount such as 125000.00."),
        (4, "due_date", "invalid", "Enter a date as YYYY-MM-DD."),
        (4, "buyer_gstin", "not_found", "No party of the organization has this GSTIN."),
        (5, "number", "duplicate_invoice_number", "This seller already has an invoice with this number."),
        (6, "number", "duplicate_invoice_number", "The same number is on line 2."),
        (7, "due_date", "tenor_out_of_range",
         "The tenor (2 days) must be 7 to 180 days under this program."),
    ]
    assert list(Invoice.objects.values_list("number", flat=True)) == ["DUP"]  # B-1 was rolled back


def test_bulk_upload_needs_the_columns(world):
    with pytest.raises(DomainError) as caught:
        invoice_bulk_create(organization=world.organization, actor=None, seller=world.seller,
                            file=_csv("number,amount\nX,1\n"))
    assert caught.value.code == "invalid_file"
