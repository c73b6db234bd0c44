-- wallet_post_entry(): ledger_post's writes as one PostgreSQL call. What it does and why:
-- wallet/posting/__init__.py. Loaded by wallet's migrations (core.migration_operations.LoadSQLFile):
-- a change here needs a new migration; tests/core/test_sql_functions.py keeps the installed
-- function equal to this file and its column lists equal to the models.
CREATE OR REPLACE FUNCTION wallet_post_entry(
    p_kind varchar, p_reference varchar, p_memo varchar, p_created_by bigint, p_idempotency_key varchar,
    p_at timestamptz, p_debits bigint[], p_credits bigint[], p_amounts numeric[],
    p_impersonator bigint, p_ip inet, p_request_id varchar,
    OUT posted_entry bigint, OUT short_account bigint, OUT short_kind varchar, OUT short_balance numeric,
    OUT short_after numeric, OUT locked_ids bigint[], OUT locked_balances numeric[])
LANGUAGE plpgsql AS $$
DECLARE
    old_balances numeric[];
    kinds varchar[];
    debit_after numeric[] := '{}';
    credit_after numeric[] := '{}';
    slot integer;
BEGIN
    SELECT coalesce(array_agg(account.id ORDER BY account.id), '{}'),
           coalesce(array_agg(account.balance ORDER BY account.id), '{}'),
           coalesce(array_agg(account.kind ORDER BY account.id), '{}')
      INTO locked_ids, old_balances, kinds
      FROM (SELECT id, balance, kind FROM wallet_ledgeraccount
             WHERE id = ANY (p_debits || p_credits) AND NOT is_system
             ORDER BY id FOR NO KEY UPDATE) AS account;

    locked_balances := old_balances;
    FOR leg IN 1 .. array_length(p_amounts, 1) LOOP
        slot := array_position(locked_ids, p_debits[leg]);
        IF slot IS NOT NULL THEN
            locked_balances[slot] := locked_balances[slot] - p_amounts[leg];
        END IF;
        debit_after := array_append(debit_after, locked_balances[slot]);
        slot := array_position(locked_ids, p_credits[leg]);
        IF slot IS NOT NULL THEN
            locked_balances[slot] := locked_balances[slot] + p_amounts[leg];
        END IF;
        credit_after := array_append(credit_after, locked_balances[slot]);
    END LOOP;

    FOR slot IN 1 .. coalesce(array_length(locked_ids, 1), 0) LOOP
        IF locked_balances[slot] < 0 THEN
            short_account := locked_ids[slot];
            short_kind := kinds[slot];
            short_balance := old_balances[slot];
            short_after := locked_balances[slot];
            RETURN;
        END IF;
    END LOOP;

    INSERT INTO wallet_journalentry (kind, reference, memo, created_by_id, created_at, idempotency_key)
    VALUES (p_kind, left(p_reference, 100), left(p_memo, 255), p_created_by, p_at, p_idempotency_key)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id INTO posted_entry;
    IF posted_entry IS NULL THEN
        RETURN;  -- a twin with the same idempotency key committed first
    END IF;

    INSERT INTO wallet_transfer (entry_id, created_at, debit_account_id, credit_account_id, amount,
                                 debit_balance_after, credit_balance_after)
    SELECT posted_entry, p_at, leg.*
      FROM unnest(p_debits, p_credits, p_amounts, debit_after, credit_after) AS leg;

    UPDATE wallet_ledgeraccount AS account
       SET balance = account.balance + (change.new_balance - change.old_balance)
      FROM unnest(locked_ids, old_balances, locked_balances) AS change(id, old_balance, new_balance)
     WHERE account.id = change.id AND change.new_balance <> change.old_balance;

    INSERT INTO core_auditevent (actor_id, impersonator_id, action, target_type, target_id, data, ip,
                                 request_id, at)
    VALUES (p_created_by, p_impersonator, 'ledger.posted', 'wallet.journalentry', posted_entry::text,
            jsonb_build_object(
                'kind', p_kind, 'reference', p_reference,
                'transfers', (SELECT jsonb_agg(jsonb_build_array(leg.debit, leg.credit, leg.amount::text)
                                               ORDER BY leg.number)
                                FROM unnest(p_debits, p_credits, p_amounts) WITH ORDINALITY
                                     AS leg(debit, credit, amount, number))),
            p_ip, p_request_id, p_at);
END
$$;
