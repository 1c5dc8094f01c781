-- the phase back-test of the latest phases run (analytics/phase_backtest.py):
-- custody spells hidden and predicted back; next-14-day cases predicted from the
-- phase against those recorded. One row per figure.
create table if not exists phase_backtest (
    test varchar,                        -- custody_hidden | next_14_days
    "group" varchar,                     -- all, or the phase at the origin (next_14_days)
    metric varchar,                      -- e.g. said_inactive, mae, mae_recent_rate
    value double,
    n bigint,                            -- days or person-windows behind the figure
    as_of date,
    model_version varchar
)
