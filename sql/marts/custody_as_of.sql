-- one row per custody period as known at the instant d
create or replace macro custody_as_of(d) as table
select
    custody_id,
    person_id,
    kind,
    timezone('Europe/Oslo', start_at) as start_at,
    timezone('Europe/Oslo', end_at) as end_at
from stg_custody
where updated_at < d and start_at < d
qualify row_number() over (
    partition by custody_id order by updated_at desc, batch_id desc, line desc
) = 1
