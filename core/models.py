"""Core models live beside the code that owns them; imported here for Django."""

from core.audit import AuditEvent
from core.idempotency import IdempotencyKey
from core.outbox import OutboxMessage

__all__ = ["AuditEvent", "IdempotencyKey", "OutboxMessage"]
