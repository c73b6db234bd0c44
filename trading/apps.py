from django.apps import AppConfig


class TradingConfig(AppConfig):
    name = "trading"
    verbose_name = "Trading"

    def ready(self) -> None:
        from trading.reconcile import units_differences
        from wallet.reconcile import register_reconcile_check

        register_reconcile_check("trading.units")(units_differences)
