-- one row per card transaction as known at the instant d
create or replace macro card_transactions_as_of(d) as table
select
    transaction_id,
    incident_id,
    card_ref,
    timezone('Europe/Oslo', "at") as "at",
    cast(amount_nok as double) as amount_nok,
    merchant_category,
    merchant_ref,
    approved,
    pin_used,
    lat,
    lon
from stg_card_transactions
where updated_at < d
qualify row_number() over (
    partition by transaction_id order by updated_at desc, batch_id desc, line desc
) = 1
