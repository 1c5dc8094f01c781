# ruff: noqa: E501  (CDN URLs and asset paths cannot be wrapped)
"""Render Folium/branca pages that work on an air-gapped network.

Folium 0.20.0 links Leaflet, jQuery, Bootstrap and its plugins from public CDNs.
`render_offline` renders the page, then replaces every `<script src>` and
`<link rel=stylesheet href>` that points at a CDN with the vendored copy from
`maps/static/` inlined (CSS `url()` to images and fonts become data URIs), and
finally checks that no remote reference is left (`assert_no_remote_refs`).

Provenance of each vendored file (npm or PyPI, exact version, licence) is in
`maps/static/README.md`.

Caveats
- Leaflet.awesome-markers 2.0.2 (and its "rotate" CSS and the Bootstrap 3
  glyphicons CSS it relies on) is not on npm and is not vendored: its tags are
  dropped when the page does not use `L.AwesomeMarkers`, and `MissingAssetError`
  is raised when it does (use `folium.CircleMarker` or `folium.DivIcon`).
- Font Awesome is inlined only when the page uses an `fa-` class (it adds
  about 0.4 MB); otherwise its `<link>` is dropped.
- jQuery UI 1.10.2 and highlight.js 8.4 CSS, which `TimestampedGeoJson` links,
  are not used by any code of that plugin or of Leaflet.TimeDimension 1.1.1 and
  are dropped.
- Protocol-relative font URLs of Bootstrap 3 glyphicons inside the
  TimeDimension control CSS are served from the Bootstrap 3.4.1 glyphicons
  woff/woff2 (same code points); the eot/ttf/svg fallbacks become empty data URIs
  that a modern browser never requests.
- Any other CDN file raises `MissingAssetError` naming the URL: vendor it here.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

STATIC = Path(__file__).resolve().parent / "static"

# CDN URL (as folium/branca write it) -> vendored file under maps/static/.
ASSETS: dict[str, str] = {
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet-1.9.3/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet-1.9.3/leaflet.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/jquery/3.7.1/jquery.min.js": "jquery-3.7.1/jquery.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": "bootstrap-5.2.2/bootstrap.bundle.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": "bootstrap-5.2.2/bootstrap.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js": "leaflet.markercluster-1.1.0/leaflet.markercluster.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css": "leaflet.markercluster-1.1.0/MarkerCluster.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css": "leaflet.markercluster-1.1.0/MarkerCluster.Default.css",
    "https://cdn.jsdelivr.net/npm/leaflet-timedimension@1.1.1/dist/leaflet.timedimension.min.js": "leaflet-timedimension-1.1.1/leaflet.timedimension.min.js",
    "https://cdn.jsdelivr.net/npm/leaflet-timedimension@1.1.1/dist/leaflet.timedimension.control.css": "leaflet-timedimension-1.1.1/leaflet.timedimension.control.min.css",
    "https://cdn.jsdelivr.net/npm/iso8601-js-period@0.2.1/iso8601.min.js": "iso8601-js-period-0.2.1/iso8601.js",
    "https://cdnjs.cloudflare.com/ajax/libs/moment.js/2.18.1/moment.min.js": "moment-2.18.1/moment.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js": "d3-3.5.5/d3.min.js",
    "https://cdn.jsdelivr.net/gh/python-visualization/folium@main/folium/templates/leaflet_heat.min.js": "folium-0.20.0/leaflet_heat.min.js",
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/pa7_hm.min.js": "folium-0.20.0/pa7_hm.min.js",
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/pa7_leaflet_hm.min.js": "folium-0.20.0/pa7_leaflet_hm.min.js",
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": "fontawesome-free-6.2.0/css/all.min.css",
}

# Remote url() targets inside vendored CSS -> vendored file ("" = empty data URI).
CSS_REMOTE_URLS: dict[str, str] = {
    "//netdna.bootstrapcdn.com/bootstrap/3.0.0/fonts/glyphicons-halflings-regular.woff": "bootstrap-3.4.1-glyphicons/glyphicons-halflings-regular.woff",
    "//netdna.bootstrapcdn.com/bootstrap/3.0.0/fonts/glyphicons-halflings-regular.eot": "",
    "//netdna.bootstrapcdn.com/bootstrap/3.0.0/fonts/glyphicons-halflings-regular.eot?#iefix": "",
    "//netdna.bootstrapcdn.com/bootstrap/3.0.0/fonts/glyphicons-halflings-regular.ttf": "",
    "//netdna.bootstrapcdn.com/bootstrap/3.0.0/fonts/glyphicons-halflings-regular.svg#glyphicons-halflingsregular": "",
}

_AWESOME = "L.AwesomeMarkers"
# Links dropped when the page does not need them: URL -> (needed-if regex, why).
OPTIONAL: dict[str, tuple[str | None, str]] = {
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": (
        re.escape(_AWESOME),
        "Leaflet.awesome-markers 2.0.2 is not on npm",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": (
        re.escape(_AWESOME),
        "Leaflet.awesome-markers 2.0.2 is not on npm",
    ),
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css": (
        re.escape(_AWESOME),
        "awesome-markers rotation CSS (awesome-markers is not vendored)",
    ),
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": (
        r"\bglyphicon-[a-z]",
        "Bootstrap 3.0.0 glyphicons CSS (used by awesome-markers)",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/jqueryui/1.10.2/jquery-ui.min.js": (
        r"\$\.ui\b|jQuery\.ui\b",
        "jQuery UI 1.10.2 is not on npm",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/highlight.js/8.4/styles/default.min.css": (
        r"\bhljs\b",
        "highlight.js 8.4 CSS",
    ),
}
_FONTAWESOME = (
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css"
)
_FA_USED = re.compile(
    r"""class\s*=\s*["'][^"']*\bfa-[a-z]|"prefix":\s*"fa"|\bfa-solid\b"""
)

