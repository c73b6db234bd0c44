from django.apps import AppConfig


class BiddingConfig(AppConfig):
    name = "bidding"
    verbose_name = "Bidding"

    def ready(self) -> None:
        # The wallet's reconcile compares each `bid:<id>` hold with the bid's `held_amount`.
        from bidding import holds  # noqa: F401
