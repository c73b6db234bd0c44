"""Client threads: random operations against the running API, each logged in the history.

Every money-moving POST carries a fresh `Idempotency-Key`. The retry policy is the one a
careful mobile client would use: a timeout, a dropped connection, a 5xx or a 409
`idempotency_key_in_progress` says nothing about whether the request took effect, so the
same request is sent again with the same key (backing off) until a definite answer — a 2xx
(`ok`) or another 4xx (`failed`: it did not happen) — or the budget runs out (`unknown`).
10% of calls are first sent with a client timeout far shorter than the server needs, so
they time out and are retried; 2% reuse an earlier key with another body and must get
422 `idempotency_key_reused`.

Deposits go through the gateway: the client creates the deposit, then plays the payment
provider and delivers the signed `payment.captured` webhook 1–3 times, sometimes with a
second captured event under another id and a `payment.failed` one, in shuffled order.
"""

import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import httpx

from bench.chaos.history import FAILED, OK, UNKNOWN, History
from bench.chaos.world import Investor, World

API = "/api/v1"
NORMAL_TIMEOUT = 10.0
RETRY_BUDGET = 20.0  # seconds one operation may spend retrying before it is `unknown`
SHORT_TIMEOUT_SHARE = 0.10
KEY_REUSE_SHARE = 0.02

# Relative weights of the operations.
WEIGHTS = {
    "deposit": 8, "buy": 22, "sell": 9, "cancel": 5, "withdrawal": 6, "read": 14,
    "bid_place": 9, "bid_modify": 4, "bid_withdraw": 3, "bid_accept": 5, "bid_reject": 2,
}


@dataclass
class Answer:
    outcome: str  # ok | failed | unknown
    status: int | None = None
    code: str | None = None
    data: dict | list | None = None
    attempts: int = 0
    client_timeouts: int = 0
    errors: list[str] = field(default_factory=list)


class Shared:
    """What the clients know about the world (ids from acknowledged answers), shared between
    threads. Only a guide for choosing plausible operations: the checker never trusts it."""

    def __init__(self, world: World):
        self.lock = threading.Lock()
        self.world = world
        self.investors = {investor.user_id: investor for investor in world.investors}
        self.holdings = dict(world.holdings)
        self.secondary: dict[int, tuple[int, int, Decimal]] = {}  # listing -> (seller, offering, price)
        self.bids: dict[int, tuple[int, int, int]] = {}  # bid -> (bidder, listing, seller)
        self.keys: list[tuple[int, str, str, str, dict | None]] = []  # for key reuse: (user, key, method, path, body)


def _error_code(data) -> str | None:
    """The error code of API.md's error shape (`{"type": …, "errors": [{"code": …}]}`)."""
    if not isinstance(data, dict):
        return None
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return errors[0].get("code")
    return data.get("code")


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


