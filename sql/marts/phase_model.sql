-- one row per phase of the latest phases run: what the model learned
create table if not exists phase_model (
    phase varchar,
    rate double,                         -- daily rate of sharp cases
    rate_diffuse double,                 -- daily rate of diffuse cases (long occurrence windows)
    level1 double,                       -- sophistication level mix
    level2 double,
    level3 double,
    planned double,                      -- share of planned cases
    arrest double,                       -- share of cases with an arrest at the scene
    mean_days double,                    -- mean duration of the phase
    as_of date,
    model_version varchar
)
