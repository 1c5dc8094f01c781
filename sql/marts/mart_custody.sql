-- one row per custody period, current version, local time
with

custody as (select * from custody),

final as (
    select
        custody_id,
        person_id,
        kind,
        timezone('Europe/Oslo', start_at) as start_at,
        timezone('Europe/Oslo', end_at) as end_at
    from custody
)

select * from final
