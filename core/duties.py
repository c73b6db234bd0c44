"""Separation of duties: nobody decides on their own submission, anywhere.

One rule for every review queue (KYC, offline deposits, Form 15G/15H, and the verification
queues to come: commission payments, fund KYC …): the person who decides must not be the
person who submitted. A verifier approving their own 15G pays no tax on their own interest;
one approving their own deposit credits themselves.

Use, inside the service that decides, after loading (and locking) the submission:

    duty_check_not_own(actor=actor, submitter_id=submission.user_id)

It raises `OwnSubmission` (403, `cannot_decide_own_submission`), or the subclass a queue
passes as `error` where its contract already names a code (`cannot_verify_own_deposit`).
tests/security/test_separation_of_duties.py runs the rule through every queue.
"""

from core.errors import PermissionDenied


class OwnSubmission(PermissionDenied):
    code = "cannot_decide_own_submission"
    default_detail = "Nobody may decide on their own submission; another reviewer must."


def duty_check_not_own(*, actor, submitter_id: int | None, error: type[OwnSubmission] = OwnSubmission) -> None:
    if actor is None or submitter_id is None or actor.pk == submitter_id:
        raise error()
