from django.db import models


class ApiCall(models.Model):
    """One call to an outside service: the API status page and the audit of what we sent."""

    class Outcome(models.TextChoices):
        OK = "ok"
        ERROR = "error"
        TIMEOUT = "timeout"

    service = models.CharField(max_length=32)
    provider = models.CharField(max_length=32)
    operation = models.CharField(max_length=64)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField()
    attempts = models.PositiveSmallIntegerField(default=1)
    error = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=("service", "created_at"))]

    def __str__(self) -> str:
        return f"{self.service}.{self.operation} {self.outcome} {self.latency_ms} ms"


class OutboundMessage(models.Model):
    """What the console (sandbox) SMS and email adapters 'sent': the demo's inbox."""

    channel = models.CharField(max_length=8, default="sms")
    to = models.CharField(max_length=254)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-id",)

    def __str__(self) -> str:
        return f"{self.channel} to {self.to}"
