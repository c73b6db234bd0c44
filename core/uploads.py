"""Uploaded files: the one validator every upload goes through.

What a file is comes from its first bytes, never from its name or the Content-Type the client
sent; its size is bounded; and it is stored under a random name with the extension of its
sniffed type, so nothing the client chose (a name like `../../x.html`, an `.exe`, a user id)
reaches the storage path or a download's headers.

Use, in a service:

    checked = upload_check(file, allowed=DOCUMENT_TYPES, max_bytes=settings.X_MAX_BYTES, attr="file",
                           error=MyAppError)
    instance.file.save(checked.stored_name, file, save=False)   # a random name
    instance.content_type = checked.content_type                 # serve it back with this type

and make the model's `upload_to` keep only the directory and the (already safe) extension
(`upload_path`). `error` is the app's `DomainError` subclass, raised with the codes
`document_empty`, `document_too_large` or `document_type_not_allowed` on `attr`.
docs/security.md lists every upload and its policy.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile

from core.errors import DomainError, InvalidInput

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
CSV = "text/csv"
DOCUMENT_TYPES = frozenset({PDF, JPEG, PNG})
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png", CSV: ".csv"}
SIGNATURES = {b"%PDF-": PDF, b"\xff\xd8\xff": JPEG, b"\x89PNG\r\n\x1a\n": PNG}
LABELS = {PDF: "PDF", JPEG: "JPEG", PNG: "PNG", CSV: "CSV"}


class UploadInvalid(InvalidInput):
    code = "document_invalid"
    default_detail = "The file is not one this upload accepts."


@dataclass(frozen=True)
class CheckedUpload:
    content_type: str
    size: int
    sha256: str
    original_name: str  # for display only; never part of a path

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]

    @property
    def stored_name(self) -> str:
        """A random file name with the sniffed type's extension."""
        return f"{uuid.uuid4().hex}{self.extension}"


def sniff_content_type(file: UploadedFile) -> str | None:
    """PDF, JPEG or PNG by the file's magic bytes, else None. Leaves the file at its start."""
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    for signature, content_type in SIGNATURES.items():
        if head.startswith(signature):
            return content_type
    return None


def _is_csv(file: UploadedFile) -> bool:
    """Text a CSV parser can read: UTF-8 (a BOM allowed), no NUL byte, no binary signature."""
    file.seek(0)
    data = file.read()
    file.seek(0)
    if b"\x00" in data or sniff_content_type(file) is not None:
        return False
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return True


def upload_check(file: UploadedFile | None, *, allowed: Iterable[str], max_bytes: int, attr: str = "file",
                 error: type[DomainError] = UploadInvalid, code: str | None = None) -> CheckedUpload:
    """The file's sniffed type, size and digest, or `error` (400/422 by the error class). `code`:
    one code for every refusal, where an endpoint's contract already names one."""
    allowed = frozenset(allowed)
    names = ", ".join(sorted(LABELS[content_type] for content_type in allowed))

    def refuse(detail: str, default_code: str) -> DomainError:
        return error(detail, code=code or default_code, attr=attr)

    if file is None or not file.size:
        raise refuse("The file is empty.", "document_empty")
    if file.size > max_bytes:
        limit = f"{max_bytes // (1024 * 1024)} MB" if max_bytes >= 1024 * 1024 else f"{max_bytes} bytes"
        raise refuse(f"The file is larger than {limit}.", "document_too_large")
    content_type = sniff_content_type(file)
    if content_type is None and CSV in allowed and _is_csv(file):
        content_type = CSV
    if content_type not in allowed:
        raise refuse(f"Only {names} files are accepted.", "document_type_not_allowed")
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return CheckedUpload(content_type=content_type, size=file.size, sha256=digest.hexdigest(),
                         original_name=(file.name or "")[:200])


def upload_path(directory: str, filename: str) -> str:
    """`directory/<random>.<ext>` for a model's `upload_to`: only a known extension of `filename`
    survives (services pass `CheckedUpload.stored_name`), everything else the client chose goes."""
    extension = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in EXTENSIONS.values():
        extension = ""
    return f"{directory}/{uuid.uuid4().hex}{extension}"
