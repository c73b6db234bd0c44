"""Random sequences of deposits, holds, releases, payments, transfers and withdrawals. After
every step the books reconcile (each balance equals the sum of its transfers, all balances
sum to zero, holds and withdrawals in flight match) and every balance equals what a simple
model of the wallet expects."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from integrations.payments import SandboxPayments
from integrations.payouts import FAILED, PROCESSED
from tests.wallet.factories import verified_bank_account, verified_investor
from wallet.errors import HoldExceeded, InsufficientFunds
from wallet.holds import register_hold_provider, unregister_hold_provider
from wallet.reconcile import reconcile
from wallet.selectors import wallet_balance
from wallet.services import (
    deposit_create,
    payment_webhook_receive,
    wallet_hold,
    wallet_pay_from_hold,
    wallet_release,
    wallet_transfer,
    withdrawal_create,
    withdrawal_settle,
)

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("300.00"), places=2)
EXPECTED_HOLDS: dict[str, Decimal] = {}


class WalletMachine(RuleBasedStateMachine):
    @initialize()
    def open_wallets(self):
        self.users = [verified_investor() for _ in range(2)]
        self.bank_accounts = [verified_bank_account(user) for user in self.users]
        self.model = {user.pk: {"available": Decimal("0.00"), "held": Decimal("0.00"), "pending": Decimal("0.00")}
                      for user in self.users}
        self.holds: dict[str, tuple[int, Decimal]] = {}  # reference -> (user index, amount)
        self.withdrawals: list[tuple[int, object]] = []
        self.counter = 0

    def _reference(self, index):
        self.counter += 1
        return f"sm:{self.users[index].pk}:{self.counter}"

    @rule(index=st.integers(0, 1), amount=amounts)
    def deposit_through_the_gateway(self, index, amount):
        user = self.users[index]
        deposit = deposit_create(user=user, amount=amount, method="gateway")
        headers, body = SandboxPayments().sign_webhook(event_type="payment.captured",
                                                       payment_id=deposit.provider_payment_id, amount=amount)
        assert payment_webhook_receive(provider="sandbox", headers=headers, body=body) == "credited"
        self.model[user.pk]["available"] += amount

    @rule(index=st.integers(0, 1), amount=amounts)
    def hold(self, index, amount):
        user = self.users[index]
        reference = self._reference(index)
        if amount > self.model[user.pk]["available"]:
            with pytest.raises(InsufficientFunds):
                wallet_hold(user=user, amount=amount, reference=reference)
            return
        wallet_hold(user=user, amount=amount, reference=reference)
        self.holds[reference] = (index, amount)
        EXPECTED_HOLDS[reference] = amount
        self.model[user.pk]["available"] -= amount
        self.model[user.pk]["held"] += amount

    @precondition(lambda self: self.holds)
    @rule(data=st.data(), extra=st.booleans())
    def release(self, data, extra):
        reference = data.draw(st.sampled_from(sorted(self.holds)))
        index, held = self.holds[reference]
        user = self.users[index]
        if extra:
            with pytest.raises(HoldExceeded):
                wallet_release(user=user, amount=held + Decimal("0.01"), reference=reference)
            return
        amount = data.draw(st.decimals(min_value=Decimal("0.01"), max_value=held, places=2))
        wallet_release(user=user, amount=amount, reference=reference)
        self._shrink_hold(reference, amount)
        self.model[user.pk]["held"] -= amount
        self.model[user.pk]["available"] += amount

    @precondition(lambda self: self.holds)
    @rule(data=st.data())
    def pay_from_hold(self, data):
        reference = data.draw(st.sampled_from(sorted(self.holds)))
        index, held = self.holds[reference]
        payer, payee = self.users[index], self.users[1 - index]
        fee = Decimal("0.01") if held >= Decimal("0.02") else Decimal("0.00")
        amount = data.draw(st.decimals(min_value=Decimal("0.01"), max_value=held - fee, places=2))
        wallet_pay_from_hold(payer=payer, payee=payee, amount=amount, fee=fee, reference=reference)
        self._shrink_hold(reference, amount + fee)
        self.model[payer.pk]["held"] -= amount + fee
        self.model[payee.pk]["available"] += amount

    @rule(index=st.integers(0, 1), amount=amounts)
    def transfer(self, index, amount):
        payer, payee = self.users[index], self.users[1 - index]
        if amount > self.model[payer.pk]["available"]:
            with pytest.raises(InsufficientFunds):
                wallet_transfer(payer=payer, payee=payee, amount=amount, reference="sm-transfer")
            return
        wallet_transfer(payer=payer, payee=payee, amount=amount, reference="sm-transfer")
        self.model[payer.pk]["available"] -= amount
        self.model[payee.pk]["available"] += amount

    @rule(index=st.integers(0, 1), amount=amounts)
    def withdraw(self, index, amount):
        user = self.users[index]
        if amount > self.model[user.pk]["available"]:
            with pytest.raises(InsufficientFunds):
                withdrawal_create(user=user, amount=amount, bank_account_id=self.bank_accounts[index].pk)
            return
        withdrawal = withdrawal_create(user=user, amount=amount, bank_account_id=self.bank_accounts[index].pk)
        self.withdrawals.append((index, withdrawal))
        self.model[user.pk]["available"] -= amount
        self.model[user.pk]["pending"] += amount

    @precondition(lambda self: self.withdrawals)
    @rule(data=st.data(), paid=st.booleans())
    def settle_withdrawal(self, data, paid):
        index, withdrawal = self.withdrawals.pop(data.draw(st.integers(0, len(self.withdrawals) - 1)))
        user = self.users[index]
        withdrawal_settle(withdrawal_id=withdrawal.pk, status=PROCESSED if paid else FAILED,
                          failure_reason="" if paid else "test")
        self.model[user.pk]["pending"] -= withdrawal.amount
        if not paid:
            self.model[user.pk]["available"] += withdrawal.amount

    def _shrink_hold(self, reference, amount):
        index, held = self.holds[reference]
        left = held - amount
        EXPECTED_HOLDS[reference] = left
        if left:
            self.holds[reference] = (index, left)
        else:
            del self.holds[reference]

    @invariant()
    def books_reconcile_and_match_the_model(self):
        if not hasattr(self, "users"):
            return
        assert reconcile() == []
        for user in self.users:
            balance = wallet_balance(user=user)
            expected = self.model[user.pk]
            assert (balance.available, balance.held, balance.pending_withdrawal) == (
                expected["available"], expected["held"], expected["pending"])


@pytest.mark.django_db
def test_random_money_movements_keep_the_books_balanced():
    EXPECTED_HOLDS.clear()
    register_hold_provider("sm")(lambda: dict(EXPECTED_HOLDS))
    try:
        run_state_machine_as_test(WalletMachine, settings=settings(
            max_examples=12, stateful_step_count=12, deadline=None, derandomize=True,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ))
    finally:
        unregister_hold_provider("sm")
