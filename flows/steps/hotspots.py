"""Hotspot step: read incidents -> `analytics.hotspots.analyse` -> offline maps.

`publish_hotspots(con, out_dir, as_of=..., lang=...)` writes the prevention
bundle's hotspot pages: `hotspots/<group>.html` for "all" and each target group
(business, construction_site, cabin, storage_mailbox, vehicle) and
`hotspots/index.html` linking them, all self-contained (no network). Only
aggregated cells leave this step; `assert_clean` checks the files.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import time
from functools import cache
from pathlib import Path
from typing import Any

from gjenganger.analytics import hotspots as hs
from gjenganger.data_schema import GEODATA  # noqa: E402
from gjenganger.errors import UserError
from gjenganger.maps.hotspots import (
    build_map,
    fmt_date,
    group_title,
    near_repeat_text,
    period_text,
)
from gjenganger.maps.i18n import t
from gjenganger.maps.offline import assert_no_remote_refs, render_offline
from gjenganger.store import frames

GROUPS = (hs.ALL, *hs.TARGET_GROUPS)


@cache
def study_area() -> tuple[Any, ...]:
    """The region's municipality polygons (WGS84 shapely geometries)."""
    from shapely.geometry import shape

    fc = json.loads((GEODATA / "trondheim_region.geojson").read_text(encoding="utf-8"))
    return tuple(shape(f["geometry"]) for f in fc["features"])


def load(con, as_of: dt.date):
    """Incidents as known at the end of `as_of` (with coordinates or not)."""
    return frames.load_incidents(con, as_of=as_of)


def analyse(
    con,
    as_of: dt.date | None = None,
    target_group: str = hs.ALL,
    params: hs.Params | None = None,
    incidents=None,
    grid=None,
) -> hs.Result:
    """Run the analysis for one target group (reads the store unless given
    `incidents`)."""
    day = frames.resolve_as_of(con, as_of)
    params = params or hs.Params()
    try:
        hs.target_types(target_group)
        frame = load(con, day) if incidents is None else incidents
        return hs.analyse(
            frame,
            day,
            target_group=target_group,
            params=params,
            study_area=None if grid else study_area(),
            grid=grid,
        )
    except ValueError as exc:
        raise UserError(str(exc)) from exc


def write_map(
    result: hs.Result, path: Path, lang: str = "nb", tiles_url: str | None = None
) -> int:
    """Render one offline map to `path`; returns its size in bytes."""
    m = build_map(result, lang, tiles_url=tiles_url)
    page = render_offline(m, allow_online_tiles=bool(tiles_url))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return len(page.encode("utf-8"))


def publish_hotspot_map(
    con,
    out_dir: str | Path,
    as_of: dt.date | None,
    group: str,
    lang: str = "nb",
    *,
    params: hs.Params | None = None,
    tiles_url: str | None = None,
    incidents=None,
    grid=None,
) -> dict[str, Any]:
    """Write `out_dir/hotspots/<group>.html`; its summary entry and index row.

    One unit of the prevention bundle, so the nightly flow can map target groups
    over task workers. Holds places and counts only.
    """
    day = frames.resolve_as_of(con, as_of)
    params = params or hs.Params()
    folder = Path(out_dir) / "hotspots"
    folder.mkdir(parents=True, exist_ok=True)
    if incidents is None:
        try:
            incidents = hs.prepare(load(con, day))
        except ValueError as exc:
            raise UserError(str(exc)) from exc
    res = analyse(con, day, group, params, incidents=incidents, grid=grid)
    name = f"{group}.html"
    sentence = near_repeat_text(res, lang)
    return {
        "group": group,
        "file": f"hotspots/{name}",
        "bytes": write_map(res, folder / name, lang, tiles_url),
        "hot_cells": int(res.cells["is_hot"].sum()),
        "near_repeat": sentence,
        "bands": res.bands,
        "window_total": float(res.cells["count"].sum()),
        "period": period_text(res, lang),
        "_grid": (res.grid, res.mask),
    }


