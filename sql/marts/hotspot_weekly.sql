-- the latest all-targets hotspot analysis: incidents per week and grid cell over the last weeks (places only); the combined prevention map's weekly slider
create table if not exists hotspot_weekly (
    week bigint,                         -- 0 = the oldest week shown
    cell_id varchar,
    "count" double,                      -- incidents of that week (weighted)
    week_start date,
    as_of date
)
