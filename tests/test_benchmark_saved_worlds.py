"""Phase and hotspot sweeps measured one world at a time add up to one table: the
saved per-world figures are merged, worst world first, failures counted, the run
of each world and the worlds not measured named (hand-made figures, no generation)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str):
    spec = importlib.util.spec_from_file_location(
        f"bench_{name}", ROOT / "benchmarks" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def phase_worlds():
    return _load("phase_worlds")


@pytest.fixture(scope="module")
def hotspot_worlds():
    return _load("hotspot_worlds")


@pytest.fixture(scope="module")
def saved():
    return _load("saved_figures")


def _phase(acc: float, ece: float) -> dict:
    ok = {"vs_baseline": acc / 0.45 >= 1.5, "ece": ece <= 0.10, "inactive": True}
    after = {
        "persons": 16,
        "accuracy": acc,
        "majority_accuracy": 0.35,
        "gap_accuracy": 0.45,
        "vs_better_baseline": acc / 0.45,
        "ece": ece,
        "inactive_said": 0.36,
        "inactive_true": 0.35,
        "confident_days": 7000,
        "confident_accuracy": 0.97,
        "pass": ok,
    }
    before = {"accuracy": 0.6, "ece": 0.3, "inactive_said": 0.6}
    return {
        "before": before,
        "after": after,
        "backtest": {},
        "toplist_seconds": 5.0,
        "toplist_persons": 20,
    }


def test_phase_table_merges_saved_worlds_worst_first(phase_worlds, saved, tmp_path):
    saved.save(tmp_path, "baseline", "phase_figures", _phase(0.86, 0.01), "run A")
    saved.save(tmp_path, "low-catch", "phase_figures", _phase(0.60, 0.20), "run B")
    loaded = saved.load(tmp_path, "phase_figures")
    assert sorted(loaded) == ["baseline", "low-catch"]
    results = {n: e["figures"] for n, e in loaded.items()}
    text = phase_worlds.worlds_markdown(results, saved.runs_note(loaded))
    rows = [ln for ln in text.splitlines() if ln.startswith("| low-catch ")]
    first = text.index("| low-catch | 2 of 3 |")
    assert first < text.index("| baseline | 0 of 3 |")
    assert "**fail**" in rows[0]
    assert "Targets failed: 2 of 6 over 2 worlds (in: low-catch)." in text
    assert "- `run A` (commit" in text and "): baseline." in text
    assert "Worlds measured: 2 of 17." in text
    assert "Missing (not measured): " in text and "near-repeat" in text


def _group(vs: float, above_longrun: bool) -> dict:
    return {
        "pai_5": 10 * vs,
        "baseline_pai_5": 10.0,
        "longrun_pai_5": 10 * vs,
        "ceiling_pai_5": 20.0,
        "vs_baseline": vs,
        "vs_longrun": 1.0 if above_longrun else 0.9,
        "meets_1_2": vs >= 1.2,
        "not_below_longrun": above_longrun,
        "chosen": ["kde"],
    }


def test_hotspot_table_counts_failures_per_world(hotspot_worlds, saved, tmp_path):
    good = {"groups": {"all": _group(1.5, True)}, "seconds": 9.0, "db": "a.duckdb"}
    bad = {"groups": {"all": _group(1.1, False)}, "seconds": 8.0, "db": "b.duckdb"}
    saved.save(tmp_path, "baseline", "hotspot_figures", good, "run A")
    saved.save(tmp_path, "crews", "hotspot_figures", bad, "run B")
    code = hotspot_worlds.main(["--saved", "--work", str(tmp_path), "--no-results"])
    assert code == 0
    loaded = saved.load(tmp_path, "hotspot_figures")
    text = hotspot_worlds.markdown(
        {n: e["figures"] for n, e in loaded.items()}, "cmd", saved.runs_note(loaded)
    )
    assert text.index("| crews | 1 | 2 of 2 |") < text.index(
        "| baseline | 1 | 0 of 2 |"
    )
    assert "Failed targets: 2 of 4 over 2 worlds (in: crews)." in text
    assert "Worlds measured: 2 of 17." in text


def test_only_one_world_commands_read_as_one_run(saved):
    one = "python benchmarks/phases.py --worlds crews --work W --json"
    many = "python benchmarks/phases.py --worlds baseline crews --work W"
    assert saved._one_world_as_name(one, "crews") == one.replace("crews", "NAME")
    assert saved._one_world_as_name(many, "baseline") == many
    assert saved._one_world_as_name("python x.py", "crews") == "python x.py"
