"""Audit trail: who did what to which object, from where, and on whose behalf.

Every money movement, admin action and impersonated request writes one `AuditEvent`. Rows
are append-only: nothing in the code updates or deletes them, and on PostgreSQL a trigger
refuses both.
"""

from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from core import context


class AuditEvent(models.Model):
    # Written with every posting: `actor` is served by the (actor, at) index, `impersonator`
    # by a partial index over the few impersonated rows, so neither has a full one of its own.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    impersonator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        app_label = "core"
        ordering = ("-id",)
        indexes = [
            models.Index(fields=("action", "at")),
            models.Index(fields=("target_type", "target_id")),
            models.Index(fields=("actor", "at")),
            models.Index(fields=("impersonator",), name="audit_impersonated_idx",
                         condition=models.Q(impersonator__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id} by {self.actor_id}"


def audit_record(
    *,
    action: str,
    actor=None,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    data: dict[str, Any] | None = None,
    impersonator=None,
) -> AuditEvent:
    """Write one audit event. Request id, IP and impersonator come from the request context
    when the caller does not give them. Call it inside the transaction of the change it
    records, so both commit or neither does."""
    current = context.current()
    if target is not None:
        target_type = target._meta.label_lower
        target_id = target.pk
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        impersonator_id=impersonator.pk if impersonator is not None else current.impersonator_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        data=data or {},
        ip=current.ip,
        request_id=current.request_id,
    )
