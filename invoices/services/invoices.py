"""Uploading invoices, one at a time or as a CSV file."""

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction

from accounts.models import Organization, User
from core.audit import audit_record
from core.crypto import blind_index
from core.errors import InvalidInput
from core.money import to_money
from core.uploads import CSV, DOCUMENT_TYPES, upload_check
from invoices.enums import ANCHOR_IS_BUYER, ProgramStatus
from invoices.errors import BulkUploadInvalid, DuplicateInvoiceNumber, InvoiceInvalid, ProgramNotActive
from invoices.models import Counterparty, Invoice, Party, Program

BULK_COLUMNS = ("number", "buyer_gstin", "amount", "issue_date", "due_date")
BULK_MAX_ROWS = 1000


def counterparty_for(*, program: Program, seller: Party, buyer: Party) -> Counterparty | None:
    """The counterparty an invoice between `seller` and `buyer` falls under in `program`,
    or None if the pair does not fit it. APF: the anchor buys from a counterparty; RF and DF:
    the anchor sells to a counterparty."""
    anchor_side, other = (buyer, seller) if program.kind in ANCHOR_IS_BUYER else (seller, buyer)
    if anchor_side.pk != program.anchor_id:
        return None
    return Counterparty.objects.filter(organization_id=program.organization_id, program=program, party=other,
                                       is_active=True).first()


def _program_for(*, organization: Organization, seller: Party, buyer: Party, program: Program | None) -> Program:
    if program is not None:
        if program.organization_id != organization.pk:
            raise InvalidInput("No such program.", attr="program")
        return program
    # Not named: the one active program the pair fits, if there is exactly one.
    candidates = [
        candidate
        for candidate in Program.objects.filter(organization=organization, status=ProgramStatus.ACTIVE,
                                                anchor__in=(seller, buyer))
        if counterparty_for(program=candidate, seller=seller, buyer=buyer) is not None
    ]
    if len(candidates) != 1:
        raise InvoiceInvalid(
            "Name the program: the seller and buyer fit none or several active programs." if candidates
            else "The seller and buyer do not fit any active program (is the buyer a counterparty?).",
            code="program_required" if candidates else "not_a_counterparty", attr="program",
        )
    return candidates[0]


def _validate(*, organization: Organization, program: Program, seller: Party, buyer: Party, amount: Decimal,
              issue_date: date, due_date: date) -> None:
    if seller.pk == buyer.pk:
        raise InvoiceInvalid("Seller and buyer must be different parties.", attr="buyer")
    if buyer.organization_id != organization.pk or seller.organization_id != organization.pk:
        raise InvalidInput("No such party.", attr="buyer")
    if program.status != ProgramStatus.ACTIVE:
        raise ProgramNotActive(attr="program")
    if amount <= 0:
        raise InvoiceInvalid("The amount must be more than zero.", code="invalid_amount", attr="amount")
    if due_date <= issue_date:
        raise InvoiceInvalid("The due date must be after the issue date.", code="due_before_issue", attr="due_date")
    tenor = (due_date - issue_date).days
    if not program.min_tenor_days <= tenor <= program.max_tenor_days:
        raise InvoiceInvalid(
            f"The tenor ({tenor} days) must be {program.min_tenor_days} to {program.max_tenor_days} days "
            "under this program.", code="tenor_out_of_range", attr="due_date",
        )
    if counterparty_for(program=program, seller=seller, buyer=buyer) is None:
        raise InvoiceInvalid("The buyer and seller are not an anchor and an active counterparty of the program.",
                             code="not_a_counterparty", attr="buyer")


def invoice_create(*, organization: Organization, actor: User | None, seller: Party, buyer: Party, number: str,
                   amount: Decimal, issue_date: date, due_date: date, program: Program | None = None,
                   file: UploadedFile | None = None, external_id: str = "") -> Invoice:
    """Record an invoice under a program (named, or the only active one the pair fits).
    The caller has checked that `actor` may act for `seller`."""
    amount = to_money(amount)
    number = number.strip()
    if not number:
        raise InvoiceInvalid("The invoice number is required.", code="required", attr="number")
    if file:  # core.uploads: a PDF or an image of the invoice, sniffed, bounded, stored under a random name
        checked = upload_check(file, allowed=DOCUMENT_TYPES, max_bytes=settings.INVOICE_FILE_MAX_BYTES,
                               attr="file", error=InvoiceInvalid)
        file.name = checked.stored_name
    program = _program_for(organization=organization, seller=seller, buyer=buyer, program=program)
    _validate(organization=organization, program=program, seller=seller, buyer=buyer, amount=amount,
              issue_date=issue_date, due_date=due_date)
    try:
        with transaction.atomic():
            invoice = Invoice.objects.create(
                organization=organization, program=program, seller=seller, buyer=buyer, number=number,
                amount=amount, issue_date=issue_date, due_date=due_date, file=file or "",
                external_id=external_id, uploaded_by=actor if getattr(actor, "pk", None) else None,
            )
            audit_record(action="invoices.invoice_uploaded", actor=actor, target=invoice,
                         data={"organization_id": organization.pk, "number": number, "amount": str(amount)})
    except IntegrityError as exc:
        raise DuplicateInvoiceNumber(attr="number") from exc
    return invoice


