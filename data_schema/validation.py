"""Row validation derived from the contract, as DuckDB SQL expressions.

Ingest reads every file as text (all VARCHAR) and classifies each row with the
expressions built here: one `CASE` giving the first failing reason code (in the order
of `contract.REASONS`) and one giving the column it concerns. Keeping validation in
SQL makes it vectorised; deriving it from `contract.py` keeps it in step with the
DDL and the data dictionary. A value is checked against its written form
(`contract.VALUE_FORMATS`) before it is cast, so nothing DuckDB would coerce
(`infinity`, `1_000`, `0x10`, `yes`) slips in; the identity-number guard's SQL
comes from `gjenganger.data_schema.identity`.
"""

from __future__ import annotations

from gjenganger.data_schema.contract import (
    REASONS,
    TIMESTAMP_FLOOR,
    TIMESTAMP_LEEWAY_HOURS,
    VALUE_FORMATS,
    Column,
    Table,
)
from gjenganger.data_schema.identity import (
    FNR_WEIGHTS_1,
    FNR_WEIGHTS_2,
    HINT_NUMBER,
    HINT_SPAN,
    MASK,
    fnr_is_valid,
)
from gjenganger.data_schema.identity import macro_sql as _identity_macros

__all__ = [
    "FNR_WEIGHTS_1",
    "FNR_WEIGHTS_2",
    "classify_sql",
    "column_checks",
    "fnr_hint_sql",
    "fnr_is_valid",
    "identity_column_sql",
    "identity_value_sql",
    "macro_sql",
    "masked_record_sql",
    "quote_ident",
    "quote_literal",
    "table_checks",
    "typed_expr",
]

NUMBER_TYPES = ("int", "decimal", "double")


def macro_sql() -> list[str]:
    """DuckDB macros created on every connection: the identity-number guard
    (`gjenganger.data_schema.identity`), and its form for timestamp columns: a
    well-formed timestamp holds no identity number (only its nanoseconds could
    spell 11 digits with the seconds), anything else is checked as text."""
    form = quote_literal(VALUE_FORMATS["timestamp"])
    return [
        *_identity_macros(),
        "create or replace temp macro has_fnr_timestamp(v) as ("
        f" not regexp_full_match(v, {form}) and has_fnr(v))",
        "create or replace temp macro first_fnr_timestamp(v) as first_fnr(v)",
    ]


def quote_ident(name: str) -> str:
    """A SQL identifier in double quotes."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """A SQL string literal in single quotes."""
    return "'" + value.replace("'", "''") + "'"


_CAST = {
    "timestamp": "TIMESTAMPTZ",
    "bool": "BOOLEAN",
    "int": "INTEGER",
    "decimal": "DECIMAL(14,2)",
    "double": "DOUBLE",
}


def typed_expr(col: Column, src: str | None = None) -> str:
    """SQL turning the text value of a column into its contract type."""
    ref = src or quote_ident(col.name)
    if col.type == "string":
        return ref
    return f"try_cast({ref} as {_CAST[col.type]})"


def _guard(col_type: str) -> str:
    """The guard macro suffix for a logical type: numbers by value, timestamps
    unless well-formed, anything else as text."""
    if col_type in NUMBER_TYPES:
        return "_number"
    return "_timestamp" if col_type == "timestamp" else ""


def _guarded(table: Table, extra_columns: list[str]) -> list[tuple[str, str]]:
    """(column name, guard suffix) of every column of a raw row, extras as text."""
    return [(c.name, _guard(c.type)) for c in table.columns] + [
        (name, "") for name in extra_columns
    ]


def fnr_hint_sql(table: Table, extra_columns: list[str]) -> str:
    """Cheap prefilter: true when the row may hold an identity number (11
    digit-like characters with only separators between, in any value; or a number
    written with an exponent or in hex/binary). A superset of the exact check."""
    every = [quote_ident(n) for n, _ in _guarded(table, extra_columns)]
    numbers = [quote_ident(c.name) for c in table.columns if c.type in NUMBER_TYPES]
    hint = f"regexp_matches(concat_ws('|', {', '.join(every)}), '{HINT_SPAN}')"
    if numbers:
        hint += (
            f" or regexp_matches(concat_ws('|', {', '.join(numbers)}), '{HINT_NUMBER}')"
        )
    return hint


def identity_column_sql(table: Table, extra_columns: list[str]) -> str:
    """SQL naming the first column that holds an identity number (NULL if none).

    Run only over rows whose hint (`fnr_hint_sql`) is true (rare), so the exact
    mod-11 check stays off the hot path.
    """
    parts = [
        f"when has_fnr{g}({quote_ident(n)}) then {quote_literal(n)}"
        for n, g in _guarded(table, extra_columns)
    ]
    return "case " + " ".join(parts) + " end"


def identity_value_sql(table: Table, extra_columns: list[str]) -> str:
    """SQL giving the identity number (11 digits) `identity_column_sql` found, to
    hash it with a secret key; never stored in clear."""
    parts = [
        f"when has_fnr{g}({quote_ident(n)}) then first_fnr{g}({quote_ident(n)})"
        for n, g in _guarded(table, extra_columns)
    ]
    return "case " + " ".join(parts) + " end"


def masked_record_sql(table: Table, extra_columns: list[str]) -> str:
    """SQL for a raw row as a JSON object of text, each value holding an identity
    number replaced by the mask (for `quarantine.record_masked`)."""
    pairs = [
        f"{quote_literal(n)}, case when has_fnr{g}({quote_ident(n)})"
        f" then '{MASK}' else {quote_ident(n)} end"
        for n, g in _guarded(table, extra_columns)
    ]
    return "cast(json_object(" + ", ".join(pairs) + ") as varchar)"


def column_checks(col: Column) -> list[tuple[str, str]]:
    """(reason, condition) pairs for one column, conditions true when it fails.

    A timestamp, number or boolean must be written as `contract.VALUE_FORMATS`
    says and then cast: what DuckDB would coerce besides (`infinity`, `1_000`,
    `0x10`, `yes`) is a `bad_timestamp` / `bad_number`, not a value.
    """
    c = quote_ident(col.name)
    checks: list[tuple[str, str]] = []
    if not col.nullable:
        checks.append(("missing_value", f"{c} is null"))
    if col.type != "string":
        reason = "bad_timestamp" if col.type == "timestamp" else "bad_number"
        form = quote_literal(VALUE_FORMATS[col.type])
        checks.append(
            (
                reason,
                f"{c} is not null and (not regexp_full_match({c}, {form})"
                f" or {typed_expr(col)} is null)",
            )
        )
    if col.pattern:
        checks.append(
            (
                "bad_id",
                f"not regexp_full_match({c}, {quote_literal(col.pattern[1:-1])})",
            )
        )
    if col.allowed:
        allowed = ", ".join(quote_literal(v) for v in col.allowed)
        checks.append(("bad_code", f"{c} not in ({allowed})"))
    if col.name not in ("lat", "lon") and col.min_value is not None:
        op = "<=" if col.min_exclusive else "<"
        checks.append(("out_of_range", f"{typed_expr(col)} {op} {col.min_value}"))
    if col.name not in ("lat", "lon") and col.max_value is not None:
        checks.append(("out_of_range", f"{typed_expr(col)} > {col.max_value}"))
    return checks


def _window_checks(table: Table) -> list[tuple[str, str, str]]:
    """`timestamp_out_of_window` for every timestamp column: not before the floor,
    not more than the leeway after the batch's `_exported_at`."""
    floor = f"timestamptz {quote_literal(TIMESTAMP_FLOOR)}"
    late = f"_exported_at + interval {TIMESTAMP_LEEWAY_HOURS} hour"
    return [
        (
            "timestamp_out_of_window",
            c.name,
            f"{typed_expr(c)} < {floor} or {typed_expr(c)} > {late}",
        )
        for c in table.columns
        if c.type == "timestamp"
    ]


