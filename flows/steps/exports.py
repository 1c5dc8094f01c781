"""Plain-file exports for the analyst bundle: the hypothesis list an analyst reads.

`attribution-hypotheses.csv` holds the attribution candidates of the night from
the pages' threshold p up (`timelines.page_min_p`, setting
`GJENGANGER_PAGE_MIN_P`), rounded, most probable first, each labelled a
hypothesis; the rest stay in the database. `attribution-hypotheses.README.txt`
beside it says so in the bundle's language.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gjenganger.errors import UserError
from gjenganger.flows.steps.timelines import page_min_p
from gjenganger.store import analyst as analyst_store
from gjenganger.store import publish

CSV_NAME = "attribution-hypotheses.csv"
README_NAME = "attribution-hypotheses.README.txt"


def export_hypotheses(
    con,
    out_dir: Path,
    as_of: dt.date,
    lang: str = "nb",
    min_p: float | None = None,
) -> dict:
    """Write the hypothesis list (p >= `min_p`, default the pages' setting) and
    its README in `lang`; counts of rows written and left in the database."""
    from gjenganger.maps.i18n import ANALYST_LABELS, format_p, labels
    from gjenganger.maps.timeline_labels import page_format

    if lang not in ("nb", "en"):
        raise UserError(f"lang must be nb or en, got {lang!r}")
    min_p = page_min_p() if min_p is None else min_p
    text = labels(ANALYST_LABELS, lang)
    out_dir = publish.make_folder(out_dir)
    rows, rest = analyst_store.write_hypotheses_csv(
        con, out_dir / CSV_NAME, as_of, min_p, text["csv_label"]
    )
    f = page_format(lang)
    publish.write_text(
        out_dir / README_NAME,
        text["hypotheses_readme"].format(
            as_of=f.date(as_of),
            p=format_p(min_p, lang),
            rows=f.number(rows),
            rest=f.number(rest),
            table=analyst_store.CANDIDATES,
        ),
    )
    return {"rows": rows, "left_in_database": rest, "min_p": min_p}
