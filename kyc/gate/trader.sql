-- kyc_trader(): the onboarding gate inside another statement. What it does and why:
-- kyc/gate/__init__.py. Loaded by kyc's migrations (core.migration_operations.LoadSQLFile): a
-- change here needs a new migration; tests/core/test_sql_functions.py keeps the installed
-- function equal to this file.
CREATE OR REPLACE FUNCTION kyc_trader(p_user bigint, p_kyc_verified varchar, p_bank_verified varchar,
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
