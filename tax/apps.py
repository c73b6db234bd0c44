from django.apps import AppConfig


class TaxConfig(AppConfig):
    name = "tax"
    verbose_name = "Tax"

    def ready(self) -> None:
        from tax.reconcile import tds_differences
        from wallet.reconcile import register_reconcile_check

        register_reconcile_check("tax.tds")(tds_differences)