def table_checks(table: Table) -> list[tuple[str, str, str]]:
    """(reason, column, condition) for the row-level rules spanning columns.

    `unknown_incident` and `not_card_fraud` need other tables; ingest adds them as
    joined columns `_incident_known` / `_incident_is_card_fraud`.
    """
    out: list[tuple[str, str, str]] = []
    ts = {c.name: typed_expr(c) for c in table.columns if c.type == "timestamp"}
    if "bad_coordinates" in table.checks:
        lat, lon = table.column("lat"), table.column("lon")
        la, lo = typed_expr(lat), typed_expr(lon)
        cond = (
            (
                f"((la_ is null) <> (lo_ is null)) or (la_ is not null and "
                f"(la_ < {lat.min_value} or la_ > {lat.max_value} or "
                f"lo_ < {lon.min_value} or lo_ > {lon.max_value}))"
            )
            .replace("la_", la)
            .replace("lo_", lo)
        )
        out.append(("bad_coordinates", "lat", cond))
    if "window_order" in table.checks:
        out.append(
            (
                "window_order",
                "occurred_from",
                f"{ts['occurred_from']} > {ts['occurred_to']} or "
                f"{ts['occurred_to']} > {ts['reported_at']}",
            )
        )
    if "reported_after_export" in table.checks:
        out.append(
            (
                "reported_after_export",
                "reported_at",
                f"{ts['reported_at']} > _exported_at",
            )
        )
    if "timestamp_out_of_window" in table.checks:
        out += _window_checks(table)
    if "end_before_start" in table.checks:
        out.append(("end_before_start", "end_at", f"{ts['end_at']} < {ts['start_at']}"))
    if "unknown_incident" in table.checks:
        out.append(("unknown_incident", "incident_id", "not _incident_known"))
    if "not_card_fraud" in table.checks:
        out.append(("not_card_fraud", "incident_id", "not _incident_is_card_fraud"))
    return out


def classify_sql(table: Table) -> tuple[str, list[str], list[str]]:
    """One SQL expression giving the index (1-based) of the row's first failing rule.

    Returns (expression, reasons, columns): `reasons[i-1]` and `columns[i-1]` name the
    rule; the expression is NULL for a valid row. Needs `_fnr_column` (see
    `identity_column_sql`) and, per table, `_exported_at`, `_incident_known`,
    `_incident_is_card_fraud`. Order follows `contract.REASONS`, then column order.
    """
    rules: list[tuple[str, str, str]] = [
        ("identity_number", "", "_fnr_column is not null")
    ]
    for col in table.columns:
        rules += [(r, col.name, cond) for r, cond in column_checks(col)]
    rules += table_checks(table)
    order = {code: i for i, code in enumerate(REASONS)}
    rules.sort(key=lambda rule: order[rule[0]])  # stable: keeps column order
    expr = (
        "case "
        + " ".join(
            f"when coalesce({cond}, false) then {i + 1}"
            for i, (_, _, cond) in enumerate(rules)
        )
        + " end"
    )
    return expr, [r for r, _, _ in rules], [c for _, c, _ in rules]
