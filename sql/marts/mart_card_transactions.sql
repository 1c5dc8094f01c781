-- one row per card transaction, current version, local time
with

tx as (select * from card_transactions),

final as (
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
    from tx
)

select * from final
