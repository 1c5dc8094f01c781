-- one row per command or flow run, hash-chained (append-only; see store/audit.py)
create table if not exists audit_log (
    seq bigint primary key,              -- 1, 2, ... without gaps
    started_at varchar not null,         -- ISO 8601, UTC
    finished_at varchar not null,
    user_name varchar not null,
    role varchar not null,               -- analyst | prevention | researcher | operator
    command varchar not null,
    params_json varchar not null,        -- parameters, secrets left out
    persons_json varchar not null,       -- JSON array of the person ids looked at
    files_json varchar not null,         -- JSON object: file written -> sha256
    counts_json varchar not null,        -- JSON object: row counts
    outcome varchar not null,
    prev_hash varchar not null,          -- row_hash of the row before (64 zeros for the first)
    row_hash varchar not null            -- sha256(prev_hash + canonical row)
)
