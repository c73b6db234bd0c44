"""One outbox handler per event kind: each turns an event into notifications for the people
it concerns (or, for `listing.changed`, into a marketplace push; for `user.access_changed`,
into a re-check of the user's open sockets, which is safe to repeat).

Payloads are the contracts the publishing apps write (they carry everything needed, so this
module imports none of those apps). Each notification's `event_key` makes it idempotent:
`(user, event_key)` is unique, so a handler that runs twice for one event creates one row
and sends one SMS/email.

- Events with their own id key on it: `trade.executed:<trade_id>`, `deposit.credited:<id>` …
- `kyc.verified`, `kyc.rejected`, `kyc.manual_review` and `impersonation.started` carry no
  event id. Their key is the payload's digest plus a ten-minute window, so a repeat of the
  same event inside the window is dropped, while the same thing happening again later (a
  second rejection, another support session) is a new notification. A repeat that straddles
  a window boundary shows twice; an event id in those payloads would remove even that.
"""

import hashlib
import json
import logging
from decimal import Decimal

from django.utils import timezone

from core.money import to_money
from core.outbox import outbox_handler
from notifications import live
from notifications.enums import NotificationKind as Kind
from notifications.services import NotificationMessage, notification_send_many

logger = logging.getLogger(__name__)

DEDUPE_WINDOW_SECONDS = 600


def _rupees(amount) -> str:
    """₹ with Indian digit grouping: 1234567.5 → ₹12,34,567.50."""
    value = to_money(amount if isinstance(amount, Decimal) else str(amount))
    sign = "-" if value < 0 else ""
    whole, fraction = f"{abs(value):.2f}".split(".")
    if len(whole) > 3:
        head, tail = whole[:-3], whole[-3:]
        groups = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        whole = ",".join([head, *groups, tail]) if head else ",".join([*groups, tail])
    return f"{sign}₹{whole}.{fraction}"


def _money(amount) -> str:
    return str(to_money(str(amount)))


def _windowed_key(topic: str, payload: dict) -> str:
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:24]
    window = int(timezone.now().timestamp()) // DEDUPE_WINDOW_SECONDS
    return f"{topic}:{digest}:{window}"


def _send(*messages: NotificationMessage) -> None:
    notification_send_many(messages=list(messages))


# --- KYC ----------------------------------------------------------------------------------

@outbox_handler("kyc.verified", batch=True)
def on_kyc_verified(payloads: list[dict]) -> None:
    _send(*(NotificationMessage(
        user_id=payload["user_id"], kind=Kind.KYC_VERIFIED, event_key=_windowed_key("kyc.verified", payload),
        title="KYC verified", body="Your identity is verified. You can now add money and invest.",
    ) for payload in payloads))


@outbox_handler("kyc.rejected", batch=True)
def on_kyc_rejected(payloads: list[dict]) -> None:
    _send(*map(_kyc_rejected, payloads))


def _kyc_rejected(payload: dict) -> NotificationMessage:
    reason = payload.get("reason") or "The documents could not be verified."
    return NotificationMessage(
        user_id=payload["user_id"], kind=Kind.KYC_REJECTED, event_key=_windowed_key("kyc.rejected", payload),
        title="KYC not approved", body=f"We could not verify your KYC: {reason} Please update it and resubmit.",
        data={"reason": reason},
    )


@outbox_handler("kyc.manual_review", batch=True)
def on_kyc_manual_review(payloads: list[dict]) -> None:
    _send(*(NotificationMessage(
        user_id=payload["user_id"], kind=Kind.KYC_MANUAL_REVIEW,
        event_key=_windowed_key("kyc.manual_review", payload),
        title="KYC under review", body="Our team is reviewing your KYC. We will let you know shortly.",
    ) for payload in payloads))


# --- Wallet -------------------------------------------------------------------------------

@outbox_handler("deposit.credited", batch=True)
def on_deposit_credited(payloads: list[dict]) -> None:
    _send(*map(_deposit_credited, payloads))


def _deposit_credited(payload: dict) -> NotificationMessage:
    amount = payload["amount"]
    return NotificationMessage(
        user_id=payload["user_id"], kind=Kind.DEPOSIT_CREDITED, event_key=f"deposit.credited:{payload['deposit_id']}",
        title="Money added", body=f"{_rupees(amount)} was added to your wallet.",
        data={"deposit_id": payload["deposit_id"], "amount": _money(amount)},
    )


@outbox_handler("deposit.rejected", batch=True)
def on_deposit_rejected(payloads: list[dict]) -> None:
    _send(*map(_deposit_rejected, payloads))


