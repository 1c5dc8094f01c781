-- one row per open case in a series of one attribution run
create table if not exists series_members (
    as_of date not null,
    model_version varchar not null,
    series_id varchar not null,
    incident_id varchar not null,
    p double                             -- attribution p (person series) or mean link p (linked series)
)
