"""`Idempotency-Key` for money-moving POSTs (API.md, Conventions).

A view opts in with `@idempotent`. Requests with the same user and key:

- same fingerprint (method, path, body) and finished → the stored status and body again;
- another fingerprint → 422 `idempotency_key_reused`;
- still running → 409 `idempotency_key_in_progress`.

A 5xx is not stored (the client may retry); 4xx answers are, like any other outcome. Keys
expire after `IDEMPOTENCY_KEY_TTL` (24 h).

By default (`@idempotent`) the key is claimed, the view runs and its response is stored in
ONE transaction, so the effect and the record of it commit together or not at all. A
request that dies half-way (a killed worker, a dropped connection, a 5xx) leaves nothing
behind and its key free for the retry; there is no window in which the effect has
committed but the key would let it run again. Twins are kept apart by a transaction-level
advisory lock on (user, key) on PostgreSQL (the loser answers 409 at once instead of
waiting on the unique index) and by SQLite's IMMEDIATE transactions on the embedded
default. A deadlock or serialization failure inside the view is retried here, the whole
request again, since the services' own retry cannot run inside this transaction. When the
view raises a refusal (4xx), its effects are rolled back and the refusal is stored in a
second short transaction.

A view that calls an outside service must not hold a transaction open while it waits
(`@idempotent(atomic=False)`, only the deposit, which creates the gateway's order): its key
is claimed in a statement of its own first, the view runs, the response is stored after.
A key such a request leaves `in_progress` (its process died between committing the effect
and storing the response) is never taken over: the effect may have happened, so running
the request again could move money twice. It answers 409 until it expires; the client
checks the outcome (the list endpoints show it) and uses a new key if nothing happened.
Found by the chaos test (docs/reliability.md).
"""

import contextlib
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
from core.retry import is_retryable, retry_on_deadlock
from core.transactions import request_transaction

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


def _take_over_if_expired(existing: IdempotencyKey, fingerprint: str, now) -> bool:
    """Reuse an expired key's row for a new request; only one request can win the update."""
    if existing.created_at >= now - settings.IDEMPOTENCY_KEY_TTL:
        return False
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
    return bool(taken)


def _claim(user, key: str, fingerprint: str) -> tuple[IdempotencyKey, bool]:
    """Insert the key in a statement of its own (claimed=True) or return the existing row
    (claimed=False). The `atomic=False` mode."""
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
        if _take_over_if_expired(existing, fingerprint, now):
            return existing, True
        if existing.created_at < now - settings.IDEMPOTENCY_KEY_TTL:
            continue  # another request took the expired row over first
        return existing, False
    raise KeyInProgress()


# Advisory locks on (user, key) use PostgreSQL's two-int4 form, a key space apart from the
# one-bigint locks elsewhere (accounts' sign-in lock); the first int names this use.
ADVISORY_LOCK_CLASS = 0x1DE4


