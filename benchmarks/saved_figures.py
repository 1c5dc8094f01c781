"""Per-world figures saved next to each world's data, merged into one table.

A sweep of 17 worlds does not fit one sitting on a shared machine: each world's
figures are saved as WORK/NAME/KIND.json when measured (with when, by which command
and at which commit), and the RESULTS tables are written from every saved world, so
runs made at different times add up to one table that says which run measured what.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def commit() -> str:
    """The repository's short HEAD commit ('?' outside git): which code measured."""
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def save(work: Path, world: str, kind: str, figures: dict, command: str) -> Path:
    """Write one world's figures with when/how they were measured; the path."""
    path = work / world / f"{kind}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": command,
        "commit": commit(),
    }
    path.write_text(json.dumps({"meta": meta, "figures": figures}, default=str))
    return path


def load(work: Path, kind: str) -> dict[str, dict]:
    """Every saved world of this kind under `work`: {world: {meta, figures}}."""
    found = {}
    for path in sorted(work.glob(f"*/{kind}.json")):
        found[path.parent.name] = json.loads(path.read_text())
    return found


def all_worlds() -> list[str]:
    """The generator's named worlds (`gjenganger generate --list-worlds`)."""
    from gjenganger.synth import presets

    return list(presets.names())


def _one_world_as_name(command: str, world: str) -> str:
    """A one-world command with the world's name as NAME (so the runs of the same
    command on one world after another read as one line); other commands as given."""
    tokens = command.split()
    if "--worlds" not in tokens:
        return command
    i = tokens.index("--worlds")
    after = tokens[i + 2 : i + 3]
    if tokens[i + 1 : i + 2] != [world] or (after and not after[0].startswith("--")):
        return command
    return " ".join(t.replace(world, "NAME") for t in tokens)


def runs_note(saved: dict[str, dict]) -> list[str]:
    """Markdown lines: which worlds each run (command, commit, time) measured, and
    which named worlds have no figures yet."""
    runs: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for world, entry in saved.items():
        m = entry["meta"]
        key = (_one_world_as_name(m["command"], world), m["commit"])
        runs.setdefault(key, []).append((m["measured_at"], world))
    lines = ["Measured in these runs (one world at a time):", ""]
    for (command, sha), worlds in sorted(runs.items(), key=lambda kv: min(kv[1])):
        times = sorted(t for t, _ in worlds)
        span = times[0] if times[0] == times[-1] else f"{times[0]} to {times[-1]}"
        span = re.sub(r"^(\S+) (\S+) UTC to \1 (\S+) UTC$", r"\1 \2 to \3 UTC", span)
        names = ", ".join(w for _, w in sorted(worlds))
        lines.append(f"- `{command}` (commit {sha}, {span}): {names}.")
    missing = [w for w in all_worlds() if w not in saved]
    lines += [
        "",
        f"Worlds measured: {len(saved)} of {len(all_worlds())}. "
        + (
            "Missing (not measured): " + ", ".join(missing) + "."
            if missing
            else "None missing."
        ),
    ]
    return lines
