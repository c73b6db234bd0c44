"""`Idempotency-Key` for money-moving POSTs (API.md, Conventions).

A view opts in with `@idempotent`. The first request with a key inserts an
`IdempotencyKey` row (in its own autocommit statement, so concurrent requests see it at
once), runs the view and stores the response. Later requests with the same user and key:

- same fingerprint (method, path, body) and finished → the stored status and body again;
- another fingerprint → 422 `idempotency_key_reused`;
- still running → 409 `idempotency_key_in_progress`.

A 5xx is not stored (the key is freed so the client can retry); 4xx answers are, like any
other outcome. Keys expire after `IDEMPOTENCY_KEY_TTL` (24 h).

A key left `in_progress` (its process died between committing the effect and storing the
response) is never taken over: the effect may have happened, so running the request again
could move money twice. It answers 409 until it expires; the client checks the outcome
(the list endpoints show it) and uses a new key if nothing happened. Found by the chaos
test (docs/reliability.md).
"""

import functools
import hashlib
import json
import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder as DRFJSONEncoder

from core.errors import DomainError, InvalidInput

HEADER = "HTTP_IDEMPOTENCY_KEY"


class IdempotencyKey(models.Model):
    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress"
        COMPLETED = "completed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "core"
        constraints = [models.UniqueConstraint(fields=("user", "key"), name="idempotency_user_key_uniq")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"


class KeyReused(DomainError):
    code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was already used with a different request."


class KeyInProgress(DomainError):
    status_code = 409
    code = "idempotency_key_in_progress"
    default_detail = "A request with this Idempotency-Key is still being processed."


def request_fingerprint(request) -> str:
    """A hash of what makes two requests "the same": method, path and body (files by content)."""
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.path.encode())
    data = request.data
    fields = {}
    files = {}
    if hasattr(data, "lists"):  # QueryDict (multipart)
        for name, values in data.lists():
            if name in request.FILES:
                continue
            fields[name] = values
        for name, uploaded in request.FILES.items():
            file_hash = hashlib.sha256()
            for chunk in uploaded.chunks():
                file_hash.update(chunk)
            uploaded.seek(0)
            files[name] = file_hash.hexdigest()
    else:
        fields = data
    digest.update(json.dumps({"fields": fields, "files": files}, sort_keys=True, cls=DjangoJSONEncoder).encode())
    return digest.hexdigest()


def _claim(user, key: str, fingerprint: str) -> tuple[IdempotencyKey, bool]:
    """Insert the key (claimed=True) or return the existing row (claimed=False)."""
    now = timezone.now()
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(user=user, key=key, fingerprint=fingerprint), True
        except IntegrityError:
            pass
        existing = IdempotencyKey.objects.filter(user=user, key=key).first()
        if existing is None:
            continue  # purged between our insert and our read: try again
        expired = existing.created_at < now - settings.IDEMPOTENCY_KEY_TTL
        if expired:
            # Take the row over atomically: only one request can win this update.
            taken = IdempotencyKey.objects.filter(pk=existing.pk, updated_at=existing.updated_at).update(
                fingerprint=fingerprint,
                status=IdempotencyKey.Status.IN_PROGRESS,
                response_status=None,
                response_body=None,
                created_at=now,
                updated_at=now,
            )
            if taken:
                existing.refresh_from_db()
                return existing, True
            continue
        return existing, False
    raise KeyInProgress()


def idempotent(view_method):
    """Decorate a DRF view method (`post`) to honour `Idempotency-Key`. Without the header
    the view runs as usual. The view itself must not run inside an outer transaction."""

    @functools.wraps(view_method)
    def wrapper(view, request, *args, **kwargs):
        key = request.META.get(HEADER)
        if not key or not request.user.is_authenticated:
            return view_method(view, request, *args, **kwargs)
        key = key.strip()
        try:
            uuid.UUID(key)
        except ValueError:
            if not (1 <= len(key) <= 64):
                raise InvalidInput("Idempotency-Key must be a UUID or 1-64 characters.", code="invalid",
                                   attr="Idempotency-Key") from None
        fingerprint = request_fingerprint(request)
        record, claimed = _claim(request.user, key, fingerprint)
        if not claimed:
            if record.fingerprint != fingerprint:
                raise KeyReused()
            if record.status == IdempotencyKey.Status.IN_PROGRESS:
                raise KeyInProgress()
            replay = Response(record.response_body, status=record.response_status)
            replay["Idempotent-Replayed"] = "true"
            return replay

        try:
            try:
                response = view_method(view, request, *args, **kwargs)
            except Exception as exc:
                response = view.handle_exception(exc)
        except BaseException:
            record.delete()
            raise
        if response.status_code >= 500:
            record.delete()
        else:
            # Encoded exactly as DRF renders it, so a replay is byte-for-byte what the client saw.
            body = None if response.data is None else json.loads(json.dumps(response.data, cls=DRFJSONEncoder))
            IdempotencyKey.objects.filter(pk=record.pk).update(
                status=IdempotencyKey.Status.COMPLETED,
                response_status=response.status_code,
                response_body=body,
                updated_at=timezone.now(),
            )
        return response

    return wrapper


def idempotency_purge(*, now=None) -> int:
    """Delete keys older than the TTL. Run hourly by beat."""
    now = now or timezone.now()
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=now - settings.IDEMPOTENCY_KEY_TTL).delete()
    return deleted
