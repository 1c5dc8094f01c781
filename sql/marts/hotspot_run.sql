-- one row: what the latest all-targets hotspot analysis (hotspot_cells, hotspot_target_cells, hotspot_weekly) covered and found
create table if not exists hotspot_run (
    as_of date,
    target_group varchar,                -- all
    n_incidents bigint,                  -- placed incidents known by the end of as_of
    window_start date,                   -- the recent period, first and last day
    window_end date,
    history_start date,                  -- the period before it
    history_end date,
    near_repeat_found boolean,           -- Knox test: a near-repeat pattern was found
    near_repeat_distance_m double,
    near_repeat_days double,
    near_repeat_ratio double,
    near_repeat_p_value double,
    near_repeat_n_events bigint,
    space_band_m double,                 -- prospective risk bands
    time_band_days double,
    gi_band_m double,                    -- Gi* distance band
    params varchar                       -- JSON: the analysis parameters
)
