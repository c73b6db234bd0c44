import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from accounts.services import token_for_user
from tests.accounts.factories import UserFactory


@pytest.fixture(autouse=True)
def _clean_cache():
    """Throttle counters and the like live in the cache; each test starts with none.
    Each xdist worker has its own Redis database, so this never touches another worker."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _forget_cached_accounts():
    """System-account ids are cached per process once committed; a test's rollback (or a
    `django_capture_on_commit_callbacks(execute=True)` inside it) can leave an id that no
    longer exists, which production never does, so each test starts with none."""
    from wallet.services.ledger import wallet_forget_cached_accounts

    wallet_forget_cached_accounts()
    yield
    wallet_forget_cached_accounts()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def authenticate(client: APIClient, user) -> APIClient:
    """Authenticate with a real access token, so the JWT path is exercised."""
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for_user(user).access_token}")
    return client


@pytest.fixture
def investor(db):
    return UserFactory()


@pytest.fixture
def investor_client(investor) -> APIClient:
    return authenticate(APIClient(), investor)


requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (row locks and SKIP LOCKED); SQLite serialises writers"
)


@pytest.fixture
def assert_reconciled():
    """Call at the end of a test that moves money: every wallet invariant holds
    (`wallet.reconcile.reconcile()` finds no difference)."""

    def check() -> None:
        from wallet.reconcile import reconcile

        differences = reconcile()
        assert differences == [], "reconcile found differences:\n" + "\n".join(differences)

    return check


@pytest.fixture
def assert_books_clean(assert_reconciled):
    """Money and units both: the wallet's reconcile and the units check (trading, servicing,
    bidding)."""

    def check() -> None:
        from trading.reconcile import units_differences

        assert units_differences() == []
        assert_reconciled()  # includes the units check through the registry

    return check


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Rows that data migrations create (the TDS rules) are wiped when a transactional test
    flushes the database; put them back, idempotently, before every database test."""
    import importlib

    from django.apps import apps

    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    if marker is None and not names & {"db", "transactional_db"}:
        return
    transactional = bool(marker and marker.kwargs.get("transaction")) or "transactional_db" in names
    request.getfixturevalue("transactional_db" if transactional else "db")
    importlib.import_module("tax.migrations.0004_seed_tax_rules").seed(apps, None)


@pytest.fixture(params=["sql", "orm"])
def writers(request, monkeypatch):
    """Run a test with each way the hot paths read and write: PostgreSQL's database functions
    (`wallet_post_entry` behind `ledger_post`, `trading_settle` behind a buy or a bid's fill)
    and the ORM's (SQLite's, also correct on PostgreSQL), so the two stay equivalent."""
    from trading import settlement as trading_settlement
    from wallet.services import ledger

    single = request.param == "sql"
    monkeypatch.setattr(ledger, "HAND_WRITTEN_SQL", single)
    monkeypatch.setattr(trading_settlement, "HAND_WRITTEN_SQL", single)
    return request.param
