-- the nightly hotspot back-test (analytics/selftune.py): every forecast method and its settings scored per target group on the last six 28-day months of the force's own data, at 5 % of the study area (places only, no ids); rank 1 is the method the published map uses
create table if not exists hotspot_backtest (
    as_of date,
    target_group varchar,                -- all, business, construction_site, cabin, storage_mailbox, vehicle
    "rank" integer,                      -- 1 = chosen (highest PAI among the eligible)
    method varchar,                      -- baseline (prior 28 days), kde (long-run smoothed count), prospective (Bowers-Johnson), nearrepeat (long-run + self-exciting boost)
    settings varchar,                    -- JSON: window_days, bandwidth_m, space_band_m, time_band_days, decay_days, boost_share
    pai double,                          -- prediction accuracy index at 5 % of the area, pooled over the months
    pei double,                          -- predictive efficiency index at 5 % of the area, pooled
    hit double,                          -- share of the months' incidents inside the marked 5 %
    months_scored integer,               -- months with incidents that were scored
    incidents double,                    -- incidents scored (aoristic weights)
    ceiling_pai double,                  -- PAI of the best 5 % chosen with each month's own counts
    z_vs_longrun double,                 -- mean monthly gain over the long-run count in standard errors (0 for the long-run count itself)
    area_share double                    -- 0.05
)
