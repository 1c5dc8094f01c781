-- one row per night: stage 2 refitted on the back-test (temperature a, intercept c; shrink toward "none" when few cases are confirmed)
create table if not exists attribution_recalibration (
    as_of date not null,
    model_key varchar not null,
    a double,                            -- null: the model's own p kept (too few confirmed)
    c double,
    shrink double not null,              -- candidates' p multiplied by this (1: none)
    n_confirmed bigint not null,
    status varchar not null              -- calibrated, shrunk, none
)
