-- one row per nightly step finished for one input hash (the resume marks; no results, no pseudonyms)
create table if not exists pipeline_steps (
    step varchar not null,
    input_hash varchar not null,         -- sha256 of step, code version, data version, as-of and parameters
    finished_at timestamptz not null,
    summary_json varchar,                -- the step's small JSON summary (counts only)
    primary key (step, input_hash)
)
