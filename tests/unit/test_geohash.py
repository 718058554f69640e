"""vermilion.types.geohash without sockets: known values from Redis's documentation examples,
and the partial sort's contract (the differential tests check its choice among ties)."""

from __future__ import annotations

import random

from vermilion.types import geohash


def test_known_scores_positions_and_hashes():
    palermo = geohash.score_of(13.361389, 38.115556)
    catania = geohash.score_of(15.087269, 37.502669)
    assert palermo == 3479099956230698
    assert catania == 3479447370796909
    assert geohash.format_coordinate(geohash.decode(palermo)[0]) == b"13.36138933897018433"
    assert geohash.format_coordinate(geohash.decode(palermo)[1]) == b"38.11555639549629859"
    assert geohash.geohash_string(palermo) == b"sqc8b49rny0"
    metres = geohash.distance(*geohash.decode(palermo), *geohash.decode(catania))
    assert geohash.format_distance(metres / 1000) == b"166.2742"


def test_encode_limits():
    assert geohash.encode(180.0001, 0) is None
    assert geohash.encode(0, 85.06) is None
    assert geohash.encode(-180, -85.05112878) == 0
    assert geohash.encode(180, 85.05112878) == (1 << 53) | (1 << 52)


def test_neighbours_wrap_around():
    step = 2
    bits = geohash.encode(-179, 0, step)
    north, south, east, west, *_ = geohash.neighbours(bits, step)
    assert geohash.cell(west, step)[0] == 90.0  # west of the first column is the last one
    assert geohash.cell(east, step)[0] == -90.0
    assert geohash.cell(north, step)[2] == geohash.cell(bits, step)[3]
    assert geohash.cell(south, step)[3] == geohash.cell(bits, step)[2]


def test_coordinate_text():
    assert geohash.format_coordinate(-0.0) == b"0"
    assert geohash.format_coordinate(1.0) == b"1"
    assert geohash.format_coordinate(0.5) == b"0.5"
    assert geohash.format_coordinate(-1e-20) == b"0"


def test_partial_sort_puts_the_right_distances_first():
    rng = random.Random(3)
    for _ in range(300):
        size = rng.randint(1, 120)
        found = [(float(rng.randrange(8)), 0.0, b"m%d" % index, 0.0, 0.0) for index in range(size)]
        count = rng.randint(1, size)
        descending = rng.random() < 0.5
        first = geohash.sort_found(found, descending, count)
        expected = sorted((point[0] for point in found), reverse=descending)[:count]
        assert [point[0] for point in first] == expected
        assert len({point[2] for point in first}) == count
