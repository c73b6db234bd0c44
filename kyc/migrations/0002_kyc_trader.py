"""`kyc_trader()`: the onboarding gate inside another statement (ADR 0005, amendment 6).

`kyc_trader(user, …)` is the user's id when their KYC is verified and a bank account of
theirs is verified, the rule of `kyc.selectors.onboarding_status`'s `can_trade`. Otherwise it
raises SQLSTATE `KYC01` (`onboarding_incomplete`), with the facts Python words the refusal
from in the detail: the KYC status ('' for none) and whether a verified, a pending and a
failed bank account exist, as `true` or `false` (`kyc.permissions.raise_for_gate_refusal`).

A statement passes the buyer's id through it as an argument of the function that writes
(`trading_settle(listing, kyc_trader(buyer, …), …)`): arguments are evaluated before the
call, so a refusal leaves the writer unstarted and the statement has written nothing. The
statuses are parameters, not copies of the code's names. Volatile on purpose: the planner
never evaluates it ahead of the statement.
"""

from django.db import migrations

from core.migration_operations import RunSQLOnPostgres

FORWARD = """
CREATE FUNCTION kyc_trader(p_user bigint, p_kyc_verified varchar, p_bank_verified varchar,
                           p_bank_pending varchar, p_bank_failed varchar)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    kyc varchar;
    bank_verified boolean;
BEGIN
    SELECT status INTO kyc FROM kyc_kycprofile WHERE user_id = p_user;
    bank_verified := EXISTS (SELECT 1 FROM kyc_bankaccount WHERE user_id = p_user AND status = p_bank_verified);
    IF kyc = p_kyc_verified AND bank_verified THEN
        RETURN p_user;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'KYC01', MESSAGE = 'onboarding_incomplete',
          DETAIL = concat_ws(' ', coalesce(kyc, ''), bank_verified::text,
                             EXISTS (SELECT 1 FROM kyc_bankaccount WHERE user_id = p_user AND status = p_bank_pending)::text,
                             EXISTS (SELECT 1 FROM kyc_bankaccount WHERE user_id = p_user AND status = p_bank_failed)::text);
END
$$;
"""

BACKWARD = "DROP FUNCTION IF EXISTS kyc_trader(bigint, varchar, varchar, varchar, varchar);"


class Migration(migrations.Migration):
    dependencies = [("kyc", "0001_initial")]
    operations = [RunSQLOnPostgres(FORWARD, BACKWARD)]
