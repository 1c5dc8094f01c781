"""The research snapshot's codebook: `codebook.html` and `codebook.md` in the bundle.

Read back from the built file (`gjenganger.store.research_meta.describe`): every
table with what one row is and its row count, every column with its DuckDB type
and description (the same `COMMENT ON` text a client shows, from
`data_schema/snapshot.py`), and for coded text columns the values with their row
counts and labels. The HTML page is one self-contained file (no script, no
network).
"""

from __future__ import annotations

import html
from pathlib import Path

from gjenganger.store import publish
from gjenganger.store import research_meta as meta

TITLE = "Codebook of the research snapshot"
INTRO = (
    "Every table and column of `gjenganger.duckdb` in this folder (the Parquet "
    "files under `parquet/` hold the same tables). Descriptions are also stored in "
    "the file as comments: `select table_name, comment from duckdb_tables()` and "
    "`select table_name, column_name, comment from duckdb_columns()`. Labels of "
    "codes: tables `ref_offence_codes` and `ref_codes`. How the snapshot is "
    "protected and what that costs: docs/research.md."
)


def _labels(tables: list[dict]) -> dict[str, tuple[str, str]]:
    """code -> (bokmål, English) label, from the snapshot's own reference tables."""
    out: dict[str, tuple[str, str]] = {}
    for t in tables:
        for c in t["columns"]:
            for code, _ in c["codes"] or ():
                if code is not None:
                    out[code] = meta.code_labels(code)
    return out


def _sentence(table: dict) -> str:
    text = table["comment"] or ""
    return f"{text[:1].upper()}{text[1:]} ({table['rows']:,} rows)"


def _code_text(codes, labels, sep: str) -> str:
    parts = []
    for code, n in codes:
        name = "(null)" if code is None else code
        nb, en = labels.get(code, (code, code)) if code is not None else ("", "")
        label = f" = {nb} / {en}" if code is not None and nb != code else ""
        parts.append(f"{name}{label}: {n:,}")
    return sep.join(parts)


def render_markdown(tables: list[dict]) -> str:
    """The codebook as Markdown."""
    labels = _labels(tables)
    out = [f"# {TITLE}", "", INTRO, "", "| table | rows | one row is |"]
    out += ["| --- | ---: | --- |"]
    out += [f"| `{t['name']}` | {t['rows']:,} | {t['comment']} |" for t in tables]
    for t in tables:
        out += ["", f"## `{t['name']}`", "", f"{_sentence(t)}."]
        out += ["", "| column | type | description | codes (rows) |"]
        out += ["| --- | --- | --- | --- |"]
        for c in t["columns"]:
            codes = _code_text(c["codes"], labels, "; ") if c["codes"] else ""
            out.append(f"| `{c['name']}` | {c['type']} | {c['comment']} | {codes} |")
    return "\n".join(out) + "\n"


_STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:80em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "th,td{border:1px solid #bbb;padding:.25em .5em;text-align:left;"
    "vertical-align:top}th{background:#eee}td.n{text-align:right}"
    "code{background:#f4f4f4}ul{margin:0;padding-left:1.2em}"
)


def _cell(text: str, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<td{attr}>{text}</td>"


def render_html(tables: list[dict]) -> str:
    """The codebook as one self-contained HTML page."""
    esc = html.escape
    labels = _labels(tables)
    intro = esc(INTRO).replace("`", "")
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(TITLE)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{esc(TITLE)}</h1><p>{intro}</p>",
        "<table><tr><th>table</th><th>rows</th><th>one row is</th></tr>",
    ]
    for t in tables:
        name, rows = esc(t["name"]), f"{t['rows']:,}"
        out.append(
            f'<tr><td><a href="#{name}"><code>{name}</code></a></td>'
            f"{_cell(rows, 'n')}{_cell(esc(t['comment']))}</tr>"
        )
    out.append("</table>")
    for t in tables:
        name = esc(t["name"])
        out += [
            f'<h2 id="{name}"><code>{name}</code></h2>',
            f"<p>{esc(_sentence(t))}.</p>",
            "<table><tr><th>column</th><th>type</th><th>description</th>"
            "<th>codes (rows)</th></tr>",
        ]
        for c in t["columns"]:
            codes = ""
            if c["codes"]:
                items = _code_text(c["codes"], labels, "\n").split("\n")
                codes = "<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>"
            column = f"<code>{esc(c['name'])}</code>"
            out.append(
                f"<tr>{_cell(column)}{_cell(esc(c['type']))}"
                f"{_cell(esc(c['comment'] or ''))}{_cell(codes)}</tr>"
            )
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_codebook(snapshot: str | Path) -> list[Path]:
    """Write `codebook.html` and `codebook.md` beside the snapshot file."""
    snapshot = Path(snapshot)
    tables = meta.describe(snapshot)
    return [
        publish.write_text(snapshot.parent / "codebook.html", render_html(tables)),
        publish.write_text(snapshot.parent / "codebook.md", render_markdown(tables)),
    ]
