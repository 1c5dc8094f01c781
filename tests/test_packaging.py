"""The distribution installs one top-level import name: `gjenganger`.

Builds a wheel of the working tree (what `pip install .` installs) and lists the
top-level names in it: the first path component of every file (a package folder
or a module) and the dist-info's `top_level.txt`. The project's folders stay at
the repository root (`analytics/`, `store/`, ...) but must install as
`gjenganger.*` subpackages, never as top-level `analytics`, `store`, ...
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Local state that is never part of a build (and may be large or busy).
SKIP_AT_ROOT = {
    ".git",
    ".venv",
    ".gjenganger-home",
    ".hypothesis",
    ".prefect-home",
    ".pytest_cache",
    "build",
    "demo",
    "test-output",
}
SKIP_ANYWHERE = shutil.ignore_patterns(
    "__pycache__", "*.egg-info", "*.duckdb", "*.duckdb.wal"
)


def _ignore(folder: str, names: list[str]) -> set[str]:
    """copytree filter: skip local state at the root and build leftovers anywhere."""
    skipped = set(SKIP_ANYWHERE(folder, names))
    here = Path(folder).resolve()
    if here == ROOT:
        skipped |= SKIP_AT_ROOT & set(names)
    if here == ROOT / "benchmarks":
        skipped |= {"out"} & set(names)
    return skipped


def _build_wheel(tmp_path: Path) -> Path:
    """Copy the working tree to `tmp_path` and build a wheel of it there, offline.

    A copy, so the build's `build/` and `*.egg-info` folders never land in the
    shared working tree; no build isolation, so the locked setuptools is used and
    nothing is downloaded.
    """
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=_ignore)
    dist = tmp_path / "dist"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--wheel-dir",
            str(dist),
            str(src),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"pip wheel failed:\n{done.stdout}\n{done.stderr}"
    (wheel,) = dist.glob("gjenganger-*.whl")
    return wheel


def _top_level_names(wheel: Path) -> set[str]:
    """Top-level import names a wheel installs: its first path components that are
    packages or modules (also inside `*.data/purelib|platlib`), plus top_level.txt.
    """
    names: set[str] = set()
    with zipfile.ZipFile(wheel) as zf:
        for entry in zf.namelist():
            parts = entry.split("/")
            if parts[0].endswith(".dist-info"):
                if parts[1:] == ["top_level.txt"]:
                    text = zf.read(entry).decode()
                    names |= {line.strip() for line in text.splitlines() if line}
                continue
            if parts[0].endswith(".data"):
                if len(parts) < 4 or parts[1] not in ("purelib", "platlib"):
                    continue  # scripts, headers, data: no import names
                parts = parts[2:]
            first = parts[0]
            names.add(first if len(parts) > 1 else first.split(".")[0])
    return names


def test_wheel_installs_only_gjenganger(tmp_path):
    """The wheel's top-level names are exactly {"gjenganger"}, and every
    subpackage pyproject.toml lists is inside it."""
    wheel = _build_wheel(tmp_path)
    assert _top_level_names(wheel) == {"gjenganger"}

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = config["tool"]["setuptools"]["packages"]
    with zipfile.ZipFile(wheel) as zf:
        files = set(zf.namelist())
    missing = [p for p in packages if p.replace(".", "/") + "/__init__.py" not in files]
    assert not missing, f"packages missing from the wheel: {missing}"
    assert any(f.startswith("gjenganger/sql/") and f.endswith(".sql") for f in files)
