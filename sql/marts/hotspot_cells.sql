-- one row per grid cell of the latest all-targets hotspot analysis with incidents, a class or a risk (places only)
create table if not exists hotspot_cells (
    cell_id varchar,
    lat double,                          -- cell centre
    lon double,
    "count" double,                      -- incidents of the recent period (weighted)
    previous double,                     -- incidents of the period before
    gi_z double,                         -- Getis-Ord Gi* z-score
    gi_bin tinyint,                      -- -3..3: cold to hot, FDR-corrected at 90/95/99 %
    is_hot boolean,
    density double,                      -- kernel density
    risk double,                         -- prospective (near-repeat) risk
    emerging varchar,                    -- emerging hotspot class
    rate_ratio double,                   -- recent over previous rate
    as_of date
)
