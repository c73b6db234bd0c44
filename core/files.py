"""Uploaded files: what a file is, read from its first bytes, never from its name or the
Content-Type the client sent. Used for KYC documents and payment proofs."""

from django.core.files.uploadedfile import UploadedFile

SIGNATURES = {b"%PDF-": "application/pdf", b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


def sniff_content_type(file: UploadedFile) -> str | None:
    """`application/pdf`, `image/jpeg` or `image/png` by the file's magic bytes, else None.
    Leaves the file positioned at its start."""
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    for signature, content_type in SIGNATURES.items():
        if head.startswith(signature):
            return content_type
    return None
