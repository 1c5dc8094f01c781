"""Sophistication level 1, 2 or 3 of every incident: the report's three-level model.

*Gjengangerkriminalitet i Midt-Norge* (2017), "En nivåinndeling", figur 4, sorts the
crime of repeat offenders into three levels (p. 37-40 of the Norwegian text):

- **Level 1**: "impulsive, small and/or poorly executed break-ins", e.g. smashing a
  window to grab a PC, bicycle theft. Minus users, and repeat offenders at the end of a
  use period (phase 3).
- **Level 2**: business burglary, car theft, card fraud, simple fraud: "where the
  repeat offenders mostly are". Values from a few thousand to a couple of hundred
  thousand NOK.
- **Level 3**: close to organised crime: three or more persons cooperating, serious
  offences, profit, transport and contacts (drug import in a rental car; a night with
  air drills and NOK 1.2 million).

The report gives examples, not an algorithm, so the rule table below turns it into
one. It is a first-match-wins table evaluated top to bottom, written out in
`RULES` (rule id, level, condition, reason) so it can be printed, documented
(`docs/phases.md`) and tested one rule at a time. Unknown fields (null `planned`,
`participants`, `value_nok`, `entry_method`) never trigger a rule that needs them.

| rule | level | condition |
| --- | --- | --- |
| `L3_import` | 3 | `drug_import` (transport and contacts) |
| `L3_crew_big` | 3 | participants >= 3 and value >= NOK 200,000 on an acquisitive, fraud or drug-sale case |
| `L3_value` | 3 | value >= NOK 1,000,000 |
| `L1_smash` | 1 | entry `smash_window` and not planned (the window-for-a-PC example) |
| `L1_unplanned_petty` | 1 | a petty offence (bicycle, shoplifting, mail, theft from vehicle, other theft, drug use, vandalism) not planned and not by skilled entry |
| `L2_skilled_entry` | 2 | entry `cylinder_snap` or `window_frame` (the report's skilled modus) |
| `L2_planned` | 2 | planned |
| `L2_base` | 2 | burglaries, vehicle theft, fraud, drug sale, robbery |
| `L1_default` | 1 | anything else (violence, other, other petty cases) |

Value thresholds: level 2 values run "from a few thousand to a couple of hundred
thousand" NOK, so a haul above that by a crew of three or more (the report's
"samarbeid mellom tre eller flere personer", Penal Code § 60a), or NOK 1 million on
its own, is beyond level 2. `planned` alone never lifts a case to level 3: planning is
what level 2 already is.
"""  # noqa: E501 - the rule table's rows are one line each

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

LEVELS = (1, 2, 3)

#: Offences the report places at level 2 by default (Nivå 2: "innbrudd i bedrifter,
#: biltyveri o.l.", "kortsvindel, enkle bedragerier").
LEVEL2_BASE_CODES = (
    "burglary_business",
    "burglary_public",
    "burglary_construction",
    "burglary_cabin",
    "burglary_storage",
    "burglary_home",
    "vehicle_theft",
    "card_fraud",
    "identity_fraud",
    "other_fraud",
    "drug_sale",
    "robbery",
)
#: Small, typically impulsive offences (Nivå 1: "impulsive, små ... brekk",
#: "sykkeltyverier og lignende").
PETTY_CODES = (
    "bicycle_theft",
    "shoplifting",
    "mail_theft",
    "theft_from_vehicle",
    "other_theft",
    "drug_use",
    "vandalism",
)
#: Offence groups where a three-person crew and a big haul means level 3.
CREW_CODES = tuple(
    c for c in LEVEL2_BASE_CODES + PETTY_CODES if c not in ("drug_use", "vandalism")
) + ("drug_import",)
SKILLED_ENTRY = ("cylinder_snap", "window_frame")
CREW_MIN = 3
CREW_VALUE_NOK = 200_000.0
BIG_VALUE_NOK = 1_000_000.0


@dataclass(frozen=True)
class Rule:
    """One row of the rule table: first matching rule gives the level."""

    rule_id: str
    level: int
    reason: str


