from django.apps import AppConfig
from django.db.models.signals import post_migrate


class WalletConfig(AppConfig):
    name = "wallet"
    verbose_name = "Wallet"

    def ready(self) -> None:
        from wallet.services.accounts import wallet_forget_cached_accounts

        # A flush (which emits post_migrate) deletes the accounts whose ids are cached.
        post_migrate.connect(wallet_forget_cached_accounts, dispatch_uid="wallet_forget_cached_accounts")
