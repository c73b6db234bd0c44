from django.apps import AppConfig


class ServicingConfig(AppConfig):
    name = "servicing"
    verbose_name = "Servicing"

    def ready(self) -> None:
        from servicing.reconcile import servicing_differences
        from wallet.reconcile import register_reconcile_check

        register_reconcile_check("servicing")(servicing_differences)
