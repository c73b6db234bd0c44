-- trading_settle(): one fill of a listing (a buy, or an accepted bid paid from its hold) in one
-- PostgreSQL call. Loaded by trading's migrations (core.migration_operations.LoadSQLFile);
-- trading/settlement/__init__.py says what it does and why it is SQL.
CREATE OR REPLACE FUNCTION trading_settle(
    p_listing bigint, p_buyer bigint, p_units integer, p_price numeric, p_now timestamptz,
    p_tradable varchar[], p_open varchar, p_filled varchar, p_primary varchar, p_posted varchar,
    p_sold_out varchar, p_unit_transfer_kind varchar, p_available varchar,
    p_buyer_fee_bps integer, p_seller_fee_bps integer,
    p_pay_account bigint, p_hold_reference varchar, p_fees_account bigint, p_proceeds_account bigint,
    p_bid bigint, p_entry_kind varchar, p_entry_reference varchar,
    p_impersonator bigint, p_ip inet, p_request_id varchar,
    p_pending varchar, p_trade_handlers varchar[], p_closed_handlers varchar[], p_changed_handlers varchar[],
    OUT outcome varchar, OUT offering_status varchar,
    OUT l_id bigint, OUT l_offering_id bigint, OUT l_kind varchar, OUT l_seller_id bigint,
    OUT l_seller_holding_id bigint, OUT l_units_offered integer, OUT l_units_remaining integer,
    OUT l_price_per_unit numeric, OUT l_min_units integer, OUT l_opens_at timestamptz,
    OUT l_closes_at timestamptz, OUT l_status varchar, OUT l_xirr numeric, OUT l_xirr_as_of date,
    OUT l_created_at timestamptz, OUT l_closed_at timestamptz,
    OUT t_id bigint, OUT t_entry_id bigint, OUT t_amount numeric, OUT t_buyer_fee numeric,
    OUT t_seller_fee numeric, OUT t_seller_cost_basis numeric)
LANGUAGE plpgsql AS $$
DECLARE
    holding record;
    seller_units integer;
    seller_cost numeric;
    buyer_holding bigint;
    payee bigint;
    debits bigint[];
    credits bigint[];
    amounts numeric[];
    posting record;
    inventory integer;
