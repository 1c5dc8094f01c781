-- one row per case as known at the instant d (a TIMESTAMPTZ): newest version updated before d, reported before d
create or replace macro incidents_as_of(d) as table
with

versions as (
    select *
    from stg_incidents
    where updated_at < d and reported_at < d
    qualify row_number() over (
        partition by incident_id order by updated_at desc, batch_id desc, line desc
    ) = 1
)

select
    v.incident_id,
    v.offence_code,
    c.offence_group,
    v.target_type,
    v.entry_method,
    v.planned,
    v.participants,
    cast(v.value_nok as double) as value_nok,
    v.lat,
    v.lon,
    v.municipality_no,
    v.status,
    v.arrest_at_scene,
    timezone('Europe/Oslo', v.reported_at) as reported_at,
    timezone('Europe/Oslo', v.occurred_from) as occurred_from,
    timezone('Europe/Oslo', v.occurred_to) as occurred_to,
    timezone('Europe/Oslo', v.updated_at) as updated_at,
    v.batch_id
from versions as v
left join ref_offence_codes as c using (offence_code)
