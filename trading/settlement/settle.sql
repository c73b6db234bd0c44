-- trading_settle(): one fill of a listing (a buy, or an accepted bid paid from its hold) as one
-- PostgreSQL call. What it does and why it is SQL: trading/settlement/__init__.py. The rules it
-- applies are trading/settlement/rules.py's; tests keep the two writers alike
-- (tests/trading/test_settlement_writers.py) and this file equal to the installed function and
-- its column lists equal to the models (tests/core/test_sql_functions.py). Loaded by trading's
-- migrations (core.migration_operations.LoadSQLFile): a change here needs a new migration.
--
-- Called with named arguments (trading/settlement/sql.py). Names the code defines (statuses,
-- kinds, the outbox's handlers) are arguments, not copies. Locks, in the global order: the
-- listing, the seller's and the buyer's holdings by id (the buyer's created on a first buy),
-- the bid's wallet hold (inside wallet_hold_take), the user ledger accounts (inside
-- wallet_post_entry, the ledger's only writer here).
--
-- A refusal found before any write is an `outcome`: `not_found`; `refused` (the listing comes
-- back and Python's check_fill words the rule); `no_payee_wallet` / `no_buyer_wallet` (Python
-- opens that wallet and calls again). One found after the buyer's holding may have been
-- created is raised, so the statement undoes it: SQLSTATE TRD01 with `hold_exceeded` or
-- `insufficient_funds` and the figures in the detail. Then `ok`, with the listing as it now
-- is (the table's own row type, so a new column of the table needs no change here) and the
-- trade's figures.
CREATE OR REPLACE FUNCTION trading_settle(
    p_listing bigint, p_buyer bigint, p_units integer, p_price numeric, p_now timestamptz,
    p_tradable varchar[], p_open varchar, p_filled varchar, p_primary varchar, p_posted varchar,
    p_sold_out varchar, p_unit_transfer_kind varchar,
    p_available varchar, p_pay_kind varchar, p_hold_reference varchar,
    p_buyer_fee_bps integer, p_seller_fee_bps integer, p_fees_account bigint, p_proceeds_account bigint,
    p_bid bigint, p_entry_kind varchar, p_entry_reference varchar,
    p_impersonator bigint, p_ip inet, p_request_id varchar,
    p_pending varchar, p_trade_handlers varchar[], p_closed_handlers varchar[], p_changed_handlers varchar[],
    OUT outcome varchar, OUT offering_status varchar, OUT listing trading_listing,
    OUT trade_id bigint, OUT entry_id bigint, OUT amount numeric, OUT buyer_fee numeric,
    OUT seller_fee numeric, OUT seller_cost_basis numeric)
LANGUAGE plpgsql AS $$
DECLARE
    holding record;
    seller_units integer;
    seller_cost numeric;
    buyer_holding bigint;
    pay_account bigint;
    payee bigint;
    price numeric;
    debits bigint[];
    credits bigint[];
    amounts numeric[];
    posting record;
    inventory integer;
BEGIN
    SELECT * INTO listing FROM trading_listing WHERE id = p_listing FOR UPDATE;
    IF listing.id IS NULL THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    SELECT status INTO offering_status FROM trading_offering WHERE id = listing.offering_id;
    IF NOT (offering_status = ANY (p_tradable))
       OR listing.status <> p_open OR listing.opens_at > p_now
       OR (listing.closes_at IS NOT NULL AND p_now >= listing.closes_at)
       OR listing.seller_id = p_buyer
       OR p_units > listing.units_remaining
       OR p_units < least(listing.min_units, listing.units_remaining) THEN
        outcome := 'refused';
        RETURN;
    END IF;

    SELECT id INTO pay_account FROM wallet_ledgeraccount WHERE owner_id = p_buyer AND kind = p_pay_kind;
    IF pay_account IS NULL THEN
        outcome := 'no_buyer_wallet';
        RETURN;
    END IF;
    IF listing.kind = p_primary THEN
        payee := p_proceeds_account;
    ELSE
        SELECT id INTO payee FROM wallet_ledgeraccount WHERE owner_id = listing.seller_id AND kind = p_available;
        IF payee IS NULL THEN
            outcome := 'no_payee_wallet';
            RETURN;
        END IF;
    END IF;

    FOR holding IN SELECT id, owner_id, units, cost_basis FROM trading_holding
                    WHERE id = listing.seller_holding_id OR (owner_id = p_buyer AND offering_id = listing.offering_id)
                    ORDER BY id FOR UPDATE LOOP
        IF holding.id = listing.seller_holding_id THEN
            seller_units := holding.units;
            seller_cost := holding.cost_basis;
        ELSE
            buyer_holding := holding.id;
        END IF;
    END LOOP;
    IF buyer_holding IS NULL THEN
        -- Inserted after the seller's is locked, so the order holds; a concurrent twin insert
        -- waits on the unique index, inserts nothing, and theirs is locked instead.
        INSERT INTO trading_holding (owner_id, offering_id, units, units_listed, cost_basis, created_at, updated_at)
        VALUES (p_buyer, listing.offering_id, 0, 0, 0, p_now, p_now)
        ON CONFLICT DO NOTHING RETURNING id INTO buyer_holding;
        IF buyer_holding IS NULL THEN
            SELECT id INTO buyer_holding FROM trading_holding
             WHERE owner_id = p_buyer AND offering_id = listing.offering_id FOR UPDATE;
        END IF;
    END IF;

    -- rules.fill_figures: half up (round() on positive numerics), the seller's fee on secondary sales only.
    price := coalesce(p_price, listing.price_per_unit);
    amount := round(price * p_units, 2);
    buyer_fee := round(amount * p_buyer_fee_bps / 10000::numeric, 2);
    seller_fee := CASE WHEN listing.kind = p_primary THEN 0.00
                       ELSE round(amount * p_seller_fee_bps / 10000::numeric, 2) END;

    IF p_hold_reference IS NOT NULL THEN
        PERFORM wallet_hold_take(p_user => p_buyer, p_reference => p_hold_reference,
                                 p_amount => amount + buyer_fee, p_at => p_now);
    END IF;

    debits := ARRAY[pay_account];
    credits := ARRAY[payee];
    amounts := ARRAY[amount];
    IF buyer_fee > 0 THEN
        debits := debits || pay_account;
        credits := credits || p_fees_account;
        amounts := amounts || buyer_fee;
    END IF;
    IF seller_fee > 0 THEN
        debits := debits || payee;
        credits := credits || p_fees_account;
        amounts := amounts || seller_fee;
    END IF;
    SELECT * INTO posting
      FROM wallet_post_entry(p_kind => p_entry_kind, p_reference => p_entry_reference,
                             p_memo => format('%s units of offering %s', p_units, listing.offering_id),
                             p_created_by => p_buyer, p_idempotency_key => NULL, p_at => p_now,
                             p_debits => debits, p_credits => credits, p_amounts => amounts,
                             p_impersonator => p_impersonator, p_ip => p_ip, p_request_id => p_request_id);
    IF posting.short_account IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'TRD01', MESSAGE = 'insufficient_funds',
              DETAIL = concat_ws(' ', posting.short_kind, posting.short_balance, posting.short_after);
    END IF;
    entry_id := posting.posted_entry;

    -- rules.sold_cost and rules.listing_after_fill.
    seller_cost_basis := CASE WHEN seller_units = p_units THEN seller_cost
                              ELSE round(seller_cost * p_units / seller_units, 2) END;
    listing.units_remaining := listing.units_remaining - p_units;
    IF listing.units_remaining = 0 THEN
        listing.status := p_filled;
        listing.closed_at := p_now;
    END IF;
    UPDATE trading_holding
       SET units = units - p_units, units_listed = units_listed - p_units,
           cost_basis = cost_basis - seller_cost_basis, updated_at = p_now
     WHERE id = listing.seller_holding_id;
    UPDATE trading_holding SET units = units + p_units, cost_basis = cost_basis + amount, updated_at = p_now
     WHERE id = buyer_holding;
    UPDATE trading_listing
       SET units_remaining = listing.units_remaining, status = listing.status, closed_at = listing.closed_at
     WHERE id = listing.id;
    INSERT INTO trading_trade (listing_id, offering_id, buyer_id, seller_id, units, price_per_unit, amount,
                               buyer_fee, seller_fee, seller_cost_basis, journal_entry_id, bid_id, created_at)
    VALUES (listing.id, listing.offering_id, p_buyer, listing.seller_id, p_units, price, amount,
            buyer_fee, seller_fee, seller_cost_basis, entry_id, p_bid, p_now)
    RETURNING id INTO trade_id;
    INSERT INTO trading_unittransfer (offering_id, from_holding_id, to_holding_id, units, kind, trade_id,
                                      reference, created_at)
    VALUES (listing.offering_id, listing.seller_holding_id, buyer_holding, p_units, p_unit_transfer_kind, trade_id,
            '', p_now);

    -- trading.services.offerings.offering_mark_sold_out_if_done.
    IF listing.kind = p_primary AND listing.units_remaining = 0 THEN
        SELECT units INTO inventory FROM trading_holding
         WHERE offering_id = listing.offering_id AND owner_id IS NULL;
        IF coalesce(inventory, 0) = 0 THEN
            UPDATE trading_offering SET status = p_sold_out WHERE id = listing.offering_id AND status = p_posted;
        END IF;
    END IF;

    -- rules.fill_events: one message per registered handler, in the same order, same payloads.
    INSERT INTO core_outboxmessage (topic, handler, payload, status, attempts, last_error, available_at, created_at)
    SELECT event.topic, handler.name, event.payload, p_pending, 0, '', p_now, p_now
      FROM (VALUES
              (1, 'trade.executed', p_trade_handlers, jsonb_build_object(
                  'trade_id', trade_id, 'listing_id', listing.id, 'offering_id', listing.offering_id,
                  'buyer_id', p_buyer, 'seller_id', listing.seller_id, 'units', p_units,
                  'price_per_unit', price::text, 'amount', amount::text, 'bid_id', p_bid)),
              (2, 'listing.closed', CASE WHEN listing.status = p_filled THEN p_closed_handlers ELSE '{}' END,
               jsonb_build_object('listing_id', listing.id, 'offering_id', listing.offering_id,
                                  'status', listing.status)),
              (3, 'listing.changed', p_changed_handlers, jsonb_build_object(
                  'listing_id', listing.id, 'offering_id', listing.offering_id,
                  'units_remaining', listing.units_remaining, 'status', listing.status,
                  'price_per_unit', listing.price_per_unit::text))
           ) AS event(number, topic, handlers, payload),
           unnest(event.handlers) WITH ORDINALITY AS handler(name, number)
     ORDER BY event.number, handler.number;
    outcome := 'ok';
END
$$;
