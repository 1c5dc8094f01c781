"""Hand-checkable tests of the grid, projection, aoristic, KDE, Knox,
prospective, emerging and PAI/PEI modules."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_allclose

from gjenganger.analytics import emerging, kde, knox, prospective
from gjenganger.analytics.aoristic import binned_weights, period_weight, to_days
from gjenganger.analytics.geo import to_utm33, to_wgs84, with_xy
from gjenganger.analytics.grid import Grid, cell_counts, grouped_counts
from gjenganger.analytics.hit_rates import pai_pei


# ------------------------------------------------------------------ geo and grid
def test_projection_round_trips_and_keeps_metres():
    lat = np.array([63.4305, 63.4395, 63.2])
    lon = np.array([10.3951, 10.3951, 9.9])
    x, y = to_utm33(lat, lon)
    lat2, lon2 = to_wgs84(x, y)
    assert_allclose(lat2, lat, atol=1e-9)
    assert_allclose(lon2, lon, atol=1e-9)
    # 0.009 degrees of latitude is about 1 km north
    assert abs(np.hypot(x[1] - x[0], y[1] - y[0]) - 1002.6) < 2
    assert 260_000 < x[0] < 280_000 and 7_030_000 < y[0] < 7_050_000


def test_with_xy_drops_rows_without_coordinates():
    f = pl.DataFrame({"lat": [63.43, None], "lon": [10.39, None]})
    assert with_xy(f).height == 1


def test_cells_are_aligned_to_the_cell_size_and_have_stable_ids():
    g = Grid.covering(1010.0, 2020.0, 1900.0, 2600.0, 250.0)
    assert (g.x0, g.y0, g.nx, g.ny) == (1000.0, 2000.0, 4, 3)
    assert g.cell_ids([0, 5]).tolist() == ["250m_E1000_N2000", "250m_E1250_N2250"]
    assert g.index(
        [1000.0, 1999.0, 1249.9, np.nan], [2000.0, 2000.0, 2250.0, 0.0]
    ).tolist() == [0, 3, 4, -1]


def test_cell_counts_sum_weights_and_ignore_points_outside():
    g = Grid(0.0, 0.0, 10.0, 2, 2)
    c = cell_counts(g, [1, 2, 15, 99], [1, 1, 15, 99], [0.5, 0.25, 1.0, 7.0])
    assert c.tolist() == [0.75, 0.0, 0.0, 1.0]


def test_grouped_counts_by_target_group():
    g = Grid(0.0, 0.0, 10.0, 2, 1)
    f = pl.DataFrame(
        {"x": [1.0, 2.0, 11.0], "y": [1.0, 1.0, 1.0], "grp": ["a", "b", "a"]}
    )
    out = grouped_counts(g, f, ["grp"])
    assert out.rows() == [(0, "a", 1.0), (0, "b", 1.0), (1, "a", 1.0)]


# ------------------------------------------------------------------ aoristic
def test_a_window_half_inside_the_period_counts_half():
    assert_allclose(
        period_weight([0.0, 5.0, 2.0], [10.0, 5.0, 2.0], 5.0, 20.0), [0.5, 1.0, 0.0]
    )


def test_binned_weights_spread_a_window_over_its_bins_and_sum_to_one():
    rows, bins, w = binned_weights([0.5, 3.0, 6.0], [2.5, 3.0, 8.0], 0.0, 1.0, 10)
    got = {
        (int(r), int(b)): round(float(x), 6)
        for r, b, x in zip(rows, bins, w, strict=True)
    }
    assert got == {
        (0, 0): 0.25,
        (0, 1): 0.5,
        (0, 2): 0.25,
        (1, 3): 1.0,
        (2, 6): 0.5,
        (2, 7): 0.5,
    }
    assert_allclose(np.bincount(rows, w), [1.0, 1.0, 1.0])


def test_binned_weights_keep_only_the_part_inside_the_bins():
    rows, bins, w = binned_weights([-1.0], [1.0], 0.0, 1.0, 5)
    assert rows.tolist() == [0] and bins.tolist() == [0] and w.tolist() == [0.5]


def test_to_days_of_datetimes():
    s = pl.Series([dt.datetime(1970, 1, 2, 12)])
    assert to_days(s).tolist() == [1.5]
    assert float(to_days(dt.date(1970, 1, 3))) == 2.0


def test_reversed_windows_are_refused():
    with pytest.raises(ValueError, match="end before they start"):
        period_weight([2.0], [1.0], 0.0, 5.0)


# ------------------------------------------------------------------ KDE
def test_density_keeps_the_total_and_spreads_symmetrically():
    g = Grid(0.0, 0.0, 100.0, 21, 21)
    c = np.zeros(g.n)
    c[10 * 21 + 10] = 7.0
    d = kde.density(g, c, 150.0).reshape(21, 21)
    assert_allclose(d.sum(), 7.0)
    assert d[10, 10] == d.max()
    assert_allclose(d[10, 11], d[11, 10])
    assert_allclose(d[10, 9], d[10, 11])


def test_density_inside_a_mask_only():
    g = Grid(0.0, 0.0, 100.0, 5, 5)
    c = np.zeros(g.n)
    c[12] = 1.0
    mask = np.zeros(g.n, dtype=bool)
    mask[[11, 12, 13]] = True
    d = kde.density(g, c, 100.0, mask)
    assert_allclose(d.sum(), 1.0)
    assert (d[~mask] == 0).all()


# ------------------------------------------------------------------ Knox
def near_repeat_events(seed: int, follow: bool, n: int = 600):
    rng = np.random.default_rng(seed)
    x, y, t = (
        rng.uniform(0, 20_000, n),
        rng.uniform(0, 20_000, n),
        rng.uniform(0, 365, n),
    )
    if follow:  # each event has a follow-up within 85 m and 5 days
        x = np.concatenate([x, x + rng.uniform(-60, 60, n)])
        y = np.concatenate([y, y + rng.uniform(-60, 60, n)])
        t = np.concatenate([t, t + rng.uniform(0, 5, n)])
    return x, y, t


def test_knox_finds_near_repeats_that_were_planted():
    tab = knox.knox_table(*near_repeat_events(1, True), n_perm=49, seed=1)
    nr = knox.near_repeat(tab, n_events=1200)
    # follow-ups lie within 85 m; pairs between two such couples can reach 200 m
    assert nr.found and nr.distance_m in (100.0, 200.0) and nr.days == 7.0
    assert nr.ratio > 5
    assert nr.sentence("et innbrudd").startswith(
        "Etter et innbrudd er risikoen innenfor"
    )
    assert "times normal for 7 days" in nr.sentence("a burglary", "en")


def test_knox_finds_nothing_in_independent_space_and_time():
    tab = knox.knox_table(*near_repeat_events(2, False), n_perm=49, seed=2)
    assert not knox.near_repeat(tab).found
    assert_allclose(tab["ratio"].drop_nans().mean(), 1.0, atol=0.3)


def test_knox_observed_pairs_by_hand():
    # events (0,0,t=0), (50,0,t=3), (1000,0,t=3): one pair within 100 m and 7 days
    tab = knox.knox_table([0, 50, 1000], [0, 0, 0], [0, 3, 3], n_perm=9, seed=0)
    first = tab.filter((pl.col("dist_hi") == 100) & (pl.col("time_hi") == 7))
    assert first["observed"].item() == 1
    assert tab["observed"].sum() == 1


def test_knox_is_reproducible_with_a_seed():
    ev = near_repeat_events(3, True, 200)
    assert knox.knox_table(*ev, n_perm=19, seed=5).equals(
        knox.knox_table(*ev, n_perm=19, seed=5)
    )


# ------------------------------------------------------------------ prospective
def test_prospective_weights_by_hand():
    g = Grid(0.0, 0.0, 100.0, 7, 7)
    centre = 3 * 7 + 3
    # one event this week at the centre, one 2 weeks old at the same place
    s = prospective.prospective_surface(
        g,
        [350.0, 350.0],
        [350.0, 350.0],
        [99.5, 85.5],
        [99.5, 85.5],
        as_of=100.0,
        space_band_m=200.0,
        time_band_days=28.0,
    ).reshape(7, 7)
    both = 1 + 1 / 3
    assert_allclose(s[3, 3], both)
    assert_allclose(s[3, 4], both / 2)  # one cell away
    assert_allclose(s[4, 4], both / (1 + np.sqrt(2)))  # diagonal, 141 m
    assert_allclose(s[3, 5], both / 3)  # two cells, 200 m
    assert s[5, 5] == 0  # 283 m: outside the band
    assert s.ravel()[centre] == s.max()


def test_prospective_forecast_totals_the_history_rate():
    g = Grid(0.0, 0.0, 100.0, 9, 9)
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 900, 365), rng.uniform(0, 900, 365)
    t = np.arange(365.0)
    f = prospective.forecast(g, x, y, t, t, as_of=365.0, horizon_days=28)
    assert_allclose(f.sum(), 28.0)


def test_old_events_beyond_the_time_band_do_not_count():
    g = Grid(0.0, 0.0, 100.0, 3, 3)
    s = prospective.prospective_surface(
        g, [150.0], [150.0], [10.0], [10.0], as_of=100.0
    )
    assert s.sum() == 0


# ------------------------------------------------------------------ emerging
def test_emerging_classes_on_a_hand_made_pair_of_periods():
    g = Grid(0.0, 0.0, 100.0, 30, 30)
    iy, ix = np.divmod(np.arange(g.n), g.nx)
    base = ((ix + iy) % 3 == 0).astype(float) * 0.2
    recent, previous = base * 28 / 365, base.copy()

    def block(cx, cy):
        return (abs(ix - cx) <= 1) & (abs(iy - cy) <= 1)

    new, inten, pers, dim = block(5, 5), block(20, 5), block(5, 20), block(20, 20)
    recent[new] += 6
    previous[inten] += 40  # ~3/28 days; recent much higher
    recent[inten] += 12
    previous[pers] += 60  # ~4.6 per 28 days; recent the same
    recent[pers] += 60 * 28 / 365
    previous[dim] += 60
    res = emerging.emerging(g, recent, previous, mask=None, band_m=100.0)
    code = np.array(emerging.CLASSES)[res["code"]]
    assert code[5 * 30 + 5] == "new"
    assert code[5 * 30 + 20] == "intensifying"
    assert code[20 * 30 + 5] == "persistent"
    assert code[20 * 30 + 20] == "diminishing"
    quiet = ~(new | inten | pers | dim)
    quiet &= ~(block(5, 5) | block(20, 5))
    assert (code[(abs(ix - 12) <= 2) & (abs(iy - 12) <= 2)] == "none").all()


# ------------------------------------------------------------------ PAI / PEI
def test_pai_and_pei_by_hand():
    # 100 cells; 10 incidents, 6 of them in the forecast's top cell
    actual = np.zeros(100)
    actual[[0, 1]] = [6, 4]
    forecast = np.zeros(100)
    forecast[0] = 5
    forecast[2] = 4
    forecast[1] = 1
    r = pai_pei(forecast, actual, area_shares=(0.01, 0.05))
    assert_allclose([r["hit_1"], r["pai_1"], r["pei_1"]], [0.6, 60.0, 1.0])
    # top 5 cells: 0, 2, 1, then ties by index 3, 4: caught all 10
    assert_allclose([r["hit_5"], r["pai_5"], r["pei_5"]], [1.0, 20.0, 1.0])
    r2 = pai_pei(-forecast, actual, area_shares=(0.01,))
    assert r2["pai_1"] == 0 and r2["pei_1"] == 0


def test_pai_with_a_mask_counts_only_study_cells():
    actual = np.array([1.0, 0, 0, 0, 5])
    f = np.array([1.0, 0, 0, 0, 9])
    mask = np.array([True, True, True, True, False])
    assert pai_pei(f, actual, mask, (0.25,))["pai_25"] == 4.0
