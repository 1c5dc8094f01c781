"""The data dictionary (`docs/data-dictionary.md`), generated from the contract.

`python -m gjenganger.data_schema.dictionary` rewrites the file; a test fails when it
is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gjenganger.data_schema import snapshot
from gjenganger.data_schema.contract import REASONS, TABLES, Column

DOC = Path(__file__).resolve().parent.parent / "docs" / "data-dictionary.md"


def rule(col: Column) -> str:
    """A column's rule in words: its pattern, allowed codes and range."""
    parts = []
    if col.pattern:
        parts.append(f"matches `{col.pattern}`")
    if col.allowed:
        parts.append("one of " + ", ".join(f"`{v}`" for v in col.allowed))
    if col.min_value is not None:
        parts.append(f"{'>' if col.min_exclusive else '>='} {col.min_value:g}")
    if col.max_value is not None:
        parts.append(f"<= {col.max_value:g}")
    return "; ".join(parts)


def render() -> str:
    """The whole dictionary as Markdown."""
    out = [
        "# Data dictionary",
        "",
        "Generated from `data_schema/contract.py` by `python -m "
        "gjenganger.data_schema.dictionary`; do not edit. Each contract table is "
        "stored three times: `stg_<table>` (every valid version as loaded, plus "
        "`batch_id`, `source_file`, `line`), `<table>` (the current version of each "
        "key, plus `batch_id`) and a `mart_` view with local (Europe/Oslo) times. "
        "Timestamps without an offset are Europe/Oslo time.",
        "",
    ]
    for table in TABLES:
        out += [
            f"## {table.name}",
            "",
            f"{table.description} Key: {', '.join(f'`{k}`' for k in table.key)}. "
            f"File {'required' if table.required else 'optional'} in a batch.",
            "",
            "| column | type | DuckDB type | null | rule | meaning |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for c in table.columns:
            out.append(
                f"| `{c.name}` | {c.type} | `{c.duckdb_type}` | "
                f"{'yes' if c.nullable else 'no'} | {rule(c)} | {c.description} |"
            )
        if table.checks:
            out += ["", "Row rules: " + ", ".join(f"`{r}`" for r in table.checks) + "."]
        out.append("")
    out += ["## Quarantine reason codes", "", "| code | meaning |", "| --- | --- |"]
    out += [f"| `{code}` | {text} |" for code, text in REASONS.items()]
    out.append("")
    return "\n".join(out + snapshot_section())


def snapshot_section() -> list[str]:
    """The research snapshot's tables and derived columns (`data_schema/snapshot.py`,
    the text of the snapshot's `COMMENT ON`); contract columns it keeps are above."""
    out = [
        "## Research snapshot",
        "",
        "The tables of `research/gjenganger.duckdb` (see `docs/research.md`); each "
        "table and column carries this text as its DuckDB comment, and the bundle's "
        "`codebook.html` lists them with their types and codes. Columns `cases` "
        "passes on from `incidents` are described there.",
        "",
    ]
    for table, what in snapshot.TABLES.items():
        out += [f"### {table}", "", f"{what[0].upper()}{what[1:]}.", ""]
        out += ["| column | meaning |", "| --- | --- |"]
        out += [f"| `{c}` | {text} |" for c, text in snapshot.COLUMNS[table].items()]
        out.append("")
    return out


def main() -> int:
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(render(), encoding="utf-8")
    print(DOC)
    return 0


if __name__ == "__main__":
    sys.exit(main())
