-- one row per person with current links: linked cases, first and last case (a first, simple top list)
with

links as (select * from mart_links),

incidents as (select * from mart_incidents),

final as (
    select
        l.person_id,
        count(*) as count_cases,
        count(*) filter (where i.occurred_to >= current_date - interval 365 day) as count_cases_365d,
        sum(coalesce(i.value_nok, 0)) as value_nok,
        min(i.occurred_from) as first_case_at,
        max(i.occurred_to) as last_case_at
    from links as l
    join incidents as i using (incident_id)
    group by l.person_id
)

select * from final