_SCRIPT_SRC = re.compile(
    r"""<script\b[^>]*?\bsrc\s*=\s*["']([^"']+)["'][^>]*>\s*</script\s*>""", re.I
)
_LINK_HREF = re.compile(
    r"""<link\b[^>]*?\bhref\s*=\s*["']([^"']+)["'][^>]*?/?>""", re.I
)
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""", re.I)
_REMOTE = re.compile(r"^\s*(https?:)?//", re.I)
_TILE_URL = re.compile(r"""L\.tileLayer(?:\.wms)?\(\s*(["'])(.*?)\1""", re.S)
_IMG_SRC = re.compile(
    r"""<(?:img|iframe|source|audio|video|embed)\b[^>]*?\bsrc\s*=\s*["']([^"']+)["']""",
    re.I,
)
_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*["']?([^"')\s;]+)""", re.I)


class MissingAssetError(RuntimeError):
    """A page references a CDN file that is not vendored in `maps/static/`."""


class RemoteReferenceError(AssertionError):
    """An offline page still references something on the network."""


@cache
def _read_text(rel: str) -> str:
    return (STATIC / rel).read_text(encoding="utf-8")


@cache
def _data_uri(rel: str) -> str:
    path = STATIC / rel
    mime = (
        {
            ".woff2": "font/woff2",
            ".woff": "font/woff",
            ".ttf": "font/ttf",
            ".png": "image/png",
            ".svg": "image/svg+xml",
        }.get(path.suffix)
        or mimetypes.guess_type(path.name)[0]
        or "application/octet-stream"
    )
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


@cache
def _inline_css(rel: str) -> str:
    """The vendored CSS with every url() made a data URI (or left if data:/#)."""
    base = (STATIC / rel).parent
    css = _read_text(rel)

    def repl(m: re.Match[str]) -> str:
        target = m.group(2).strip()
        if target.startswith(("data:", "#")):
            return m.group(0)
        if _REMOTE.match(target):
            if target not in CSS_REMOTE_URLS:
                raise MissingAssetError(
                    f"vendored CSS {rel} references {target}, which is not vendored "
                    "(add it to maps/offline.py CSS_REMOTE_URLS and maps/static/)"
                )
            local = CSS_REMOTE_URLS[target]
            return f'url("{_data_uri(local)}")' if local else 'url("data:,")'
        clean = target.split("?")[0].split("#")[0]
        file = (base / clean).resolve()
        if not file.is_file():
            # e.g. the .ttf fallback of a font whose .woff2 is vendored: never fetched.
            return 'url("data:,")'
        return f'url("{_data_uri(str(file.relative_to(STATIC)))}")'

    return _CSS_URL.sub(repl, css)


def _inline_js(rel: str) -> str:
    js = _read_text(rel)
    if "<!--" in js:  # would switch the HTML parser into script-escape states
        raise MissingAssetError(f"vendored script {rel} contains '<!--'; cannot inline")
    return re.sub(r"</(script)", r"<\\/\1", js, flags=re.I)


def _tile_urls(root: Any) -> list[str]:
    """Tile URLs of every folium TileLayer in the element tree."""
    import folium

    urls: list[str] = []
    stack = [root]
    while stack:
        el = stack.pop()
        if isinstance(el, folium.raster_layers.TileLayer):
            urls.append(str(el.tiles))
        stack.extend(getattr(el, "_children", {}).values())
    return urls


def _render(m: Any) -> str:
    root = m.get_root() if hasattr(m, "get_root") else m
    return root.render()


def render_offline(m: Any, *, allow_online_tiles: bool = False) -> str:
    """A complete HTML page of `m` (folium.Map or any branca Element) with no
    network references: CDN scripts/styles are inlined from `maps/static/`.

    Raises `MissingAssetError` naming a CDN file that is not vendored, and
    `RemoteReferenceError` when a remote reference remains; an online tile layer
    is allowed only with `allow_online_tiles=True` (the caller configured it).
    """
    allowed_tiles = _tile_urls(m.get_root() if hasattr(m, "get_root") else m)
    remote_tiles = [u for u in allowed_tiles if _REMOTE.match(u)]
    if remote_tiles and not allow_online_tiles:
        raise RemoteReferenceError(
            f"the map has an online tile layer ({remote_tiles[0]}); build it with "
            "folium.Map(tiles=None, max_zoom=18) for offline use, or pass "
            "allow_online_tiles=True when the user configured a tile URL"
        )
    html = _letter_ids(_render(m))
    body_text = _SCRIPT_SRC.sub("", _LINK_HREF.sub("", html))

    def needed(url: str) -> bool:
        pattern, _ = OPTIONAL[url]
        return bool(pattern and re.search(pattern, body_text))

    def script(match: re.Match[str]) -> str:
        url = match.group(1).strip()
        if not _REMOTE.match(url):
            return match.group(0)
        if url in ASSETS:
            return f"<script>/* vendored: {ASSETS[url]} */\n{_inline_js(ASSETS[url])}\n</script>"
        if url in OPTIONAL:
            if needed(url):
                raise MissingAssetError(
                    f"{url} is used by the page but not vendored: "
                    f"{OPTIONAL[url][1]}; use CircleMarker/DivIcon instead"
                )
            return ""
        raise MissingAssetError(
            f"script {url} is not vendored in maps/static/ "
            "(add it to maps/offline.py ASSETS)"
        )

    def link(match: re.Match[str]) -> str:
        tag, url = match.group(0), match.group(1).strip()
        if not _REMOTE.match(url):
            return tag
        if url == _FONTAWESOME and not _FA_USED.search(body_text):
            return ""
        if url in ASSETS:
            return f"<style>/* vendored: {ASSETS[url]} */\n{_inline_css(ASSETS[url])}\n</style>"
        if url in OPTIONAL:
            if needed(url):
                raise MissingAssetError(
                    f"{url} is used by the page but not vendored: {OPTIONAL[url][1]}"
                )
            return ""
        raise MissingAssetError(
            f"stylesheet {url} is not vendored in maps/static/ "
            "(add it to maps/offline.py ASSETS)"
        )

    # Scripts first (a link regex must not see inlined JS), then links outside them.
    html = _SCRIPT_SRC.sub(script, html)
    html = _sub_outside_scripts(_LINK_HREF, link, html)
    assert_no_remote_refs(
        html, allowed_tile_urls=remote_tiles if allow_online_tiles else ()
    )
    return html


# Folium/branca name elements `<kind>_<uuid4 hex>`. Random hex can hold an 11-digit
# run that passes the national identity number's mod-11 check; a leak scanner
# cannot tell it from a real one. Writing the hex digits as letters keeps the ids
# unique and the page free of such runs.
_ELEMENT_ID = re.compile(r"\b([A-Za-z][A-Za-z0-9]*_)([0-9a-f]{32})\b")
_HEX_AS_LETTERS = str.maketrans("0123456789abcdef", "ghijklmnopabcdef")


def _letter_ids(html: str) -> str:
    """Rewrite every `<kind>_<32 hex>` element id with letters only."""
    return _ELEMENT_ID.sub(
        lambda m: m.group(1) + m.group(2).translate(_HEX_AS_LETTERS), html
    )


def _sub_outside_scripts(pattern: re.Pattern[str], fn: Any, html: str) -> str:
    """`pattern.sub(fn, ...)` applied only to text outside <script>/<style> blocks."""
    parts = re.split(r"(<(script|style)\b.*?</\2\s*>)", html, flags=re.S | re.I)
    out = []
    i = 0
    while i < len(parts):
        out.append(pattern.sub(fn, parts[i]))
        if i + 1 < len(parts):
            out.append(parts[i + 1])
        i += 3
    return "".join(out)


def remote_refs(html: str, allowed_tile_urls: Iterable[str] = ()) -> list[str]:
    """Every remote resource reference in `html`: script src, link href, img/iframe
    src, CSS url() and @import, and tile-layer URLs not in `allowed_tile_urls`.
    Anchors (`<a href>`) are navigation, not resources, and are not listed."""
    allowed = set(allowed_tile_urls)
    found: list[str] = []
    for rx in (_SCRIPT_SRC, _IMG_SRC, _IMPORT):
        found += [u for u in rx.findall(html) if _REMOTE.match(u)]
    for tag in re.finditer(r"<link\b[^>]*>", html, re.I):
        href = re.search(r"""\bhref\s*=\s*["']([^"']+)["']""", tag.group(0), re.I)
        if href and _REMOTE.match(href.group(1)):
            found.append(href.group(1))
    found += [m.group(2) for m in _CSS_URL.finditer(html) if _REMOTE.match(m.group(2))]
    found += [
        m.group(2)
        for m in _TILE_URL.finditer(html)
        if _REMOTE.match(m.group(2)) and m.group(2) not in allowed
    ]
    return found


def assert_no_remote_refs(html: str, allowed_tile_urls: Iterable[str] = ()) -> None:
    """Raise `RemoteReferenceError` if `html` references any http(s):// or
    protocol-relative script, stylesheet, image, CSS url()/@import or tile URL
    (tile URLs in `allowed_tile_urls` excepted: an online layer the caller chose)."""
    refs = remote_refs(html, allowed_tile_urls)
    if refs:
        shown = ", ".join(sorted(set(refs))[:5])
        raise RemoteReferenceError(f"{len(refs)} remote reference(s) remain: {shown}")