BEGIN
    SELECT listing.id, listing.offering_id, listing.kind, listing.seller_id, listing.seller_holding_id,
           listing.units_offered, listing.units_remaining, listing.price_per_unit, listing.min_units,
           listing.opens_at, listing.closes_at, listing.status, listing.xirr, listing.xirr_as_of,
           listing.created_at, listing.closed_at, offering.status
      INTO l_id, l_offering_id, l_kind, l_seller_id, l_seller_holding_id, l_units_offered,
           l_units_remaining, l_price_per_unit, l_min_units, l_opens_at, l_closes_at, l_status, l_xirr,
           l_xirr_as_of, l_created_at, l_closed_at, offering_status
      FROM trading_listing AS listing
      JOIN trading_offering AS offering ON offering.id = listing.offering_id
     WHERE listing.id = p_listing
       FOR UPDATE OF listing;
    IF NOT FOUND THEN
        outcome := 'not_found';
        RETURN;
    END IF;
    IF NOT (offering_status = ANY (p_tradable))
       OR l_status <> p_open OR l_opens_at > p_now OR (l_closes_at IS NOT NULL AND p_now >= l_closes_at)
       OR l_seller_id = p_buyer
       OR p_units > l_units_remaining
       OR p_units < least(l_min_units, l_units_remaining) THEN
        outcome := 'refused';
        RETURN;
    END IF;

    IF l_kind = p_primary THEN
        payee := p_proceeds_account;
    ELSE
        SELECT id INTO payee FROM wallet_ledgeraccount WHERE owner_id = l_seller_id AND kind = p_available;
        IF payee IS NULL THEN
            outcome := 'no_payee_wallet';
            RETURN;
        END IF;
    END IF;

    FOR holding IN SELECT id, owner_id, units, cost_basis FROM trading_holding
                    WHERE id = l_seller_holding_id OR (owner_id = p_buyer AND offering_id = l_offering_id)
                    ORDER BY id FOR UPDATE LOOP
        IF holding.id = l_seller_holding_id THEN
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
        VALUES (p_buyer, l_offering_id, 0, 0, 0, p_now, p_now)
        ON CONFLICT DO NOTHING RETURNING id INTO buyer_holding;
        IF buyer_holding IS NULL THEN
            SELECT id INTO buyer_holding FROM trading_holding
             WHERE owner_id = p_buyer AND offering_id = l_offering_id FOR UPDATE;
        END IF;
    END IF;

    t_amount := round(coalesce(p_price, l_price_per_unit) * p_units, 2);
    t_buyer_fee := round(t_amount * p_buyer_fee_bps / 10000::numeric, 2);
    t_seller_fee := CASE WHEN l_kind = p_primary THEN 0.00
                         ELSE round(t_amount * p_seller_fee_bps / 10000::numeric, 2) END;

    IF p_hold_reference IS NOT NULL THEN
        PERFORM wallet_hold_take(p_buyer, p_hold_reference, t_amount + t_buyer_fee, p_now);
    END IF;

    debits := ARRAY[p_pay_account];
    credits := ARRAY[payee];
    amounts := ARRAY[t_amount];
    IF t_buyer_fee > 0 THEN
        debits := debits || p_pay_account;
        credits := credits || p_fees_account;
        amounts := amounts || t_buyer_fee;
    END IF;
    IF t_seller_fee > 0 THEN
        debits := debits || payee;
        credits := credits || p_fees_account;
        amounts := amounts || t_seller_fee;
    END IF;
    SELECT * INTO posting
      FROM wallet_post_entry(p_entry_kind, p_entry_reference,
                             format('%s units of offering %s', p_units, l_offering_id), p_buyer, NULL, p_now,
                             debits, credits, amounts, p_impersonator, p_ip, p_request_id);
    IF posting.short_account IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'TRD01', MESSAGE = 'insufficient_funds',
              DETAIL = concat_ws(' ', posting.short_kind, posting.short_balance, posting.short_after);
    END IF;
    t_entry_id := posting.posted_entry;

    t_seller_cost_basis := CASE WHEN seller_units = p_units THEN seller_cost
                                ELSE round(seller_cost * p_units / seller_units, 2) END;
    l_units_remaining := l_units_remaining - p_units;
    IF l_units_remaining = 0 THEN
        l_status := p_filled;
        l_closed_at := p_now;
    END IF;
    UPDATE trading_holding
       SET units = units - p_units, units_listed = units_listed - p_units,
           cost_basis = cost_basis - t_seller_cost_basis, updated_at = p_now
     WHERE id = l_seller_holding_id;
    UPDATE trading_holding SET units = units + p_units, cost_basis = cost_basis + t_amount, updated_at = p_now
     WHERE id = buyer_holding;
    UPDATE trading_listing SET units_remaining = l_units_remaining, status = l_status, closed_at = l_closed_at
     WHERE id = l_id;
    INSERT INTO trading_trade (listing_id, offering_id, buyer_id, seller_id, units, price_per_unit, amount,
                               buyer_fee, seller_fee, seller_cost_basis, journal_entry_id, bid_id, created_at)
    VALUES (l_id, l_offering_id, p_buyer, l_seller_id, p_units, coalesce(p_price, l_price_per_unit), t_amount,
            t_buyer_fee, t_seller_fee, t_seller_cost_basis, t_entry_id, p_bid, p_now)
    RETURNING id INTO t_id;
    INSERT INTO trading_unittransfer (offering_id, from_holding_id, to_holding_id, units, kind, trade_id,
                                      reference, created_at)
    VALUES (l_offering_id, l_seller_holding_id, buyer_holding, p_units, p_unit_transfer_kind, t_id, '', p_now);

    IF l_kind = p_primary AND l_units_remaining = 0 THEN
        SELECT units INTO inventory FROM trading_holding WHERE offering_id = l_offering_id AND owner_id IS NULL;
        IF coalesce(inventory, 0) = 0 THEN
            UPDATE trading_offering SET status = p_sold_out WHERE id = l_offering_id AND status = p_posted;
        END IF;
    END IF;

    -- The domain events, one message per registered handler, in the order
    -- `trading.services._publish_fill` writes them on the ORM path (same payloads).
    INSERT INTO core_outboxmessage (topic, handler, payload, status, attempts, last_error, available_at, created_at)
    SELECT event.topic, handler.name, event.payload, p_pending, 0, '', p_now, p_now
      FROM (VALUES
              (1, 'trade.executed', p_trade_handlers, jsonb_build_object(
                  'trade_id', t_id, 'listing_id', l_id, 'offering_id', l_offering_id, 'buyer_id', p_buyer,
                  'seller_id', l_seller_id, 'units', p_units,
                  'price_per_unit', coalesce(p_price, l_price_per_unit)::text, 'amount', t_amount::text,
                  'bid_id', p_bid)),
              (2, 'listing.closed', CASE WHEN l_status = p_filled THEN p_closed_handlers ELSE '{}' END,
               jsonb_build_object('listing_id', l_id, 'offering_id', l_offering_id, 'status', l_status)),
              (3, 'listing.changed', p_changed_handlers, jsonb_build_object(
                  'listing_id', l_id, 'offering_id', l_offering_id, 'units_remaining', l_units_remaining,
                  'status', l_status, 'price_per_unit', l_price_per_unit::text))
           ) AS event(number, topic, handlers, payload),
           unnest(event.handlers) WITH ORDINALITY AS handler(name, number)
     ORDER BY event.number, handler.number;
    outcome := 'ok';
END
$$;
