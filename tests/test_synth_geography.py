"""Places: municipality lookup from the packaged polygons, points only on land."""

from __future__ import annotations

import numpy as np

from gjenganger.synth import geography

CENTRES = {
    "Torvet (city square)": "5001",
    "City Syd": "5001",
    "Melhus sentrum": "5028",
    "Børsa": "5029",
    "Hommelvik sentrum": "5031",
    "Stjørdal sentrum": "5035",
    "Orkanger sentrum": "5059",
}


def test_named_centres_fall_in_their_own_municipality():
    geo = geography.load()
    for name, code in CENTRES.items():
        i = geo.pois_where(names=(name,))[0]
        got = geo.municipality_no(
            np.array([geo.pois[i].lat]), np.array([geo.pois[i].lon])
        )
        assert got[0] == code, name


def test_the_trondheimsfjord_and_points_outside_the_region_have_no_municipality():
    geo = geography.load()
    fjord = (63.46, 10.40)  # off Trondheim harbour
    oslo = (59.91, 10.75)
    got = geo.municipality_no(
        np.array([fjord[0], oslo[0]]), np.array([fjord[1], oslo[1]])
    )
    assert list(got) == [None, None]


def test_scattered_points_are_on_land_and_rounded_to_six_decimals():
    geo = geography.load()
    rng = np.random.default_rng(0)
    n = 5000
    lat, lon = geo.scatter(rng, np.full(n, 63.436), np.full(n, 10.40), np.full(n, 3.0))
    assert (geo.municipality_index(lat, lon) >= 0).all()
    assert np.array_equal(lat, np.round(lat, 6)) and np.array_equal(
        lon, np.round(lon, 6)
    )
    assert lat.std() > 0.01  # really scattered, not all at the centre