@dataclass(frozen=True)
class _Row:
    line: int
    values: dict[str, str]


def _parse_rows(file: UploadedFile) -> list[_Row]:
    # core.uploads: UTF-8 text, no NUL, no binary signature, at most INVOICE_BULK_MAX_BYTES.
    upload_check(file, allowed={CSV}, max_bytes=settings.INVOICE_BULK_MAX_BYTES, attr="file", code="invalid_file")
    try:
        file.seek(0)
        text = file.read().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("The file must be UTF-8 CSV.", code="invalid_file", attr="file") from exc
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [column for column in BULK_COLUMNS if column not in header]
    if missing:
        raise InvalidInput(f"Missing columns: {', '.join(missing)} (expected {', '.join(BULK_COLUMNS)}).",
                           code="invalid_file", attr="file")
    rows = []
    for record in reader:
        values = {(key or "").strip(): (value or "").strip() for key, value in record.items() if key}
        if any(values.values()):
            rows.append(_Row(line=reader.line_num, values=values))
    if not rows:
        raise InvalidInput("The file has no rows.", code="invalid_file", attr="file")
    if len(rows) > BULK_MAX_ROWS:
        raise InvalidInput(f"At most {BULK_MAX_ROWS} rows per file.", code="invalid_file", attr="file")
    return rows


def _parse_row(row: _Row, *, organization: Organization, errors: list) -> dict | None:
    values = row.values
    parsed: dict = {"number": values.get("number", "")}
    ok = True
    if not parsed["number"]:
        errors.append((row.line, "number", "required", "The invoice number is required."))
        ok = False
    try:
        amount = Decimal(values.get("amount", ""))
        if not amount.is_finite():
            raise InvalidOperation
        parsed["amount"] = to_money(amount)
    except (InvalidOperation, ValueError):
        errors.append((row.line, "amount", "invalid", "Enter an amount such as 125000.00."))
        ok = False
    for column in ("issue_date", "due_date"):
        try:
            parsed[column] = date.fromisoformat(values.get(column, ""))
        except ValueError:
            errors.append((row.line, column, "invalid", "Enter a date as YYYY-MM-DD."))
            ok = False
    gstin = values.get("buyer_gstin", "")
    buyer = (Party.objects.filter(organization=organization, gstin_index=blind_index(gstin)).first()
             if gstin.strip() else None)
    if buyer is None:
        errors.append((row.line, "buyer_gstin", "not_found", "No party of the organization has this GSTIN."))
        ok = False
    parsed["buyer"] = buyer
    return parsed if ok else None


def invoice_bulk_create(*, organization: Organization, actor: User | None, seller: Party, file: UploadedFile,
                        program: Program | None = None) -> list[Invoice]:
    """Upload many invoices from a CSV (columns: number, buyer_gstin, amount, issue_date,
    due_date). All rows are checked; if any fails, nothing is saved and every problem is
    reported by line and column (`BulkUploadInvalid`)."""
    rows = _parse_rows(file)
    errors: list[tuple[int, str, str, str]] = []
    created: list[Invoice] = []
    seen_numbers: dict[str, int] = {}
    with transaction.atomic():
        for row in rows:
            parsed = _parse_row(row, organization=organization, errors=errors)
            if parsed is None:
                continue
            if parsed["number"] in seen_numbers:
                errors.append((row.line, "number", "duplicate_invoice_number",
                               f"The same number is on line {seen_numbers[parsed['number']]}."))
                continue
            seen_numbers[parsed["number"]] = row.line
            try:
                with transaction.atomic():
                    created.append(invoice_create(organization=organization, actor=actor, seller=seller,
                                                  program=program, **parsed))
            except InvalidInput as exc:  # includes InvoiceInvalid and ProgramNotActive's siblings
                errors.append((row.line, _column(exc.attr), exc.code, str(exc.detail)))
            except (DuplicateInvoiceNumber, ProgramNotActive) as exc:
                errors.append((row.line, _column(exc.attr), exc.code, str(exc.detail)))
        if errors:
            transaction.set_rollback(True)
    if errors:
        raise BulkUploadInvalid(errors)
    return created


def _column(attr: str | None) -> str:
    return {"buyer": "buyer_gstin", None: "row"}.get(attr, attr)
