from django.db import models


class DistributionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PAID = "paid", "Paid"


class DistributionSource(models.TextChoices):
    ADMIN = "admin", "Recorded by an admin against the offering"
    INVOICE = "invoice", "The offering's invoice was repaid"
