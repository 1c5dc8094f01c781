-- one row per case-person link as known at the instant d, not retracted by then
create or replace macro links_as_of(d) as table
with

versions as (
    select *
    from stg_incident_persons
    where updated_at < d
    qualify row_number() over (
        partition by incident_id, person_id order by updated_at desc, batch_id desc, line desc
    ) = 1
)

select
    incident_id,
    person_id,
    role,
    timezone('Europe/Oslo', updated_at) as updated_at
from versions
where not retracted