def _advisory_lock_id(user_id: int, key: str) -> int:
    digest = hashlib.sha256(f"{user_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


def _claim_in_transaction(user, key: str, fingerprint: str) -> tuple[IdempotencyKey, bool]:
    """Claim the key inside the caller's transaction: (row, True) when this request owns it
    until the transaction ends, (row, False) for a key another request finished. A twin
    still running answers 409 (`KeyInProgress`)."""
    now = timezone.now()
    if transaction.get_connection().vendor == "postgresql":
        table = IdempotencyKey._meta.db_table
        with transaction.get_connection().cursor() as cursor:
            # One round trip: try the lock, and only if it was granted insert the key. A key
            # another transaction holds the lock for is running now; one in the table without
            # the lock held was finished (or left in progress by an `atomic=False` request).
            cursor.execute(
                f"WITH lock AS (SELECT pg_try_advisory_xact_lock(%s, %s) AS granted), "  # noqa: S608
                f"claim AS (INSERT INTO {table} (user_id, key, fingerprint, status, created_at, updated_at) "
                f"SELECT %s, %s, %s, %s, %s, %s FROM lock WHERE granted "
                f"ON CONFLICT (user_id, key) DO NOTHING RETURNING id) "
                f"SELECT lock.granted, (SELECT id FROM claim) FROM lock",
                [ADVISORY_LOCK_CLASS, _advisory_lock_id(user.pk, key), user.pk, key, fingerprint,
                 IdempotencyKey.Status.IN_PROGRESS, now, now],
            )
            granted, claimed_id = cursor.fetchone()
        if not granted:
            raise KeyInProgress()
        if claimed_id is not None:
            return IdempotencyKey(pk=claimed_id, user=user, key=key, fingerprint=fingerprint, created_at=now,
                                  updated_at=now), True
    else:
        # SQLite's IMMEDIATE transactions hold the write lock from BEGIN: no twin runs beside us.
        if not IdempotencyKey.objects.filter(user=user, key=key).exists():
            return IdempotencyKey.objects.create(user=user, key=key, fingerprint=fingerprint), True
    existing = IdempotencyKey.objects.filter(user=user, key=key).first()
    if existing is None:
        raise KeyInProgress()  # an expired row purged between our insert and this read: retry
    if _take_over_if_expired(existing, fingerprint, now):
        return existing, True
    return existing, False


def _stored_answer(record: IdempotencyKey, fingerprint: str) -> Response:
    """What a key someone else claimed answers: its stored response, or why not."""
    if record.fingerprint != fingerprint:
        raise KeyReused()
    if record.status == IdempotencyKey.Status.IN_PROGRESS:
        raise KeyInProgress()
    replay = Response(record.response_body, status=record.response_status)
    replay["Idempotent-Replayed"] = "true"
    return replay


def _store(record: IdempotencyKey, response: Response) -> None:
    # Encoded exactly as DRF renders it, so a replay is byte-for-byte what the client saw.
    body = None if response.data is None else json.loads(json.dumps(response.data, cls=DRFJSONEncoder))
    IdempotencyKey.objects.filter(pk=record.pk).update(
        status=IdempotencyKey.Status.COMPLETED,
        response_status=response.status_code,
        response_body=body,
        updated_at=timezone.now(),
    )


class _ViewFailed(Exception):
    """Leaves the request's transaction (rolling it back) with the view's failure."""

    def __init__(self, *, error: Exception | None = None, response: Response | None = None):
        super().__init__()
        self.error = error
        self.response = response


def _key_of(request) -> str | None:
    key = request.META.get(HEADER)
    if not key or not request.user.is_authenticated:
        return None
    key = key.strip()
    try:
        uuid.UUID(key)
    except ValueError:
        if not (1 <= len(key) <= 64):
            raise InvalidInput("Idempotency-Key must be a UUID or 1-64 characters.", code="invalid",
                               attr="Idempotency-Key") from None
    return key


@retry_on_deadlock
def _run_in_one_transaction(view_method, view, request, args, kwargs, key: str, fingerprint: str) -> Response:
    try:
        with request_transaction():
            record, claimed = _claim_in_transaction(request.user, key, fingerprint)
            if not claimed:
                return _stored_answer(record, fingerprint)
            try:
                response = view_method(view, request, *args, **kwargs)
            except Exception as exc:
                if is_retryable(exc):
                    raise  # the whole request runs again (retry_on_deadlock)
                raise _ViewFailed(error=exc) from exc
            if response.status_code >= 500:
                raise _ViewFailed(response=response)
            _store(record, response)
            return response
    except _ViewFailed as failed:
        response = failed.response or view.handle_exception(failed.error)
    # The view's effects are rolled back with the claim. A refusal is an outcome like any
    # other: store it, unless a twin claimed the key in between (then the twin's stands).
    if response.status_code < 500:
        with contextlib.suppress(KeyInProgress), transaction.atomic():
            record, claimed = _claim_in_transaction(request.user, key, fingerprint)
            if claimed:
                _store(record, response)
    return response


def _run_claimed_first(view_method, view, request, args, kwargs, key: str, fingerprint: str) -> Response:
    record, claimed = _claim(request.user, key, fingerprint)
    if not claimed:
        return _stored_answer(record, fingerprint)
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
        _store(record, response)
    return response


def idempotent(view_method=None, *, atomic: bool = True):
    """Decorate a DRF view method (`post`) to honour `Idempotency-Key`; without the header
    the view runs as usual. With `atomic=True` (the default) the view runs inside the key's
    transaction, so it must make no outside call; `atomic=False` is for one that does (see
    the module docstring). Either way the view must not run inside an outer transaction."""

    def decorate(method):
        run = _run_in_one_transaction if atomic else _run_claimed_first

        @functools.wraps(method)
        def wrapper(view, request, *args, **kwargs):
            key = _key_of(request)
            if key is None:
                return method(view, request, *args, **kwargs)
            return run(method, view, request, args, kwargs, key, request_fingerprint(request))

        return wrapper

    return decorate(view_method) if view_method is not None else decorate


def idempotency_purge(*, now=None) -> int:
    """Delete keys older than the TTL. Run hourly by beat."""
    now = now or timezone.now()
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=now - settings.IDEMPOTENCY_KEY_TTL).delete()
    return deleted
