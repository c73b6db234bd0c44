import pytest


@pytest.fixture
def assert_books_clean(assert_reconciled):
    """Money and units both: the wallet's reconcile and the units check."""

    def check() -> None:
        from trading.reconcile import units_differences

        assert units_differences() == []
        assert_reconciled()  # includes the units check through the registry

    return check
