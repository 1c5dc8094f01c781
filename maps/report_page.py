"""The frame of the analyst bundle's plain report pages (the back-test pages).

One stylesheet and one header (title, as-of date, link back to the top list,
confidentiality line, intro and headline sentences) for every page that reports
figures as sentences and tables without a map or chart; each page adds its own
body between `HEAD` and `FOOT`. Rendered with Jinja2, autoescaped.
"""

from __future__ import annotations

from jinja2 import Environment, select_autoescape
from markupsafe import Markup

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
  color:#222;background:#fafafa}
header{background:#1f2d3d;color:#fff;padding:10px 18px}
header h1{font-size:19px;margin:0}header .meta{font-size:12px;opacity:.85}
header a{color:#cfe3ff}main{padding:10px 18px;max-width:70em}
table{border-collapse:collapse;background:#fff;font-size:13px;margin:6px 0 14px}
th,td{border-bottom:1px solid #e4e4e4;padding:4px 9px;text-align:left}
td.num,th.num{text-align:right}th{background:#f0f2f5}
.headline{font-size:16px}.status{border-left:4px solid #e69f00;padding:4px 10px;
  background:#fff}.status.ok{border-color:#009e73}.note{font-size:12px;color:#555}
"""

#: the page up to its own body; needs lang, L (title, as_of, back, confidential,
#: intro), as_of, main_id and headlines
HEAD = """<!DOCTYPE html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<title>{{ L.title }} – {{ as_of }}</title><style>{{ style }}</style></head><body>
<header><h1>{{ L.title }}</h1>
<div class="meta">{{ L.as_of }} {{ as_of }} ·
<a href="index.html">{{ L.back }}</a></div>
<div class="meta">{{ L.confidential }}</div></header>
<main id="{{ main_id }}">
<p class="note">{{ L.intro }}</p>
{% for line in headlines %}<p class="headline">{{ line }}</p>
{% endfor %}"""

FOOT = """
</main></body></html>
"""

_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))


def render(body: str, **context) -> str:
    """A whole page: `HEAD`, the page's own `body` template, `FOOT`, rendered with
    `context` (the stylesheet is added, as markup: autoescaping would turn its
    quotes into entities and break the font list)."""
    return _env.from_string(HEAD + body + FOOT).render(style=Markup(STYLE), **context)
