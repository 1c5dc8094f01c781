-- the latest all-targets hotspot analysis, per target group: the cells Gi* classes hot or cold for that group alone (places only); drawn on the combined prevention map
create table if not exists hotspot_target_cells (
    target_group varchar,                -- business, construction_site, cabin, storage_mailbox, vehicle
    cell_id varchar,
    "count" double,                      -- the group's incidents of the recent period (weighted)
    gi_z double,
    gi_bin tinyint,                      -- -3..3, as in hotspot_cells
    as_of date
)