class Client(threading.Thread):
    def __init__(self, *, number: int, base_url: str, shared: Shared, history: History, seed: int, until: float,
                 think: float, webhook_signer):
        super().__init__(name=f"client-{number}", daemon=True)
        self.process = number
        self.shared = shared
        self.history = history
        self.rng = random.Random(seed * 1000 + number)
        self.until = until
        self.think = think
        self.sign_webhook = webhook_signer
        self.http = httpx.Client(base_url=base_url, timeout=NORMAL_TIMEOUT)
        self.crashed: BaseException | None = None

    # --- transport -----------------------------------------------------------------------------

    def call(self, method: str, path: str, *, investor: Investor | None = None, key: str | None = None,
             body: dict | None = None, content: bytes | None = None, headers: dict | None = None,
             short_first: bool = False) -> Answer:
        answer = Answer(outcome=UNKNOWN)
        sent_headers = dict(headers or {})
        if investor is not None:
            sent_headers["Authorization"] = f"Bearer {investor.token}"
        if key is not None:
            sent_headers["Idempotency-Key"] = key
        deadline = time.monotonic() + RETRY_BUDGET
        delay = 0.2
        while True:
            answer.attempts += 1
            timeout = self.rng.uniform(0.001, 0.03) if short_first and answer.attempts == 1 else NORMAL_TIMEOUT
            try:
                response = self.http.request(method, path, json=body if content is None else None, content=content,
                                             headers=sent_headers, timeout=timeout)
            except httpx.TimeoutException as exc:
                answer.client_timeouts += 1
                answer.errors.append(type(exc).__name__)
            except httpx.HTTPError as exc:
                answer.errors.append(type(exc).__name__)
            else:
                answer.status = response.status_code
                try:
                    answer.data = response.json()
                except ValueError:
                    answer.data = None
                answer.code = _error_code(answer.data)
                if response.status_code < 400:
                    answer.outcome = OK
                    return answer
                indefinite = response.status_code >= 500 or answer.code == "idempotency_key_in_progress"
                if not indefinite:
                    answer.outcome = FAILED
                    return answer
                answer.errors.append(f"{response.status_code} {answer.code or ''}".strip())
            if time.monotonic() + delay > deadline:
                answer.outcome = UNKNOWN
                return answer
            time.sleep(delay * (0.5 + self.rng.random()))
            delay = min(delay * 2, 3.0)

    def act(self, f: str, investor: Investor, method: str, path: str, body: dict | None, *,
            idempotent: bool = True, extra: dict | None = None) -> Answer:
        """One logged operation: invoked, then ok / failed / unknown with what the checker needs."""
        key = uuid.uuid4().hex
        value = {"user": investor.user_id, "key": key, "method": method, "path": path, "body": body, **(extra or {})}
        invoked = self.history.invoke(self.process, f, value)
        answer = self.call(method, path, investor=investor, key=key, body=body,
                           short_first=self.rng.random() < SHORT_TIMEOUT_SHARE)
        self.history.complete(invoked, answer.outcome, self._result(answer))
        if idempotent and answer.outcome in (OK, FAILED):
            with self.shared.lock:
                self.shared.keys.append((investor.user_id, key, method, path, body))
        return answer

    @staticmethod
    def _result(answer: Answer) -> dict:
        result = {"status": answer.status, "code": answer.code, "attempts": answer.attempts,
                  "client_timeouts": answer.client_timeouts}
        if answer.errors:
            result["errors"] = answer.errors[-5:]
        if answer.outcome == OK and isinstance(answer.data, dict):
            result["data"] = answer.data
        return result

    # --- choosing ------------------------------------------------------------------------------

    def investor(self, *, rich_only: bool = False) -> Investor:
        people = [p for p in self.shared.world.investors if p.rich] if rich_only else self.shared.world.investors
        return self.rng.choice(people)

    def run(self) -> None:
        operations = list(WEIGHTS)
        weights = [WEIGHTS[name] for name in operations]
        try:
            while time.monotonic() < self.until:
                if self.rng.random() < KEY_REUSE_SHARE and self.shared.keys:
                    self.op_reuse()
                else:
                    getattr(self, f"op_{self.rng.choices(operations, weights)[0]}")()
                time.sleep(self.rng.uniform(0, 2 * self.think))
        except BaseException as exc:  # a bug in the client must fail the run, not hide
            self.crashed = exc
            raise
        finally:
            self.http.close()

    # --- operations ----------------------------------------------------------------------------

    def op_read(self) -> None:
        investor = self.investor()
        path = self.rng.choice(["/wallet/", "/holdings/", "/marketplace/", "/trades/", "/bids/?side=received",
                                "/wallet/withdrawals/", "/listings/"])
        invoked = self.history.invoke(self.process, "read", {"user": investor.user_id, "path": API + path})
        answer = self.call("GET", API + path, investor=investor)
        result = {"status": answer.status, "attempts": answer.attempts}
        if path == "/wallet/" and answer.outcome == OK and isinstance(answer.data, dict):
            result["data"] = answer.data  # the checker asserts no negative balance was ever shown
        self.history.complete(invoked, answer.outcome, result)

    def op_deposit(self) -> None:
        investor = self.investor()
        amount = Decimal(self.rng.randint(10_000, 2_000_000)) / 100
        answer = self.act("deposit", investor, "POST", f"{API}/wallet/deposits/",
                          {"amount": _money(amount), "method": "gateway"})
        if answer.outcome != OK:
            return
        deposit_id = answer.data["id"]
        payment_id = answer.data["payment_url"].rstrip("/").rsplit("/", 1)[-1]
        first = f"evt_chaos_{uuid.uuid4().hex}"
        deliveries = [("payment.captured", first)] * self.rng.randint(1, 3)
        if self.rng.random() < 0.25:
            deliveries.append(("payment.captured", f"evt_chaos_{uuid.uuid4().hex}"))  # the provider sends twice
        if self.rng.random() < 0.15:
            deliveries.append(("payment.failed", f"evt_chaos_{uuid.uuid4().hex}"))
        self.rng.shuffle(deliveries)
        for event_type, event_id in deliveries:
            headers, body = self.sign_webhook(event_type=event_type, payment_id=payment_id, amount=amount,
                                              event_id=event_id)
            invoked = self.history.invoke(self.process, "deposit_webhook",
                                          {"deposit_id": deposit_id, "event_id": event_id, "event": event_type,
                                           "amount": _money(amount), "user": investor.user_id})
            delivered = self.call("POST", f"{API}/webhooks/payments/sandbox/", content=body, headers=headers,
                                  short_first=self.rng.random() < SHORT_TIMEOUT_SHARE)
            self.history.complete(invoked, delivered.outcome, self._result(delivered))

    def _listing_to_buy(self, buyer: Investor) -> tuple[int, int] | None:
        with self.shared.lock:
            secondary = [(listing, offering) for listing, (seller, offering, _price) in self.shared.secondary.items()
                         if seller != buyer.user_id]
        primary = [(listing.listing_id, listing.offering_id) for listing in self.shared.world.primary]
        if secondary and (self.rng.random() < 0.3 or not primary):
            return self.rng.choice(secondary)
        return self.rng.choice(primary) if primary else None

    def op_buy(self) -> None:
        investor = self.investor()
        target = self._listing_to_buy(investor)
        if target is None:
            return
        listing_id, offering_id = target
        units = self.rng.randint(1, 5)
        answer = self.act("buy", investor, "POST", f"{API}/listings/{listing_id}/buy/", {"units": units},
                          extra={"listing": listing_id, "offering": offering_id})
        if answer.outcome == OK:
            self._gain(investor.user_id, offering_id, units)
        elif answer.code in ("listing_closed", "insufficient_units") and listing_id in self.shared.secondary:
            with self.shared.lock:
                self.shared.secondary.pop(listing_id, None)

    def _gain(self, user_id: int, offering_id: int, units: int) -> None:
        with self.shared.lock:
            self.shared.holdings[(user_id, offering_id)] = self.shared.holdings.get((user_id, offering_id), 0) + units

    def op_sell(self) -> None:
        with self.shared.lock:
            owned = [(user, offering, units) for (user, offering), units in self.shared.holdings.items() if units > 0]
        if not owned:
            return
        user_id, offering_id, units_owned = self.rng.choice(owned)
        investor = self.shared.investors[user_id]
        units = self.rng.randint(1, min(4, units_owned))
        price = Decimal(self.rng.randint(980, 1080)) + Decimal(self.rng.randint(0, 99)) / 100
        answer = self.act("sell", investor, "POST", f"{API}/listings/",
                          {"offering": offering_id, "units": units, "price_per_unit": _money(price)},
                          extra={"offering": offering_id})
        if answer.outcome == OK:
            with self.shared.lock:
                self.shared.secondary[answer.data["id"]] = (user_id, offering_id, price)
                self.shared.holdings[(user_id, offering_id)] -= units
        elif answer.code == "insufficient_units":
            with self.shared.lock:
                self.shared.holdings[(user_id, offering_id)] = 0

    def op_cancel(self) -> None:
        with self.shared.lock:
            listings = list(self.shared.secondary.items())
        if not listings:
            return
        listing_id, (seller_id, _offering, _price) = self.rng.choice(listings)
        answer = self.act("cancel", self.shared.investors[seller_id], "POST", f"{API}/listings/{listing_id}/cancel/",
                          None, extra={"listing": listing_id})
        if answer.outcome in (OK, FAILED):
            with self.shared.lock:
                self.shared.secondary.pop(listing_id, None)

    def op_withdrawal(self) -> None:
        investor = self.investor()
        amount = Decimal(self.rng.randint(1_000, 300_000)) / 100
        if self.rng.random() < 0.1:
            amount = amount.quantize(Decimal("1")) + Decimal("0.13")  # the sandbox payout refuses these
        self.act("withdrawal", investor, "POST", f"{API}/wallet/withdrawals/",
                 {"amount": _money(amount), "bank_account": investor.bank_account_id})

    # --- bids ------------------------------------------------------------------------------------

    def op_bid_place(self) -> None:
        investor = self.investor()
        with self.shared.lock:
            listings = [(listing, seller, offering, price)
                        for listing, (seller, offering, price) in self.shared.secondary.items()
                        if seller != investor.user_id]
        if not listings:
            return
        listing_id, seller_id, offering_id, ask = self.rng.choice(listings)
        units = self.rng.randint(1, 3)
        # Mostly below the ask (a resting bid); sometimes at it (executes as a buy at the ask).
        price = ask if self.rng.random() < 0.1 else ask - Decimal(self.rng.randint(1, 60))
        answer = self.act("bid_place", investor, "POST", f"{API}/bids/",
                          {"listing": listing_id, "units": units, "price_per_unit": _money(price)},
                          extra={"listing": listing_id, "offering": offering_id})
        if answer.outcome == OK:
            if answer.data.get("trade"):
                self._gain(investor.user_id, offering_id, answer.data["trade"]["units"])
            else:
                with self.shared.lock:
                    self.shared.bids[answer.data["id"]] = (investor.user_id, listing_id, seller_id)

    def _bid(self) -> tuple[int, tuple[int, int, int]] | None:
        with self.shared.lock:
            bids = list(self.shared.bids.items())
        return self.rng.choice(bids) if bids else None

    def _forget_bid_unless_open(self, bid_id: int, answer: Answer) -> None:
        closed = answer.outcome == FAILED or (isinstance(answer.data, dict) and answer.data.get("status") not in
                                              (None, "open", "partially_accepted"))
        if closed:
            with self.shared.lock:
                self.shared.bids.pop(bid_id, None)

    def op_bid_modify(self) -> None:
        chosen = self._bid()
        if chosen is None:
            return
        bid_id, (bidder_id, listing_id, _seller) = chosen
        body = {"units": self.rng.randint(1, 4)}
        if self.rng.random() < 0.5:
            body["price_per_unit"] = _money(Decimal(self.rng.randint(900, 1000)))
        # PATCH is not an idempotent-key endpoint; it is a "set", so resending it is safe.
        answer = self.act("bid_modify", self.shared.investors[bidder_id], "PATCH", f"{API}/bids/{bid_id}/", body,
                          idempotent=False, extra={"bid": bid_id, "listing": listing_id})
        self._forget_bid_unless_open(bid_id, answer)

    def op_bid_withdraw(self) -> None:
        chosen = self._bid()
        if chosen is None:
            return
        bid_id, (bidder_id, listing_id, _seller) = chosen
        answer = self.act("bid_withdraw", self.shared.investors[bidder_id], "POST", f"{API}/bids/{bid_id}/withdraw/",
                          None, extra={"bid": bid_id, "listing": listing_id})
        self._forget_bid_unless_open(bid_id, answer)

    def op_bid_reject(self) -> None:
        chosen = self._bid()
        if chosen is None:
            return
        bid_id, (_bidder, listing_id, seller_id) = chosen
        answer = self.act("bid_reject", self.shared.investors[seller_id], "POST", f"{API}/bids/{bid_id}/reject/",
                          None, extra={"bid": bid_id, "listing": listing_id})
        self._forget_bid_unless_open(bid_id, answer)

    def op_bid_accept(self) -> None:
        chosen = self._bid()
        if chosen is None:
            return
        bid_id, (bidder_id, listing_id, seller_id) = chosen
        body = {"units": 1} if self.rng.random() < 0.3 else {}
        answer = self.act("bid_accept", self.shared.investors[seller_id], "POST", f"{API}/bids/{bid_id}/accept/",
                          body, extra={"bid": bid_id, "listing": listing_id, "bidder": bidder_id})
        if answer.outcome == OK:
            self._gain(bidder_id, answer.data["offering"], answer.data["units"])
        if answer.outcome == FAILED or (answer.outcome == OK and not body):
            with self.shared.lock:
                self.shared.bids.pop(bid_id, None)

    # --- key reuse -------------------------------------------------------------------------------

    def op_reuse(self) -> None:
        """An earlier key (its request finished) with another body: must be refused, never run."""
        with self.shared.lock:
            user_id, key, method, path, body = self.rng.choice(self.shared.keys)
        changed = dict(body or {})
        for name in ("units", "amount", "price_per_unit"):
            if name in changed:
                changed[name] = changed[name] + 1 if name == "units" else _money(Decimal(changed[name]) + 1)
                break
        else:
            changed["reused"] = True
        investor = self.shared.investors[user_id]
        invoked = self.history.invoke(self.process, "key_reuse",
                                      {"user": user_id, "key": key, "method": method, "path": path, "body": changed})
        answer = self.call(method, path, investor=investor, key=key, body=changed)
        self.history.complete(invoked, answer.outcome, self._result(answer))
