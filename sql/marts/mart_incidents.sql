-- one row per reported case, current version, times in Europe/Oslo local time
with

incidents as (select * from incidents),

codes as (select * from ref_offence_codes),

final as (
    select
        -- ids
        i.incident_id,
        -- what
        i.offence_code,
        c.offence_group,
        i.target_type,
        i.entry_method,
        i.planned,
        i.participants,
        cast(i.value_nok as double) as value_nok,
        -- where
        i.lat,
        i.lon,
        i.municipality_no,
        -- status
        i.status,
        i.arrest_at_scene,
        -- timestamps (local)
        timezone('Europe/Oslo', i.reported_at) as reported_at,
        timezone('Europe/Oslo', i.occurred_from) as occurred_from,
        timezone('Europe/Oslo', i.occurred_to) as occurred_to,
        timezone('Europe/Oslo', i.updated_at) as updated_at,
        i.batch_id
    from incidents as i
    left join codes as c using (offence_code)
)

select * from final
