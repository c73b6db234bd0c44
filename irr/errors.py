"""Errors raised by the irr package.

Every error is an ``IrrError`` with a stable machine-readable ``code`` and a human
``detail``. The package imports nothing from Django, so these are plain exceptions; the API
layer maps ``IrrError`` to HTTP 422 with ``code`` in one place.
"""

from __future__ import annotations

from decimal import Decimal


class IrrError(Exception):
    """Base class: the inputs have no answer (as opposed to a programming error)."""

    code = "irr_error"
    default_detail = "The cash flows have no rate of return."

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or self.default_detail
        super().__init__(self.detail)


class TooFewFlows(IrrError):
    """Fewer than two flows, or every flow on one date (pyxirr returns 0.0 there; we refuse)."""

    code = "too_few_flows"
    default_detail = "A rate of return needs at least two flows on at least two dates."


class NoSignChange(IrrError):
    """All flows have one sign, or are zero: no rate makes their present value zero."""

    code = "no_sign_change"
    default_detail = "The flows need at least one payment and one receipt."


class DidNotConverge(IrrError):
    """No root was found: Newton, the bracketing search and the scan of guesses all failed.

    With one sign change a root always exists, so this happens only for flows with several
    sign changes and no real root (or a root outside the searched interval).
    """

    code = "did_not_converge"
    default_detail = "No rate of return was found for these flows."


class InvalidRate(IrrError):
    """A rate (or guess) at or below -100%, or not a finite number."""

    code = "invalid_rate"
    default_detail = "The rate must be a finite number above -100%."


class InvalidFlow(IrrError):
    """A flow amount that is not a finite number, a date that is not a date, or a flow
    dated before settlement."""

    code = "invalid_flow"
    default_detail = "Every flow must have a finite amount."


class InvalidSchedule(IrrError):
    """Schedule parameters that describe no schedule (unknown kind, maturity before start...)."""

    code = "invalid_schedule"
    default_detail = "The schedule parameters are not valid."


class CannotAmortize(InvalidSchedule):
    """A schedule that would not repay its principal in the way its kind promises: an EMI
    whose interest reaches its level payment, or whose level payment rounds to 0.00, or any
    schedule repaid before its last row (ending in rows of 0.00)."""

    code = "cannot_amortize"
    default_detail = "The schedule cannot repay its principal with these terms."


class NotDivisible(IrrError):
    """The principal does not split into whole paise per unit for this unit count."""

    code = "not_divisible"

    def __init__(self, principal: Decimal, units: int, suggestions: list[int]) -> None:
        self.principal = principal
        self.units = units
        self.suggestions = suggestions
        counts = ", ".join(str(count) for count in suggestions) or "none"
        super().__init__(
            f"{principal} does not divide into whole paise over {units} units; "
            f"unit counts that would: {counts}."
        )


class UnitTooSmall(IrrError):
    """Rounded to paise, the per-unit schedule's XIRR at par strays too far from its rate."""

    code = "unit_too_small"
    default_detail = (
        "The unit face value is too small: rounded to paise, the schedule does not yield its rate."
    )
