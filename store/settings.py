"""Run-time settings from the environment, and the offline, no-telemetry defaults."""

from __future__ import annotations

import os
import re
from contextlib import suppress
from pathlib import Path


def configure_environment() -> None:
    """Set Prefect and telemetry variables before Prefect is imported.

    Prefect runs in local ephemeral mode with a private home, no analytics and a
    generous server start-up timeout; nothing here needs the network.
    """
    home = Path(os.environ.get("GJENGANGER_HOME", Path.home() / ".gjenganger"))
    os.environ.setdefault("PREFECT_HOME", str(home / "prefect"))
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_API_ENABLE_HTTP2", "false")
    # a failed step is reported in one line and in the run report; Prefect's own
    # tracebacks only with GJENGANGER_DEBUG
    debug = bool(os.environ.get("GJENGANGER_DEBUG"))
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING" if debug else "CRITICAL")
    os.environ.setdefault("PREFECT_UI_ENABLED", "false")
    # Prefect's SQLite cannot create its file in a missing folder
    with suppress(OSError):
        Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)


#: files holding personal data (databases, audit log, keys, bundles) are created
#: readable by their owner only; an operator may widen it for a group (027)
DEFAULT_UMASK = "077"


def apply_umask() -> int:
    """Set the process umask from `$GJENGANGER_UMASK` (octal, default 077), so every
    file and folder gjenganger creates is private to its owner unless configured.

    Only masks that keep "others" out entirely are accepted (the last digit 7): a
    group may be granted read access (027), the world never.
    """
    from gjenganger.errors import UserError

    text = os.environ.get("GJENGANGER_UMASK", DEFAULT_UMASK).strip()
    try:
        mask = int(text, 8)
    except ValueError:
        raise UserError(f"GJENGANGER_UMASK={text!r} is not an octal umask") from None
    if not 0 <= mask <= 0o777 or mask & 0o007 != 0o007:
        raise UserError(
            f"GJENGANGER_UMASK={text!r} must keep others out (e.g. 077 or 027)"
        )
    os.umask(mask)
    return mask


def retention_days() -> int:
    """`$GJENGANGER_RETENTION_DAYS` (default 1825, five years), at least one day."""
    from gjenganger.errors import UserError

    text = os.environ.get("GJENGANGER_RETENTION_DAYS", "1825").strip()
    try:
        days = int(text)
    except ValueError:
        raise UserError(
            f"GJENGANGER_RETENTION_DAYS={text!r} is not a whole number of days"
        ) from None
    if days < 1:
        raise UserError(f"GJENGANGER_RETENTION_DAYS={days} must be at least 1")
    return days


def home() -> Path:
    """`$GJENGANGER_HOME` (default `~/.gjenganger`): keys, the home audit log and
    the audit anchors live here, apart from any database."""
    return Path(os.environ.get("GJENGANGER_HOME", Path.home() / ".gjenganger"))


def audit_db() -> Path:
    """The audit log of commands without a database of their own (`query`,
    `generate`, ...): `$GJENGANGER_AUDIT_DB`, default `$GJENGANGER_HOME/audit.duckdb`.

    Operator configuration, never a command-line flag: the person being audited
    does not choose where their rows go.
    """
    return Path(os.environ.get("GJENGANGER_AUDIT_DB") or home() / "audit.duckdb")


def audit_key_file() -> Path:
    """The key of the audit chain's HMAC: `$GJENGANGER_AUDIT_KEY_FILE`, default
    `$GJENGANGER_HOME/audit.key` (beside the other keys, never in a database)."""
    return Path(os.environ.get("GJENGANGER_AUDIT_KEY_FILE") or home() / "audit.key")


def audit_anchor_dir() -> Path:
    """Where the MACed heads of every audit log are kept (`<id>.head` per log and
    the append-only `journal.jsonl`): `$GJENGANGER_AUDIT_ANCHORS`, default
    `$GJENGANGER_HOME/audit-anchors`."""
    return Path(os.environ.get("GJENGANGER_AUDIT_ANCHORS") or home() / "audit-anchors")


def audit_syslog() -> bool:
    """True when every audit anchor is also sent to syslog
    (`GJENGANGER_AUDIT_SYSLOG=1`), the off-box copy a root operator cannot edit."""
    return os.environ.get("GJENGANGER_AUDIT_SYSLOG", "") not in ("", "0", "false")


#: WMTS REST template placeholders and their XYZ equivalents (Kartverket's cache,
#: a force's own server): a WMTS-as-XYZ template works as an XYZ template
_WMTS_AS_XYZ = {"{TileMatrix}": "{z}", "{TileRow}": "{y}", "{TileCol}": "{x}"}


def tile_source(url: str | None = None) -> dict[str, str] | None:
    """The configured background map, or None for the offline outline map.

    `url` (the `--tiles-url` option) or `$GJENGANGER_TILES_URL`: an XYZ template
    (`https://host/{z}/{x}/{y}.png`, `{s}` allowed) or a WMTS REST template with
    `{TileMatrix}/{TileRow}/{TileCol}` (read as z/y/x; the tile matrix set must be
    web mercator). `$GJENGANGER_TILES_ATTRIBUTION` is the credit shown on the map,
    `$GJENGANGER_TILES_NAME` the name the page gives the basemap (default: the
    attribution). Returns `{"url", "attribution", "name"}`; a malformed template is
    a one-line `UserError`.
    """
    from urllib.parse import urlsplit

    from gjenganger.errors import UserError

    raw = (url or os.environ.get("GJENGANGER_TILES_URL", "")).strip()
    if not raw:
        return None
    template = raw
    for wmts, xyz in _WMTS_AS_XYZ.items():
        template = template.replace(wmts, xyz)
    parts = urlsplit(template)
    missing = [p for p in ("{z}", "{x}", "{y}") if p not in template]
    unknown = set(re.findall(r"{[^}]*}", template)) - {
        "{z}",
        "{x}",
        "{y}",
        "{s}",
        "{r}",
    }
    if unknown:
        raise UserError(
            f"tile URL {raw!r} has placeholders {', '.join(sorted(unknown))}: "
            "fill them in (only {z}, {x}, {y}, {s} and {r} are read)"
        )
    if parts.scheme not in ("http", "https") or not parts.netloc or missing:
        raise UserError(
            f"tile URL {raw!r} must be an http(s) XYZ template with {{z}}, {{x}} "
            "and {y} (or WMTS {TileMatrix}, {TileCol}, {TileRow})"
        )
    attribution = os.environ.get("GJENGANGER_TILES_ATTRIBUTION", "").strip()
    attribution = attribution or parts.hostname or parts.netloc
    name = os.environ.get("GJENGANGER_TILES_NAME", "").strip() or attribution
    return {"url": template, "attribution": attribution, "name": name}
