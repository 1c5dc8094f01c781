"""benchmarks/worlds.py's table: worst world first, each target marked, the worlds
not measured named (on hand-made evaluation reports, no generation)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def worlds():
    spec = importlib.util.spec_from_file_location(
        "bench_worlds", ROOT / "benchmarks" / "worlds.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _report(name: str, ours1: float, gap_ok: bool, bands_ok: bool) -> dict:
    hit = {"ours": ours1, "baseline": 0.2, "ceiling": 0.4}
    ranking = {
        "open_cases_by_candidate": 100,
        "hit_at_1": hit | {"gap_closed": (ours1 - 0.2) / 0.2, "gap_ok": gap_ok},
        "hit_at_5": hit | {"gap_closed": 0.75, "gap_ok": True},
    }
    targets = {
        "worst_band": "0.5-0.6",
        "worst_band_gap": 0.05 if bands_ok else 0.3,
        "bands_ok": bands_ok,
        "precision_p_ge_0_5": 0.6,
        "n_p_ge_0_5": 40,
        "precision_ok": True,
        "brier_skill": 0.1,
        "brier_skill_ok": True,
        "ece": 0.02,
        "ranking": ranking,
    }
    return {
        "world": name,
        "params": {},
        "evaluation": {
            "targets": targets,
            "eligible_persons": 50,
            "model_version": "v-test",
        },
    }


def test_worst_world_first_and_failures_marked(worlds):
    rows = [
        worlds.row(_report("good", 0.35, gap_ok=True, bands_ok=True)),
        worlds.row(_report("bad", 0.25, gap_ok=False, bands_ok=False)),
        worlds.row(_report("weak", 0.21, gap_ok=False, bands_ok=True)),
    ]
    assert [r["failed"] for r in rows] == [0, 2, 1]
    ordered = worlds.worst_first(rows)
    assert [r["world"] for r in ordered] == ["bad", "weak", "good"]
    params = {"seed": 42, "start": "2024-12-07", "days": 365, "scale": 1.0}
    text = worlds.markdown(ordered, params, "python benchmarks/worlds.py", ["other"])
    lines = [ln for ln in text.splitlines() if ln.startswith("| bad ")]
    assert len(lines) == 1
    assert "0.250 ✗" in lines[0] and "0.5-0.6 (0.300) ✗" in lines[0]
    assert "**2 of 3**" in text
    assert "Not measured with these settings yet: other." in text


def test_a_gap_just_under_the_target_never_shows_as_the_target(worlds):
    assert worlds._floor3(0.49996) == pytest.approx(0.499)
    assert worlds._floor3(0.5) == pytest.approx(0.5)