def _deposit_rejected(payload: dict) -> NotificationMessage:
    amount, note = payload["amount"], payload.get("note") or ""
    body = f"Your deposit of {_rupees(amount)} was not accepted." + (f" {note}" if note else "")
    return NotificationMessage(
        user_id=payload["user_id"], kind=Kind.DEPOSIT_REJECTED, event_key=f"deposit.rejected:{payload['deposit_id']}",
        title="Deposit rejected", body=body,
        data={"deposit_id": payload["deposit_id"], "amount": _money(amount), "note": note},
    )


@outbox_handler("withdrawal.paid", batch=True)
def on_withdrawal_paid(payloads: list[dict]) -> None:
    _send(*map(_withdrawal_paid, payloads))


def _withdrawal_paid(payload: dict) -> NotificationMessage:
    amount = payload["amount"]
    return NotificationMessage(
        user_id=payload["user_id"], kind=Kind.WITHDRAWAL_PAID,
        event_key=f"withdrawal.paid:{payload['withdrawal_id']}",
        title="Withdrawal paid", body=f"{_rupees(amount)} was sent to your bank account.",
        data={"withdrawal_id": payload["withdrawal_id"], "amount": _money(amount)},
    )


@outbox_handler("withdrawal.failed", batch=True)
def on_withdrawal_failed(payloads: list[dict]) -> None:
    _send(*map(_withdrawal_failed, payloads))


def _withdrawal_failed(payload: dict) -> NotificationMessage:
    amount = payload["amount"]
    return NotificationMessage(
        user_id=payload["user_id"], kind=Kind.WITHDRAWAL_FAILED,
        event_key=f"withdrawal.failed:{payload['withdrawal_id']}",
        title="Withdrawal failed",
        body=f"Your withdrawal of {_rupees(amount)} could not be paid; the money is back in your wallet.",
        data={"withdrawal_id": payload["withdrawal_id"], "amount": _money(amount)},
    )


# --- Trading and bidding ------------------------------------------------------------------

@outbox_handler("trade.executed", batch=True)
def on_trade_executed(payloads: list[dict]) -> None:
    _send(*(message for payload in payloads for message in _trade_executed(payload)))


def _trade_executed(payload: dict) -> list[NotificationMessage]:
    units, price, amount = payload["units"], payload["price_per_unit"], payload["amount"]
    data = {"trade_id": payload["trade_id"], "listing_id": payload["listing_id"],
            "offering_id": payload["offering_id"], "units": units, "price_per_unit": _money(price),
            "amount": _money(amount)}
    key = f"trade.executed:{payload['trade_id']}"
    messages = [NotificationMessage(
        user_id=payload["buyer_id"], kind=Kind.TRADE_EXECUTED, event_key=key, title="Units bought",
        body=f"You bought {units} units of offering #{payload['offering_id']} at {_rupees(price)} each "
             f"({_rupees(amount)}).",
        data={**data, "side": "buy"},
    )]
    if payload.get("seller_id") is not None:  # None: sold from the platform's own inventory
        messages.append(NotificationMessage(
            user_id=payload["seller_id"], kind=Kind.TRADE_EXECUTED, event_key=key, title="Units sold",
            body=f"You sold {units} units of offering #{payload['offering_id']} at {_rupees(price)} each "
                 f"({_rupees(amount)}).",
            data={**data, "side": "sell"},
        ))
    return messages


def _bid_data(payload: dict) -> dict:
    return {"bid_id": payload["bid_id"], "listing_id": payload["listing_id"], "units": payload["units"],
            "price_per_unit": _money(payload["price_per_unit"])}


@outbox_handler("bid.placed", batch=True)
def on_bid_placed(payloads: list[dict]) -> None:
    _send(*(NotificationMessage(
        user_id=payload["seller_id"], kind=Kind.BID_RECEIVED, event_key=f"bid.placed:{payload['bid_id']}",
        title="New bid on your listing",
        body=f"A bid for {payload['units']} units at {_rupees(payload['price_per_unit'])} each on listing "
             f"#{payload['listing_id']}.",
        data=_bid_data(payload),
    ) for payload in payloads))


def _bid_outcomes(payloads: list[dict], *, topic: str, kind: str, title: str, verb: str) -> None:
    _send(*(NotificationMessage(
        # A bid can be accepted in parts: each trade is its own notification.
        user_id=payload["bidder_id"], kind=kind, event_key=f"{topic}:{payload['bid_id']}:{payload.get('trade_id', '')}",
        title=title,
        body=f"Your bid for {payload['units']} units at {_rupees(payload['price_per_unit'])} each on listing "
             f"#{payload['listing_id']} was {verb}.",
        data=_bid_data(payload),
    ) for payload in payloads))


