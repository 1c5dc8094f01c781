"""Plain-file exports for the analyst bundle."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gjenganger.store.db import table_exists

HYPOTHESIS_NOTE = (
    "HYPOTESE / HYPOTHESIS: modelled links between open cases and persons, never "
    "established facts; see the `why` columns for the evidence."
)


def export_hypotheses(con, out_dir: Path, as_of: dt.date) -> dict:
    """Write `attribution-hypotheses.csv` (every candidate of `as_of`, labelled)."""
    if not table_exists(con, "attribution_candidates"):
        return {"rows": 0}
    path = Path(out_dir) / "attribution-hypotheses.csv"
    cols = [r[0] for r in con.execute("describe attribution_candidates").fetchall()]
    where = "where as_of = ?" if "as_of" in cols else "where ? is not null"
    # (incident, rank) is unique within one as-of date: a total order without
    # sorting on every column (which took seconds at national scale)
    order = ", ".join(
        c for c in ("as_of", "incident_id", "rank", "person_id") if c in cols
    )
    n = con.execute(
        f"copy (select 'hypotese' as label, * from attribution_candidates {where}"
        f" order by {order}) to '{path}' (header, delimiter ',')",
        [as_of],
    ).fetchone()[0]
    (Path(out_dir) / "attribution-hypotheses.README.txt").write_text(
        HYPOTHESIS_NOTE + "\n"
    )
    return {"rows": int(n)}