RULES: tuple[Rule, ...] = (
    Rule("L3_import", 3, "drug import: transport and contacts (level 3)"),
    Rule("L3_crew_big", 3, ">= 3 participants and value >= NOK 200,000"),
    Rule("L3_value", 3, "value >= NOK 1,000,000"),
    Rule("L1_smash", 1, "smashed window, not planned: impulsive, poorly executed"),
    Rule("L1_unplanned_petty", 1, "petty offence, not planned, no skilled entry"),
    Rule("L2_skilled_entry", 2, "cylinder snapping or window-frame removal"),
    Rule("L2_planned", 2, "reconnaissance or preparation"),
    Rule("L2_base", 2, "business burglary, vehicle theft, fraud, drug sale"),
    Rule("L1_default", 1, "anything else: small or unclassified"),
)


def _conditions() -> list[pl.Expr]:
    """The rule conditions, in the order of `RULES` (nulls never match)."""
    code = pl.col("offence_code")
    entry = pl.col("entry_method")
    planned = pl.col("planned").fill_null(False)
    not_planned = pl.col("planned").is_null() | ~pl.col("planned")
    participants = pl.col("participants").fill_null(1)
    value = pl.col("value_nok").cast(pl.Float64).fill_null(0.0)
    skilled = entry.is_in(list(SKILLED_ENTRY)).fill_null(False)
    return [
        code == "drug_import",
        code.is_in(list(CREW_CODES))
        & (participants >= CREW_MIN)
        & (value >= CREW_VALUE_NOK),
        value >= BIG_VALUE_NOK,
        (entry == "smash_window").fill_null(False) & not_planned,
        code.is_in(list(PETTY_CODES)) & not_planned & ~skilled,
        skilled,
        planned,
        code.is_in(list(LEVEL2_BASE_CODES)),
        pl.lit(True),
    ]


def level_expr() -> pl.Expr:
    """A Polars expression giving the level (Int8, 1-3) of each incident row.

    Needs the columns `offence_code, entry_method, planned, participants, value_nok`
    (as in `gjenganger.store.load_incidents`). Use it inside `with_columns`.
    """
    conds = _conditions()
    expr = pl.when(conds[0]).then(pl.lit(RULES[0].level, pl.Int8))
    for cond, rule in zip(conds[1:], RULES[1:], strict=True):
        expr = expr.when(cond).then(pl.lit(rule.level, pl.Int8))
    return expr.otherwise(pl.lit(1, pl.Int8)).alias("level")


def rule_expr() -> pl.Expr:
    """A Polars expression naming the rule (`RULES[i].rule_id`) that set the level."""
    conds = _conditions()
    expr = pl.when(conds[0]).then(pl.lit(RULES[0].rule_id))
    for cond, rule in zip(conds[1:], RULES[1:], strict=True):
        expr = expr.when(cond).then(pl.lit(rule.rule_id))
    return expr.otherwise(pl.lit("L1_default")).alias("level_rule")


def _ensure_columns(incidents: pl.DataFrame) -> pl.DataFrame:
    """Add any missing optional column as nulls so the rules can run on thin frames."""
    kinds = {
        "entry_method": pl.String,
        "planned": pl.Boolean,
        "participants": pl.Int64,
        "value_nok": pl.Float64,
    }
    missing = [pl.lit(None, t).alias(c) for c, t in kinds.items() if c not in incidents]
    return incidents.with_columns(missing) if missing else incidents


def levels(incidents: pl.DataFrame) -> pl.Series:
    """The level (1, 2 or 3) of every incident, as an Int8 Series named `level`.

    Same row order as `incidents`. Missing optional columns count as unknown.
    """
    return _ensure_columns(incidents).select(level_expr()).to_series()


def with_levels(incidents: pl.DataFrame, *, explain: bool = False) -> pl.DataFrame:
    """`incidents` with a `level` column (and `level_rule` if `explain`)."""
    frame = _ensure_columns(incidents)
    cols = [level_expr()] + ([rule_expr()] if explain else [])
    return incidents.with_columns(frame.select(cols))


def rule_table() -> pl.DataFrame:
    """The rule table as a frame (rule_id, level, reason), in evaluation order."""
    return pl.DataFrame(
        {
            "rule_id": [r.rule_id for r in RULES],
            "level": [r.level for r in RULES],
            "reason": [r.reason for r in RULES],
        }
    )
