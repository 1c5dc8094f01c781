-- one row: the newest case-case pair models of attribution, reused by the next nights (no identities)
create table if not exists attribution_model (
    as_of date not null,                 -- the model was trained on cases known on this day
    model_version varchar not null,
    polars_version varchar not null,     -- fingerprints are Polars hashes
    window_days integer not null,
    fitted blob not null                 -- pickle of analytics.attribution.Fitted
)
