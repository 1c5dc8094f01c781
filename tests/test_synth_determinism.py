"""The generator is a pure function of its options: same seed, same bytes."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest

from gjenganger.synth import SynthConfig, generate


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _run(root: Path, seed: int, fmt: str = "csv") -> dict[str, str]:
    cfg = SynthConfig(seed=seed, start=date(2025, 3, 20), days=16, scale=0.15, fmt=fmt)
    generate(cfg, root)
    return _digests(root)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> dict[str, str]:
    return _run(tmp_path_factory.mktemp("a"), seed=7)


def test_same_seed_writes_byte_identical_files(first_run, tmp_path):
    again = _run(tmp_path, seed=7)
    assert len(first_run) > 16 * 5  # 16 batches of 5 files plus truth
    assert again == first_run


def test_different_seed_writes_different_incidents(first_run, tmp_path):
    other = _run(tmp_path, seed=8)
    assert other.keys() == first_run.keys()
    differing = [
        k for k in first_run if k.endswith("incidents.csv") and other[k] != first_run[k]
    ]
    assert len(differing) >= 15


def test_parquet_output_is_byte_identical_for_the_same_seed(tmp_path):
    a = _run(tmp_path / "a", seed=3, fmt="parquet")
    b = _run(tmp_path / "b", seed=3, fmt="parquet")
    assert any(k.endswith("incidents.parquet") for k in a)
    assert a == b


def test_a_second_run_into_the_same_folder_replaces_the_first(tmp_path):
    cfg = SynthConfig(seed=1, start=date(2025, 1, 1), days=5, scale=0.1)
    generate(cfg, tmp_path)
    generate(SynthConfig(seed=1, start=date(2025, 6, 1), days=3, scale=0.1), tmp_path)
    assert sorted(p.name for p in (tmp_path / "inbox").iterdir()) == [
        "2025-06-01",
        "2025-06-02",
        "2025-06-03",
    ]
