from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "invoices"
    verbose_name = "Primary platform"

    def ready(self) -> None:
        from invoices.services.parties import party_invitation_scope_register

        party_invitation_scope_register()  # a party's members join by invitation (accounts.invitations)
