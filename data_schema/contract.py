"""The export contract, declared once.

Every table and column of `export-contract.md` with its type, nullability, allowed
values, ranges and key. The validator (`data_schema.validation`), the DuckDB DDL
(`data_schema.ddl`, checked against `sql/`) and `docs/data-dictionary.md`
(`data_schema.dictionary`) are all derived from these objects, so they cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# ---------------------------------------------------------------- vocabularies
OFFENCE_GROUPS: dict[str, str] = {
    "burglary_business": "acquisitive",
    "burglary_public": "acquisitive",
    "burglary_construction": "acquisitive",
    "burglary_cabin": "acquisitive",
    "burglary_storage": "acquisitive",
    "burglary_home": "acquisitive",
    "vehicle_theft": "acquisitive",
    "theft_from_vehicle": "acquisitive",
    "bicycle_theft": "acquisitive",
    "shoplifting": "acquisitive",
    "mail_theft": "acquisitive",
    "other_theft": "acquisitive",
    "card_fraud": "fraud",
    "identity_fraud": "fraud",
    "other_fraud": "fraud",
    "drug_use": "drugs",
    "drug_sale": "drugs",
    "drug_import": "drugs",
    "vandalism": "vandalism",
    "violence": "violence",
    "robbery": "violence",
    "other": "other",
}
OFFENCE_CODES: tuple[str, ...] = tuple(OFFENCE_GROUPS)
TARGET_TYPES = (
    "business",
    "shop",
    "construction_site",
    "public_building",
    "cabin",
    "storage_room",
    "mailbox",
    "vehicle",
    "bicycle",
    "private_home",
    "person",
    "online",
    "other",
)
ENTRY_METHODS = (
    "cylinder_snap",
    "window_frame",
    "smash_window",
    "forced_door",
    "unlocked",
    "key",
    "card_no_pin",
    "card_with_pin",
    "online",
    "none",
    "other",
)
STATUSES = ("open", "solved", "dropped")
ROLES = ("suspect", "charged", "convicted")
MERCHANT_CATEGORIES = (
    "grocery",
    "kiosk",
    "electronics",
    "clothing",
    "fuel",
    "pharmacy",
    "online",
    "atm",
    "other",
)
CUSTODY_KINDS = ("arrest", "remand", "prison", "treatment")
PHASES = ("rest", "phase1", "phase2", "phase3", "inactive")

ID_PATTERN = r"^[A-Za-z0-9_-]{1,40}$"
PSEUDONYM_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"
MUNICIPALITY_PATTERN = r"^[0-9]{4}$"
NORWAY_LAT = (57.9, 71.3)
NORWAY_LON = (4.0, 31.5)

#: how each non-text type must be written (the whole value, as RE2/Python regexp).
#: A Parquet value counts by its text in DuckDB (a float 2.0 reads `2.0`). Nothing
#: DuckDB would coerce besides: no `infinity`/`epoch`/five-digit years, no `1_000`,
#: `0x10`, `1e3` (an int), `inf`/`nan`, no `yes`/`no`/`t`/`f`/`1`/`0` (a bool).
VALUE_FORMATS: dict[str, str] = {
    # ISO 8601: a date, optionally a time (seconds and up to 9 fraction digits
    # optional) and an offset; no offset means Europe/Oslo local time
    "timestamp": r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}"
    r"(:[0-9]{2}(\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?",
    "bool": "(?i)(true|false)",
    "int": r"[+-]?[0-9]+(\.0+)?",  # a whole number; `.0` as a float column prints it
    "decimal": r"[+-]?([0-9]+(\.[0-9]+)?|\.[0-9]+)",
    "double": r"[+-]?([0-9]+(\.[0-9]+)?|\.[0-9]+)([eE][+-]?[0-9]+)?",
}
#: the sane window of every timestamp: not before this instant (Oslo time) ...
TIMESTAMP_FLOOR = "1990-01-01T00:00:00+01:00"
#: ... nor more than this many hours after the batch's `exported_at`; a manifest's
#: `exported_at` itself may be at most this far ahead of the clock of the load
TIMESTAMP_LEEWAY_HOURS = 24

# Reason codes a quarantined row can carry, in the order they are checked; the
# first that applies is the row's reason. Documented in the data dictionary.
REASONS: dict[str, str] = {
    "identity_number": "a value looks like a Norwegian national identity number "
    "(11 digits, valid mod-11 check digits) once Unicode digits and separators "
    "(white space, `_ . / -`) are folded, neighbouring digit groups joined, and a "
    "number taken as DuckDB would store it (`3.1129910146e10` is 31129910146): "
    "pseudonymisation failed; the value is masked in quarantine. In a batch_id, "
    "folder or column name it rejects the batch",
    "malformed_row": "the CSV row could not be parsed (wrong column count, "
    "bad quoting)",
    "missing_value": "a required column is empty",
    "bad_timestamp": "a timestamp is not ISO 8601: `YYYY-MM-DD`, optionally "
    "`Thh:mm[:ss[.fffffffff]]` (a space for `T` too) and an offset `Z` or "
    "`+hh[:mm]`; not `infinity`, `epoch`, a five-digit year",
    "bad_number": "a number or boolean is not written plainly: int `[+-]digits` "
    "(`.0` allowed), decimal `[+-]digits[.digits]`, double also with an exponent "
    "(`6.3e1`), bool `true`/`false` in any case; not `1_000`, `0x10`, `1e3` "
    "(outside a double), `inf`, `nan`, `yes`, `t`, `1`; or it overflows its type",
    "bad_id": "a key or pseudonym breaks its pattern",
    "bad_code": "a value is not one of the allowed codes",
    "out_of_range": "a number is outside its allowed range",
    "bad_coordinates": "lat/lon not both null and not both inside Norway",
    "window_order": "occurred_from > occurred_to or occurred_to > reported_at",
    "reported_after_export": "reported_at is after the manifest's exported_at",
    "timestamp_out_of_window": "a timestamp (updated_at too) is before "
    f"{TIMESTAMP_FLOOR[:10]} or more than {TIMESTAMP_LEEWAY_HOURS} h after the "
    "manifest's exported_at: a placeholder date, and a far-future updated_at "
    "would pin its record forever",
    "end_before_start": "custody end_at is before start_at",
    "unknown_incident": "the case is not in this or an earlier batch",
    "not_card_fraud": "a card transaction tied to a case that is not card_fraud",
}


@dataclass(frozen=True)
class Column:
    """One contract column: name, logical type, rules and its dictionary text."""

    name: str
    type: str  # string | timestamp | bool | int | decimal | double
    description: str
    nullable: bool = False
    allowed: tuple[str, ...] | None = None
    pattern: str | None = None
    min_value: float | None = None
    min_exclusive: bool = False
    max_value: float | None = None

    @property
    def duckdb_type(self) -> str:
        """The DuckDB column type this logical type is stored as."""
        return {
            "string": "VARCHAR",
            "timestamp": "TIMESTAMP WITH TIME ZONE",
            "bool": "BOOLEAN",
            "int": "INTEGER",
            "decimal": "DECIMAL(14,2)",
            "double": "DOUBLE",
        }[self.type]


@dataclass(frozen=True)
class Table:
    """One contract table (a file of a batch) with its key and row-level checks."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required: bool
    one_row_is: str
    checks: tuple[str, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _coords(what: str) -> tuple[Column, Column]:
    return (
        Column(
            "lat",
            "double",
            f"WGS84 latitude of {what}; null with lon",
            True,
            min_value=NORWAY_LAT[0],
            max_value=NORWAY_LAT[1],
        ),
        Column(
            "lon",
            "double",
            f"WGS84 longitude of {what}; null with lat",
            True,
            min_value=NORWAY_LON[0],
            max_value=NORWAY_LON[1],
        ),
    )


INCIDENTS = Table(
    name="incidents",
    description="One reported case.",
    one_row_is="reported case (current version)",
    key=("incident_id",),
    required=True,
    checks=(
        "window_order",
        "reported_after_export",
        "timestamp_out_of_window",
        "bad_coordinates",
    ),
    columns=(
        Column("incident_id", "string", "case key", pattern=ID_PATTERN),
        Column("updated_at", "timestamp", "version of this record"),
        Column("reported_at", "timestamp", "when reported; not after exported_at"),
        Column("occurred_from", "timestamp", "start of the offence's time window"),
        Column(
            "occurred_to",
            "timestamp",
            "end of the window; occurred_from <= occurred_to <= reported_at",
        ),
        Column("offence_code", "string", "offence code", allowed=OFFENCE_CODES),
        Column("target_type", "string", "what was targeted", allowed=TARGET_TYPES),
        Column(
            "entry_method",
            "string",
            "how entry/use happened",
            True,
            allowed=ENTRY_METHODS,
        ),
        Column("planned", "bool", "evidence of reconnaissance or preparation", True),
        Column("participants", "int", "offenders involved", True, min_value=1),
        Column(
            "value_nok",
            "decimal",
            "value stolen or damage done, NOK",
            True,
            min_value=0,
        ),
        *_coords("the scene"),
        Column(
            "municipality_no",
            "string",
            "four-digit municipality number",
            True,
            pattern=MUNICIPALITY_PATTERN,
        ),
        Column("status", "string", "case status", allowed=STATUSES),
        Column("arrest_at_scene", "bool", "offender caught at or near the scene"),
    ),
)

INCIDENT_PERSONS = Table(
    name="incident_persons",
    description="One link between a case and a (pseudonymised) person.",
    one_row_is="case-person link (current version)",
    key=("incident_id", "person_id"),
    required=True,
    checks=("unknown_incident", "timestamp_out_of_window"),
    columns=(
        Column(
            "incident_id",
            "string",
            "a case in this or an earlier batch",
            pattern=ID_PATTERN,
        ),
        Column(
            "person_id",
            "string",
            "pseudonym, never a real identity",
            pattern=PSEUDONYM_PATTERN,
        ),
        Column("role", "string", "suspect, charged or convicted", allowed=ROLES),
        Column("updated_at", "timestamp", "version of this link"),
        Column("retracted", "bool", "true: the person is no longer linked (cleared)"),
    ),
)

CARD_TRANSACTIONS = Table(
    name="card_transactions",
    description="One use of a stolen card, tied to a card_fraud case.",
    one_row_is="card transaction (current version)",
    key=("transaction_id",),
    required=False,
    checks=(
        "unknown_incident",
        "not_card_fraud",
        "timestamp_out_of_window",
        "bad_coordinates",
    ),
    columns=(
        Column("transaction_id", "string", "transaction key", pattern=ID_PATTERN),
        Column(
            "incident_id",
            "string",
            "the card_fraud case it belongs to",
            pattern=ID_PATTERN,
        ),
        Column(
            "card_ref", "string", "pseudonym of the card", pattern=PSEUDONYM_PATTERN
        ),
        Column("at", "timestamp", "when the card was used"),
        Column(
            "amount_nok", "decimal", "amount, NOK, > 0", min_value=0, min_exclusive=True
        ),
        Column(
            "merchant_category",
            "string",
            "kind of merchant",
            allowed=MERCHANT_CATEGORIES,
        ),
        Column(
            "merchant_ref",
            "string",
            "pseudonym of the merchant",
            True,
            pattern=PSEUDONYM_PATTERN,
        ),
        Column("approved", "bool", "the transaction was approved"),
        Column("pin_used", "bool", "a PIN was used"),
        *_coords("the merchant; null for online"),
        Column("updated_at", "timestamp", "version of this record"),
    ),
)

CUSTODY = Table(
    name="custody",
    description="One period a person was in custody, prison or treatment.",
    one_row_is="custody period (current version)",
    key=("custody_id",),
    required=False,
    checks=("end_before_start", "timestamp_out_of_window"),
    columns=(
        Column("custody_id", "string", "custody key", pattern=ID_PATTERN),
        Column("person_id", "string", "pseudonym", pattern=PSEUDONYM_PATTERN),
        Column(
            "kind",
            "string",
            "arrest, remand, prison or treatment",
            allowed=CUSTODY_KINDS,
        ),
        Column("start_at", "timestamp", "start of the period"),
        Column("end_at", "timestamp", "end; null while ongoing; >= start_at", True),
        Column("updated_at", "timestamp", "version of this record"),
    ),
)

TABLES: tuple[Table, ...] = (INCIDENTS, INCIDENT_PERSONS, CARD_TRANSACTIONS, CUSTODY)
TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}
FILE_FORMATS = ("csv", "parquet")


def offence_group(code: str) -> str:
    """The offence group (acquisitive, fraud, drugs, ...) of an offence code."""
    return OFFENCE_GROUPS[code]
