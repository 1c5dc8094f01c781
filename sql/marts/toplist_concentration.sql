-- one row per as-of date: how concentrated linked cases are among persons (the report's "5 % commit over half")
create table if not exists toplist_concentration (
    as_of date not null,
    window_days integer not null,
    persons integer not null,            -- persons with a linked case in the window
    cases integer not null,              -- distinct linked cases in the window
    top_persons integer not null,        -- the top 5 % of persons, rounded up
    top_share_of_cases double,           -- share of the cases linked to them
    gini double,
    lorenz varchar                       -- JSON array of {share_persons, share_cases}, least active first
)
