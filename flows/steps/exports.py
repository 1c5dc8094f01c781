"""Plain-file exports for the analyst bundle."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gjenganger.store import attribution as attribution_store
from gjenganger.store import publish

HYPOTHESIS_NOTE = (
    "HYPOTESE / HYPOTHESIS: modelled links between open cases and persons, never "
    "established facts; see the `why` columns for the evidence."
)


def export_hypotheses(con, out_dir: Path, as_of: dt.date) -> dict:
    """Write `attribution-hypotheses.csv` (every candidate of `as_of`, labelled)."""
    path = Path(out_dir) / "attribution-hypotheses.csv"
    n = attribution_store.write_candidates_csv(con, path, as_of)
    publish.write_text(
        Path(out_dir) / "attribution-hypotheses.README.txt", HYPOTHESIS_NOTE + "\n"
    )
    return {"rows": n}
