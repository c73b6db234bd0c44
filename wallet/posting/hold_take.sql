-- wallet_hold_take(): take an amount from the wallet hold of a reference, under its lock, or
-- refuse (raised, SQLSTATE TRD01: the caller has written before it). Used by trading_settle()
-- for a bid's fill (trading/settlement/settle.sql); the ORM's twin is
-- wallet.services.wallet_pay_from_hold. Loaded by wallet's migrations (LoadSQLFile).
CREATE OR REPLACE FUNCTION wallet_hold_take(p_user bigint, p_reference varchar, p_amount numeric, p_at timestamptz)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    hold_id bigint;
    held numeric;
BEGIN
    SELECT id, amount INTO hold_id, held FROM wallet_wallethold
     WHERE user_id = p_user AND reference = p_reference FOR UPDATE;
    IF hold_id IS NULL OR p_amount > held THEN
        RAISE EXCEPTION USING ERRCODE = 'TRD01', MESSAGE = 'hold_exceeded',
              DETAIL = concat_ws(' ', coalesce(held, 0.00), p_amount);
    END IF;
    UPDATE wallet_wallethold SET amount = amount - p_amount, updated_at = p_at WHERE id = hold_id;
END
$$;