@outbox_handler("bid.accepted", batch=True)
def on_bid_accepted(payloads: list[dict]) -> None:
    _bid_outcomes(payloads, topic="bid.accepted", kind=Kind.BID_ACCEPTED, title="Bid accepted", verb="accepted")


@outbox_handler("bid.rejected", batch=True)
def on_bid_rejected(payloads: list[dict]) -> None:
    _bid_outcomes(payloads, topic="bid.rejected", kind=Kind.BID_REJECTED, title="Bid rejected",
                  verb="rejected; the held amount is back in your wallet")


@outbox_handler("bid.expired", batch=True)
def on_bid_expired(payloads: list[dict]) -> None:
    _bid_outcomes(payloads, topic="bid.expired", kind=Kind.BID_EXPIRED, title="Bid expired",
                  verb="not accepted in time; the held amount is back in your wallet")


# --- Servicing ----------------------------------------------------------------------------

@outbox_handler("distribution.paid", batch=True)
def on_distribution_paid(payloads: list[dict]) -> None:
    _send(*(message for payload in payloads for message in _distribution_paid(payload)))


def _distribution_paid(payload: dict) -> list[NotificationMessage]:
    # One line per holder is expected; should a holder appear twice, they get one
    # notification with the sum rather than losing a line to the unique key.
    totals: dict[int, dict[str, Decimal]] = {}
    for line in payload["lines"]:
        total = totals.setdefault(line["user_id"], {"gross": Decimal(0), "tds": Decimal(0), "net": Decimal(0)})
        for part in ("gross", "tds", "net"):
            total[part] += to_money(str(line[part]))
    offering_id = payload["offering_id"]
    return [
        NotificationMessage(
            user_id=user_id, kind=Kind.DISTRIBUTION_PAID,
            event_key=f"distribution.paid:{payload['distribution_id']}", title="Repayment received",
            body=f"{_rupees(total['net'])} from offering #{offering_id} was added to your wallet "
                 f"({_rupees(total['gross'])} less TDS {_rupees(total['tds'])}).",
            data={"distribution_id": payload["distribution_id"], "offering_id": offering_id,
                  **{part: str(value) for part, value in total.items()}},
        )
        for user_id, total in totals.items()
    ]


@outbox_handler("offering.defaulted", batch=True)
def on_offering_defaulted(payloads: list[dict]) -> None:
    _send(*(message for payload in payloads for message in _offering_defaulted(payload)))


def _offering_defaulted(payload: dict) -> list[NotificationMessage]:
    offering_id, reason = payload["offering_id"], payload.get("reason") or ""
    return [
        NotificationMessage(
            user_id=user_id, kind=Kind.OFFERING_DEFAULTED, event_key=f"offering.defaulted:{offering_id}",
            title="Offering in default",
            body=f"Offering #{offering_id}, which you hold, is in default." + (f" {reason}" if reason else "")
                 + " We will keep you informed about recovery.",
            data={"offering_id": offering_id, "reason": reason},
        )
        for user_id in dict.fromkeys(payload["holder_ids"])
    ]


# --- Security -----------------------------------------------------------------------------

@outbox_handler("user.access_changed")
def on_user_access_changed(payload: dict) -> None:
    live.push_session_recheck(user_id=payload["user_id"])


@outbox_handler("impersonation.started", batch=True)
def on_impersonation_started(payloads: list[dict]) -> None:
    # The staff member's id stays out of the user's view; the audit trail has it.
    _send(*(NotificationMessage(
        user_id=payload["user_id"], kind=Kind.IMPERSONATION_STARTED,
        event_key=_windowed_key("impersonation.started", payload), title="Support is viewing your account",
        body="A Tranche administrator started a support session on your account. If you did not ask for help, "
             "contact us at once.",
    ) for payload in payloads))


# --- Marketplace (not a notification: a live push to everyone watching) -------------------

@outbox_handler("listing.changed", batch=True, ordered_by="listing_id")
def on_listing_changed(payloads: list[dict]) -> None:
    """Ordered per listing: the throttle keeps the latest state, so an older state handled after
    a newer one would be pushed as the listing's current state."""
    listings = []
    for payload in payloads:
        listing = dict(payload)
        for field in ("price_per_unit", "best_bid"):
            if listing.get(field) is not None:
                listing[field] = _money(listing[field])
        listings.append(listing)
    live.marketplace_listings_changed(listings=listings)
