"""Row validation derived from the contract, as DuckDB SQL expressions.

Ingest reads every file as text (all VARCHAR) and classifies each row with the
expressions built here: one `CASE` giving the first failing reason code (in the order
of `contract.REASONS`) and one giving the column it concerns. Keeping validation in
SQL makes it vectorised; deriving it from `contract.py` keeps it in step with the
DDL and the data dictionary.
"""

from __future__ import annotations

from gjenganger.data_schema.contract import REASONS, Column, Table

# The Norwegian national identity number (fødselsnummer / D-nummer): 11 digits, the
# last two are mod-11 check digits over the first nine / ten.
FNR_WEIGHTS_1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
FNR_WEIGHTS_2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
# A run of 11 digits, allowing one space, dot or hyphen between the date part and
# the personal number, as people write them.
FNR_CANDIDATE_RE = r"[0-9]{6}[ .-]?[0-9]{5}"


def fnr_is_valid(digits: str) -> bool:
    """True when an 11-digit string has valid mod-11 check digits (Python twin)."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    d = [int(ch) for ch in digits]
    for weights, pos in ((FNR_WEIGHTS_1, 9), (FNR_WEIGHTS_2, 10)):
        k = 11 - sum(w * x for w, x in zip(weights, d, strict=False)) % 11
        k = 0 if k == 11 else k
        if k == 10 or k != d[pos]:
            return False
    return True


def _check_digit_sql(weights: tuple[int, ...]) -> str:
    terms = " + ".join(
        f"{w} * ascii(substr(s, {i + 1}, 1))" for i, w in enumerate(weights)
    )
    # ascii('0') = 48: subtract 48 * sum(weights) once instead of per digit.
    return f"((11 - ((({terms}) - {48 * sum(weights)}) % 11)) % 11)"


def macro_sql() -> list[str]:
    """DuckDB macros for the identity-number guard, created on every connection."""
    k1 = _check_digit_sql(FNR_WEIGHTS_1)
    k2 = _check_digit_sql(FNR_WEIGHTS_2)
    return [
        "create or replace temp macro fnr_valid(s) as ("
        f" length(s) = 11 and {k1} <> 10 and {k2} <> 10"
        f" and {k1} = ascii(substr(s, 10, 1)) - 48"
        f" and {k2} = ascii(substr(s, 11, 1)) - 48)",
        # every maximal run of digits in a text, after joining 6+5 written with a
        # separator; true if any run is exactly 11 digits with valid check digits
        # every digit run of the text, and of the text with 6+5 groups written with a
        # separator joined; true if any run is 11 digits with valid check digits
        "create or replace temp macro fnr_runs(v) as (list_concat("
        " regexp_extract_all(v, '[0-9]+'), regexp_extract_all(regexp_replace(v,"
        " '([0-9]{6})[ .-]([0-9]{5})', '\\1\\2', 'g'), '[0-9]+')))",
        "create or replace temp macro has_fnr(v) as ("
        " v is not null and regexp_matches(v, '" + FNR_CANDIDATE_RE + "') and"
        " list_bool_or(list_transform(fnr_runs(v), x -> fnr_valid(x))))",
        # numbers: only the integer part counts (decimals of a coordinate are not
        # an identity number)
        "create or replace temp macro has_fnr_number(v) as ("
        " v is not null and fnr_valid(regexp_extract(trim(v), '^[+-]?([0-9]+)', 1)))",
        # the first identity number in a text (to hash it; never stored in clear)
        "create or replace temp macro first_fnr(v) as ("
        " list_filter(fnr_runs(v), x -> fnr_valid(x))[1])",
        "create or replace temp macro mask_fnr(v) as ("
        " regexp_replace(v, '[0-9]{6}[ .-]?[0-9]{5}', '<masked>', 'g'))",
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


def fnr_hint_sql(columns: list[str]) -> str:
    """Cheap prefilter: true when the joined row text holds an 11-digit candidate."""
    concat = "concat_ws('|', " + ", ".join(quote_ident(n) for n in columns) + ")"
    return f"regexp_matches({concat}, '{FNR_CANDIDATE_RE}')"


def identity_column_sql(table: Table, extra_columns: list[str]) -> str:
    """SQL naming the first column that holds an identity number (NULL if none).

    Run only over rows whose `_fnr_hint` is true (rare), so the exact mod-11 check
    stays off the hot path.
    """
    parts = []
    for col in table.columns:
        fn = "has_fnr" if col.type in ("string", "timestamp") else "has_fnr_number"
        parts.append(
            f"when {fn}({quote_ident(col.name)}) then {quote_literal(col.name)}"
        )
    parts += [
        f"when has_fnr({quote_ident(name)}) then {quote_literal(name)}"
        for name in extra_columns
    ]
    return "case " + " ".join(parts) + " end"


def column_checks(col: Column) -> list[tuple[str, str]]:
    """(reason, condition) pairs for one column, conditions true when it fails."""
    c = quote_ident(col.name)
    checks: list[tuple[str, str]] = []
    if not col.nullable:
        checks.append(("missing_value", f"{c} is null"))
    if col.type == "timestamp":
        checks.append(
            ("bad_timestamp", f"{c} is not null and {typed_expr(col)} is null")
        )
    elif col.type != "string":
        checks.append(("bad_number", f"{c} is not null and {typed_expr(col)} is null"))
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
