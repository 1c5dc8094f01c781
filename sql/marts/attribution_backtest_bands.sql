-- one row per night, back-test sample, kind and p band of width 0.1: mean p against the weighted share confirmed
create table if not exists attribution_backtest_bands (
    as_of date not null,
    horizon_days integer,                -- null: both dates pooled
    kind varchar not null,               -- raw or calibrated
    band_lo double not null,
    band_hi double not null,
    n bigint not null,                   -- hypotheses in the band
    mean_p double,
    share_confirmed double
)
