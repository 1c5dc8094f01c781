-- one row per current, not retracted case-person link
with

links as (select * from incident_persons),

final as (
    select
        incident_id,
        person_id,
        role,
        timezone('Europe/Oslo', updated_at) as updated_at
    from links
    where not retracted
)

select * from final