def write_hotspot_index(
    out_dir: str | Path,
    as_of: dt.date,
    maps: list[dict[str, Any]],
    lang: str = "nb",
    params: hs.Params | None = None,
    started: float | None = None,
) -> dict[str, Any]:
    """Write `out_dir/hotspots/index.html` linking the maps; the step summary."""
    params = params or hs.Params()
    folder = Path(out_dir) / "hotspots"
    rows = [
        (
            m["group"],
            f"{m['group']}.html",
            m["hot_cells"],
            m["window_total"],
            m["near_repeat"],
            m["period"],
        )
        for m in maps
    ]
    index = _index_page(rows, as_of, lang, params.k_min)
    assert_no_remote_refs(index)
    (folder / "index.html").write_text(index, encoding="utf-8")
    keys = ("file", "bytes", "hot_cells", "near_repeat", "bands")
    summary: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "folder": str(folder),
        "maps": {m["group"]: {k: m[k] for k in keys} for m in maps},
        "index": "hotspots/index.html",
    }
    if started is not None:
        summary["seconds"] = round(time.perf_counter() - started, 2)
    return summary


def publish_hotspots(
    con,
    out_dir: str | Path,
    as_of: dt.date | None = None,
    lang: str = "nb",
    *,
    params: hs.Params | None = None,
    groups: tuple[str, ...] = GROUPS,
    tiles_url: str | None = None,
) -> dict[str, Any]:
    """Write one map per target group and an index page under
    `out_dir/hotspots/`; return a summary (files, sizes, hot cells, near-repeat
    sentences, seconds)."""
    started = time.perf_counter()
    day = frames.resolve_as_of(con, as_of)
    params = params or hs.Params()
    (Path(out_dir) / "hotspots").mkdir(parents=True, exist_ok=True)
    try:
        incidents = hs.prepare(load(con, day))
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    maps, grid = [], None
    for group in groups:
        m = publish_hotspot_map(
            con,
            out_dir,
            day,
            group,
            lang,
            params=params,
            tiles_url=tiles_url,
            incidents=incidents,
            grid=grid,
        )
        grid = m.pop("_grid")
        maps.append(m)
    return write_hotspot_index(out_dir, day, maps, lang, params, started)


def _index_page(rows, day: dt.date, lang: str, k: int) -> str:
    e = html.escape
    items = []
    for group, name, hot, total, sentence, period in rows:
        n = str(int(round(total))) if total >= k else t("suppressed", lang).format(k=k)
        items.append(
            f'<tr><td><a href="{e(name)}">{e(group_title(group, lang))}</a></td>'
            f"<td>{e(period)}</td><td class=n>{e(n)}</td><td class=n>{hot}</td>"
            f"<td>{e(sentence)}</td></tr>"
        )
    head = (
        f"<th>{e(t('all_targets', lang))}</th><th>{e(t('period', lang))}</th>"
        f"<th>{e(t('incidents', lang))}</th><th>{e(t('hot_cells', lang))}</th>"
        f"<th>{e(t('near_repeat', lang))}</th>"
    )
    return f"""<!DOCTYPE html>
<html lang="{"nb" if lang == "nb" else "en"}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(t("title_index", lang))}</title>
<style>body{{font:15px/1.45 sans-serif;margin:2em;color:#222;max-width:70em}}
table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #ccc;padding:.4em .7em;
text-align:left;vertical-align:top}}td.n{{text-align:right}}.note{{color:#555;font-size:13px}}</style>
</head><body>
<h1>{e(t("title_index", lang))}</h1>
<p>{e(t("as_of", lang))} {e(fmt_date(day, lang))}. {e(t("index_intro", lang))}</p>
<table><thead><tr>{head}</tr></thead><tbody>
{"".join(items)}
</tbody></table>
<p class="note">{e(t("places_not_people", lang).format(k=k))}
{e(t("attribution_boundaries", lang))}.</p>
</body></html>
"""
